"""Face tracking and landmark geometry, on the dlib models, face detection and 68-point landmark
fitting of :mod:`lpmbench.vision`.

Tracking: the HOG detector runs every ``detect_every`` frames on a downscaled grey frame (and on
every frame while no face is tracked); in between, the 68 landmarks of a frame are predicted from a
box derived from the previous frame's landmarks. The landmark-to-box relation is calibrated at each
detection so the predictor sees the boxes it was trained on. A track is lost when the detector no
longer sees the face on a detection frame, or when the predicted landmark box jumps (IoU test).

Pose conventions (degrees, relative to the reference image's pose, viewer's perspective):
yaw > 0 when the nose turns toward image right, pitch > 0 when the head tilts up (nose up),
roll > 0 when the head tilts counter-clockwise in the image.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import vision
# dlib_models_dir: analyzer.py names the landmark weights with it
from ..vision import HOG_MIN_FACE_PX, dlib_models_dir, landmark_box  # noqa: F401

# iBUG-68 indices
RIGHT_EYE = slice(36, 42)  # subject's right eye, image left
LEFT_EYE = slice(42, 48)
INNER_LIP_PAIRS = ((61, 67), (62, 66), (63, 65))
RIGID = np.array([27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 39, 42, 45])  # nose bridge, nose, eye corners
# Alignment uses every eye and nose point: rigid under expression (brows, lids aside, move little).
ALIGN_POINTS = np.r_[27:36, 36:48]

# Generic 3D face (mm; camera axes: x right, y down, z away from the camera; nose tip at origin)
# for the RIGID landmarks above, in the same order. Anthropometric averages; only the
# relative geometry matters since pose is reported relative to the reference image.
MODEL_3D = np.array(
    [
        [0.0, -36.0, 17.0],  # 27 nasion
        [0.0, -26.0, 11.0],  # 28
        [0.0, -15.0, 5.0],  # 29
        [0.0, -4.0, 0.0],  # 30 nose tip
        [-14.0, 5.0, 13.0],  # 31 nostril wing (image left)
        [-7.0, 7.0, 8.0],  # 32
        [0.0, 8.0, 7.0],  # 33 subnasale
        [7.0, 7.0, 8.0],  # 34
        [14.0, 5.0, 13.0],  # 35
        [-43.0, -38.0, 27.0],  # 36 outer corner, image-left eye
        [-13.0, -36.0, 22.0],  # 39 inner corner
        [13.0, -36.0, 22.0],  # 42 inner corner, image-right eye
        [43.0, -38.0, 27.0],  # 45 outer corner
    ],
    dtype=np.float64,
)


# -- geometry on one (68, 2) landmark array -----------------------------------------------------
def eye_centres(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return lm[RIGHT_EYE].mean(axis=0), lm[LEFT_EYE].mean(axis=0)


def iod(lm: np.ndarray) -> float:
    """Inter-ocular distance: between the eye centres (means of 36-41 and 42-47)."""
    a, b = eye_centres(lm)
    return float(np.hypot(*(b - a)))


def _eye_ar(e: np.ndarray) -> float:
    # (|p2-p6| + |p3-p5|) / (2 |p1-p4|), Soukupova & Cech 2016
    v = np.linalg.norm(e[1] - e[5]) + np.linalg.norm(e[2] - e[4])
    h = np.linalg.norm(e[0] - e[3])
    return float(v / (2.0 * h)) if h > 0 else float("nan")


def face_signals(lm: np.ndarray) -> tuple[float, float, float, float, float]:
    """(iod_px, mouth_open, mouth_width, ear, brow) of one face; lengths / IOD."""
    d = iod(lm)
    if not d > 0:
        return d, np.nan, np.nan, np.nan, np.nan
    gap = np.mean([np.linalg.norm(lm[a] - lm[b]) for a, b in INNER_LIP_PAIRS])
    width = np.linalg.norm(lm[54] - lm[48])
    ear = 0.5 * (_eye_ar(lm[RIGHT_EYE]) + _eye_ar(lm[LEFT_EYE]))
    # brow height: distance of each brow's mean point to its eye centre, projected on the face's
    # "up" axis (perpendicular to the eye line) so in-plane roll does not change it
    rc, lc = eye_centres(lm)
    ex = (lc - rc) / d
    up = np.array([ex[1], -ex[0]])  # eye line rotated by -90 deg: points up in image coords
    brow = 0.5 * (np.dot(lm[17:22].mean(axis=0) - rc, up) + np.dot(lm[22:27].mean(axis=0) - lc, up))
    return d, float(gap / d), float(width / d), ear, float(brow / d)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama): dst ~ s * R @ src + t. Returns (s, R, t)."""
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - mu_s, dst - mu_d
    cov = b.T @ a / len(src)
    u, sig, vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(u @ vt))
    dm = np.diag([1.0, d])
    r = u @ dm @ vt
    var = (a**2).sum() / len(src)
    s = float((sig * np.diag(dm)).sum() / var) if var > 0 else 1.0
    return s, r, mu_d - s * r @ mu_s


