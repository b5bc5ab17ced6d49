"""Face and image knowledge shared by the analysis pass, the baselines and the test fixtures.

- :mod:`.models`: dlib's face models (loaded once per process), face detection, 68-point
  landmark fitting, the largest face of a reference image.
- :mod:`.crops`: the square face region, dlib's aligned face chip, letterbox and cover fits of
  a reference to a frame, the astronaut portrait.
- :mod:`.warps`: the 2.5D head rotation on an ellipsoid+nose depth map and the local patches
  (jaw, eyelids, brows, smile) placed by the landmarks.
"""
from .crops import (ASTRONAUT_CROP, CHIP_PADDING, CHIP_SIZE, astronaut_portrait, face_chip, fit_box, fit_image,
                    fit_to_frame, resize_square, square_region)
from .models import (DESCRIPTOR_MODEL, HOG_MIN_FACE_PX, LANDMARKS_MODEL, MIN_FACE_PX, REFERENCE_MAX_SIDE, contiguous,
                     detect_faces, dlib_models_dir, face_descriptor, face_detector, face_models, fit_landmarks,
                     landmark_box, reference_face, run_detector, shape_predictor)

__all__ = [
    "ASTRONAUT_CROP", "CHIP_PADDING", "CHIP_SIZE", "astronaut_portrait", "face_chip", "fit_box", "fit_image",
    "fit_to_frame", "resize_square", "square_region",
    "DESCRIPTOR_MODEL", "HOG_MIN_FACE_PX", "LANDMARKS_MODEL", "MIN_FACE_PX", "REFERENCE_MAX_SIDE", "contiguous",
    "detect_faces", "dlib_models_dir", "face_descriptor", "face_detector", "face_models", "fit_landmarks",
    "landmark_box", "reference_face", "run_detector", "shape_predictor",
]
