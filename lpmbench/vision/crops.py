"""Crops and fits of images: the square face region, dlib's aligned face chip, the letterbox and
cover fits of a reference to a frame, and the one astronaut portrait every bundled suite and
test fixture uses."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .models import contiguous

# Portrait crop of skimage's astronaut photo (NASA, public domain): a 256x256 window around the
# face (dlib box (179, 83)-(266, 170)), so the face fills about a third of the frame, as
# talking-head models expect. x, y, size in the 512x512 original.
ASTRONAUT_CROP = (94, 12, 256)

CHIP_SIZE, CHIP_PADDING = 150, 0.25  # what dlib's ResNet face descriptor was trained on


def resize_square(rgb: np.ndarray, size: int) -> np.ndarray:
    """A square image resized to ``size`` x ``size``: area-averaged when shrinking, Lanczos when enlarging."""
    import cv2

    if rgb.shape[0] == size and rgb.shape[1] == size:
        return np.ascontiguousarray(rgb)
    interp = cv2.INTER_AREA if rgb.shape[0] > size else cv2.INTER_LANCZOS4
    return cv2.resize(rgb, (size, size), interpolation=interp)


def astronaut_portrait(size: int = 256) -> np.ndarray:
    """Head-and-shoulders crop (:data:`ASTRONAUT_CROP`) of ``skimage.data.astronaut()``, ``size`` px square."""
    import skimage.data

    x, y, s = ASTRONAUT_CROP
    return resize_square(skimage.data.astronaut()[y : y + s, x : x + s], size)


def square_region(box: np.ndarray, scale: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The face box scaled by ``scale`` about its centre and made square, clipped to the frame
    (x0, y0, x1, y1); the whole frame when that leaves less than 2 px."""
    x0, y0, x1, y1 = [float(v) for v in box]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half = max(x1 - x0, y1 - y0) * scale / 2
    a, b = int(max(0, round(cx - half))), int(max(0, round(cy - half)))
    c, d = int(min(width, round(cx + half))), int(min(height, round(cy + half)))
    if c - a < 2 or d - b < 2:
        return 0, 0, width, height
    return a, b, c, d


def face_chip(rgb: np.ndarray, box: np.ndarray, landmarks: np.ndarray, size: int = CHIP_SIZE,
              padding: float = CHIP_PADDING) -> np.ndarray:
    """The face aligned on its 68 landmarks, ``size`` px square (dlib's ``get_face_chip``)."""
    import dlib

    rect = dlib.rectangle(int(box[0]), int(box[1]), int(box[2]), int(box[3]))
    pts = dlib.points([dlib.point(int(round(x)), int(round(y))) for x, y in landmarks])
    shape = dlib.full_object_detection(rect, pts)
    return np.asarray(dlib.get_face_chip(contiguous(rgb), shape, size=size, padding=padding))


def fit_box(w: int, h: int, width: int, height: int) -> tuple[int, int, int, int]:
    """Where a ``w`` x ``h`` image lands when letterboxed into ``width`` x ``height``: (x0, y0, w, h)."""
    scale = min(width / w, height / h)
    nw, nh = max(1, min(width, int(round(w * scale)))), max(1, min(height, int(round(h * scale))))
    return (width - nw) // 2, (height - nh) // 2, nw, nh


def fit_to_frame(image: np.ndarray, width: int, height: int, fill: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """Letterbox ``image`` (RGB uint8) into ``width`` x ``height``: scaled to fit, aspect kept, centred.

    The bars are ``fill`` (black by default), so no pixel of the reference is cropped away.
    """
    import cv2

    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an RGB image (H, W, 3), got shape {image.shape}")
    h, w = image.shape[:2]
    x0, y0, nw, nh = fit_box(w, h, width, height)
    # INTER_AREA for shrinking (no aliasing), cubic for enlarging.
    interp = cv2.INTER_AREA if nw < w else cv2.INTER_CUBIC
    resized = cv2.resize(image, (nw, nh), interpolation=interp) if (nw, nh) != (w, h) else image
    out = np.empty((height, width, 3), np.uint8)
    out[:] = np.asarray(fill, np.uint8)
    out[y0 : y0 + nh, x0 : x0 + nw] = resized
    return out


def fit_image(img: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize (cover + centre crop) an RGB image to exactly ``width`` x ``height``."""
    import cv2

    h, w = img.shape[:2]
    s = max(width / w, height / h)
    nw, nh = max(width, round(w * s)), max(height, round(h * s))
    r = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    y, x = (nh - height) // 2, (nw - width) // 2
    return np.ascontiguousarray(r[y : y + height, x : x + width])