def align_to(lm: np.ndarray, target: np.ndarray, target_origin: np.ndarray, target_iod: float) -> np.ndarray:
    """Landmarks mapped onto ``target`` by a similarity fitted on eye/nose points, in target-IOD
    units around ``target_origin`` (the target's eye midpoint): non-rigid motion is what remains."""
    s, r, t = similarity_transform(lm[ALIGN_POINTS], target[ALIGN_POINTS])
    return ((lm @ r.T) * s + t - target_origin) / target_iod


class PoseEstimator:
    """Head rotation by cv2.solvePnP of the rigid landmarks on :data:`MODEL_3D`."""

    def __init__(self, width: int, height: int):
        f = float(max(width, height))  # a typical ~53 deg field of view; pose is relative anyway
        self.cam = np.array([[f, 0, width / 2.0], [0, f, height / 2.0], [0, 0, 1]], dtype=np.float64)
        self.dist = np.zeros(4)

    def rotation(self, lm: np.ndarray, guess: tuple[np.ndarray, np.ndarray] | None = None):
        """(R (3,3), rvec, tvec) of the model in camera coordinates, or None if PnP fails."""
        import cv2

        pts = np.ascontiguousarray(lm[RIGID], dtype=np.float64)
        if guess is not None:
            ok, rvec, tvec = cv2.solvePnP(MODEL_3D, pts, self.cam, self.dist, guess[0].copy(), guess[1].copy(),
                                          useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE)
        else:
            ok, rvec, tvec = cv2.solvePnP(MODEL_3D, pts, self.cam, self.dist, flags=cv2.SOLVEPNP_ITERATIVE)
        if not ok or not np.all(np.isfinite(rvec)):
            return None
        return cv2.Rodrigues(rvec)[0], rvec, tvec


def relative_euler(r: np.ndarray, r_ref: np.ndarray) -> np.ndarray:
    """(yaw, pitch, roll) degrees of head rotation ``r`` relative to ``r_ref`` (module conventions).

    The relative rotation is taken in the head's own frame (R_ref^T R) so a head that sits
    off-centre in the image does not see camera perspective as rotation.
    """
    m = r_ref.T @ r
    # m = Ry(a) Rx(b) Rz(c) in camera axes (x right, y down, z forward)
    b = np.arcsin(np.clip(-m[1, 2], -1.0, 1.0))
    a = np.arctan2(m[0, 2], m[2, 2])
    c = np.arctan2(m[1, 0], m[1, 1])
    # Ry(+a) with y down turns the nose (-z) toward -x (image left): yaw = -a;
    # Rx(+b) turns the nose toward +y (down): pitch = -b; Rz(+c) is clockwise on screen: roll = -c.
    return -np.degrees(np.array([a, b, c]))


ROI_FACE_PX = 110  # face width in the re-detection window around a track (HOG needs >= 80)

