"""Reference images of the bundled characters, derived deterministically from redistributable photos.

Every function returns an RGB uint8 array; provenance (source, licence, derivation) lives beside
them in :data:`CHARACTERS` so the manifest and the README are written from one place.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

# the astronaut portrait is lpmbench's one astronaut crop, shared with the test fixtures
from lpmbench.vision import ASTRONAUT_CROP, astronaut_portrait


def cel_shaded(rgb: np.ndarray, levels: int = 9, saturation: float = 1.35, seed: int = 0) -> np.ndarray:
    """A cartoon (cel-shaded) rendering: saturation boost, edge-preserving smoothing, a k-means
    colour palette of ``levels`` flat tones, and dark ink outlines from an adaptive threshold."""
    h, w = rgb.shape[:2]
    scale = max(h, w) / 512.0
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * saturation, 0, 255)  # cartoon palettes are more saturated
    smooth = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    for _ in range(2):  # repeated bilateral filtering flattens skin and fabric into cel-like areas
        smooth = cv2.bilateralFilter(smooth, d=9, sigmaColor=40, sigmaSpace=7 * scale)
    pixels = smooth.reshape(-1, 3).astype(np.float32)
    cv2.setRNGSeed(seed)  # k-means++ seeding uses OpenCV's global RNG: fix it for reproducibility
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 30, 0.5)
    _, labels, centers = cv2.kmeans(pixels, levels, None, criteria, 3, cv2.KMEANS_PP_CENTERS)
    flat = centers.astype(np.uint8)[labels.ravel()].reshape(rgb.shape)
    gray = cv2.medianBlur(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), 5)
    block = 2 * int(4 * scale) + 1
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, max(block, 7), 6)
    ink = edges == 0
    out = flat.copy()
    out[ink] = (out[ink] * 0.25).astype(np.uint8)  # dark, slightly tinted outlines rather than pure black
    return out


def astronaut_cel(size: int) -> np.ndarray:
    """The stylized character: :func:`cel_shaded` applied to the 512 px astronaut portrait."""
    img = cel_shaded(astronaut_portrait(512))
    return img if size == 512 else _resize(img, size)


# Window around Chelsea's head in the 451x300 original (x, y, width, height): both ears, eyes, nose.
CHELSEA_CROP = (26, 0, 400, 300)


def chelsea_square(size: int) -> np.ndarray:
    """``skimage.data.chelsea()`` (a cat): the head window, scaled to ``size`` wide and padded to a
    square with a blurred, stretched copy of itself (no black bars: a generator would animate them)."""
    import skimage.data

    x, y, w, h = CHELSEA_CROP
    crop = np.ascontiguousarray(skimage.data.chelsea()[y : y + h, x : x + w])
    fg_h = int(round(size * h / w))
    fg = cv2.resize(crop, (size, fg_h), interpolation=cv2.INTER_AREA if w > size else cv2.INTER_LANCZOS4)
    bg = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    bg = cv2.GaussianBlur(bg, (0, 0), sigmaX=size / 24)
    top = (size - fg_h) // 2
    # Feather the seams over size/12 rows so the padding does not read as a hard edge.
    ramp = max(2, size // 12)
    alpha = np.ones(fg_h, np.float32)
    alpha[:ramp] = alpha[-ramp:][::-1] = np.linspace(0.0, 1.0, ramp, dtype=np.float32)
    band = bg[top : top + fg_h].astype(np.float32)
    mixed = alpha[:, None, None] * fg.astype(np.float32) + (1 - alpha[:, None, None]) * band
    bg[top : top + fg_h] = np.clip(np.round(mixed), 0, 255).astype(np.uint8)
    return bg


# ------------------------------------------------------------------ the standard suite's cast
# Window of skimage's astronaut photo showing head, shoulders and chest (face ~130 px at 512:
# large enough for the analysis pass, which detects faces on frames downscaled to 320 px).
ASTRONAUT_HALF_CROP = (52, 10, 340)
# Grace Hopper's portrait (512x600): a head window and the whole bust.
HOPPER_CROP = (58, 10, 420)
HOPPER_HALF_CROP = (0, 20, 512)


def grace_hopper() -> np.ndarray:
    """matplotlib's sample photo ``grace_hopper.jpg`` (US Navy portrait of Commodore Grace Hopper)."""
    import importlib.util

    import cv2

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("matplotlib is not installed: it ships the Grace Hopper photo (pip install -e \".[suites]\")")
    path = Path(spec.submodule_search_locations[0]) / "mpl-data" / "sample_data" / "grace_hopper.jpg"
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _crop(rgb: np.ndarray, window: tuple[int, int, int], size: int) -> np.ndarray:
    x, y, s = window
    return _resize(np.ascontiguousarray(rgb[y : y + s, x : x + s]), size)


