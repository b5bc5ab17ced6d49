"""``puppet``: a procedural streaming baseline that animates the reference image by warping it.

Nothing is learned. Once per reference (at ``open_stream``) dlib's 68 landmarks place a few
control regions and the rig precomputes their displacement fields; each frame is then one
``cv2.remap`` of the reference with a backward map built from those fields (all vectorised,
far faster than real time on one CPU core at 512x512).

What drives it, frame by frame (:class:`PuppetDriver`):

- mouth: the agent audio level (RMS in dBFS over the frame's audio, gated at -45 dBFS, full
  at -18 dBFS, fast attack / slower release) opens the jaw: the lips part as a lens painted as
  the dark inside of a mouth, lower lip and chin move down. The partner's audio never moves the
  lips.
- blinks: a seeded random schedule (``blink_rate_per_min``), each a vertical squeeze of both
  eye regions over ~3-5 frames.
- idle sway: slow sums of sinusoids on yaw/pitch/roll, a small translation, and small slow
  smile and brow changes (``idle_expression``).
- listening (partner voiced, agent silent): a slight attentive tilt and smile, and nods (pitch,
  with a brow flash) reacting 0.3-0.8 s after a stressed syllable of the partner, with 3-5.5 s
  of rest after each nod; every state blends in and out smoothly, so speak/listen switches do
  not jump.
- text prompts (``PromptEvent.action``): nod, shake_head, smile, raise_eyebrows, look_left,
  look_right, close_eyes, performed within their span.

Head rotations are a 2.5D warp: every pixel of the head moves by ``depth * sin(angle)``, with a
depth map made of an ellipsoid over the head plus a bump at the nose, so a yaw moves the nose
tip more than the eye corners and registers as a rotation (not a translation) to a PnP pose
estimator on rigid landmarks. Conventions of :class:`Controls`: positive yaw turns the face
towards image right (the character's own left), positive pitch tips the nose down (a nod goes
positive first; the analysis pass reports nose-up as positive), positive roll turns the head
clockwise on screen. ``look_left``/``look_right`` follow the
character's point of view: ``look_left`` is a positive yaw (face towards image right).

A reference without a detectable face (or a ``non_humanoid`` character) gets a central-region
rig: sway, head rotation of the central region and a "mouth" at a default place, no eyes or
brows; it never fails for lack of a face.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..case import ACTIONS, Case, PromptEvent
from .base import Adapter, StreamSession
from .baselines import FrameClockSession, case_seed, fit_box, fit_to_frame, source_fingerprint

# Audio level (dBFS) mapping of the mouth: below the gate the mouth rests, at FULL it is open.
MOUTH_GATE_DB, MOUTH_FULL_DB = -45.0, -18.0
MOUTH_ATTACK_S, MOUTH_RELEASE_S = 0.04, 0.06  # time constants of the mouth following the level
VOICED_DB = -45.0  # a track is "voiced" above this level (with a hangover, see PuppetDriver)
# Depth map of the head, in IOD units: an ellipsoid over the head plus a bump on the nose, so the
# nose tip stands well in front of the eye corners (as on a generic 3D face) and rotations
# register in a PnP pose estimate as rotations. Shape chosen to keep yaw -> pitch crosstalk low.
HEAD_DEPTH, NOSE_DEPTH = 0.5, 0.8
NOSE_SIGMA = (0.25, 0.35)  # (x, y) extent of the nose bump
NOSE_POS = 0.15  # centre of the bump: this far from the nose tip (30) towards the nasion (27)
# dlib's landmarks follow a warped nose more readily up-down than sideways: gains calibrated so
# that commanded angles read about right on the analysis pass's PnP estimate (astronaut photo,
# 256-512 px: a 15 deg yaw reads 10-16 deg, a 10 deg pitch 10-11 deg).
YAW_GAIN, PITCH_GAIN = 1.4, 0.6


# ------------------------------------------------------------------------------------------------
# Geometry: where the face parts are in the (fitted) reference frame
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FaceGeometry:
    """Control points of the rig, in pixels of the fitted reference frame."""

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


def _dlib_models():
    """dlib's HOG face detector and the 68-point shape predictor (weights in face_recognition_models)."""
    import importlib.util

    import dlib

    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face_recognition_models is not installed (it ships dlib's landmark weights)")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / "shape_predictor_68_face_landmarks.dat"
    if not path.is_file():
        raise RuntimeError(f"dlib 68-landmark weights not found at {path}")
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(path))