# -- tracking ------------------------------------------------------------------------------------
@dataclass
class TrackResult:
    box: np.ndarray  # (4,) x0 y0 x1 y1, px (the detector-like box used for the landmarks)
    landmarks: np.ndarray  # (68, 2) float32 px
    score: float
    detected: bool  # True on frames where the detector ran and confirmed the face


# Boxes overlapping more than this are the same box for the tracker (hysteresis against jitter).
BOX_KEEP_IOU = 0.85


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / ua) if ua > 0 else 0.0


PATCH_PX = 24  # side of the normalised grey patch compared between consecutive tracked frames
PATCH_MIN_NCC = 0.5  # below this correlation with the previous frame's patch the track is checked


def _patch(gray: np.ndarray, lm: np.ndarray) -> np.ndarray | None:
    """Zero-mean, unit-norm PATCH_PX^2 grey patch of the landmarks' bounding box."""
    import cv2

    h, w = gray.shape[:2]
    x0, y0, x1, y1 = landmark_box(lm)
    x0, y0, x1, y1 = int(max(0, x0)), int(max(0, y0)), int(min(w, x1 + 1)), int(min(h, y1 + 1))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    p = cv2.resize(gray[y0:y1, x0:x1], (PATCH_PX, PATCH_PX), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    p -= p.mean()
    n = float(np.linalg.norm(p))
    return p / n if n > 1e-3 else None


def _ncc(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Normalised cross-correlation of two patches; -1 when either is missing or flat."""
    return float(a @ b) if a is not None and b is not None else -1.0


class FaceTracker:
    """Follows one face through a video (the largest at first, or the one ``choose`` picks, then
    the most overlapping one)."""

    def __init__(self, detect_every: int = 8, detect_max_side: int = 320, upsample: int = 0,
                 min_score: float = -0.2, min_iou: float = 0.5):
        vision.face_models()  # load (once per process) before the first frame
        self.detect_every = max(1, int(detect_every))
        self.max_side = int(detect_max_side)
        self.upsample = int(upsample)
        self.min_score = float(min_score)
        self.min_iou = float(min_iou)
        # choose(gray, dets) -> the (box, score) to follow when a detection finds several faces
        # (the analysis sets one that compares them with the reference); None: the largest
        self.choose = None
        self.reset()

    def reset(self) -> None:
        self.prev: TrackResult | None = None
        self._calib = np.array([0.0, 0.0, 1.0, 1.0])  # box relative to landmark bbox: dx, dy, sx, sy
        self.n_detect = 0
        self._misses = 0
        self._patch: np.ndarray | None = None

    # detector ---------------------------------------------------------------------------------
    def detect(self, gray: np.ndarray, upsample: int | None = None, max_side: int | None = None):
        """All faces [(box px (4,), score)], the largest confident one first, on a downscaled copy of ``gray``."""
        self.n_detect += 1
        return vision.detect_faces(gray, upsample=self.upsample if upsample is None else upsample,
                                   max_side=self.max_side if max_side is None else max_side, min_score=self.min_score)

    def _calibrate(self, box: np.ndarray, lm: np.ndarray) -> None:
        lb = landmark_box(lm)
        lw, lh = max(lb[2] - lb[0], 1.0), max(lb[3] - lb[1], 1.0)
        self._calib = np.array([(box[0] - lb[0]) / lw, (box[1] - lb[1]) / lh,
                                (box[2] - box[0]) / lw, (box[3] - box[1]) / lh])

    def _box_from_landmarks(self, lm: np.ndarray) -> np.ndarray:
        lb = landmark_box(lm)
        lw, lh = lb[2] - lb[0], lb[3] - lb[1]
        dx, dy, sx, sy = self._calib
        x0, y0 = lb[0] + dx * lw, lb[1] + dy * lh
        return np.array([x0, y0, x0 + sx * lw, y0 + sy * lh])

    # per frame ----------------------------------------------------------------------------------
    def update(self, idx: int, gray: np.ndarray) -> TrackResult | None:
        """The face in frame ``idx`` (grey uint8, full resolution), or None where it is missing."""
        if self.prev is None or idx % self.detect_every == 0:
            return self._detect_step(gray)
        box = self._box_from_landmarks(self.prev.landmarks)
        if _iou(box, self.prev.box) > BOX_KEEP_IOU:
            # The shape predictor's answer depends on its input box: a box re-derived from noisy
            # landmarks every frame feeds the noise back (a still face "moves" by degrees per
            # second). Keep the box while the face stays put.
            box = self.prev.box
        lm = vision.fit_landmarks(gray, box)
        patch = _patch(gray, lm)
        if _iou(landmark_box(lm), landmark_box(self.prev.landmarks)) < self.min_iou or _ncc(patch, self._patch) < PATCH_MIN_NCC:
            # the predictor jumped, or the face's appearance changed at once (a cut, an occlusion,
            # the face left): the shape predictor always answers, so ask the detector now
            return self._detect_step(gray)
        self._patch = patch
        self.prev = TrackResult(box, lm, self.prev.score, False)
        return self.prev

    def detect_near(self, gray: np.ndarray, box: np.ndarray) -> list[tuple[np.ndarray, float]]:
        """Faces in a window around ``box`` (the track), scaled so the face is ~ROI_FACE_PX wide:
        cheaper than the whole frame, and it keeps faces that are small in a big frame."""
        import cv2

        h, w = gray.shape[:2]
        size = max(box[2] - box[0], box[3] - box[1], 1.0)
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        half = 1.1 * size
        x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
        x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        k = min(1.0, ROI_FACE_PX / size)
        roi = gray[y0:y1, x0:x1]
        if k < 1.0:
            roi = cv2.resize(roi, (max(1, round((x1 - x0) * k)), max(1, round((y1 - y0) * k))), interpolation=cv2.INTER_AREA)
        up = 0 if size * k >= HOG_MIN_FACE_PX else 1
        self.n_detect += 1
        return [(b / k + [x0, y0, x0, y0], sc) for b, sc in vision.run_detector(roi, up, self.min_score)]

    def _detect_step(self, gray: np.ndarray) -> TrackResult | None:
        dets = []
        if self.prev is not None:
            near = [d for d in self.detect_near(gray, self.prev.box) if _iou(d[0], self.prev.box) > 0.3]
            if near:
                dets = [max(near, key=lambda d: _iou(d[0], self.prev.box))]
        if not dets:
            dets = self.detect(gray)
        if not dets and self.prev is None and max(gray.shape[:2]) > self.max_side > 0:
            # untracked: every detect_every-th miss, look again at twice the resolution, so a face
            # too small for the downscaled frame (wide shots, 1080p, full-body portrait) is still
            # found; upsampled, as frames smaller than that already are (detect_faces)
            self._misses += 1
            if self._misses % self.detect_every == 1:
                dets = self.detect(gray, upsample=1, max_side=2 * self.max_side)
        if not dets:
            self.prev = None
            return None
        self._misses = 0
        choice = None
        if self.prev is not None:
            pb = self.prev.box
            best = max(dets, key=lambda bs: _iou(bs[0], pb))
            if _iou(best[0], pb) > 0.3:
                choice = best  # stay on the tracked face even if another one is larger
        if choice is None:
            choice = dets[0] if len(dets) == 1 or self.choose is None else self.choose(gray, dets)
        box, score = choice
        if self.prev is not None and _iou(box, self.prev.box) > BOX_KEEP_IOU:
            # the detector confirms the track: keep the tracking box (see update) rather than
            # switching between two box definitions, which would make landmarks jump
            box = self.prev.box
            lm = vision.fit_landmarks(gray, box)
        else:
            lm = vision.fit_landmarks(gray, box)
            self._calibrate(box, lm)
        self._patch = _patch(gray, lm)
        self.prev = TrackResult(box, lm, score, True)
        return self.prev


def reference_landmarks(rgb: np.ndarray, tracker: FaceTracker) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(box, landmarks) of the largest face in a reference image (:func:`lpmbench.vision.reference_face`
    on its grey version, at the tracker's detection threshold), or (None, None) without a face."""
    import cv2

    return vision.reference_face(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), min_score=tracker.min_score)
