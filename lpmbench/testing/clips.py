"""Controlled face videos: real face photos animated by image warps whose strength we choose.

The photos are ones that Python packages ship: ``astronaut`` (scikit-image ``data.astronaut()``,
NASA, public domain), ``hanks`` (insightface ``data/images/Tom_Hanks_54745.png``, upscaled) and
``t1_man`` (a face cropped from insightface ``data/images/t1.jpg``), each cut to a square around
the face (face ~40 % wide), and ``astronaut_portrait``, the bundled suites' framing of the astronaut
(:func:`lpmbench.vision.astronaut_portrait`, face ~34 % wide). dlib's 68 landmarks on the clean photo place every warp; the warps are
those of :mod:`lpmbench.vision.warps` (the puppet baseline's too), evaluated exactly at the source
points of the head motion.

Every effect is a per-frame *track*: a number (constant), an array of length ``n_frames`` or a
function of time in seconds (vectorised over a NumPy array). Lengths are in units of the face's
inter-ocular distance (IOD), angles in degrees::

    yaw, pitch, roll   head rotation (deg). Yaw/pitch are 2.5D: every face pixel moves by its
                       depth on an ellipsoid+nose model times sin(angle), so PnP sees a rotation;
                       yaw > 0 moves the nose toward image right, pitch > 0 moves it up; roll > 0
                       is counter-clockwise on screen.
    head_dx, head_dy   head translation (IOD) of the face/hair region only
    body_dx, body_dy   translation (IOD) of the whole frame (body sway / camera shake)
    body_roll          rotation (deg, counter-clockwise) of the whole frame about the face
    mouth              jaw drop (IOD): the lips part and the gap is painted as a dark mouth interior
    smile              mouth-corner pull outward (IOD; up by SMILE_UP / SMILE_OUT of it)
    brow               eyebrow raise (IOD)
    blink              eyelid closure, 0 open .. 1 closed (both eyes)
    gaze_x             horizontal iris shift inside both eyes, in half eye widths (corner to
                       corner / 2), > 0 toward image right (the unit of the analysis' ``gaze``
                       feature); the lids and corners stay put
    identity           0..1 cross-fade to ``other`` person aligned onto the face (a step = switch)
    cast               colour cast: shift of CIELAB b* (yellow) in Lab units (~ the ΔE it adds)
    occlude            0..1 fraction of the (dilated) face box covered by a flat patch, from the
                       bottom up; 1 hides the face
    jitter             std (IOD) of random, independent per-frame non-rigid face warps
    brightness         multiplicative luminance gain - 1 (e.g. 0.08 * (-1)**frame = flicker)
    blur               Gaussian blur sigma (px) of the whole frame

Helpers build typical tracks: :func:`pulse` (smooth on/off), :func:`oscillation` (e.g. nods),
:func:`blink_track`, :func:`speech_mouth`, :func:`ramp`, :func:`alternating`, :func:`nod_track`,
:func:`talking_tracks`; :func:`perform` turns (action, start, end) triples of the prompt vocabulary
into tracks (:data:`ACTION_TRACKS`). :func:`lip_synced_clip` makes the mouth follow an audio
envelope; :func:`with_audio` re-describes one video with other soundtracks.

>>> clip = make_clip(media_dir(), "nod", duration=4, pitch=oscillation(1, 3, cycles=2, amp=10),
...                  prompts=[("nod", 1, 3)])
>>> clip.video, clip.case            # an MP4 and the lpmbench.case.Case that describes it

Clips are cached by their parameters inside ``out_dir`` (same arguments -> same file, not
re-rendered), so fixtures of several test modules can share them cheaply (:func:`media_dir`).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from ..vision import astronaut_portrait
from ..vision import warps as W
from . import audio as A

PERSONS = ("astronaut", "astronaut_portrait", "hanks", "t1_man")
TRACKS = ("yaw", "pitch", "roll", "head_dx", "head_dy", "body_dx", "body_dy", "body_roll", "mouth", "smile",
          "brow", "blink", "gaze_x", "identity", "cast", "occlude", "jitter", "brightness", "blur")
Track = float | np.ndarray | Callable[[np.ndarray], np.ndarray]


@functools.lru_cache(maxsize=1)
def media_dir() -> Path:
    """One scratch folder per process for clips, WAVs and the analysis cache, so identical media
    requested by several test modules is rendered and analysed once (never across runs); it is
    removed when the process exits."""
    import atexit
    import shutil
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="lpmbench_media_"))
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


# -- photos ----------------------------------------------------------------------------------------
def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


@functools.lru_cache(maxsize=8)
def face_photo(person: str = "astronaut", size: int = 256) -> np.ndarray:
    """A ``size`` x ``size`` RGB uint8 photo of ``person`` (one of :data:`PERSONS`)."""
    from PIL import Image

    if person == "astronaut_portrait":
        return astronaut_portrait(size)
    if person == "astronaut":
        # The validity clips' close-up. On the portrait the 12.5 fps expressiveness clip with head,
        # mouth and brow motion at level 2 meets a one-frame landmark collapse of the tracker, and
        # its face motion no longer grows by 1.2x to level 3 (1.19x; 1.50x on this close-up).
        from skimage.data import astronaut

        im = Image.fromarray(astronaut()).crop((108, 9, 332, 233))  # face box (175,76)-(265,166)
        return np.asarray(im.resize((size, size), Image.LANCZOS)).copy()
    if person == "t1_man":
        src = Image.open(_package_dir("insightface") / "data" / "images" / "t1.jpg").convert("RGB")
        im = src.crop((370, 215, 637, 482))  # face box (450,295)-(557,402)
        return np.asarray(im.resize((size, size), Image.LANCZOS)).copy()
    if person == "hanks":
        # a 112x112 aligned face crop: upscale it and set it on a blurred, stretched copy of itself
        from PIL import ImageFilter

        src = Image.open(_package_dir("insightface") / "data" / "images" / "Tom_Hanks_54745.png").convert("RGB")
        bg = src.resize((size, size), Image.BICUBIC).filter(ImageFilter.GaussianBlur(size / 12))
        fg = src.resize((int(size * 0.62),) * 2, Image.LANCZOS)
        bg.paste(fg, ((size - fg.width) // 2, int(size * 0.1)))
        return np.asarray(bg).copy()
    raise ValueError(f"unknown person {person!r}; choose one of {PERSONS}")


# -- a photo ready to animate: landmarks, warp geometry, depth and masks ----------------------------
@dataclass
class _Face:
    person: str
    image: np.ndarray  # (S, S, 3) uint8
    lm: np.ndarray  # (68, 2) landmarks of the clean photo
    geom: W.FaceGeometry  # where the vision warps go
    grid: tuple[np.ndarray, np.ndarray]  # (xx, yy) float32 pixel centres
    depth: np.ndarray  # (S, S) depth in px (0 off the face)
    head_mask: np.ndarray  # (S, S) 0..1 soft mask of face + hair
    face_mask: np.ndarray  # (S, S) 0..1 soft mask of the inner face
    face_box: np.ndarray  # (4,) dilated face box x0 y0 x1 y1
    other_on_face: dict[str, np.ndarray] = field(default_factory=dict)  # other person aligned (float)

    @property
    def iod(self) -> float:
        return self.geom.iod

    @functools.cached_property
    def image_f(self) -> np.ndarray:
        return self.image.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _face(person: str = "astronaut", size: int = 256) -> _Face:
    """Landmarks and warp geometry of ``person``'s photo at ``size`` px (cached per process)."""
    img = face_photo(person, size)
    lm = W.warp_landmarks(img)
    if lm is None:
        raise RuntimeError(f"testing.clips: no face found in the photo of {person!r}")
    lm = lm.astype(np.float64)
    geom = W.face_geometry(lm)
    d = geom.iod
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    jaw = lm[0:17]
    cx = float(jaw[:, 0].mean())
    rx = float(jaw[:, 0].max() - jaw[:, 0].min()) / 2.0
    top = float(lm[17:27, 1].min()) - 0.6 * d  # forehead above the brows
    bottom = float(jaw[:, 1].max())
    cy, ry = (top + bottom) / 2.0, (bottom - top) / 2.0
    # depth: an ellipsoid over the face as deep as it is half wide, plus a bump at the nose
    axes = (rx * 1.05, ry * 1.05)
    depth = W.head_depth(xx, yy, (cx, cy), axes, rx, nose=tuple(lm[30]), nose_sigma=(0.22 * d, 0.22 * d),
                         nose_scale=0.45 * d, mask=W.soft_ellipse(xx, yy, (cx, cy), axes, feather=0.15),
                         blur=0.15 * d)  # no tearing at the rim
    head = W.soft_ellipse(xx, yy, (cx, cy - 0.1 * ry), (rx * 1.45, ry * 1.35), feather=0.2)
    face = W.soft_ellipse(xx, yy, (cx, cy + 0.05 * ry), (rx * 0.95, ry * 0.95), feather=0.12)
    box = np.array([cx - 1.3 * rx, cy - 1.25 * ry, cx + 1.3 * rx, cy + 1.2 * ry])
    return _Face(person, img, lm, geom, (xx, yy), depth, head, face, np.clip(box, 0, size - 1))


