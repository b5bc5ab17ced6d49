"""Controlled test videos: real face photos animated by image warps whose strength we choose.

The photos are ones that Python packages ship: ``astronaut`` (scikit-image ``data.astronaut()``,
NASA, public domain), ``hanks`` (insightface ``data/images/Tom_Hanks_54745.png``, upscaled) and
``t1_man`` (a face cropped from insightface ``data/images/t1.jpg``). Each is cut to a square
around the face; dlib's 68 landmarks on the clean photo place every warp (mouth, lids, brows).

Every effect is a per-frame *track*: a number (constant), an array of length ``n_frames`` or a
function of time in seconds (vectorised over a NumPy array). Lengths are in units of the face's
inter-ocular distance (IOD), angles in degrees::

    yaw, pitch, roll   head rotation (deg). Yaw/pitch are 2.5D: every face pixel moves by its
                       depth on an ellipsoid+nose model times sin(angle), so PnP sees a rotation;
                       yaw > 0 moves the nose toward image right, pitch > 0 moves it up.
    head_dx, head_dy   head translation (IOD) of the face/hair region only
    body_dx, body_dy   translation (IOD) of the whole frame (body sway / camera shake)
    mouth              lower lip + jaw drop (IOD); the gap is painted as a dark mouth interior
    smile              mouth-corner pull outward and up (IOD)
    brow               eyebrow raise (IOD)
    blink              upper-lid closure, 0 open .. 1 closed (both eyes)
    identity           0..1 cross-fade to ``other`` person aligned onto the face (a step = switch)
    cast               colour cast: shift of CIELAB b* (yellow) in Lab units (~ the ΔE it adds)
    occlude            0..1 fraction of the (dilated) face box covered by a flat patch, from the
                       bottom up; 1 hides the face
    jitter             std (IOD) of random, independent per-frame non-rigid face warps
    brightness         multiplicative luminance gain - 1 (e.g. 0.08 * (-1)**frame = flicker)
    blur               Gaussian blur sigma (px) of the whole frame

Helpers build typical tracks: :func:`pulse` (smooth on/off), :func:`oscillation` (e.g. nods),
:func:`blink_track`, :func:`speech_mouth`, :func:`ramp`, :func:`alternating`; :func:`perform`
turns (action, start, end) triples of the prompt vocabulary into tracks (:data:`ACTION_TRACKS`).
For tests: :func:`analyse` (the real analysis pass, one Analyzer per process), :func:`run_metrics`,
:func:`shared_dir` (one session-wide folder so modules share clips and the analysis cache) and
:func:`static_clip` (the unchanged photo, the baseline of every validity test).

>>> clip = make_clip(tmp_path, "nod", duration=4, pitch=oscillation(1, 3, cycles=2, amp=10),
...                  prompts=[("nod", 1, 3)])
>>> clip.video, clip.case            # an MP4 and the lpmbench.case.Case that describes it

Clips are cached by their parameters inside ``out_dir`` (same arguments -> same file, not
re-rendered), so module-scoped fixtures can share them cheaply.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

PERSONS = ("astronaut", "hanks", "t1_man")
TRACKS = ("yaw", "pitch", "roll", "head_dx", "head_dy", "body_dx", "body_dy", "mouth", "smile", "brow", "blink",
          "identity", "cast", "occlude", "jitter", "brightness", "blur")
Track = float | np.ndarray | Callable[[np.ndarray], np.ndarray]
MOUTH_COLOUR = np.array([45.0, 18.0, 22.0])  # dark red-brown mouth interior


# -- photos ----------------------------------------------------------------------------------------
def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


@lru_cache(maxsize=8)
def face_photo(person: str = "astronaut", size: int = 256) -> np.ndarray:
    """A ``size`` x ``size`` RGB uint8 photo of ``person`` (one of :data:`PERSONS`), face ~40 % wide."""
    from PIL import Image

    if person == "astronaut":
        from skimage.data import astronaut

        im = Image.fromarray(astronaut()).crop((108, 9, 332, 233))  # face box (175,76)-(265,166)
    elif person == "t1_man":
        src = Image.open(_package_dir("insightface") / "data" / "images" / "t1.jpg").convert("RGB")
        im = src.crop((370, 215, 637, 482))  # face box (450,295)-(557,402)
    elif person == "hanks":
        # a 112x112 aligned face crop: upscale it and set it on a blurred, stretched copy of itself
        from PIL import ImageFilter

        src = Image.open(_package_dir("insightface") / "data" / "images" / "Tom_Hanks_54745.png").convert("RGB")
        bg = src.resize((size, size), Image.BICUBIC).filter(ImageFilter.GaussianBlur(size / 12))
        fg = src.resize((int(size * 0.62),) * 2, Image.LANCZOS)
        bg.paste(fg, ((size - fg.width) // 2, int(size * 0.1)))
        return np.asarray(bg).copy()
    else:
        raise ValueError(f"unknown person {person!r}; choose one of {PERSONS}")
    return np.asarray(im.resize((size, size), Image.LANCZOS)).copy()


@lru_cache(maxsize=1)
def _dlib_models():
    import dlib

    models = _package_dir("face_recognition_models") / "models"
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))


def detect_landmarks(img: np.ndarray) -> np.ndarray:
    """68 dlib landmarks (68, 2) float of the largest face in an RGB image; raises if none."""
    import dlib

    det, sp = _dlib_models()
    rects = det(img, 1)
    if not rects:
        raise RuntimeError("media_factory: no face found in the photo")
    r = max(rects, key=lambda r: r.width() * r.height())
    s = sp(img, dlib.rectangle(r.left(), r.top(), r.right(), r.bottom()))
    return np.array([(p.x, p.y) for p in s.parts()], dtype=np.float64)


def _iod(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity mapping src points onto dst points."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    a, b = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(b.T @ a / len(src))
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    r = u @ d @ vt
    s = (sig * np.diag(d)).sum() / ((a**2).sum() / len(src))
    return np.hstack([s * r, (mu_d - s * r @ mu_s)[:, None]])


# -- the rig: a photo, its landmarks and the warp geometry derived from them ------------------------
@dataclass
class Rig:
    """A face photo ready to animate (see :func:`rig`)."""

    person: str
    image: np.ndarray  # (S, S, 3) uint8
    lm: np.ndarray  # (68, 2) landmarks of the clean photo
    iod: float
    other_on_face: dict[str, np.ndarray] = field(default_factory=dict)  # other person aligned (float)
    grid: tuple[np.ndarray, np.ndarray] = field(default=None)  # (xx, yy) float32 pixel centres
    depth: np.ndarray = field(default=None)  # (S, S) depth in px (0 off the face)
    head_mask: np.ndarray = field(default=None)  # (S, S) 0..1 soft mask of face + hair
    face_mask: np.ndarray = field(default=None)  # (S, S) 0..1 soft mask of the inner face
    face_box: np.ndarray = field(default=None)  # (4,) dilated face box x0 y0 x1 y1


def _soft_ellipse(xx, yy, cx, cy, rx, ry, feather=0.25) -> np.ndarray:
    r = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    return np.clip((1.0 + feather - r) / (2 * feather), 0.0, 1.0).astype(np.float32)


@lru_cache(maxsize=8)
def rig(person: str = "astronaut", size: int = 256) -> Rig:
    """Landmarks and warp geometry of ``person``'s photo at ``size`` px (cached per process)."""
    img = face_photo(person, size)
    lm = detect_landmarks(img)
    d = _iod(lm)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    jaw = lm[0:17]
    cx = float(jaw[:, 0].mean())
    rx = float(jaw[:, 0].max() - jaw[:, 0].min()) / 2.0
    top = float(lm[17:27, 1].min()) - 0.6 * d  # forehead above the brows
    bottom = float(jaw[:, 1].max())
    cy, ry = (top + bottom) / 2.0, (bottom - top) / 2.0
    # depth: an ellipsoid over the face plus a bump at the nose (px, camera-facing)
    e = 1.0 - ((xx - cx) / (rx * 1.05)) ** 2 - ((yy - cy) / (ry * 1.05)) ** 2
    depth = rx * np.sqrt(np.clip(e, 0.0, None))
    nose = lm[30]
    depth += 0.45 * d * np.exp(-(((xx - nose[0]) ** 2 + (yy - nose[1]) ** 2) / (2 * (0.22 * d) ** 2)))
    depth *= _soft_ellipse(xx, yy, cx, cy, rx * 1.05, ry * 1.05, feather=0.15)
    import cv2

    depth = cv2.GaussianBlur(depth.astype(np.float32), (0, 0), 0.15 * d)  # no tearing at the rim
    head = _soft_ellipse(xx, yy, cx, cy - 0.1 * ry, rx * 1.45, ry * 1.35, feather=0.2)
    face = _soft_ellipse(xx, yy, cx, cy + 0.05 * ry, rx * 0.95, ry * 0.95, feather=0.12)
    box = np.array([cx - 1.3 * rx, cy - 1.25 * ry, cx + 1.3 * rx, cy + 1.2 * ry])
    r = Rig(person, img, lm, d, grid=(xx, yy), depth=depth.astype(np.float32), head_mask=head,
            face_mask=face, face_box=np.clip(box, 0, size - 1))
    return r


