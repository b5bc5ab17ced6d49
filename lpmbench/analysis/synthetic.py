"""Synthetic talking-face clips for tests, benchmarks and smoke checks of the analysis pass.

The face is scikit-image's ``astronaut`` photograph (NASA, public domain). Each frame warps it:
a smooth head motion (translation, scale, in-plane roll) and a mouth opening made by pulling the
lower lip and chin down with a local displacement field. Everything is deterministic.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

# Square crop of the 512x512 astronaut photo around her face (x0, y0, side), in source pixels.
_CROP = (92, 0, 260)


@lru_cache(maxsize=1)
def _astronaut() -> tuple[np.ndarray, np.ndarray]:
    """(image RGB uint8 512x512, 68 landmarks of its face)."""
    import cv2
    import skimage.data

    from .face import FaceTracker

    img = np.ascontiguousarray(skimage.data.astronaut())
    tr = FaceTracker(detect_max_side=0)
    dets = tr.detect(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), upsample=1)
    if not dets:  # pragma: no cover - the photo is fixed
        raise RuntimeError("no face found in skimage.data.astronaut()")
    lm = tr.landmarks(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), dets[0][0])
    return img, lm.astype(np.float64)


@dataclass
class Motion:
    """Per-time parameters of the synthetic head (all functions of t in seconds)."""

    mouth_px: Callable[[float], float] = lambda t: 0.0  # lower-lip drop, in source (512 px photo) pixels
    roll_deg: Callable[[float], float] = lambda t: 0.0  # counter-clockwise in the image
    shift: Callable[[float], tuple[float, float]] = lambda t: (0.0, 0.0)  # fraction of the output size
    scale: Callable[[float], float] = lambda t: 1.0


def talking_motion(seed: int = 0) -> Motion:
    """Smooth, moving, talking head: syllable-rate mouth, slow sway, slight zoom and roll."""
    rng = np.random.default_rng(seed)
    ph = rng.uniform(0, 2 * np.pi, 6)
    return Motion(
        mouth_px=lambda t: 6.0 * max(0.0, np.sin(2 * np.pi * 3.1 * t + ph[0])) * (0.6 + 0.4 * np.sin(0.7 * t + ph[1])),
        roll_deg=lambda t: 6.0 * np.sin(2 * np.pi * 0.23 * t + ph[2]),
        shift=lambda t: (0.05 * np.sin(2 * np.pi * 0.17 * t + ph[3]), 0.03 * np.sin(2 * np.pi * 0.11 * t + ph[4])),
        scale=lambda t: 1.0 + 0.06 * np.sin(2 * np.pi * 0.09 * t + ph[5]),
    )


def reference_image(size: int = 256) -> np.ndarray:
    """The neutral frame (no motion, mouth closed): the character's reference image."""
    return render_frame(0.0, size, Motion())


def _mouth_warp(img: np.ndarray, lm: np.ndarray, drop: float) -> np.ndarray:
    """Pull everything below the lip seam down by ``drop`` px inside a window around the mouth."""
    import cv2

    if drop <= 0.05:
        return img
    seam = lm[[60, 61, 62, 63, 64]][:, 1].mean()  # upper inner lip
    mx = lm[[48, 54]][:, 0].mean()
    half_w = 0.9 * (lm[54, 0] - lm[48, 0])
    chin = lm[8, 1]
    x0, x1 = int(mx - 2 * half_w), int(mx + 2 * half_w)
    y0, y1 = int(seam - 4), int(chin + 0.6 * (chin - seam))
    h, w = img.shape[:2]
    x0, x1, y0, y1 = max(0, x0), min(w, x1), max(0, y0), min(h, y1)
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    wx = np.exp(-(((xs - mx) / half_w) ** 4))
    ramp = np.clip((ys - seam) / max(drop, 1.0), 0.0, 1.0)  # 0 at the seam, 1 one drop below
    fade = np.clip((y1 - ys) / (0.5 * (y1 - chin) + 1e-6), 0.0, 1.0)  # back to 0 below the chin
    src_y = (ys - drop * wx * ramp * fade).astype(np.float32)
    out = img.copy()
    out[y0:y1, x0:x1] = cv2.remap(img, xs, src_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return out


def render_frame(t: float, size: int, motion: Motion) -> np.ndarray:
    """One RGB uint8 frame (size x size) at time ``t``."""
    import cv2

    img, lm = _astronaut()
    img = _mouth_warp(img, lm, float(motion.mouth_px(t)))
    x0, y0, side = _CROP
    c = np.array([x0 + side / 2.0, y0 + side / 2.0])  # crop centre in source px
    face_c = lm[27:36].mean(axis=0)  # rotate about the nose
    k = size / side * float(motion.scale(t))
    m = cv2.getRotationMatrix2D((float(face_c[0]), float(face_c[1])), float(motion.roll_deg(t)), 1.0)
    # then: translate crop centre to origin, scale, move to output centre (+ shift)
    sx, sy = motion.shift(t)
    a = np.array([[k, 0, -k * c[0] + size / 2 + sx * size], [0, k, -k * c[1] + size / 2 + sy * size]])
    full = a @ np.vstack([m, [0, 0, 1]])
    return cv2.warpAffine(img, full, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def write_clip(path: str | Path, *, seconds: float, fps: float = 25.0, size: int = 256, motion: Motion | None = None,
               audio: np.ndarray | None = None, progress: bool = False) -> Path:
    """Render and encode a clip (H.264); ``audio`` (16 kHz mono float32) is muxed if given."""
    from ..media import VideoWriter

    motion = motion or talking_motion()
    n = int(round(seconds * fps))
    it = range(n)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc=f"render {Path(path).name}", unit="frame")
    with VideoWriter(path, fps, size, size, audio=audio) as w:
        for i in it:
            w.write(render_frame(i / fps, size, motion))
    return Path(path)


def syllable_audio(seconds: float, sr: int = 16000, seed: int = 0) -> np.ndarray:
    """Speech-like test audio: band-limited noise with a 3 Hz syllable envelope (not real speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    env = np.maximum(0.0, np.sin(2 * np.pi * 3.1 * t)) ** 2
    carrier = np.sin(2 * np.pi * 160 * t) + 0.5 * np.sin(2 * np.pi * 320 * t) + 0.2 * rng.standard_normal(len(t))
    return (0.2 * env * carrier).astype(np.float32)