def _other_on_face(base: _Face, other: str) -> np.ndarray:
    """``other``'s face warped so its eyes, nose and mouth land on ``base``'s, blended into
    ``base``'s photo with a soft face mask (float32 RGB): the scene stays, the person changes."""
    import cv2

    from ..analysis.face import similarity_transform

    if other in base.other_on_face:
        return base.other_on_face[other]
    o = _face(other, base.image.shape[0])
    pts = np.r_[27:48, 48:68]
    s, r, t = similarity_transform(o.lm[pts], base.lm[pts])
    size = base.image.shape[0]
    warped = cv2.warpAffine(o.image, np.hstack([s * r, t[:, None]]), (size, size), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
    mask = base.face_mask[..., None]
    out = base.image.astype(np.float32) * (1 - mask) + warped.astype(np.float32) * mask
    base.other_on_face[other] = out
    return out


# -- tracks ----------------------------------------------------------------------------------------
def pulse(start: float, end: float, amp: float = 1.0, ramp: float = 0.25) -> Callable[[np.ndarray], np.ndarray]:
    """0 outside [start, end], ``amp`` inside, with raised-cosine ramps of ``ramp`` s inside the span."""

    def f(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        up = np.clip((t - start) / ramp, 0, 1)
        down = np.clip((end - t) / ramp, 0, 1)
        w = np.minimum(up, down)
        return amp * (0.5 - 0.5 * np.cos(np.pi * w))

    return f


def oscillation(start: float, end: float, cycles: float = 2.0, amp: float = 10.0, phase: float = 0.0,
                shape: str = "sin") -> Callable[[np.ndarray], np.ndarray]:
    """``cycles`` periods of a sine of amplitude ``amp`` inside [start, end], 0 outside.

    ``shape="dip"`` gives one-sided excursions ``amp * (1 - cos) / 2`` (a nod: down and back up).
    """

    def f(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        u = np.clip((t - start) / (end - start), 0, 1)
        ph = 2 * np.pi * cycles * u + phase
        y = amp * (0.5 - 0.5 * np.cos(ph)) if shape == "dip" else amp * np.sin(ph)
        return np.where((t >= start) & (t <= end), y, 0.0)

    return f


def ramp(start: float, end: float, v0: float = 0.0, v1: float = 1.0) -> Callable[[np.ndarray], np.ndarray]:
    """``v0`` before ``start``, linear to ``v1`` at ``end``, ``v1`` after."""
    return lambda t: v0 + (v1 - v0) * np.clip((np.asarray(t, np.float64) - start) / (end - start), 0, 1)


def alternating(amp: float) -> Callable[[np.ndarray], np.ndarray]:
    """+amp / -amp on alternate frames (needs the frame index: used for brightness flicker)."""
    return lambda t: amp * (1 - 2 * (np.arange(len(np.atleast_1d(t))) % 2))


def blink_track(n_frames: int, at_frames: Iterable[int], length: int = 5) -> np.ndarray:
    """Eyelid closure (0..1) with one blink of ``length`` frames starting at each frame index."""
    prof = np.sin(np.linspace(0, np.pi, length + 2)[1:-1]) ** 0.5  # closes then reopens
    prof = np.clip(prof * 1.15, 0, 1)
    y = np.zeros(n_frames)
    for f in at_frames:
        seg = y[f : f + length]
        y[f : f + length] = np.maximum(seg, prof[: len(seg)])
    return y


def speech_mouth(amp: float = 0.25, rate_hz: float = 4.0, seed: int = 0,
                 spans: Sequence[tuple[float, float]] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A syllable-like mouth-opening signal (IOD): random-height bumps at ~``rate_hz``; 0 outside
    ``spans`` (seconds) when given."""

    def f(t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        rng = np.random.default_rng(seed)
        n = int(np.ceil((t.max() + 1) * rate_hz)) + 2
        heights = rng.uniform(0.4, 1.0, n)
        phase = t * rate_hz
        k = np.floor(phase).astype(int)
        y = amp * heights[k] * np.sin(np.pi * (phase - k)) ** 2
        if spans is not None:
            on = np.zeros_like(t, dtype=bool)
            for s, e in spans:
                on |= (t >= s) & (t < e)
            y = np.where(on, y, 0.0)
        return y

    return f


def nod_track(n_frames: int, centers_s: list[float], deg: float, dur_s: float = 0.6, fps: float = A.FPS) -> np.ndarray:
    """Pitch (deg) made of one-sided raised-cosine dips, one nod of ``dur_s`` s at each centre."""
    t = np.arange(n_frames) / fps
    x = np.zeros(n_frames)
    for c in centers_s:
        u = (t - c) / dur_s
        x += np.where(np.abs(u) < 0.5, -deg * 0.5 * (1 + np.cos(2 * np.pi * u)), 0.0)
    return x


def talking_tracks(seed: int = 0) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """A smooth, moving, talking head: syllable-rate mouth, slow head roll and body sway."""
    rng = np.random.default_rng(seed)
    ph = rng.uniform(0, 2 * np.pi, 5)
    return dict(
        mouth=lambda t: 0.14 * np.maximum(0.0, np.sin(2 * np.pi * 3.1 * t + ph[0])) * (0.6 + 0.4 * np.sin(0.7 * t + ph[1])),
        roll=lambda t: 6.0 * np.sin(2 * np.pi * 0.23 * t + ph[2]),
        body_dx=lambda t: 0.3 * np.sin(2 * np.pi * 0.17 * t + ph[3]),
        body_dy=lambda t: 0.18 * np.sin(2 * np.pi * 0.11 * t + ph[4]),
    )


# How each vocabulary action (lpmbench.case.ACTIONS) is performed: track name -> track maker.
# Yaw > 0 turns the nose toward image right, i.e. the character looks to its own left.
ACTION_TRACKS: dict[str, Callable[[float, float], tuple[str, Callable]]] = {
    "nod": lambda s, e: ("pitch", oscillation(s, e, cycles=2, amp=-14.0, shape="dip")),
    "shake_head": lambda s, e: ("yaw", oscillation(s, e, cycles=2, amp=22.0)),
    "look_left": lambda s, e: ("yaw", pulse(s, e, 25.0)),
    "look_right": lambda s, e: ("yaw", pulse(s, e, -25.0)),
    "smile": lambda s, e: ("smile", pulse(s, e, 0.15)),
    "raise_eyebrows": lambda s, e: ("brow", pulse(s, e, 0.12)),
    "close_eyes": lambda s, e: ("blink", pulse(s, e, 1.0, ramp=0.1)),
}


def perform(actions: Sequence[tuple[str, float, float]], **extra: Track) -> dict[str, Callable]:
    """Tracks that perform each (action, start, end), summed per track, plus ``extra`` tracks
    (e.g. ``mouth=speech_mouth()``); pass the result to :func:`make_clip` as ``**tracks``."""
    parts: dict[str, list] = {}
    for action, s, e in actions:
        if action not in ACTION_TRACKS:
            raise ValueError(f"unknown action {action!r}; known: {sorted(ACTION_TRACKS)}")
        name, fn = ACTION_TRACKS[action](float(s), float(e))
        parts.setdefault(name, []).append(fn)
    for name, tr in extra.items():
        parts.setdefault(name, []).append(tr)

    def total(fns):
        return lambda t: sum(eval_track(f, np.asarray(t, np.float64)) for f in fns)

    return {name: total(fns) for name, fns in parts.items()}


def eval_track(track: Track, t: np.ndarray) -> np.ndarray:
    """A track (number, array or function of time) as a float array over the frame times ``t``."""
    if callable(track):
        y = np.asarray(track(t), dtype=np.float64)
    else:
        y = np.asarray(track, dtype=np.float64)
    if y.ndim == 0:
        y = np.full(len(t), float(y))
    if y.shape != (len(t),):
        raise ValueError(f"track has shape {y.shape}, expected ({len(t)},)")
    return y


# -- rendering ---------------------------------------------------------------------------------------
def _rotate(x: np.ndarray, y: np.ndarray, c: np.ndarray, deg: float) -> tuple[np.ndarray, np.ndarray]:
    """Source points of a rotation by ``deg`` (counter-clockwise on screen) about ``c``."""
    th = np.radians(-deg)
    return (c[0] + np.cos(th) * (x - c[0]) + np.sin(th) * (y - c[1]),
            c[1] - np.sin(th) * (x - c[0]) + np.cos(th) * (y - c[1]))


def _inside(qx: np.ndarray, qy: np.ndarray, bounds: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = bounds
    return (qx >= x0) & (qx < x1) & (qy >= y0) & (qy < y1)


def _expression(f: _Face, qx: np.ndarray, qy: np.ndarray, p: dict[str, float], rng: np.random.Generator):
    """Source points (sx, sy) of the face expression at points (qx, qy) of the unmoved photo, and
    where and how much to paint the mouth interior: (mask, alpha at the mask), None when closed."""
    g, d = f.geom, f.iod
    ox, oy = np.zeros_like(qx), np.zeros_like(qy)
    alpha = None

    def patch(bounds):  # the points where a patch can be non-zero
        m = _inside(qx, qy, bounds)
        return m, qx[m], qy[m]

    if p["smile"]:
        m, x, y = patch(W.smile_bounds(g))
        fx, fy = W.smile_offsets(x, y, g)
        ox[m] += p["smile"] / W.SMILE_OUT * fx
        oy[m] += p["smile"] / W.SMILE_OUT * fy
    if p["brow"]:
        m, x, y = patch(W.brow_bounds(g))
        oy[m] += p["brow"] * d / W.brow_lift(g) * W.brow_offsets(x, y, g)
    if p["blink"] > 0:
        for eye in g.eyes:
            m, x, y = patch(W.eyelid_bounds(eye, d))
            oy[m] += W.eyelid_offsets(x, y, eye, d, float(np.clip(p["blink"], 0, 1)))
    if p["gaze_x"]:
        for a, b, up, lo in ((36, 39, [37, 38], [40, 41]), (42, 45, [43, 44], [46, 47])):
            cx, hw = 0.5 * (f.lm[a, 0] + f.lm[b, 0]), 0.5 * abs(f.lm[b, 0] - f.lm[a, 0])
            top, bottom = f.lm[up, 1].mean(), f.lm[lo, 1].mean()
            cy, hh = 0.5 * (top + bottom), 0.5 * (bottom - top)
            m, x, y = patch((cx - hw, cy - 1.3 * hh, cx + hw, cy + 1.3 * hh))
            # the eye's content slides between the lids: flat over the iris, zero at corners and lids
            ox[m] -= p["gaze_x"] * hw * W.bump(x - cx, 0.55 * hw, hw) * W.bump(y - cy, 0.6 * hh, 1.3 * hh)
    drop = p["mouth"] * d
    if drop > 0.05:
        m, x, y = patch(W.jaw_bounds(g, drop))
        oy[m] += W.jaw_offsets(x, y, g, drop)
        alpha = (m, W.mouth_cavity(x, y, g, drop))
    if p["jitter"]:
        # random, independent non-rigid warps: Gaussian bumps of random shift at 16 landmarks
        for i in rng.choice(68, size=16, replace=False):
            w = np.exp(-(((qx - f.lm[i, 0]) ** 2 + (qy - f.lm[i, 1]) ** 2) / (2 * (0.3 * d) ** 2)))
            ox -= rng.normal(0, p["jitter"] * d) * w
            oy -= rng.normal(0, p["jitter"] * d) * w
    return qx + ox, qy + oy, alpha


def render_frame(f: _Face, p: dict[str, float], rng: np.random.Generator, other: str = "hanks") -> np.ndarray:
    """One RGB uint8 frame of face ``f`` with effect values ``p`` (every name in :data:`TRACKS`)."""
    import cv2

    xx, yy = f.grid
    d = f.iod
    size = f.image.shape[0]
    c = f.lm[27:48].mean(0)  # rotations are about the eye/nose centre
    # 1) body: the whole frame shifts and rolls
    x1, y1 = xx - p["body_dx"] * d, yy - p["body_dy"] * d
    if p["body_roll"]:
        x1, y1 = _rotate(x1, y1, c, p["body_roll"])
    # 2) head: roll and translation inside the head mask, then yaw/pitch by depth
    rx, ry = _rotate(x1, y1, c, p["roll"])
    hm = f.head_mask
    bx = x1 + hm * (rx - x1) - hm * p["head_dx"] * d
    by = y1 + hm * (ry - y1) - hm * p["head_dy"] * d
    qx, qy = bx, by
    sin_yaw, sin_pitch = np.sin(np.radians(p["yaw"])), np.sin(np.radians(p["pitch"]))
    if sin_yaw or sin_pitch:
        qx, qy = W.source_points(bx, by, f.depth, sin_yaw, -sin_pitch)  # pitch > 0: nose up
    # 3) face expression in the photo's own coordinates
    sx, sy, alpha = _expression(f, qx, qy, p, rng)
    base = f.image_f
    if p["identity"] > 0:
        base = (1 - p["identity"]) * base + p["identity"] * _other_on_face(f, other)
    out = cv2.remap(base, sx.astype(np.float32), sy.astype(np.float32), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT)
    if alpha is not None:
        m, a = alpha[0], alpha[1][:, None]
        out[m] = out[m] * (1 - a) + np.array(W.MOUTH_COLOUR, np.float32) * a
    if p["occlude"] > 0:
        x0, y0, x1b, y1b = f.face_box
        top = y1b - float(np.clip(p["occlude"], 0, 1)) * (y1b - y0)
        ys = slice(int(round(top)), int(round(y1b)) + 1)
        out[ys, int(x0) : int(x1b) + 1] = np.array([128.0, 128.0, 128.0])
    if p["cast"]:
        lab = cv2.cvtColor(np.clip(out, 0, 255).astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
        lab[..., 2] += p["cast"]
        out = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB) * 255.0
    if p["brightness"]:
        out = out * (1.0 + p["brightness"])
    if p["blur"] > 0:
        out = cv2.GaussianBlur(out.astype(np.float32), (0, 0), p["blur"])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)[:size, :size]


def frames(n_frames: int, fps: float = 25.0, *, person: str = "astronaut", other: str = "hanks", size: int = 256,
           seed: int = 0, **tracks: Track) -> Iterator[np.ndarray]:
    """The ``n_frames`` frames (RGB uint8) of ``person`` performing ``tracks`` at ``fps``."""
    unknown = set(tracks) - set(TRACKS)
    if unknown:
        raise ValueError(f"unknown track(s) {sorted(unknown)}; known: {TRACKS}")
    t = np.arange(n_frames) / fps
    vals = {k: eval_track(tracks.get(k, 0.0), t) for k in TRACKS}
    f = _face(person, size)
    rng = np.random.default_rng(seed)
    for i in range(n_frames):
        yield render_frame(f, {k: float(vals[k][i]) for k in TRACKS}, rng, other)


def write_video(path: str | Path, duration: float, fps: float = 25.0, *, audio: np.ndarray | None = None,
                progress: bool = False, size: int = 256, **kw: Any) -> Path:
    """Render :func:`frames` for ``duration`` s and encode them (H.264, crf 18) to ``path``
    (written whole or not at all); ``audio`` (16 kHz mono) is muxed if given."""
    from ..media import VideoWriter

    path = Path(path)
    n = int(round(duration * fps))
    it: Iterable[np.ndarray] = frames(n, fps, size=size, **kw)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, total=n, desc=f"render {path.name}", unit="frame")
    tmp = path.with_name(path.stem + ".tmp.mp4")
    with VideoWriter(tmp, fps=fps, width=size, height=size, audio=audio, crf=18) as w:
        for frame in it:
            w.write(frame)
    tmp.replace(path)
    return path


@dataclass
class Clip:
    """A rendered clip: the video, the Case describing it, and the tracks that made it."""

    video: Path
    case: Any  # lpmbench.case.Case
    tracks: dict[str, np.ndarray]
    fps: float
    n_frames: int

    @property
    def reference(self) -> Path:
        return self.case.reference

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps


def _audio_file(path: Path, audio: np.ndarray | str | Path | None) -> Path | None:
    if audio is None or isinstance(audio, (str, Path)):
        return None if audio is None else Path(audio)
    return A.write_wav(path, audio)


def _audio_id(audio: np.ndarray | str | Path | None) -> str | None:
    """What identifies an audio input in the clip cache key (content hash of arrays, else the path)."""
    if audio is None or isinstance(audio, (str, Path)):
        return None if audio is None else str(audio)
    return hashlib.sha256(np.asarray(audio, dtype=np.float32).tobytes()).hexdigest()[:16]


def _key(name: str, params: dict[str, Any], tracks: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode())
    for k in sorted(tracks):
        h.update(k.encode())
        h.update(np.round(tracks[k], 6).tobytes())
    return f"{name}_{h.hexdigest()[:12]}"


def make_clip(out_dir: str | Path, name: str, *, person: str = "astronaut", other: str = "hanks",
              duration: float = 4.0, fps: float = 25.0, size: int = 256, seed: int = 0,
              prompts: Sequence[tuple[str, float, float]] = (), mode: str | None = None,
              agent_audio: np.ndarray | str | Path | None = None, partner_audio: np.ndarray | str | Path | None = None,
              mux_audio: bool = False, transcript: str | None = None, **tracks: Track) -> Clip:
    """Render ``duration`` s of ``person`` with the given effect ``tracks`` (see module doc) to
    ``out_dir/<name>_<hash>.mp4`` and describe it as a :class:`lpmbench.case.Case`.

    prompts: (action, start, end) triples (action from lpmbench.case.ACTIONS, or free text).
    agent_audio / partner_audio: 16 kHz mono float arrays (written as WAV) or existing files.
    mode: the case mode; by default speak/listen/duplex/silence from which audio is given.
    mux_audio: also mux the agent audio into the MP4 (as a generator's output would).
    The reference image is the clean photo (``<out_dir>/<person>_<size>.png``).
    """
    from PIL import Image

    from ..case import ACTIONS, Case, Character, PromptEvent
    from ..media import load_audio

    unknown = set(tracks) - set(TRACKS)
    if unknown:
        raise ValueError(f"unknown track(s) {sorted(unknown)}; known: {TRACKS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = int(round(duration * fps))
    t = np.arange(n) / fps
    vals = {k: eval_track(tracks.get(k, 0.0), t) for k in TRACKS}
    params = dict(person=person, other=other, duration=duration, fps=fps, size=size, seed=seed, mux=mux_audio,
                  audio=[_audio_id(agent_audio), _audio_id(partner_audio)], v=4)
    key = _key(name, params, {k: v for k, v in vals.items() if np.any(v)})
    video = out_dir / f"{key}.mp4"
    ref = out_dir / f"{person}_{size}.png"
    if not ref.exists():
        Image.fromarray(face_photo(person, size)).save(ref)
    agent = _audio_file(out_dir / f"{key}_agent.wav", agent_audio)
    partner = _audio_file(out_dir / f"{key}_partner.wav", partner_audio)
    if not video.exists():
        mux = load_audio(agent, duration=duration) if mux_audio and agent is not None else None
        write_video(video, duration, fps, audio=mux, person=person, other=other, size=size, seed=seed, **vals)
    if mode is None:
        mode = {(True, True): "duplex", (True, False): "speak", (False, True): "listen"}.get(
            (agent is not None, partner is not None), "silence")
    events = tuple(PromptEvent(float(s), float(e), a if a in ACTIONS else None, None if a in ACTIONS else a)
                   for a, s, e in prompts)
    char = Character(id=person, style="photoreal", references=(ref.resolve(),), source="package photo",
                     license="see lpmbench/testing/clips.py")
    case = Case(id=name, mode=mode, character=char, duration=float(duration), fps=float(fps), width=size,
                height=size, agent_audio=agent, partner_audio=partner, prompts=events, transcript=transcript,
                suite="testing.clips")
    return Clip(video=video, case=case, tracks=vals, fps=float(fps), n_frames=n)


def static_clip(out_dir: str | Path, duration: float = 3.2, fps: float = 25.0, person: str = "astronaut") -> Clip:
    """The unchanged photo for ``duration`` s: the baseline every validity test compares with."""
    return make_clip(out_dir, f"static_{person}", person=person, duration=duration, fps=fps)


def lip_synced_clip(agent: np.ndarray, name: str = "av_sync", delay_frames: int = 0, amp: float = 0.25,
                    **tracks: Track) -> Clip:
    """A clip in :func:`media_dir` whose mouth (jaw drop, IOD) follows the envelope of ``agent``
    (16 kHz), optionally ``delay_frames`` late, at :data:`lpmbench.testing.audio.FPS`, plus any
    other tracks."""
    n = int(round(len(agent) / A.HOP))
    mouth = amp * A.mouth_drive(A.shift_frames(A.envelope(agent, n), delay_frames))
    return make_clip(media_dir(), name, duration=n / A.FPS, fps=A.FPS, agent_audio=agent,
                     mouth=mouth + tracks.pop("mouth", 0.0), **tracks)


def with_audio(case: Any, folder: str | Path, case_id: str, *, agent: np.ndarray | None = None,
               partner: np.ndarray | None = None) -> Any:
    """A copy of ``case`` (same video) with new audio tracks written as WAV files in ``folder``:
    one rendered video can be scored against many soundtracks (offset sweeps, shuffles)."""
    changes: dict = {"id": case_id}
    if agent is not None:
        changes["agent_audio"] = A.write_wav(Path(folder) / f"{case_id}_agent.wav", agent)
    if partner is not None:
        changes["partner_audio"] = A.write_wav(Path(folder) / f"{case_id}_partner.wav", partner)
    return dataclasses.replace(case, **changes)


def save_strip(frames_: Sequence[np.ndarray], path: str | Path) -> Path:
    """Frames side by side in one PNG (to look at what a warp does while developing)."""
    from PIL import Image

    Image.fromarray(np.concatenate(list(frames_), axis=1)).save(path)
    return Path(path)