def collins_half(size: int) -> np.ndarray:
    import skimage.data

    return _crop(skimage.data.astronaut(), ASTRONAUT_HALF_CROP, size)


def hopper_portrait(size: int) -> np.ndarray:
    return _crop(grace_hopper(), HOPPER_CROP, size)


def hopper_half(size: int) -> np.ndarray:
    return _crop(grace_hopper(), HOPPER_HALF_CROP, size)


# ------------------------------------------------- official White House photographs (face_recognition)
# The sdist of face_recognition 1.3.0 on PyPI ships them as test images; no installed package does,
# so the generator reads them from the downloaded archive (pip download face_recognition==1.3.0
# --no-deps --no-binary :all:), checked against this digest.
FR_SDIST = "face_recognition-1.3.0.tar.gz"
FR_SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
FR_IMAGES = "face_recognition-1.3.0/tests/test_images/"
FR_SDIST_HINT = ("pip download face_recognition==1.3.0 --no-deps --no-binary :all:  and pass the archive "
                 "with --face-recognition-sdist")
_fr_sdist: list[Path] = []  # the archive given on the command line (set by use_fr_sdist)


def use_fr_sdist(path: Path) -> None:
    """Read the White House photographs from this copy of the face_recognition 1.3.0 sdist
    (checked here, before anything is written)."""
    import hashlib

    path = Path(path)
    if not path.is_file():
        raise RuntimeError(f"{path}: no such file ({FR_SDIST_HINT})")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != FR_SDIST_SHA256:
        raise RuntimeError(f"{path}: sha256 {digest} is not that of {FR_SDIST} ({FR_SDIST_SHA256})")
    _fr_sdist[:] = [path]


@functools.lru_cache(maxsize=None)
def fr_photo(name: str) -> np.ndarray:
    """An RGB photo from ``tests/test_images/`` of the face_recognition 1.3.0 sdist given to :func:`use_fr_sdist`."""
    import tarfile

    if not _fr_sdist:
        raise RuntimeError(f"the standard suite's Obama and Biden photos come from the face_recognition 1.3.0 sdist: {FR_SDIST_HINT}")
    with tarfile.open(_fr_sdist[0], "r:gz") as tar:
        data = tar.extractfile(FR_IMAGES + name).read()
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


# Square windows (x, y, size) of the originals: head and shoulders, and the bust where the photo allows.
OBAMA_CROP = (195, 0, 600)  # obama.jpg, 910x1137: official portrait, 2012, Oval Office
OBAMA_HALF_CROP = (0, 0, 910)
OBAMA_PODIUM_CROP = (0, 130, 626)  # obama2.jpg, 626x1200: speaking at a podium
BIDEN_CROP = (274, 60, 640)  # biden.jpg, 970x2204: Vice President Biden standing, arms crossed
BIDEN_HALF_CROP = (0, 20, 970)


def obama_portrait(size: int) -> np.ndarray:
    return _crop(fr_photo("obama.jpg"), OBAMA_CROP, size)


def obama_half(size: int) -> np.ndarray:
    return _crop(fr_photo("obama.jpg"), OBAMA_HALF_CROP, size)


def obama_podium(size: int) -> np.ndarray:
    return _crop(fr_photo("obama2.jpg"), OBAMA_PODIUM_CROP, size)


def biden_portrait(size: int) -> np.ndarray:
    return _crop(fr_photo("biden.jpg"), BIDEN_CROP, size)


def biden_half(size: int) -> np.ndarray:
    return _crop(fr_photo("biden.jpg"), BIDEN_HALF_CROP, size)


