"""The puppet's rig: one fitted reference frame warped by :class:`Controls`, on the warps of
:mod:`lpmbench.vision.warps` (placed by :func:`~lpmbench.vision.warps.face_geometry`).

Head fields (depth map, roll basis, sway mask) are precomputed over the head region; local
fields (smile, brows) are precomputed patches; the jaw and the eyelids, whose shapes depend on
how open they are, are computed per frame on small patches. Local patches follow the head
(shifted by the head displacement at their anchor), approximating warp composition. Each frame
is one ``cv2.remap`` of the head region.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...vision import warps as W
from ...vision.warps import FaceGeometry, Roi

# Depth map of the head, in IOD units: an ellipsoid over the head plus a bump on the nose, so the
# nose tip stands well in front of the eye corners (as on a generic 3D face) and rotations
# register in a PnP pose estimator as rotations. Shape chosen to keep yaw -> pitch crosstalk low.
HEAD_DEPTH, NOSE_DEPTH = 0.5, 0.8
NOSE_SIGMA = (0.25, 0.35)  # (x, y) extent of the nose bump
# dlib's landmarks follow a warped nose more readily up-down than sideways: gains calibrated so
# that commanded angles read about right on the analysis pass's PnP estimate (astronaut photo,
# 256-512 px: a 15 deg yaw reads 10-16 deg, a 10 deg pitch 10-11 deg).
YAW_GAIN, PITCH_GAIN = 1.4, 0.6


@dataclass
class Controls:
    """One frame's pose and expression. Angles in degrees, translation in IOD units, others 0..1.

    Positive yaw turns the face towards image right (the character's own left), positive pitch
    tips the nose down, positive roll turns the head clockwise on screen.
    """

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    mouth: float = 0.0
    smile: float = 0.0
    brows: float = 0.0
    eyes_closed: float = 0.0


class PuppetRig:
    """Warps one fitted reference frame according to :class:`Controls` (see the module doc)."""

    def __init__(self, frame: np.ndarray, geom: FaceGeometry, mouth_gain: float = 1.0,
                 box: tuple[int, int, int, int] | None = None):
        self.frame = np.ascontiguousarray(frame)
        self.geom = geom
        self.mouth_gain = float(mouth_gain)
        H, W_ = frame.shape[:2]
        self.height, self.width = H, W_
        # The picture inside the letterbox bars: only it is warped, and only from itself.
        bx, by, bw, bh = box or (0, 0, W_, H)
        self._box = (bx, by)
        self._src = np.ascontiguousarray(frame[by : by + bh, bx : bx + bw])
        g, iod = geom, geom.iod
        (hcx, hcy), (rx, ry) = g.head_center, g.head_axes
        # --- head: depth (px), soft head+neck mask, roll basis -------------------------------
        pad = 0.8 * iod
        ex, ey = 1.3 * rx + pad, 1.3 * ry + pad  # reach of the roll/sway mask
        self._head = roi = Roi(hcx - ex, hcy - ey, hcx + ex, hcy + ey + 1.5 * pad, bx + bw, by + bh, (bx, by))
        X, Y = roi.X, roi.Y
        nose = dict(nose=g.nose, nose_sigma=(NOSE_SIGMA[0] * iod, NOSE_SIGMA[1] * iod),
                    nose_scale=NOSE_DEPTH * iod) if g.has_face else {}
        self._depth = W.head_depth(X, Y, g.head_center, g.head_axes, HEAD_DEPTH * iod,
                                   blur=max(0.08 * iod, 0.5), **nose)
        # Roll and sway move the whole head, hair included: a mask a third larger than the face.
        r2 = ((X - hcx) / rx) ** 2 + ((Y - hcy) / ry) ** 2
        mask = W.smooth01((np.sqrt(r2) / 1.3 - 1.0) / (pad / max(rx, ry)))
        # the neck below the chin follows a little (a head does not float over its neck)
        neck = W.bump(X - hcx, 0.4 * rx, rx) * W.smooth01((Y - (hcy + ry)) / (1.5 * pad)) * (Y > hcy)
        self._mask = np.maximum(mask, 0.5 * neck).astype(np.float32)
        rcx, rcy = g.roll_center
        self._roll_x = (-(Y - rcy) * self._mask).astype(np.float32)
        self._roll_y = ((X - rcx) * self._mask).astype(np.float32)
        # Outside the head region the map is the identity: only this region is remapped.
        self._origin = (roi.x0, roi.y0)
        # --- smile and brows: fixed shapes, scaled per frame ------------------------------------
        self._smile = None
        if g.corners is not None:
            sroi = Roi(*W.smile_bounds(g), W_, H)
            fx, fy = W.smile_offsets(sroi.X, sroi.Y, g)
            self._smile = (sroi, fx.astype(np.float32), fy.astype(np.float32))
        self._brows = None
        if g.brow_x:
            broi = Roi(*W.brow_bounds(g), W_, H)
            self._brows = (broi, W.brow_offsets(broi.X, broi.Y, g).astype(np.float32))
        # The anchor of each local part, for following the head.
        self._anchor_mouth = (g.mouth_center_x, g.lip_seam)

    # -- per-frame ---------------------------------------------------------------------------
    def _head_offset(self, x: float, y: float, sy: float, sp: float, ps: float, tx: float,
                     ty: float) -> tuple[int, int]:
        """The (rounded) head displacement at pixel (x, y), for moving local patches with the head."""
        roi = self._head
        j = int(np.clip(round(x) - roi.x0, 0, roi.x1 - roi.x0 - 1))
        i = int(np.clip(round(y) - roi.y0, 0, roi.y1 - roi.y0 - 1))
        dx, dy = W.head_displacement(self._depth[i, j], sy, sp, ps, (self._roll_x[i, j], self._roll_y[i, j]),
                                     (tx, ty), self._mask[i, j])
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
        dx, dy = W.head_displacement(self._depth, sy, sp, ps, (self._roll_x, self._roll_y), (tx, ty), self._mask)
        mx = (head.X - bx) - dx
        my = (head.Y - by) - dy
        if self._smile is not None and c.smile > 1e-3:
            roi, fx, fy = self._smile
            ox, oy = self._head_offset(*self._anchor_mouth, sy, sp, ps, tx, ty)
            W.add_shifted(mx, o, c.smile * fx, roi, ox, oy)
            W.add_shifted(my, o, c.smile * fy, roi, ox, oy)
        if self._brows is not None and c.brows > 1e-3:
            roi, fy = self._brows
            ox, oy = self._head_offset(float(np.mean(g.brow_x)), float(np.mean(g.brow_y)), sy, sp, ps, tx, ty)
            W.add_shifted(my, o, c.brows * fy, roi, ox, oy)
        if c.eyes_closed > 1e-3:
            for eye in g.eyes:
                ox, oy = self._head_offset(eye[0], eye[1], sy, sp, ps, tx, ty)
                roi = Roi(*W.eyelid_bounds(eye, iod), self.width, self.height)
                W.add_shifted(my, o, W.eyelid_offsets(roi.X, roi.Y, eye, iod, c.eyes_closed), roi, ox, oy)
        cavity = None
        a = float(np.clip(c.mouth, 0.0, 1.5)) * self.mouth_gain * 0.3 * iod  # jaw drop (px)
        if a > 0.05:
            ox, oy = self._head_offset(*self._anchor_mouth, sy, sp, ps, tx, ty)
            roi = Roi(*W.jaw_bounds(g, a), self.width, self.height)
            W.add_shifted(my, o, W.jaw_offsets(roi.X[0], roi.Y, g, a), roi, ox, oy)
            if g.has_face:
                cavity = self._cavity(roi, a)
                if cavity is not None:
                    cavity = (*cavity, ox, oy)
        out = self.frame.copy()
        out[head.slices] = cv2.remap(self._src, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        if cavity is not None:
            W.paint(out, *cavity)
        return out

    def _cavity(self, roi: Roi, a: float) -> tuple[Roi, np.ndarray] | None:
        """Where and how much to paint the open mouth, on the jaw patch's rows it can reach only."""
        f, mid = W.CAVITY_FEATHER, self.geom.lip_seam
        rows = np.nonzero((roi.Y[:, 0] - mid >= -f) & (roi.Y[:, 0] - mid <= a + f))[0]
        if not len(rows):
            return None
        alpha = W.mouth_cavity(roi.X[0], roi.Y[rows[0] : rows[-1] + 1], self.geom, a)
        return Roi(roi.x0, roi.y0 + rows[0], roi.x1, roi.y0 + rows[-1] + 1, self.width, self.height), alpha