_MODELS: Any = None


def _models():
    """The dlib models, loaded once per process."""
    global _MODELS
    if _MODELS is None:
        _MODELS = _dlib_models()
    return _MODELS


def detect_landmarks(frame: np.ndarray, min_score: float = 0.0) -> np.ndarray | None:
    """The 68 dlib landmarks (68, 2) of the most prominent face in ``frame``, or None.

    Most prominent = largest box weighted by detection score; detections scoring under
    ``min_score`` are ignored (HOG at upsample 1 fires on some non-faces with low scores).
    """
    import dlib

    detector, predictor = _models()
    h, w = frame.shape[:2]
    scale = min(1.0, 800.0 / max(h, w))  # detection on big frames is slow and needs no detail
    small = frame
    if scale < 1.0:
        import cv2

        small = cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    rects, scores, _ = detector.run(small, 1, min_score)
    if not len(rects):
        return None
    best = max(range(len(rects)), key=lambda i: rects[i].area() * (1.0 + scores[i]))
    r = rects[best]
    r = dlib.rectangle(int(r.left() / scale), int(r.top() / scale), int(r.right() / scale), int(r.bottom() / scale))
    shape = predictor(frame, r)
    return np.array([[p.x, p.y] for p in shape.parts()], np.float64)


def face_geometry(landmarks: np.ndarray) -> FaceGeometry:
    """Rig control points from 68 dlib landmarks."""
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
    """A central-region rig for references without a detectable face (sway + a default "mouth").

    ``box`` (x0, y0, w, h) is the picture inside the frame (without letterbox bars); default all.
    """
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


