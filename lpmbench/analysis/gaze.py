"""Where the eyes look: the iris position inside each eye's lid polygon, from the 68 landmarks and
the grey image (no learned model, no downloaded weights).

Per eye, the region between the eye corners is resampled into a small eye-aligned patch
(:data:`PATCH_SCALE` px per half eye width, so head roll and face size drop out), the lid polygon
(landmarks 36-41 / 42-47) is filled as a mask, and the iris is the disc of :data:`IRIS_RADIUS`
half-widths whose visible (in-mask) part is darkest; an intensity-weighted centroid of the dark
pixels around it refines it to sub-pixel. The position is normalised:

x  along the corner-to-corner axis, -1 at the image-left corner, +1 at the image-right corner
   (> 0: the iris sits toward image right, as ``pose_deg`` yaw > 0 turns the nose to image right)
y  across it, -1 at the lower lid, +1 at the upper lid (> 0: up), relative to the opening's centre

An eye is not measured (NaN) when it is too small (corner distance below :data:`MIN_EYE_PX`) or
closed: its eye aspect ratio is below :data:`MIN_EYE_EAR`, or below :data:`CLOSED_FRACTION` of
the video's median (:func:`combine`, a blink; people's open eyes differ). The per-frame gaze is
the mean of the measured eyes. Validity (tests/test_gaze.py): on a drawn eye x follows the iris
offset with a slope of ~0.85 and y, compressed by the lids, ~0.55; on the controlled clips
(lpmbench.testing.clips ``gaze_x``, irises slid between the lids) x moves with the shift and its
sign; on real recordings x sits within +-0.1 of 0 for people looking into the camera.
"""
from __future__ import annotations

import numpy as np

from .face import LEFT_EYE, RIGHT_EYE

MIN_EYE_PX = 12.0  # corner-to-corner eye width (px) below which the iris is not located
MIN_EYE_EAR = 0.12  # eye aspect ratio below which an eye counts as closed ...
CLOSED_FRACTION = 0.5  # ... or below this fraction of the video's median eye aspect ratio
PATCH_SCALE = 10.0  # patch px per half eye width (the centroid refines below a patch pixel)
PATCH_HALF_W, PATCH_HALF_H = 1.15, 0.75  # patch extent around the eye centre, in half eye widths
IRIS_RADIUS = 0.38  # iris radius in half eye widths (11.7 mm iris in a ~30 mm wide eye opening)
MIN_VISIBLE = 0.25  # a candidate iris centre needs this fraction of its disc inside the lids

_PW, _PH = int(round(2 * PATCH_HALF_W * PATCH_SCALE)) + 1, int(round(2 * PATCH_HALF_H * PATCH_SCALE)) + 1
_CX, _CY = (_PW - 1) / 2.0, (_PH - 1) / 2.0


def _disc(radius: float) -> np.ndarray:
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    return (xx * xx + yy * yy <= radius * radius).astype(np.float32)


_DISC = _disc(IRIS_RADIUS * PATCH_SCALE)
_DISC_AREA = float(_DISC.sum())
_YY, _XX = np.mgrid[0:_PH, 0:_PW].astype(np.float32)


def eye_frame(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float, float]:
    """(corner midpoint, x axis, down axis, half width px, half opening height px, offset px of the
    opening's centre below the corner line) of one eye's 6 points."""
    a, b = pts[0], pts[3]
    c = (a + b) / 2.0
    hw = float(np.hypot(*(b - a))) / 2.0
    ex = (b - a) / max(2.0 * hw, 1e-9)
    down = np.array([-ex[1], ex[0]])  # ex turned clockwise on screen (image y points down)
    lids = (pts[[1, 2, 4, 5]] - c) @ down  # upper lid (1, 2) above, lower lid (5, 4) below
    h = 0.5 * ((lids[3] - lids[0]) + (lids[2] - lids[1]))
    return c, ex, down, hw, abs(h) / 2.0, float(lids.mean())


