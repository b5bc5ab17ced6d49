"""Face warps placed by dlib's 68 landmarks: a 2.5D head rotation on an ellipsoid+nose depth map,
and local displacement patches for the jaw, the eyelids, the brows and a smile.

Every patch is a *backward* offset field: the output pixel at ``(X, Y)`` samples the source at
``(X, Y) + offset``. Fields are functions of point coordinates (any array shape, broadcast), so
a renderer may evaluate them on a precomputed grid (:class:`Roi`, as the puppet does) or at the
exact source points of a head motion (as the test-fixture clips do); ``*_bounds`` say where a
field is non-zero. :func:`face_geometry` places the patches from the landmarks of an unmoved face.
Lengths are pixels unless a name says IOD (inter-ocular distance).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .models import reference_face

MOUTH_COLOUR = (45.0, 14.0, 18.0)  # RGB of the inside of a mouth, painted into an open jaw
CAVITY_FEATHER = 2.0  # px: soft edge of the painted mouth gap
SMILE_OUT, SMILE_UP = 0.14, 0.08  # IOD: how far a full smile moves the mouth corners out and up
SMILE_SIGMA = 0.28  # IOD: reach of the smile around each mouth corner


def warp_landmarks(image: np.ndarray) -> np.ndarray | None:
    """68 landmarks (68, 2) of the largest face of a photo, as the warps are placed and calibrated:
    on the image as given (RGB), detected at upsample 1, whole-pixel landmarks; None without a face."""
    return reference_face(image, upsample=(1,), min_score=0.0, min_face_px=0)[1]


# -- falloffs and grids --------------------------------------------------------------------------
def smooth01(u: np.ndarray) -> np.ndarray:
    """Cosine ease from 1 (u <= 0) to 0 (u >= 1)."""
    return 0.5 * (1.0 + np.cos(np.pi * np.clip(u, 0.0, 1.0)))


def bump(d: np.ndarray, flat: float, reach: float) -> np.ndarray:
    """1 where |d| <= flat, cosine falloff to 0 at |d| = reach."""
    return smooth01((np.abs(d) - flat) / max(reach - flat, 1e-6))


def soft_ellipse(X: np.ndarray, Y: np.ndarray, centre: tuple[float, float], axes: tuple[float, float],
                 feather: float = 0.25) -> np.ndarray:
    """1 inside the ellipse (shrunk by ``feather``), 0 outside (grown by it), linear between (float32)."""
    r = np.sqrt(((X - centre[0]) / axes[0]) ** 2 + ((Y - centre[1]) / axes[1]) ** 2)
    return np.clip((1.0 + feather - r) / (2 * feather), 0.0, 1.0).astype(np.float32)


class Roi:
    """A rectangle of the frame, clipped to [lo, (width, height)), with its pixel coordinate grids."""

    def __init__(self, x0: float, y0: float, x1: float, y1: float, width: int, height: int,
                 lo: tuple[int, int] = (0, 0)):
        self.x0, self.y0 = max(lo[0], int(math.floor(x0))), max(lo[1], int(math.floor(y0)))
        self.x1, self.y1 = min(width, int(math.ceil(x1))), min(height, int(math.ceil(y1)))
        self.x1, self.y1 = max(self.x1, self.x0 + 1), max(self.y1, self.y0 + 1)
        xs = np.arange(self.x0, self.x1, dtype=np.float32)
        ys = np.arange(self.y0, self.y1, dtype=np.float32)
        self.X, self.Y = np.meshgrid(xs, ys)

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)


def add_shifted(target: np.ndarray, origin: tuple[int, int], patch: np.ndarray, roi: Roi, dx: int, dy: int) -> None:
    """``target[roi shifted by (dx, dy)] += patch``, where ``target``'s pixel (0, 0) lies at
    frame pixel ``origin`` (x, y); clipped to ``target``."""
    H, W = target.shape
    y0, x0 = roi.y0 + dy - origin[1], roi.x0 + dx - origin[0]
    ph, pw = patch.shape
    ty0, tx0, ty1, tx1 = max(0, y0), max(0, x0), min(H, y0 + ph), min(W, x0 + pw)
    if ty1 <= ty0 or tx1 <= tx0:
        return
    target[ty0:ty1, tx0:tx1] += patch[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0]


def paint(out: np.ndarray, roi: Roi, alpha: np.ndarray, ox: int, oy: int,
          colour: tuple[float, float, float] = MOUTH_COLOUR) -> None:
    """Blend ``colour`` into the uint8 frame ``out`` with ``alpha`` over ``roi`` shifted by (ox, oy)."""
    H, W = out.shape[:2]
    y0, x0 = roi.y0 + oy, roi.x0 + ox
    ph, pw = alpha.shape
    ty0, tx0, ty1, tx1 = max(0, y0), max(0, x0), min(H, y0 + ph), min(W, x0 + pw)
    if ty1 <= ty0 or tx1 <= tx0:
        return
    al = alpha[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0, None]
    region = out[ty0:ty1, tx0:tx1].astype(np.float32)
    out[ty0:ty1, tx0:tx1] = (region * (1 - al) + np.array(colour, np.float32) * al + 0.5).astype(np.uint8)


# -- where the patches go ------------------------------------------------------------------------
@dataclass(frozen=True)
class FaceGeometry:
    """Control points of the warps, in pixels of the unmoved face's frame."""

    has_face: bool
    iod: float  # inter-ocular distance (px); a length scale for the fallback too
    head_center: tuple[float, float]
    head_axes: tuple[float, float]  # ellipse semi-axes (rx, ry)
    nose: tuple[float, float]  # centre of the nose depth bump
    roll_center: tuple[float, float]  # the head tilts about this point (near the chin)
    mouth_center_x: float
    mouth_half_width: float
    lip_seam: float  # y between the inner lips
    lip_band: float  # height of the inner-mouth band (the gap between the inner lips, >= 1 px)
    chin_y: float
    corners: tuple[tuple[float, float], tuple[float, float]] | None = None  # mouth corners 48, 54
    eyes: tuple[tuple[float, float, float, float], ...] = ()  # (cx, cy, half_w, half_h) per eye
    brow_x: tuple[float, ...] = ()  # brow landmarks 17-26
    brow_y: tuple[float, ...] = ()
    brow_to_eye: float = 0.0  # vertical distance brow -> upper eyelid (px)
    landmarks: tuple[tuple[float, float], ...] | None = None  # the 68 points, for reference