def pencil_sketch(rgb: np.ndarray, seed: int = 0) -> np.ndarray:
    """Graphite on warm paper: colour-dodge of the grey image by its blurred negative, a little of
    the original tone kept (so the face still reads), and a seeded paper grain."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    blur = cv2.GaussianBlur(255 - gray, (0, 0), sigmaX=rgb.shape[0] / 64)
    dodge = np.clip(gray * 255.0 / np.maximum(255 - blur, 1), 0, 255)
    tone = 0.7 * dodge + 0.3 * gray
    grain = np.random.default_rng(seed).normal(0, 5, gray.shape).astype(np.float32)
    tone = np.clip(tone + cv2.GaussianBlur(grain, (0, 0), 0.8), 0, 255)
    paper = np.array([250, 244, 230], np.float32) / 255.0
    return np.clip(tone[..., None] * paper, 0, 255).astype(np.uint8)


def painterly(rgb: np.ndarray) -> np.ndarray:
    """A watercolour-like painting: OpenCV's edge-preserving stylization, colours warmed a little."""
    out = cv2.stylization(rgb, sigma_s=40, sigma_r=0.35).astype(np.float32)
    out *= np.array([1.04, 1.0, 0.94], np.float32)
    return np.clip(out, 0, 255).astype(np.uint8)


def clay_render(rgb: np.ndarray) -> np.ndarray:
    """A 3-D-like 'clay' rendering: flattened albedo (repeated bilateral filtering) relit by a
    key light over a height field taken from the smoothed luminance, plus a soft specular."""
    smooth = rgb
    for _ in range(4):
        smooth = cv2.bilateralFilter(smooth, d=9, sigmaColor=30, sigmaSpace=9)
    f = smooth.astype(np.float32) / 255.0
    height = cv2.GaussianBlur(cv2.cvtColor(smooth, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0, (0, 0), 3)
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=5)
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=5)
    n = np.dstack([-gx, -gy, np.full_like(gx, 0.6)])
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    light = np.array([-0.45, -0.55, 0.7], np.float32)
    light /= np.linalg.norm(light)
    lambert = np.clip(n @ light, 0, 1)
    spec = lambert ** 24
    out = f * (0.55 + 0.6 * lambert[..., None]) + 0.25 * spec[..., None]
    return np.clip(out * 255, 0, 255).astype(np.uint8)


