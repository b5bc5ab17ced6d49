"""dlib's face models (weights shipped by face_recognition_models) and landmark fitting.

Every model is loaded once per process. Every function here that hands an image to dlib makes it
contiguous first (:func:`contiguous`): PyAV frames at widths that are not a multiple of 16 are
row-padded views, which dlib's C++ code rejects.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

LANDMARKS_MODEL = "shape_predictor_68_face_landmarks.dat"
DESCRIPTOR_MODEL = "dlib_face_recognition_resnet_model_v1.dat"

MIN_FACE_PX = 128  # faces narrower than this are upscaled before landmarking (see fit_landmarks)
HOG_MIN_FACE_PX = 80  # the smallest face dlib's HOG detector finds without upsampling
REFERENCE_MAX_SIDE = 800  # reference images are searched at up to this size (a one-off cost)


def dlib_models_dir() -> Path:
    """Folder of the dlib model files shipped by the face_recognition_models package.

    (Importing face_recognition_models itself fails on current setuptools: find it instead.)
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("package face_recognition_models is not installed (pip install face_recognition_models)")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def _existing(name: str, what: str) -> str:
    path = dlib_models_dir() / name
    if not path.is_file():
        raise RuntimeError(f"dlib {what} not found at {path} (pip install face_recognition_models)")
    return str(path)


@lru_cache(maxsize=1)
def face_detector():
    """dlib's frontal HOG face detector."""
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=1)
def shape_predictor():
    """dlib's 68-point (iBUG) shape predictor."""
    import dlib

    return dlib.shape_predictor(_existing(LANDMARKS_MODEL, "68-point landmark model"))


def face_models():
    """(HOG detector, 68-point shape predictor), loaded once per process."""
    return face_detector(), shape_predictor()


@lru_cache(maxsize=1)
def face_descriptor():
    """dlib's ResNet face descriptor (128-d embeddings of aligned face chips)."""
    import dlib

    return dlib.face_recognition_model_v1(_existing(DESCRIPTOR_MODEL, "face descriptor weights"))


def contiguous(image: np.ndarray) -> np.ndarray:
    """``image`` as a C-contiguous array (a no-op when it already is), as dlib and other C code need."""
    return np.ascontiguousarray(image)


def landmark_box(lm: np.ndarray) -> np.ndarray:
    """(4,) float64 bounding box x0 y0 x1 y1 of landmarks (N, 2)."""
    return np.array([lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()], dtype=np.float64)


# -- detection ------------------------------------------------------------------------------------
def run_detector(image: np.ndarray, upsample: int, min_score: float) -> list[tuple[np.ndarray, float]]:
    """The HOG detector on ``image`` (grey or RGB) as it is: [(box px (4,) float64, score)], unordered."""
    rects, scores, _ = face_detector().run(contiguous(image), int(upsample), float(min_score))
    return [(np.array([r.left(), r.top(), r.right(), r.bottom()], dtype=np.float64), float(s))
            for r, s in zip(rects, scores)]


def detect_faces(image: np.ndarray, *, upsample: int = 0, max_side: int = 0,
                 min_score: float = 0.0) -> list[tuple[np.ndarray, float]]:
    """All faces [(box px (4,) in ``image`` coordinates, score)], the largest confident one first.

    The detector runs on a copy downscaled so its longer side is at most ``max_side`` (0: as is).
    ``upsample`` 0 on an image already smaller than ``max_side`` becomes 1: such a frame (e.g. a
    256 px video) holds faces below HOG's ~80 px minimum.
    """
    import cv2

    h, w = image.shape[:2]
    scale = min(1.0, max_side / float(max(h, w))) if max_side > 0 else 1.0
    small = image if scale == 1.0 else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    if upsample == 0 and max(h, w) < max_side:
        upsample = 1
    out = [(box / scale, s) for box, s in run_detector(small, upsample, min_score)]
    # The largest face among the confident ones: HOG also fires, weakly, on face-like texture (the
    # astronaut's suit patch scores -0.2 beside 1.3 for her face), and such a box can be larger
    # than the real face.
    best = max((s for _, s in out), default=0.0)
    out.sort(key=lambda bs: (bs[1] < best - 0.5, -(bs[0][2] - bs[0][0]) * (bs[0][3] - bs[0][1])))
    return out


def fit_landmarks(image: np.ndarray, box: np.ndarray, *, min_face_px: int = MIN_FACE_PX) -> np.ndarray:
    """68 landmarks (float32 px) of the face in ``box`` of ``image`` (grey or RGB).

    dlib returns whole pixels, so a face narrower than ``min_face_px`` is first upscaled to that
    width: sub-pixel precision where 1 px would be ~2 % of the IOD (``min_face_px=0``: never).
    """
    import cv2
    import dlib

    bw = float(box[2] - box[0])
    k = min_face_px / bw if 0 < bw < min_face_px else 1.0
    off = np.zeros(2)
    img = image
    if k > 1.0:
        h, w = image.shape[:2]
        m = 0.4 * bw  # margin: the predictor samples pixels a little outside the box
        x0, y0 = int(max(0, box[0] - m)), int(max(0, box[1] - m))
        x1, y1 = int(min(w, box[2] + m)), int(min(h, box[3] + m))
        if x1 - x0 > 4 and y1 - y0 > 4:
            img = cv2.resize(image[y0:y1, x0:x1], None, fx=k, fy=k, interpolation=cv2.INTER_LINEAR)
            off = np.array([x0, y0], dtype=np.float64)
        else:
            k = 1.0
    b = (np.asarray(box, dtype=np.float64) - np.r_[off, off]) * k
    r = dlib.rectangle(int(round(b[0])), int(round(b[1])), int(round(b[2])), int(round(b[3])))
    shape = shape_predictor()(contiguous(img), r)
    pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    if k > 1.0:
        # pixel centres: x_src = (x_dst + 0.5) / k - 0.5 for cv2's resize
        pts = (pts + 0.5) / k - 0.5 + off
    return pts.astype(np.float32)


def reference_face(image: np.ndarray, *, upsample: tuple[int, ...] = (0, 1), min_score: float = 0.0,
                   max_side: int = REFERENCE_MAX_SIDE,
                   min_face_px: int = MIN_FACE_PX) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(box, 68 landmarks) of the largest face of a reference image (grey or RGB), or (None, None).

    Detection is tried at each ``upsample`` in turn until one finds a face (see :func:`detect_faces`
    and :func:`fit_landmarks` for the other arguments).
    """
    for up in upsample:
        dets = detect_faces(image, upsample=up, max_side=max_side, min_score=min_score)
        if dets:
            box = dets[0][0]
            return box, fit_landmarks(image, box, min_face_px=min_face_px)
    return None, None