NOSE_POS = 0.15  # centre of the nose depth bump: this far from the nose tip (30) towards the nasion (27)


def face_geometry(landmarks: np.ndarray) -> FaceGeometry:
    """Control points from 68 dlib landmarks."""
    L = np.asarray(landmarks, np.float64)
    eye_l, eye_r = L[36:42].mean(0), L[42:48].mean(0)
    iod = max(float(np.linalg.norm(eye_r - eye_l)), 4.0)
    jaw_l, jaw_r = L[0:17, 0].min(), L[0:17, 0].max()
    chin = L[8]
    brow_top = L[17:27, 1].min()
    top = brow_top - 1.0 * iod  # top of the head: about one IOD above the brows
    hcx = 0.5 * (jaw_l + jaw_r)
    rx = max(0.5 * (jaw_r - jaw_l) * 1.15, 0.8 * iod)
    ry = max(0.5 * (chin[1] - top) * 1.1, 1.2 * iod)
    hcy = 0.5 * (top + chin[1])
    nose_tip, nasion = L[30], L[27]
    nose = nose_tip + NOSE_POS * (nasion - nose_tip)
    ul, ll = L[61:64, 1].mean(), L[65:68, 1].mean()
    seam = 0.5 * (ul + ll)
    band = max(ll - ul, 0.04 * iod, 1.0)
    eyes = []
    for a, b, up, lo in ((36, 39, (37, 38), (40, 41)), (42, 45, (43, 44), (46, 47))):
        cx = 0.5 * (L[a, 0] + L[b, 0])
        upper, lower = L[list(up), 1].mean(), L[list(lo), 1].mean()
        half_h = max(0.5 * (lower - upper) * 1.4 + 1.0, 0.04 * iod)
        cy = 0.5 * (upper + lower)  # squeeze about the eye's middle: the corners stay put
        half_w = 0.5 * abs(L[b, 0] - L[a, 0]) * 1.35
        eyes.append((cx, cy, half_w, half_h))
    eye_top = L[[37, 38, 43, 44], 1].mean()
    return FaceGeometry(
        has_face=True, iod=iod, head_center=(hcx, hcy), head_axes=(rx, ry), nose=(nose[0], nose[1]),
        roll_center=(chin[0], chin[1] + 0.3 * iod), mouth_center_x=float(L[48:68, 0].mean()),
        mouth_half_width=0.5 * abs(L[54, 0] - L[48, 0]), lip_seam=seam, lip_band=band, chin_y=chin[1],
        corners=((L[48, 0], L[48, 1]), (L[54, 0], L[54, 1])), eyes=tuple(eyes),
        brow_x=tuple(L[17:27, 0]), brow_y=tuple(L[17:27, 1]),
        brow_to_eye=max(float(eye_top - L[17:27, 1].mean()), 0.15 * iod),
        landmarks=tuple(map(tuple, L)),
    )