# ------------------------------------------------------------------------------------------------
# The rig: precomputed displacement fields and the per-frame warp
# ------------------------------------------------------------------------------------------------
@dataclass
class Controls:
    """One frame's pose and expression. Angles in degrees, translation in IOD units, others 0..1."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    mouth: float = 0.0
    smile: float = 0.0
    brows: float = 0.0
    eyes_closed: float = 0.0


def _smooth01(u: np.ndarray) -> np.ndarray:
    """Cosine ease from 1 (u <= 0) to 0 (u >= 1)."""
    return 0.5 * (1.0 + np.cos(np.pi * np.clip(u, 0.0, 1.0)))


def _bump(d: np.ndarray, flat: float, reach: float) -> np.ndarray:
    """1 where |d| <= flat, cosine falloff to 0 at |d| = reach."""
    return _smooth01((np.abs(d) - flat) / max(reach - flat, 1e-6))


class _Roi:
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


def _add_shifted(target: np.ndarray, origin: tuple[int, int], patch: np.ndarray, roi: _Roi, dx: int, dy: int) -> None:
    """``target[roi shifted by (dx, dy)] += patch``, where ``target``'s pixel (0, 0) lies at
    frame pixel ``origin`` (x, y); clipped to ``target``."""
    H, W = target.shape
    y0, x0 = roi.y0 + dy - origin[1], roi.x0 + dx - origin[0]
    ph, pw = patch.shape
    ty0, tx0, ty1, tx1 = max(0, y0), max(0, x0), min(H, y0 + ph), min(W, x0 + pw)
    if ty1 <= ty0 or tx1 <= tx0:
        return
    target[ty0:ty1, tx0:tx1] += patch[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0]


class PuppetRig:
    """Warps one fitted reference frame according to :class:`Controls`.

    Head fields (depth map, roll basis, sway mask) are precomputed over the head region; local
    fields (smile, brows) are precomputed patches; the jaw and the eyelids, whose shapes depend
    on how open they are, are computed per frame on small patches. Local patches follow the head
    (shifted by the head displacement at their anchor), approximating warp composition.
    """

    def __init__(self, frame: np.ndarray, geom: FaceGeometry, mouth_gain: float = 1.0,
                 box: tuple[int, int, int, int] | None = None):
        self.frame = np.ascontiguousarray(frame)
        self.geom = geom
        self.mouth_gain = float(mouth_gain)
        H, W = frame.shape[:2]
        self.height, self.width = H, W
        # The picture inside the letterbox bars: only it is warped, and only from itself.
        bx, by, bw, bh = box or (0, 0, W, H)
        self._box = (bx, by)
        self._src = np.ascontiguousarray(frame[by : by + bh, bx : bx + bw])
        g, iod = geom, geom.iod
        (hcx, hcy), (rx, ry) = g.head_center, g.head_axes
        # --- head: depth (px), soft head+neck mask, roll basis -------------------------------
        pad = 0.8 * iod
        ex, ey = 1.3 * rx + pad, 1.3 * ry + pad  # reach of the roll/sway mask
        self._head = roi = _Roi(hcx - ex, hcy - ey, hcx + ex, hcy + ey + 1.5 * pad, bx + bw, by + bh, (bx, by))
        X, Y = roi.X, roi.Y
        r2 = ((X - hcx) / rx) ** 2 + ((Y - hcy) / ry) ** 2
        depth = HEAD_DEPTH * iod * np.sqrt(np.clip(1.0 - r2, 0.0, 1.0))
        if g.has_face:
            (nx, ny), (sx, sy) = g.nose, NOSE_SIGMA
            depth += NOSE_DEPTH * iod * np.exp(-(((X - nx) / (sx * iod)) ** 2 + ((Y - ny) / (sy * iod)) ** 2) / 2)
        import cv2

        sigma = max(0.08 * iod, 0.5)  # soften the silhouette so rotations do not tear it
        self._depth = cv2.GaussianBlur(depth.astype(np.float32), (0, 0), sigma)
        # Roll and sway move the whole head, hair included: a mask a third larger than the face.
        mask = _smooth01((np.sqrt(r2) / 1.3 - 1.0) / (pad / max(rx, ry)))
        # the neck below the chin follows a little (a head does not float over its neck)
        neck = _bump(X - hcx, 0.4 * rx, rx) * _smooth01((Y - (hcy + ry)) / (1.5 * pad)) * (Y > hcy)
        self._mask = np.maximum(mask, 0.5 * neck).astype(np.float32)
        rcx, rcy = g.roll_center
        self._roll_x = (-(Y - rcy) * self._mask).astype(np.float32)
        self._roll_y = ((X - rcx) * self._mask).astype(np.float32)
        # Outside the head region the map is the identity: only this region is remapped.
        self._origin = (roi.x0, roi.y0)
        # --- smile: mouth corners move out and up ---------------------------------------------
        self._smile = None
        if g.corners is not None:
            (lx, ly), (rxc, ryc) = g.corners
            s = 0.28 * iod
            sroi = _Roi(min(lx, rxc) - 3 * s, min(ly, ryc) - 3 * s, max(lx, rxc) + 3 * s, max(ly, ryc) + 3 * s, W, H)
            # nothing above the nose base moves (the nostrils are rigid landmarks of the pose)
            nose_base = np.asarray(g.landmarks)[31:36, 1].max() if g.landmarks else min(ly, ryc) - 3 * s
            above = np.clip((sroi.Y - nose_base) / max(min(ly, ryc) - nose_base, 1.0), 0.0, 1.0)
            wl = np.exp(-(((sroi.X - lx) ** 2 + (sroi.Y - ly) ** 2) / (2 * s * s))) * above
            wr = np.exp(-(((sroi.X - rxc) ** 2 + (sroi.Y - ryc) ** 2) / (2 * s * s))) * above
            out, up = 0.14 * iod, 0.08 * iod
            # backward map: sample from where the content came from (opposite of its motion)
            self._smile = (sroi, (out * (wl - wr)).astype(np.float32), (up * (wl + wr)).astype(np.float32))
        # --- brows: the brow band and forehead move up ----------------------------------------
        self._brows = None
        if g.brow_x:
            bx, by = np.asarray(g.brow_x), np.asarray(g.brow_y)
            order = np.argsort(bx)
            bx, by = bx[order], by[order]
            below = g.brow_to_eye + 0.05 * iod  # down to just above the eye corners (they stay put)
            broi = _Roi(bx[0] - 0.5 * iod, by.min() - 1.4 * iod, bx[-1] + 0.5 * iod, by.max() + below + 2, W, H)
            yb = np.interp(broi.X, bx, by)
            d = broi.Y - yb  # > 0 below the brow line
            wy = np.where(d > 0, _smooth01(d / below), _smooth01((-d - 0.4 * iod) / (0.8 * iod)))
            wx = _bump(broi.X - 0.5 * (bx[0] + bx[-1]), 0.5 * (bx[-1] - bx[0]), 0.5 * (bx[-1] - bx[0]) + 0.35 * iod)
            lift = min(0.14 * iod, 0.85 * below / (0.5 * np.pi))  # keeps the map monotone (no fold)
            self._brows = (broi, (lift * wy * wx).astype(np.float32))
        # The anchor of each local part, for following the head.
        self._anchor_mouth = (g.mouth_center_x, g.lip_seam)

    # -- per-frame ---------------------------------------------------------------------------
    def _head_offset(self, x: float, y: float, sy: float, sp: float, ps: float, tx: float,
                     ty: float) -> tuple[int, int]:
        """The (rounded) head displacement at pixel (x, y), for moving local patches with the head."""
        roi = self._head
        j = int(np.clip(round(x) - roi.x0, 0, roi.x1 - roi.x0 - 1))
        i = int(np.clip(round(y) - roi.y0, 0, roi.y1 - roi.y0 - 1))
        z, m = self._depth[i, j], self._mask[i, j]
        dx = sy * z + ps * self._roll_x[i, j] + tx * m
        dy = sp * z + ps * self._roll_y[i, j] + ty * m
        return int(round(dx)), int(round(dy))

    def render(self, c: Controls) -> np.ndarray:
        """The reference warped by ``c`` (RGB uint8, a new array)."""
        import cv2

        g, iod = self.geom, self.geom.iod
        head, o = self._head, self._origin
        sy = YAW_GAIN * math.sin(math.radians(c.yaw))
        sp = PITCH_GAIN * math.sin(math.radians(c.pitch))
        ps = math.radians(c.roll)
        tx, ty = float(c.tx) * iod, float(c.ty) * iod  # python floats keep the maps float32
        # backward map: output(q) = reference(q - displacement(q))
        bx, by = self._box  # maps address self._src, the picture inside the letterbox
        mx = (head.X - bx) - (sy * self._depth + ps * self._roll_x + tx * self._mask)
        my = (head.Y - by) - (sp * self._depth + ps * self._roll_y + ty * self._mask)
        if self._smile is not None and c.smile > 1e-3:
            roi, fx, fy = self._smile
            ox, oy = self._head_offset(*self._anchor_mouth, sy, sp, ps, tx, ty)
            _add_shifted(mx, o, c.smile * fx, roi, ox, oy)
            _add_shifted(my, o, c.smile * fy, roi, ox, oy)
        if self._brows is not None and c.brows > 1e-3:
            roi, fy = self._brows
            ox, oy = self._head_offset(float(np.mean(g.brow_x)), float(np.mean(g.brow_y)), sy, sp, ps, tx, ty)
            _add_shifted(my, o, c.brows * fy, roi, ox, oy)
        if c.eyes_closed > 1e-3:
            for eye in g.eyes:
                ox, oy = self._head_offset(eye[0], eye[1], sy, sp, ps, tx, ty)
                roi, fy = self._eyelid_patch(eye, c.eyes_closed)
                _add_shifted(my, o, fy, roi, ox, oy)
        cavity = None
        a = float(np.clip(c.mouth, 0.0, 1.5)) * self.mouth_gain * 0.3 * iod  # jaw drop (px)
        if a > 0.05:
            ox, oy = self._head_offset(*self._anchor_mouth, sy, sp, ps, tx, ty)
            roi, fy, cav = self._jaw_patch(a)
            _add_shifted(my, o, fy, roi, ox, oy)
            if cav is not None:
                cavity = (cav[0], cav[1], ox, oy)
        out = self.frame.copy()
        hs = head.slices
        out[hs] = cv2.remap(self._src, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        if cavity is not None:
            self._darken(out, *cavity)
        return out

    def _jaw_patch(self, a: float) -> tuple[_Roi, np.ndarray, tuple[_Roi, np.ndarray] | None]:
        """Backward y-offsets of a jaw drop by ``a`` px, and where and how much to paint the mouth
        cavity (None without a face).

        Per column, the lips open as a lens (``a`` in the middle, 0 at the corners): everything
        below the lip seam moves down by the lens height and the gap is painted as the dark
        inside of a mouth. The jaw beside the lips moves down too, stretching the cheeks
        gradually from the seam to the chin; the neck below the chin is compressed. Without a
        face there is nothing to paint: the seam band is stretched instead.
        """
        g, iod = self.geom, self.geom.iod
        hw = max(g.mouth_half_width, 0.15 * iod)
        neck = 0.6 * iod
        mid = g.lip_seam
        roi = _Roi(g.mouth_center_x - 2.0 * hw, mid - g.lip_band - 2, g.mouth_center_x + 2.0 * hw,
                   g.chin_y + a + neck + 2, self.width, self.height)
        dx = roi.X[0] - g.mouth_center_x
        gap = a * _bump(dx, 0.2 * hw, 1.0 * hw)  # (w,) lens: the lips part in the middle
        jaw = a * _bump(dx, 1.0 * hw, 2.0 * hw)  # (w,) the jaw moves as a whole
        y = roi.Y - mid
        chin = g.chin_y - mid + jaw  # the chin's output position, relative to the seam
        if g.has_face:
            lips = np.where(y >= gap, gap, np.clip(y, 0.0, None))  # the gap samples the seam row
        else:
            s0 = -0.5 * g.lip_band
            lips = gap * np.clip((y - s0) / (g.lip_band + gap), 0.0, 1.0)
        cheeks = (jaw - gap) * np.clip(y / np.maximum(chin, 1.0), 0.0, 1.0)
        drop = np.where(y > chin, jaw * _smooth01((y - chin) / neck), lips + cheeks)
        cavity = None
        if g.has_face:  # alpha of the painted gap, on the rows it can reach only
            feather = 2.0
            rows = np.nonzero((roi.Y[:, 0] - mid >= -feather) & (roi.Y[:, 0] - mid <= a + feather))[0]
            if len(rows):
                yb = y[rows[0] : rows[-1] + 1]
                inside = np.minimum(yb, gap - yb) / feather + 0.5
                alpha = np.clip(inside, 0.0, 1.0) * np.clip(gap / (2 * feather), 0.0, 1.0)
                cavity = (_Roi(roi.x0, roi.y0 + rows[0], roi.x1, roi.y0 + rows[-1] + 1, self.width, self.height),
                          alpha.astype(np.float32))
        return roi, (-drop).astype(np.float32), cavity

    @staticmethod
    def _darken(out: np.ndarray, roi: _Roi, alpha: np.ndarray, ox: int, oy: int) -> None:
        H, W = out.shape[:2]
        y0, x0 = roi.y0 + oy, roi.x0 + ox
        ph, pw = alpha.shape
        ty0, tx0, ty1, tx1 = max(0, y0), max(0, x0), min(H, y0 + ph), min(W, x0 + pw)
        if ty1 <= ty0 or tx1 <= tx0:
            return
        al = alpha[ty0 - y0 : ty1 - y0, tx0 - x0 : tx1 - x0, None]
        region = out[ty0:ty1, tx0:tx1].astype(np.float32)
        dark = np.array([45.0, 14.0, 18.0], np.float32)  # the inside of a mouth
        out[ty0:ty1, tx0:tx1] = (region * (1 - al) + dark * al + 0.5).astype(np.uint8)

    def _eyelid_patch(self, eye: tuple[float, float, float, float], closed: float) -> tuple[_Roi, np.ndarray]:
        """Backward y-offsets squeezing one eye vertically (``closed`` 0 open .. 1 shut)."""
        cx, cy, hw, h = eye
        H = h + 0.35 * self.geom.iod  # the skin around the eye stretches over this reach
        roi = _Roi(cx - hw, cy - H - 1, cx + hw, cy + H + 1, self.width, self.height)
        # full squeeze over the middle of the eye, none at the corners (the pose uses them)
        k = 1.0 + 11.0 * float(np.clip(closed, 0, 1)) * _bump(roi.X - cx, 0.25 * hw, 0.72 * hw)
        u = roi.Y - cy
        au = np.abs(u)
        hk = h / k
        src = np.where(au <= hk, u * k, np.sign(u) * (h + (au - hk) * (H - h) / (H - hk)))
        src = np.where(au >= H, u, src)
        return roi, (src - u).astype(np.float32)


# ------------------------------------------------------------------------------------------------
# The driver: audio, schedules and prompts -> Controls, one frame at a time
# ------------------------------------------------------------------------------------------------
def _alpha(dt: float, tau: float) -> float:
    """One-pole smoothing coefficient for time step ``dt`` and time constant ``tau`` (s)."""
    return 1.0 - math.exp(-dt / max(tau, 1e-6))


def _ramp(t: float, start: float, end: float, rise: float) -> float:
    """0 outside [start, end], easing to 1 over ``rise`` seconds at both ends."""
    if t < start or t >= end:
        return 0.0
    rise = max(min(rise, 0.5 * (end - start)), 1e-6)
    u = min((t - start) / rise, (end - t) / rise, 1.0)
    return 0.5 * (1.0 - math.cos(math.pi * u))


def _cycles(t: float, start: float, end: float, period: float) -> tuple[float, float] | None:
    """Phase in [0, 1) and period of a whole number of cycles fitted into [start, end]; None outside."""
    span = end - start
    period = min(period, span)
    n = max(1, int(span / period))
    if not (start <= t < start + n * period):
        return None
    return ((t - start) / period) % 1.0, period


class PuppetDriver:
    """Turns the frame-by-frame audio levels and prompt events of a case into :class:`Controls`.

    Deterministic: everything random is drawn from ``rng`` (seeded from the case id), and
    schedules (blinks, sway) are drawn up front; listening nods draw their lag when triggered.
    """

    def __init__(self, case: Case, rng: np.random.Generator, *, blink_rate_per_min: float = 15.0,
                 sway_deg: float = 2.0, nod_deg: float = 10.0, listen_nods: bool = True, lag_frames: int = 0,
                 look_deg: float = 18.0, shake_deg: float = 15.0, idle_expression: float = 1.0,
                 blinks: bool = True):
        self.fps = float(case.fps)
        self.dt = 1.0 / self.fps
        self.rng = rng
        self.sway_deg, self.nod_deg = float(sway_deg), float(nod_deg)
        self.look_deg, self.shake_deg = float(look_deg), float(shake_deg)
        self.expression = float(idle_expression)
        self.listen_nods, self.lag_frames = bool(listen_nods), max(0, int(lag_frames))
        self.blinks = self._blink_schedule(case.duration, blink_rate_per_min) if blinks else []
        # Sway: three slow sinusoids per channel (yaw, pitch, roll, tx, ty, smile, brows), random
        # phase and weight; each channel stays within [-1, 1].
        self._sway_f = rng.uniform(0.05, 0.35, size=(7, 3))
        self._sway_f[5:] *= 2.0  # expressions change faster than the head sways
        self._sway_ph = rng.uniform(0, 2 * np.pi, size=(7, 3))
        w = rng.uniform(0.5, 1.0, size=(7, 3))
        self._sway_w = w / w.sum(axis=1, keepdims=True)
        self._tilt = float(rng.choice([-1.0, 1.0]))  # which way the listener tilts the head
        # state
        self._levels: list[float] = []  # agent dB history for lag_frames
        self.mouth = 0.0
        self._speech_slow = 0.0
        self._agent_hold = 0.0  # seconds of hangover left
        self._partner_hold = 0.0
        self.listen = 0.0  # smoothed listening weight
        self._next_nod_ok = 0.0
        self._turn = 0.0  # seconds the agent has been listening in this turn
        self._partner_avg: float | None = None  # running level (dB) of the partner's voiced frames
        self.nods: list[tuple[float, float, float]] = []  # (start, duration, amplitude deg)

    def _blink_schedule(self, duration: float, rate: float) -> list[tuple[float, float]]:
        """(start, duration) of each blink: gamma-distributed intervals around 60/rate seconds."""
        if rate <= 0:
            return []
        mean = 60.0 / rate
        out, t = [], float(self.rng.uniform(0.3, min(2.0, mean)))
        while t < duration:
            d = max(float(self.rng.uniform(0.14, 0.2)), 3.5 / self.fps)  # ~3-5 frames at 25 fps
            out.append((t, d))
            t += d + float(np.clip(self.rng.gamma(4.0, mean / 4.0), 0.8, 3 * mean))
        return out

    def _blink(self, t: float) -> float:
        for t0, d in self.blinks:
            if t0 <= t < t0 + d:
                return math.sin(math.pi * (t - t0) / d) ** 0.5
            if t0 > t:
                break
        return 0.0

    def _sway(self, t: float) -> np.ndarray:
        return (self._sway_w * np.sin(2 * np.pi * self._sway_f * t + self._sway_ph)).sum(axis=1)

    def step(self, k: int, agent_db: float, partner_db: float, events: list[PromptEvent]) -> Controls:
        t, dt = k * self.dt, self.dt
        # -- mouth from the agent level, delayed by lag_frames ---------------------------------
        self._levels.append(agent_db)
        lvl = self._levels[-1 - self.lag_frames] if len(self._levels) > self.lag_frames else -90.0
        del self._levels[: max(0, len(self._levels) - self.lag_frames - 1)]
        target = float(np.clip((lvl - MOUTH_GATE_DB) / (MOUTH_FULL_DB - MOUTH_GATE_DB), 0.0, 1.0))
        tau = MOUTH_ATTACK_S if target > self.mouth else MOUTH_RELEASE_S  # open fast, close slower
        self.mouth += (target - self.mouth) * _alpha(dt, tau)
        self._speech_slow += (self.mouth - self._speech_slow) * _alpha(dt, 0.3)
        # -- who is speaking -------------------------------------------------------------------
        self._agent_hold = 0.4 if agent_db > VOICED_DB else max(0.0, self._agent_hold - dt)
        partner_voiced = partner_db > VOICED_DB
        self._partner_hold = 0.4 if partner_voiced else max(0.0, self._partner_hold - dt)
        listening = self._partner_hold > 0 and self._agent_hold <= 0
        self.listen += (float(listening) - self.listen) * _alpha(dt, 0.35)
        self._turn = self._turn + dt if listening else 0.0
        stressed = False
        if partner_voiced:
            if self._partner_avg is None:
                self._partner_avg = partner_db
            stressed = partner_db > self._partner_avg + 3.0  # a stressed syllable of the partner
            self._partner_avg += (partner_db - self._partner_avg) * _alpha(dt, 2.0)
        # Backchannel: nod at a stressed syllable once the partner has talked a while (or after a
        # long stretch without one), 0.3-0.8 s later, then rest 3-5.5 s (~6-12 nods a minute).
        if (self.listen_nods and listening and partner_voiced and self._turn >= 0.6
                and t >= self._next_nod_ok and (stressed or t >= self._next_nod_ok + 2.0)):
            lag = float(self.rng.uniform(0.3, 0.8))  # human backchannel reaction time
            dur = float(self.rng.uniform(0.5, 0.75))
            amp = self.nod_deg * float(self.rng.uniform(0.85, 1.15))
            self.nods.append((t + lag, dur, amp))
            self._next_nod_ok = t + lag + dur + float(self.rng.uniform(3.0, 5.5))
        # -- pose ------------------------------------------------------------------------------
        sway = self._sway(t)
        yaw = self.sway_deg * sway[0]
        pitch = self.sway_deg * 0.7 * sway[1] + 1.0 * self._speech_slow  # a slight bob with speech
        roll = self.sway_deg * 0.6 * sway[2] + 2.5 * self._tilt * self.listen
        tx, ty = 0.015 * self.sway_deg * sway[3], 0.01 * self.sway_deg * sway[4]  # IOD units
        # A living face: slow small smile and brow changes; a listener smiles a little more.
        smile = self.expression * (0.15 + 0.15 * sway[5] + 0.3 * self.listen)
        brows = self.expression * 0.4 * max(0.0, sway[6])
        gate = min(1.0, 1.5 * self.listen)  # a nod in progress fades if the agent starts talking
        for t0, d, amp in self.nods:
            if t0 <= t < t0 + d:
                shape = 0.5 * (1.0 - math.cos(2 * math.pi * (t - t0) / d))
                pitch += gate * amp * shape
                brows = max(brows, self.expression * gate * shape)  # brows go up with the nod
        self.nods = [n for n in self.nods if n[0] + n[1] > t]
        eyes = self._blink(t)
        for ev in events:
            if ev.action is None or ev.action not in ACTIONS or not (ev.start <= t < ev.end):
                continue
            a, s, e = ev.action, ev.start, ev.end
            if a == "nod":
                cyc = _cycles(t, s, e, 0.7)
                if cyc:
                    pitch += self.nod_deg * 0.5 * (1.0 - math.cos(2 * math.pi * cyc[0]))
            elif a == "shake_head":
                cyc = _cycles(t, s, e, 0.8)
                if cyc:
                    yaw += self.shake_deg * math.sin(2 * math.pi * cyc[0])
            elif a in ("look_left", "look_right"):
                yaw += (1.0 if a == "look_left" else -1.0) * self.look_deg * _ramp(t, s, e, 0.3)
            elif a == "smile":
                smile = max(smile, _ramp(t, s, e, 0.25))
            elif a == "raise_eyebrows":
                brows = max(brows, _ramp(t, s, e, 0.2))
            elif a == "close_eyes":
                eyes = max(eyes, _ramp(t, s, e, 0.1))
        return Controls(yaw=yaw, pitch=pitch, roll=roll, tx=tx, ty=ty, mouth=self.mouth,
                        smile=smile, brows=brows, eyes_closed=eyes)


# ------------------------------------------------------------------------------------------------
# The adapter
# ------------------------------------------------------------------------------------------------
class _PuppetSession(FrameClockSession):
    def __init__(self, case: Case, rig: PuppetRig, driver: PuppetDriver):
        super().__init__(case)
        self.rig, self.driver = rig, driver

    def render(self, k: int, agent_db: float, partner_db: float) -> np.ndarray:
        return self.rig.render(self.driver.step(k, agent_db, partner_db, self.events))


class PuppetAdapter(Adapter):
    """Procedural talking/listening head: warps the reference; streaming; deterministic per case.

    Parameters (all optional):
        mouth_gain: jaw drop at full voice, relative to 0.3 IOD (default 1.0).
        blink_rate_per_min: mean blinks per minute (default 15; 0 disables blinking).
        sway_deg: amplitude of the idle head sway in degrees (default 2.0).
        nod_deg: amplitude of nods, listening and prompted (default 10.0).
        listen_nods: nod in reaction to the partner's speech while listening (default True).
        seed: combined with the case id into the RNG seed (default 0).
        lag_frames: delay of the mouth behind the audio in frames (default 0; for tests).
        look_deg: yaw of look_left / look_right (default 18.0).
        shake_deg: yaw amplitude of shake_head (default 15.0).
        idle_expression: scale of the small idle smile/brow changes and the listener's smile and
            brow flashes with its nods (default 1.0; 0 keeps the face neutral between prompts).
    """

    name = "puppet"
    version = "1.0"
    streaming = True

    def __init__(self, *, mouth_gain: float = 1.0, blink_rate_per_min: float = 15.0, sway_deg: float = 2.0,
                 nod_deg: float = 10.0, listen_nods: bool = True, seed: int = 0, lag_frames: int = 0,
                 look_deg: float = 18.0, shake_deg: float = 15.0, idle_expression: float = 1.0):
        if lag_frames < 0:
            raise ValueError(f"puppet: lag_frames must be >= 0, got {lag_frames}")
        if blink_rate_per_min < 0:
            raise ValueError(f"puppet: blink_rate_per_min must be >= 0, got {blink_rate_per_min}")
        super().__init__(mouth_gain=mouth_gain, blink_rate_per_min=blink_rate_per_min, sway_deg=sway_deg,
                         nod_deg=nod_deg, listen_nods=listen_nods, seed=seed, lag_frames=lag_frames,
                         look_deg=look_deg, shake_deg=shake_deg, idle_expression=idle_expression)
        self._rigs: dict[tuple[str, int, int, bool], PuppetRig] = {}

    def setup(self) -> None:
        """Load dlib's detector and landmark model once, before the first (timed) case."""
        _models()

    def fingerprint(self) -> str:
        from . import baselines

        return source_fingerprint([sys.modules[__name__], baselines], self.config)

    def rig(self, case: Case) -> PuppetRig:
        """The rig of the case's reference at the case resolution (detected once, then cached)."""
        want_face = case.character.style != "non_humanoid"
        key = (str(Path(case.reference).resolve()), case.width, case.height, want_face)
        if key not in self._rigs:
            from ..media import load_image

            image = load_image(case.reference)
            frame = fit_to_frame(image, case.width, case.height)
            lms = detect_landmarks(frame) if want_face else None
            if lms is not None:
                geom = face_geometry(lms)
            else:  # no face: animate the central region of the picture (not the letterbox bars)
                geom = default_geometry(case.width, case.height, fit_box(image.shape[1], image.shape[0],
                                                                          case.width, case.height))
            box = fit_box(image.shape[1], image.shape[0], case.width, case.height)
            self._rigs[key] = PuppetRig(frame, geom, self.config["mouth_gain"], box)
        return self._rigs[key]

    def open_stream(self, case: Case) -> StreamSession:
        rig = self.rig(case)
        cfg = dict(self.config)
        rng = np.random.default_rng(case_seed(case.id, cfg.pop("seed")))
        cfg.pop("mouth_gain")  # a property of the rig
        driver = PuppetDriver(case, rng, blinks=rig.geom.has_face, **cfg)
        return _PuppetSession(case, rig, driver)