def other_on_face(base: Rig, other: str) -> np.ndarray:
    """``other``'s face warped so its eyes, nose and mouth land on ``base``'s, blended into
    ``base``'s photo with a soft face mask (float32 RGB): the scene stays, the person changes."""
    import cv2

    if other in base.other_on_face:
        return base.other_on_face[other]
    o = rig(other, base.image.shape[0])
    pts = np.r_[27:48, 48:68]
    m = _similarity(o.lm[pts], base.lm[pts])
    size = base.image.shape[0]
    warped = cv2.warpAffine(o.image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
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
def _interp_curve(pts: np.ndarray, x: np.ndarray) -> np.ndarray:
    order = np.argsort(pts[:, 0])
    return np.interp(x, pts[order, 0], pts[order, 1])


def _lid_warp(r: Rig, qx: np.ndarray, qy: np.ndarray, amount: float) -> np.ndarray:
    """Source y for a closing upper lid: the lid skin slides down over a fraction of the eye."""
    sy = qy.copy()
    for upper_idx, lower_idx in (((36, 37, 38, 39), (36, 41, 40, 39)), ((42, 43, 44, 45), (42, 47, 46, 45))):
        up, lo = r.lm[list(upper_idx)], r.lm[list(lower_idx)]
        x0, x1 = up[0, 0], up[-1, 0]
        inside = (qx > x0) & (qx < x1)
        if not inside.any():
            continue
        U = _interp_curve(up, qx)
        L = _interp_curve(lo, qx) + 0.06 * r.iod  # cover the lower lid line too
        h = max(float(np.max(L - U)), 1.0)
        T = U - 1.2 * h  # top of the lid skin that stretches
        U2 = U + amount * (L - U)
        band = inside & (qy >= T) & (qy < U2)
        frac = (qy - T) / np.maximum(U2 - T, 1e-3)
        sy = np.where(band, T + frac * (U - T), sy)
    return sy


def _face_warp(r: Rig, qx: np.ndarray, qy: np.ndarray, p: dict[str, float], rng: np.random.Generator):
    """Non-rigid face motion in the photo's coordinates: (source x, source y, mouth-gap mask)."""
    d = r.iod
    lm = r.lm
    dx = np.zeros_like(qx)
    dy = np.zeros_like(qy)

    def bump(c, sigma):
        return np.exp(-(((qx - c[0]) ** 2 + (qy - c[1]) ** 2) / (2 * (sigma * d) ** 2)))

    if p["smile"]:
        s = p["smile"] * d
        # below the nostrils only: a smile must not move the nose (the pose's rigid points)
        below_nose = np.clip((qy - lm[33, 1]) / (0.15 * d), 0, 1)
        for idx, sx in ((48, -1.0), (54, 1.0)):
            w = bump(lm[idx], 0.25) * below_nose
            dx += sx * s * w
            dy += -0.6 * s * w
    if p["brow"]:
        eye_y = (lm[36:48, 1].mean())
        brow_y = lm[17:27, 1].mean()
        vy = np.clip((eye_y - qy) / max(eye_y - brow_y, 1.0), 0, 1)  # 0 at the eyes, 1 at the brows
        vy = vy * np.exp(-np.clip(brow_y - 0.6 * d - qy, 0, None) / (0.5 * d))  # fade on the forehead
        hx = np.exp(-((qx - lm[17:27, 0].mean()) / (1.1 * d)) ** 4)
        dy += -p["brow"] * d * vy * hx
    if p["jitter"]:
        for i in rng.choice(68, size=16, replace=False):
            w = bump(lm[i], 0.3)
            dx += rng.normal(0, p["jitter"] * d) * w
            dy += rng.normal(0, p["jitter"] * d) * w
    sx, sy = qx - dx, qy - dy
    gap = np.zeros(qx.shape, dtype=bool)
    if p["mouth"] > 0:
        # jaw drop: everything below the lip line moves down, most at the mouth centre; source
        # pixels above the line (upper lip) are never sampled below it: that band is the gap
        line_pts = np.array([lm[48], (lm[61] + lm[67]) / 2, (lm[62] + lm[66]) / 2, (lm[63] + lm[65]) / 2, lm[54]])
        line_y = _interp_curve(line_pts, sx)
        mx, hw = (lm[48, 0] + lm[54, 0]) / 2, (lm[54, 0] - lm[48, 0]) / 2 * 1.05
        gx = np.sqrt(np.clip(1 - ((sx - mx) / hw) ** 2, 0, 1))
        chin = lm[8, 1]
        gy = np.where(sy > chin, np.exp(-((sy - chin) / (0.5 * d)) ** 2), 1.0)
        drop = p["mouth"] * d * gx * gy
        below = sy > line_y
        sy2 = sy - drop
        gap = below & (sy2 < line_y) & (gx > 0)
        sy = np.where(below, np.maximum(sy2, line_y), sy)
    if p["blink"] > 0:
        sy = _lid_warp(r, sx, sy, float(np.clip(p["blink"], 0, 1)))
    return sx, sy, gap


def render_frame(r: Rig, p: dict[str, float], rng: np.random.Generator, other: str = "hanks") -> np.ndarray:
    """One RGB uint8 frame of rig ``r`` with effect values ``p`` (every name in :data:`TRACKS`)."""
    import cv2

    xx, yy = r.grid
    d = r.iod
    size = r.image.shape[0]
    # 1) body: the whole frame shifts
    x1, y1 = xx - p["body_dx"] * d, yy - p["body_dy"] * d
    # 2) head: roll about the face centre, yaw/pitch by depth, translation, inside the head mask
    c = r.lm[27:48].mean(0)
    th = np.radians(-p["roll"])  # roll > 0: counter-clockwise on screen
    rx = c[0] + np.cos(th) * (x1 - c[0]) + np.sin(th) * (y1 - c[1])
    ry = c[1] - np.sin(th) * (x1 - c[0]) + np.cos(th) * (y1 - c[1])
    hm = r.head_mask
    bx = x1 + hm * (rx - x1) - hm * p["head_dx"] * d
    by = y1 + hm * (ry - y1) - hm * p["head_dy"] * d
    qx, qy = bx, by
    sy_, sp_ = np.sin(np.radians(p["yaw"])), np.sin(np.radians(p["pitch"]))
    if sy_ or sp_:
        # a face point at depth z moves by z sin(angle); the depth is that of the *source* point,
        # found by fixed-point iteration (using the output point's depth squeezes one side)
        for _ in range(4):
            z = cv2.remap(r.depth, qx.astype(np.float32), qy.astype(np.float32), cv2.INTER_LINEAR)
            qx, qy = bx - z * sy_, by + z * sp_
    # 3) face expression in the photo's own coordinates
    sx, sy, gap = _face_warp(r, qx, qy, p, rng)
    base = r.image.astype(np.float32)
    if p["identity"] > 0:
        base = (1 - p["identity"]) * base + p["identity"] * other_on_face(r, other)
    out = cv2.remap(base, sx.astype(np.float32), sy.astype(np.float32), cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REFLECT)
    if gap.any():
        out[gap] = MOUTH_COLOUR
    if p["occlude"] > 0:
        x0, y0, x1b, y1b = r.face_box
        top = y1b - float(np.clip(p["occlude"], 0, 1)) * (y1b - y0)
        ys = slice(int(round(top)), int(round(y1b)) + 1)
        out[ys, int(x0) : int(x1b) + 1] = np.array([128.0, 128.0, 128.0])
    if p["cast"]:
        lab = cv2.cvtColor(np.clip(out, 0, 255) / 255.0, cv2.COLOR_RGB2Lab)
        lab[..., 2] += p["cast"]
        out = cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB) * 255.0
    if p["brightness"]:
        out = out * (1.0 + p["brightness"])
    if p["blur"] > 0:
        out = cv2.GaussianBlur(out, (0, 0), p["blur"])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)[:size, :size]


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