def default_geometry(width: int, height: int, box: tuple[int, int, int, int] | None = None) -> FaceGeometry:
    """A central-region geometry for pictures without a detectable face (a default "mouth", no
    eyes or brows). ``box`` (x0, y0, w, h) is the picture inside the frame; default all."""
    x0, y0, w, h = box or (0, 0, width, height)
    s = float(min(w, h))
    iod = 0.18 * s
    cx, cy = x0 + w / 2.0, y0 + h * 0.45
    return FaceGeometry(
        has_face=False, iod=iod, head_center=(cx, cy), head_axes=(0.26 * w, 0.3 * h),
        nose=(cx, cy + 0.05 * s), roll_center=(cx, y0 + 0.75 * h), mouth_center_x=cx,
        mouth_half_width=0.09 * s, lip_seam=y0 + h * 0.62, lip_band=max(0.01 * s, 1.0),
        chin_y=y0 + h * 0.72,
    )


# -- 2.5D head rotation --------------------------------------------------------------------------
def head_depth(X: np.ndarray, Y: np.ndarray, centre: tuple[float, float], axes: tuple[float, float],
               scale: float, *, nose: tuple[float, float] | None = None, nose_sigma: tuple[float, float] = (1.0, 1.0),
               nose_scale: float = 0.0, mask: np.ndarray | None = None, blur: float = 0.0) -> np.ndarray:
    """Depth (px, towards the camera; float32) of a head: an ellipsoid of height ``scale`` over the
    ellipse (``centre``, ``axes``) plus a Gaussian bump of height ``nose_scale`` at ``nose``, so
    the nose tip stands in front of the eye corners and a rotation registers as one (not as a
    shift) to a PnP pose estimate on rigid landmarks. Optionally times ``mask``, then blurred by
    ``blur`` (sigma, px) so rotations do not tear the silhouette."""
    import cv2

    (hcx, hcy), (rx, ry) = centre, axes
    r2 = ((X - hcx) / rx) ** 2 + ((Y - hcy) / ry) ** 2
    depth = scale * np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
    if nose is not None:
        (nx, ny), (sx, sy) = nose, nose_sigma
        depth += nose_scale * np.exp(-(((X - nx) / sx) ** 2 + ((Y - ny) / sy) ** 2) / 2)
    if mask is not None:
        depth = depth * mask
    depth = depth.astype(np.float32)
    return cv2.GaussianBlur(depth, (0, 0), blur) if blur > 0 else depth


def head_displacement(depth, sin_yaw: float, sin_pitch: float, roll: float = 0.0, roll_basis=None,
                      shift: tuple[float, float] = (0.0, 0.0), mask=None):
    """Forward displacement (dx, dy) px of head points at ``depth``: a point moves by
    ``depth * sin(angle)`` (yaw > 0 towards image right, pitch > 0 down), plus ``roll`` (rad)
    times a linearised roll basis (bx, by) and ``shift`` (px) times ``mask``, where given."""
    dx, dy = sin_yaw * depth, sin_pitch * depth
    if roll_basis is not None:
        dx, dy = dx + roll * roll_basis[0], dy + roll * roll_basis[1]
    if mask is not None:
        dx, dy = dx + shift[0] * mask, dy + shift[1] * mask
    return dx, dy