def eye_position(gray: np.ndarray, pts: np.ndarray) -> tuple[float, float]:
    """(x, y) of the iris in one eye (module conventions), NaN where it is too small or its eye
    aspect ratio is below MIN_EYE_EAR.

    ``pts``: the eye's 6 landmarks (36-41 or 42-47) in ``gray``'s pixels.
    """
    import cv2

    pts = np.asarray(pts, dtype=np.float64)
    c, ex, down, hw, hh, mid = eye_frame(pts)
    if 2.0 * hw < MIN_EYE_PX or hh / hw < MIN_EYE_EAR or not np.isfinite(hw):
        return np.nan, np.nan
    k = hw / PATCH_SCALE  # image px per patch px
    # patch (j, i) -> image: c + k (j - _CX) ex + k (i - _CY) down
    m = np.array([[k * ex[0], k * down[0], 0.0], [k * ex[1], k * down[1], 0.0]])
    m[:, 2] = c - m[:, 0] * _CX - m[:, 1] * _CY
    patch = cv2.warpAffine(gray, m, (_PW, _PH), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    rel = pts - c
    poly = np.stack([_CX + rel @ ex / k, _CY + rel @ down / k], axis=1)
    mask = np.zeros((_PH, _PW), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    mf = mask.astype(np.float32)
    area = float(mf.sum())
    if area < 0.5 * _DISC_AREA:
        return np.nan, np.nan
    # mean intensity of the visible part of a disc at every centre: darkest = the iris
    num = cv2.filter2D(patch * mf, -1, _DISC, borderType=cv2.BORDER_CONSTANT)
    den = cv2.filter2D(mf, -1, _DISC, borderType=cv2.BORDER_CONSTANT)
    ok = (mask > 0) & (den >= MIN_VISIBLE * _DISC_AREA)
    if not ok.any():
        return np.nan, np.nan
    mean = np.where(ok, num / np.maximum(den, 1e-6), np.inf)
    i0, j0 = divmod(int(np.argmin(mean)), _PW)
    # sub-pixel: centroid of the pixels darker than half-way from the iris to the eye's mean
    # intensity, inside the lids and near the darkest disc
    thr = 0.5 * (float(mean[i0, j0]) + float((patch * mf).sum()) / area)
    near = (_XX - j0) ** 2 + (_YY - i0) ** 2 <= (1.5 * IRIS_RADIUS * PATCH_SCALE) ** 2
    w = np.maximum(thr - patch, 0.0) * mf * near
    s = float(w.sum())
    ic, jc = (float((w * _YY).sum()) / s, float((w * _XX).sum()) / s) if s > 0 else (float(i0), float(j0))
    x = (jc - _CX) / PATCH_SCALE
    y = (mid - (ic - _CY) * k) / hh  # patch rows point down; y is in half opening heights, up positive
    return min(1.0, max(-1.0, x)), min(1.0, max(-1.0, y))


def eyes(gray: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """(2, 3) per eye (image-left eye first): x, y (NaN if not located) and its eye aspect ratio."""
    out = np.empty((2, 3))
    for i, eye in enumerate((RIGHT_EYE, LEFT_EYE)):
        pts = np.asarray(lm[eye], dtype=np.float64)
        out[i, :2] = eye_position(gray, pts)
        _, _, _, hw, hh, _ = eye_frame(pts)
        out[i, 2] = hh / hw if hw > 0 else np.nan
    return out


def combine(per_eye: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gaze (T, 2), valid (T,)) from per-frame :func:`eyes` rows (T, 2, 3): the mean over the eyes
    located and open (aspect ratio >= CLOSED_FRACTION x the median over all measured eyes)."""
    ear = per_eye[..., 2]
    med = float(np.nanmedian(ear)) if np.isfinite(ear).any() else 0.0
    with np.errstate(invalid="ignore"):
        use = np.isfinite(per_eye[..., 0]) & (ear >= CLOSED_FRACTION * med)
    n = use.sum(axis=1)
    total = np.where(use[..., None], per_eye[..., :2], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = np.where(n[:, None] > 0, total / n[:, None], np.nan)
    return g.astype(np.float32), n > 0