def _write_wav(path: Path, audio: np.ndarray | str | Path | None) -> Path | None:
    if audio is None:
        return None
    if isinstance(audio, (str, Path)):
        return Path(audio)
    import soundfile as sf

    sf.write(str(path), np.asarray(audio, dtype=np.float32), 16000)
    return path


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

    from lpmbench.case import ACTIONS, Case, Character, PromptEvent
    from lpmbench.media import VideoWriter

    unknown = set(tracks) - set(TRACKS)
    if unknown:
        raise ValueError(f"unknown track(s) {sorted(unknown)}; known: {TRACKS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n = int(round(duration * fps))
    t = np.arange(n) / fps
    vals = {k: eval_track(tracks.get(k, 0.0), t) for k in TRACKS}
    params = dict(person=person, other=other, duration=duration, fps=fps, size=size, seed=seed, mux=mux_audio,
                  audio=[_audio_id(agent_audio), _audio_id(partner_audio)], v=3)
    key = _key(name, params, {k: v for k, v in vals.items() if np.any(v)})
    video = out_dir / f"{key}.mp4"
    ref = out_dir / f"{person}_{size}.png"
    if not ref.exists():
        Image.fromarray(face_photo(person, size)).save(ref)
    agent = _write_wav(out_dir / f"{key}_agent.wav", agent_audio)
    partner = _write_wav(out_dir / f"{key}_partner.wav", partner_audio)
    if not video.exists():
        r = rig(person, size)
        rng = np.random.default_rng(seed)
        mux = None
        if mux_audio and agent is not None:
            from lpmbench.media import load_audio

            mux = load_audio(agent, duration=duration)
        tmp = video.with_name(video.stem + ".tmp.mp4")
        with VideoWriter(tmp, fps=fps, width=size, height=size, audio=mux, crf=18) as w:
            for i in range(n):
                w.write(render_frame(r, {k: float(vals[k][i]) for k in TRACKS}, rng, other))
        tmp.replace(video)
    if mode is None:
        mode = {(True, True): "duplex", (True, False): "speak", (False, True): "listen"}.get(
            (agent is not None, partner is not None), "silence")
    events = tuple(PromptEvent(float(s), float(e), a if a in ACTIONS else None, None if a in ACTIONS else a)
                   for a, s, e in prompts)
    char = Character(id=person, style="photoreal", references=(ref.resolve(),), source="package photo",
                     license="see tests/media_factory.py")
    case = Case(id=name, mode=mode, character=char, duration=float(duration), fps=float(fps), width=size,
                height=size, agent_audio=agent, partner_audio=partner, prompts=events, transcript=transcript,
                suite="media_factory")
    return Clip(video=video, case=case, tracks=vals, fps=float(fps), n_frames=n)


def save_strip(frames: Sequence[np.ndarray], path: str | Path) -> Path:
    """Frames side by side in one PNG (to look at what a warp does while developing)."""
    from PIL import Image

    Image.fromarray(np.concatenate(list(frames), axis=1)).save(path)
    return Path(path)


# -- analysis and scoring helpers for tests ---------------------------------------------------------
_ANALYZERS: dict[str, Any] = {}


def analyse(clip: Clip, cache_dir: str | Path | None = None):
    """Features of ``clip`` from the real analysis pass (one Analyzer per cache dir and process;
    cached by content, so a clip shared by several test modules is analysed once)."""
    from lpmbench.analysis import AnalysisConfig, Analyzer

    key = str(cache_dir)
    if key not in _ANALYZERS:
        _ANALYZERS[key] = Analyzer(AnalysisConfig(), cache_dir=cache_dir)
    return _ANALYZERS[key].run(clip.video, clip.case)


def run_metrics(metrics: Sequence[Any], features: Any, case: Any):
    """Run metric plugins on ``features`` and merge their outputs into one MetricOutput."""
    from lpmbench.metric_api import MetricContext, MetricOutput

    out = MetricOutput()
    ctx = MetricContext(features=features, case=case)
    for m in metrics:
        o = m(ctx)
        out.values.update(o.values)
        out.unavailable.update(o.unavailable)
        out.series.update(o.series)
        out.details.update(o.details)
    return out


def shared_dir(tmp_path_factory: Any) -> Path:
    """One folder per pytest session for clips and the analysis cache, shared across test modules."""
    d = Path(tmp_path_factory.getbasetemp()) / "media_factory"
    d.mkdir(parents=True, exist_ok=True)
    return d


def static_clip(out_dir: str | Path, duration: float = 3.2, fps: float = 25.0, person: str = "astronaut") -> Clip:
    """The unchanged photo for ``duration`` s: the baseline every validity test compares with."""
    return make_clip(out_dir, f"static_{person}", person=person, duration=duration, fps=fps)