def source_points(bx: np.ndarray, by: np.ndarray, depth: np.ndarray, sin_yaw: float, sin_pitch: float,
                  iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Backward map of a 2.5D rotation, exactly: the source point q with q + displacement(q) = b.

    ``depth`` is a map over the source frame; the depth is that of the *source* point, found by
    fixed-point iteration (the output point's depth, one step, squeezes one side of the face).
    """
    import cv2

    qx, qy = bx, by
    for _ in range(iterations):
        z = cv2.remap(depth, qx.astype(np.float32), qy.astype(np.float32), cv2.INTER_LINEAR)
        dx, dy = head_displacement(z, sin_yaw, sin_pitch)
        qx, qy = bx - dx, by - dy
    return qx, qy


# -- local patches (backward offsets at points of the unmoved face) ------------------------------
def smile_bounds(g: FaceGeometry) -> tuple[float, float, float, float]:
    (lx, ly), (rx, ry) = g.corners
    s = SMILE_SIGMA * g.iod
    return min(lx, rx) - 3 * s, min(ly, ry) - 3 * s, max(lx, rx) + 3 * s, max(ly, ry) + 3 * s


def smile_offsets(X: np.ndarray, Y: np.ndarray, g: FaceGeometry) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) offsets of a full smile: the mouth corners move out by SMILE_OUT and up by SMILE_UP
    IOD; nothing above the nose base moves (the nostrils are rigid landmarks of the pose)."""
    (lx, ly), (rxc, ryc) = g.corners
    s = SMILE_SIGMA * g.iod
    nose_base = np.asarray(g.landmarks)[31:36, 1].max() if g.landmarks else min(ly, ryc) - 3 * s
    above = np.clip((Y - nose_base) / max(min(ly, ryc) - nose_base, 1.0), 0.0, 1.0)
    wl = np.exp(-(((X - lx) ** 2 + (Y - ly) ** 2) / (2 * s * s))) * above
    wr = np.exp(-(((X - rxc) ** 2 + (Y - ryc) ** 2) / (2 * s * s))) * above
    out, up = SMILE_OUT * g.iod, SMILE_UP * g.iod
    # backward map: sample from where the content came from (opposite of its motion)
    return out * (wl - wr), up * (wl + wr)


def _brow_line(g: FaceGeometry) -> tuple[np.ndarray, np.ndarray, float]:
    bx, by = np.asarray(g.brow_x), np.asarray(g.brow_y)
    order = np.argsort(bx)
    below = g.brow_to_eye + 0.05 * g.iod  # down to just above the eye corners (they stay put)
    return bx[order], by[order], below


def brow_bounds(g: FaceGeometry) -> tuple[float, float, float, float]:
    bx, by, below = _brow_line(g)
    return bx[0] - 0.5 * g.iod, by.min() - 1.4 * g.iod, bx[-1] + 0.5 * g.iod, by.max() + below + 2


def brow_lift(g: FaceGeometry) -> float:
    """How far (px) fully raised brows move: 0.14 IOD, less where the brows sit close to the eyes
    (the map must stay monotone: no fold)."""
    return min(0.14 * g.iod, 0.85 * _brow_line(g)[2] / (0.5 * np.pi))


def brow_offsets(X: np.ndarray, Y: np.ndarray, g: FaceGeometry) -> np.ndarray:
    """y offsets of fully raised brows: the brow band and the forehead move up by :func:`brow_lift`."""
    bx, by, below = _brow_line(g)
    iod = g.iod
    yb = np.interp(X, bx, by)
    d = Y - yb  # > 0 below the brow line
    wy = np.where(d > 0, smooth01(d / below), smooth01((-d - 0.4 * iod) / (0.8 * iod)))
    wx = bump(X - 0.5 * (bx[0] + bx[-1]), 0.5 * (bx[-1] - bx[0]), 0.5 * (bx[-1] - bx[0]) + 0.35 * iod)
    return brow_lift(g) * wy * wx


def eyelid_bounds(eye: tuple[float, float, float, float], iod: float) -> tuple[float, float, float, float]:
    cx, cy, hw, h = eye
    reach = h + 0.35 * iod
    return cx - hw, cy - reach - 1, cx + hw, cy + reach + 1


def eyelid_offsets(X: np.ndarray, Y: np.ndarray, eye: tuple[float, float, float, float], iod: float,
                   closed: float) -> np.ndarray:
    """y offsets (float32) squeezing one eye (cx, cy, half_w, half_h) vertically, ``closed`` 0 open .. 1 shut."""
    cx, cy, hw, h = eye
    H = h + 0.35 * iod  # the skin around the eye stretches over this reach
    # full squeeze over the middle of the eye, none at the corners (the pose uses them)
    k = 1.0 + 11.0 * float(np.clip(closed, 0, 1)) * bump(X - cx, 0.25 * hw, 0.72 * hw)
    u = Y - cy
    au = np.abs(u)
    hk = h / k
    src = np.where(au <= hk, u * k, np.sign(u) * (h + (au - hk) * (H - h) / (H - hk)))
    src = np.where(au >= H, u, src)
    return (src - u).astype(np.float32)


def _jaw_width(g: FaceGeometry) -> float:
    return max(g.mouth_half_width, 0.15 * g.iod)


def jaw_bounds(g: FaceGeometry, drop: float) -> tuple[float, float, float, float]:
    hw = _jaw_width(g)
    return (g.mouth_center_x - 2.0 * hw, g.lip_seam - g.lip_band - 2, g.mouth_center_x + 2.0 * hw,
            g.chin_y + drop + 0.6 * g.iod + 2)


def lip_gap(X: np.ndarray, g: FaceGeometry, drop: float) -> np.ndarray:
    """Height (px) of the gap between the lips of a jaw dropped by ``drop``: a lens, ``drop`` in
    the middle, 0 at the corners."""
    hw = _jaw_width(g)
    return drop * bump(X - g.mouth_center_x, 0.2 * hw, 1.0 * hw)


def jaw_offsets(X: np.ndarray, Y: np.ndarray, g: FaceGeometry, drop: float) -> np.ndarray:
    """y offsets (float32) of a jaw drop by ``drop`` px.

    Per column, the lips open as a lens (:func:`lip_gap`): everything below the lip seam moves
    down by the lens height and the gap samples the seam row (paint it with :func:`mouth_cavity`).
    The jaw beside the lips moves down too, stretching the cheeks gradually from the seam to the
    chin; the neck below the chin is compressed. Without a face (``g.has_face`` False) there is
    nothing to paint: the seam band is stretched instead.
    """
    iod = g.iod
    hw = _jaw_width(g)
    neck = 0.6 * iod
    mid = g.lip_seam
    dx = X - g.mouth_center_x
    gap = drop * bump(dx, 0.2 * hw, 1.0 * hw)
    jaw = drop * bump(dx, 1.0 * hw, 2.0 * hw)  # the jaw moves as a whole
    y = Y - mid
    chin = g.chin_y - mid + jaw  # the chin's output position, relative to the seam
    if g.has_face:
        lips = np.where(y >= gap, gap, np.clip(y, 0.0, None))
    else:
        s0 = -0.5 * g.lip_band
        lips = gap * np.clip((y - s0) / (g.lip_band + gap), 0.0, 1.0)
    cheeks = (jaw - gap) * np.clip(y / np.maximum(chin, 1.0), 0.0, 1.0)
    drop_px = np.where(y > chin, jaw * smooth01((y - chin) / neck), lips + cheeks)
    return (-drop_px).astype(np.float32)


def mouth_cavity(X: np.ndarray, Y: np.ndarray, g: FaceGeometry, drop: float) -> np.ndarray:
    """Alpha (float32, 0..1) of the open mouth's dark inside (:data:`MOUTH_COLOUR`) for a jaw
    dropped by ``drop`` px, at output points; non-zero only within CAVITY_FEATHER px of the rows
    from the lip seam to ``drop`` below it."""
    gap = lip_gap(X, g, drop)
    y = Y - g.lip_seam
    inside = np.minimum(y, gap - y) / CAVITY_FEATHER + 0.5
    return (np.clip(inside, 0.0, 1.0) * np.clip(gap / (2 * CAVITY_FEATHER), 0.0, 1.0)).astype(np.float32)
