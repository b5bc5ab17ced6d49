"""Reference images of the bundled characters, derived deterministically from redistributable photos.

Every function returns an RGB uint8 array; provenance (source, licence, derivation) lives beside
them in :data:`CHARACTERS` so the manifest and the README are written from one place.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

# Portrait crop of skimage's astronaut photo: a 256x256 window around the face (dlib box
# (179, 83)-(266, 170)), so the face fills about a third of the frame, as talking-head models expect.
ASTRONAUT_CROP = (94, 12, 256)  # x, y, size in the 512x512 original


def astronaut_portrait(size: int) -> np.ndarray:
    """Head-and-shoulders crop of ``skimage.data.astronaut()`` resized to ``size`` x ``size``."""
    import skimage.data

    x, y, s = ASTRONAUT_CROP
    crop = skimage.data.astronaut()[y : y + s, x : x + s]
    return _resize(crop, size)


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