def _canvas(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    """A vertical gradient background (a studio backdrop)."""
    t = np.linspace(0, 1, size, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return np.repeat(img, size, axis=1).astype(np.uint8)


def _draw(size: int, draw: Callable[[np.ndarray, float], None], bg: tuple, bg2: tuple) -> np.ndarray:
    """Draw at 4x with anti-aliased shapes, then area-downsample (smooth edges, deterministic)."""
    big = _canvas(size * 4, bg, bg2)
    draw(big, size * 4 / 512.0)
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA)


def _pt(*xy: float, k: float) -> tuple[int, ...]:
    return tuple(int(round(v * k)) for v in xy)


def chibi(head_rgb: np.ndarray, suit: tuple[int, int, int], size: int) -> np.ndarray:
    """A full-body cartoon figure (chibi proportions: the head is a third of the height): the
    stylized head of a portrait, cut out with a feathered oval, on a drawn body."""
    def body(img: np.ndarray, k: float) -> None:
        aa = cv2.LINE_AA
        dark = tuple(int(c * 0.55) for c in suit)
        cv2.ellipse(img, _pt(256, 492, k=k), _pt(150, 14, k=k), 0, 0, 360, (90, 90, 110), -1, aa)  # shadow
        for x in (214, 298):  # legs and shoes
            cv2.rectangle(img, _pt(x - 24, 390, k=k), _pt(x + 24, 470, k=k), dark, -1, aa)
            cv2.ellipse(img, _pt(x + 6, 478, k=k), _pt(38, 16, k=k), 0, 0, 360, (40, 40, 48), -1, aa)
        cv2.ellipse(img, _pt(256, 330, k=k), _pt(92, 100, k=k), 0, 180, 360, suit, -1, aa)  # torso
        cv2.rectangle(img, _pt(164, 330, k=k), _pt(348, 400, k=k), suit, -1, aa)
        for sx in (-1, 1):  # arms with hands
            pts = np.array([_pt(256 + sx * 80, 262, k=k), _pt(256 + sx * 128, 350, k=k),
                            _pt(256 + sx * 112, 372, k=k), _pt(256 + sx * 70, 300, k=k)], np.int32)
            cv2.fillPoly(img, [pts], dark, aa)
            cv2.circle(img, _pt(256 + sx * 122, 370, k=k), int(20 * k), (224, 188, 160), -1, aa)
        cv2.rectangle(img, _pt(236, 236, k=k), _pt(276, 262, k=k), (214, 176, 150), -1, aa)  # neck

    img = _draw(size, body, (214, 230, 246), (246, 236, 214))
    # the head: 232 px of the 512 frame, centred above the shoulders
    s = int(round(232 * size / 512))
    head = _resize(head_rgb, s).astype(np.float32)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    r = ((xx - s / 2) / (0.40 * s)) ** 2 + ((yy - s * 0.52) / (0.48 * s)) ** 2
    alpha = np.clip((1.0 - r) / 0.12, 0, 1)[..., None]
    x0, y0 = (size - s) // 2, int(round(18 * size / 512))
    region = img[y0 : y0 + s, x0 : x0 + s].astype(np.float32)
    img[y0 : y0 + s, x0 : x0 + s] = np.clip(alpha * head + (1 - alpha) * region, 0, 255).astype(np.uint8)
    return img


def collins_chibi(size: int) -> np.ndarray:
    return chibi(cel_shaded(_crop(skimage_astronaut(), (150, 40, 150), 512)), (236, 120, 40), size)


def hopper_chibi(size: int) -> np.ndarray:
    return chibi(cel_shaded(_crop(grace_hopper(), (95, 20, 350), 512)), (28, 36, 70), size)


def skimage_astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


def robot_mascot(size: int) -> np.ndarray:
    """A drawn robot, full body: box head with round eyes, an antenna, a speaker-grille mouth."""
    def draw(img: np.ndarray, k: float) -> None:
        aa = cv2.LINE_AA
        steel, dark, glow = (150, 170, 190), (70, 84, 100), (90, 220, 255)
        cv2.ellipse(img, _pt(256, 494, k=k), _pt(140, 12, k=k), 0, 0, 360, (90, 90, 110), -1, aa)
        for x in (206, 306):
            cv2.rectangle(img, _pt(x - 22, 400, k=k), _pt(x + 22, 480, k=k), dark, -1, aa)
        cv2.rectangle(img, _pt(166, 270, k=k), _pt(346, 410, k=k), steel, -1, aa)  # body
        cv2.circle(img, _pt(256, 338, k=k), int(26 * k), glow, -1, aa)
        for sx in (-1, 1):
            cv2.line(img, _pt(256 + sx * 92, 290, k=k), _pt(256 + sx * 140, 380, k=k), dark, int(22 * k), aa)
            cv2.circle(img, _pt(256 + sx * 142, 386, k=k), int(18 * k), steel, -1, aa)
        cv2.rectangle(img, _pt(150, 70, k=k), _pt(362, 250, k=k), steel, -1, aa)  # head
        cv2.rectangle(img, _pt(150, 70, k=k), _pt(362, 250, k=k), dark, int(6 * k), aa)
        cv2.line(img, _pt(256, 70, k=k), _pt(256, 30, k=k), dark, int(8 * k), aa)
        cv2.circle(img, _pt(256, 26, k=k), int(12 * k), (255, 90, 90), -1, aa)
        for x in (206, 306):
            cv2.circle(img, _pt(x, 138, k=k), int(28 * k), (255, 255, 255), -1, aa)
            cv2.circle(img, _pt(x, 140, k=k), int(13 * k), (30, 40, 60), -1, aa)
        cv2.rectangle(img, _pt(200, 190, k=k), _pt(312, 222, k=k), dark, -1, aa)  # mouth grille
        for x in range(214, 312, 16):
            cv2.line(img, _pt(x, 192, k=k), _pt(x, 220, k=k), steel, int(4 * k), aa)

    return _draw(size, draw, (40, 52, 80), (120, 90, 140))


def fox_mascot(size: int) -> np.ndarray:
    """A drawn fox, head and chest: pointed ears, white muzzle and cheeks, dark nose."""
    def draw(img: np.ndarray, k: float) -> None:
        aa = cv2.LINE_AA
        orange, white, dark = (230, 120, 40), (250, 246, 238), (40, 30, 30)
        cv2.ellipse(img, _pt(256, 520, k=k), _pt(190, 170, k=k), 0, 180, 360, orange, -1, aa)  # chest
        cv2.ellipse(img, _pt(256, 520, k=k), _pt(96, 120, k=k), 0, 180, 360, white, -1, aa)
        for sx in (-1, 1):  # ears
            ear = np.array([_pt(256 + sx * 70, 170, k=k), _pt(256 + sx * 150, 40, k=k), _pt(256 + sx * 160, 210, k=k)], np.int32)
            cv2.fillPoly(img, [ear], orange, aa)
            inner = np.array([_pt(256 + sx * 100, 170, k=k), _pt(256 + sx * 145, 80, k=k), _pt(256 + sx * 150, 190, k=k)], np.int32)
            cv2.fillPoly(img, [inner], dark, aa)
        cv2.ellipse(img, _pt(256, 250, k=k), _pt(150, 130, k=k), 0, 0, 360, orange, -1, aa)  # head
        face = np.array([_pt(120, 260, k=k), _pt(256, 380, k=k), _pt(392, 260, k=k), _pt(256, 300, k=k)], np.int32)
        cv2.fillPoly(img, [face], white, aa)
        for x in (200, 312):
            cv2.ellipse(img, _pt(x, 232, k=k), _pt(16, 20, k=k), 0, 0, 360, dark, -1, aa)
            cv2.circle(img, _pt(x + 5, 226, k=k), int(5 * k), (255, 255, 255), -1, aa)
        cv2.ellipse(img, _pt(256, 356, k=k), _pt(22, 15, k=k), 0, 0, 360, dark, -1, aa)  # nose
        cv2.ellipse(img, _pt(256, 372, k=k), _pt(30, 14, k=k), 0, 20, 160, dark, int(4 * k), aa)  # mouth

    return _draw(size, draw, (120, 180, 120), (220, 230, 170))


def chelsea_cel(size: int) -> np.ndarray:
    """The cat, cel-shaded (a cartoon animal)."""
    return cel_shaded(chelsea_square(512), levels=8) if size == 512 else _resize(chelsea_cel(512), size)


def _resize(rgb: np.ndarray, size: int) -> np.ndarray:
    if rgb.shape[0] == size and rgb.shape[1] == size:
        return np.ascontiguousarray(rgb)
    interp = cv2.INTER_AREA if rgb.shape[0] > size else cv2.INTER_LANCZOS4
    return cv2.resize(rgb, (size, size), interpolation=interp)


@dataclass(frozen=True)
class CharacterSpec:
    id: str
    style: str
    make: Callable[[int], np.ndarray]
    source: str
    license: str
    derivation: str
    expect_face: bool  # whether dlib's frontal HOG detector must find a face in it
    shot: str = "close_up"  # framing of the first reference: close_up | half_body | full_body
    # further references (file suffix, maker): other framings of the same character
    extra: tuple[tuple[str, Callable[[int], np.ndarray]], ...] = ()


CHARACTERS: dict[str, CharacterSpec] = {
    c.id: c
    for c in (
        CharacterSpec(
            "astronaut", "photoreal", astronaut_portrait,
            source="scikit-image skimage.data.astronaut(): NASA photograph of astronaut Eileen Collins (https://flic.kr/p/r9qvLn)",
            license="Public domain (NASA; 'no known copyright restrictions')",
            derivation=f"crop x,y,size={ASTRONAUT_CROP} of the 512x512 original, Lanczos/area resize",
            expect_face=True,
        ),
        CharacterSpec(
            "astronaut_cel", "stylized", astronaut_cel,
            source="derived from skimage.data.astronaut() by scripts/make_suites.py (cel shading)",
            license="Public domain (derivative of a public-domain NASA photograph)",
            derivation="astronaut portrait at 512 px -> 2x bilateral filter, saturation x1.35, k-means palette of 9 tones, adaptive-threshold ink outlines",
            expect_face=True,
        ),
        CharacterSpec(
            "chelsea", "non_humanoid", chelsea_square,
            source="scikit-image skimage.data.chelsea(): photograph of Chelsea the cat by Stefan van der Walt",
            license="CC0-1.0 ('No copyright restrictions. CC0 by the photographer')",
            derivation=f"window x,y,w,h={CHELSEA_CROP} of the 451x300 original, resized to the suite width, padded to a square with a blurred stretched copy",
            expect_face=False,
        ),
    )
}

COLLINS_SRC = "scikit-image skimage.data.astronaut(): NASA photograph of astronaut Eileen Collins (https://flic.kr/p/r9qvLn)"
COLLINS_LIC = "Public domain (NASA; 'no known copyright restrictions')"
HOPPER_SRC = ("matplotlib mpl-data/sample_data/grace_hopper.jpg: US Navy portrait of Commodore Grace M. Hopper "
              "(https://commons.wikimedia.org/wiki/File:Commodore_Grace_M._Hopper,_USN_(covered).jpg)")
HOPPER_LIC = "Public domain (photograph by the US Navy, a work of the US federal government)"
WH_SRC = (f"official White House photograph ({{what}}), from the PyPI sdist {FR_SDIST} "
          f"(sha256 {FR_SDIST_SHA256}), {FR_IMAGES}{{file}}")
WH_LIC = "Public domain: work of the US federal government (17 U.S.C. 105)"
DRAWN = "drawn procedurally by scripts/suitegen/characters.py (OpenCV shapes)"

# The rest of the standard suite's cast (it also has chelsea; the characters above keep their ids and bytes).
CHARACTERS.update({
    c.id: c
    for c in (
        CharacterSpec("collins", "photoreal", astronaut_portrait, COLLINS_SRC, COLLINS_LIC,
                      f"crop x,y,size={ASTRONAUT_CROP}; second reference: crop {ASTRONAUT_HALF_CROP} (head and chest)",
                      True, "close_up", (("half", collins_half),)),
        CharacterSpec("collins_half", "photoreal", collins_half, COLLINS_SRC, COLLINS_LIC,
                      f"crop x,y,size={ASTRONAUT_HALF_CROP} of the 512x512 original (head, shoulders, chest)", True, "half_body"),
        CharacterSpec("hopper", "photoreal", hopper_portrait, HOPPER_SRC, HOPPER_LIC,
                      f"crop x,y,size={HOPPER_CROP} of the 512x600 original; second reference: crop {HOPPER_HALF_CROP} (the bust)",
                      True, "close_up", (("half", hopper_half),)),
        CharacterSpec("hopper_half", "photoreal", hopper_half, HOPPER_SRC, HOPPER_LIC,
                      f"crop x,y,size={HOPPER_HALF_CROP} of the 512x600 original (head, shoulders, chest)", True, "half_body"),
        CharacterSpec("obama", "photoreal", obama_portrait,
                      WH_SRC.format(what="Barack Obama, official portrait, 2012; second reference: Obama speaking at a podium",
                                    file="obama.jpg and obama2.jpg"), WH_LIC,
                      f"obama.jpg crop x,y,size={OBAMA_CROP}; second reference: obama2.jpg crop {OBAMA_PODIUM_CROP} (speaking)",
                      True, "close_up", (("podium", obama_podium),)),
        CharacterSpec("obama_half", "photoreal", obama_half,
                      WH_SRC.format(what="Barack Obama, official portrait, 2012", file="obama.jpg"), WH_LIC,
                      f"crop x,y,size={OBAMA_HALF_CROP} of the 910x1137 original (head, shoulders, crossed arms)", True, "half_body"),
        CharacterSpec("biden", "photoreal", biden_portrait,
                      WH_SRC.format(what="Joe Biden as Vice President", file="biden.jpg"), WH_LIC,
                      f"crop x,y,size={BIDEN_CROP} of the 970x2204 original; second reference: crop {BIDEN_HALF_CROP} (the bust)",
                      True, "close_up", (("half", biden_half),)),
        CharacterSpec("biden_half", "photoreal", biden_half,
                      WH_SRC.format(what="Joe Biden as Vice President", file="biden.jpg"), WH_LIC,
                      f"crop x,y,size={BIDEN_HALF_CROP} of the 970x2204 original (head, shoulders, crossed arms)", True, "half_body"),
        CharacterSpec("collins_cel", "stylized", astronaut_cel, "derived from skimage.data.astronaut() (cel shading)",
                      "Public domain (derivative of a public-domain NASA photograph)",
                      "the mini suite's astronaut_cel: bilateral filtering, k-means palette, ink outlines", True, "close_up"),
        CharacterSpec("hopper_sketch", "stylized", lambda n: pencil_sketch(hopper_portrait(n)),
                      "derived from matplotlib's grace_hopper.jpg (pencil sketch)", "Public domain (derivative of a US Navy photograph)",
                      "hopper close-up -> colour dodge of the blurred negative, 30 % original tone, seeded paper grain", True, "close_up"),
        CharacterSpec("collins_paint", "stylized", lambda n: painterly(collins_half(n)),
                      "derived from skimage.data.astronaut() (painting)", "Public domain (derivative of a public-domain NASA photograph)",
                      "collins_half -> cv2.stylization(sigma_s=40, sigma_r=0.35), warmed", True, "half_body"),
        CharacterSpec("hopper_clay", "stylized", lambda n: clay_render(hopper_portrait(n)),
                      "derived from matplotlib's grace_hopper.jpg (3-D-like clay render)", "Public domain (derivative of a US Navy photograph)",
                      "hopper close-up -> 4x bilateral filter, relit by a key light over a luminance height field, soft specular", True, "close_up"),
        CharacterSpec("collins_chibi", "stylized", collins_chibi, f"derived from skimage.data.astronaut() (cel-shaded head) on a body {DRAWN}",
                      "Public domain (derivative of a public-domain NASA photograph; the drawing: CC0-1.0)",
                      "head window (150, 40, 150) cel-shaded, feathered oval cut-out, on a drawn orange flight suit", True, "full_body"),
        CharacterSpec("hopper_chibi", "stylized", hopper_chibi, f"derived from matplotlib's grace_hopper.jpg (cel-shaded head) on a body {DRAWN}",
                      "Public domain (derivative of a US Navy photograph; the drawing: CC0-1.0)",
                      "head window (95, 20, 350) cel-shaded, feathered oval cut-out, on a drawn navy uniform", True, "full_body"),
        CharacterSpec("chelsea_cel", "non_humanoid", chelsea_cel, "derived from skimage.data.chelsea() (cel shading)", "CC0-1.0",
                      "chelsea -> cel shading with 8 tones", False, "close_up"),
        CharacterSpec("robot", "non_humanoid", robot_mascot, f"a robot mascot {DRAWN}", "CC0-1.0",
                      "box head, round eyes, antenna, grille mouth, full body on a gradient backdrop", False, "full_body"),
        CharacterSpec("fox", "non_humanoid", fox_mascot, f"a fox mascot {DRAWN}", "CC0-1.0",
                      "head and chest: pointed ears, white muzzle, dark nose", False, "half_body"),
    )
})


def detect_faces(rgb: np.ndarray, upsample: int = 0) -> list[tuple[tuple[int, int, int, int], float]]:
    """dlib frontal HOG detections as ((left, top, right, bottom), score), best first."""
    import dlib

    det = dlib.get_frontal_face_detector()
    rects, scores, _ = det.run(np.ascontiguousarray(rgb), upsample, 0.0)
    found = [((r.left(), r.top(), r.right(), r.bottom()), float(s)) for r, s in zip(rects, scores)]
    return sorted(found, key=lambda f: -f[1])


def save_png(rgb: np.ndarray, path: Path) -> None:
    """Write a PNG with fixed compression settings (byte-identical on re-runs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if not ok:
        raise RuntimeError(f"PNG encoding failed for {path}")
    path.write_bytes(buf.tobytes())
