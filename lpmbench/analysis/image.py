"""Per-frame image features at low resolution: luminance flicker over static pixels, body optical
flow outside the face, the character region's mean CIELAB colour, and face-crop sharpness."""
from __future__ import annotations

import numpy as np


# pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags: two pyramid levels follow
# motions of ~10 px at 128 px; one iteration is enough for a mean magnitude (and 30 % cheaper)
FARNEBACK = (0.5, 2, 9, 1, 5, 1.1, 0)


def dilate_box(box: np.ndarray, scale: float, w: int, h: int) -> np.ndarray:
    """Box scaled about its centre, clipped to the frame."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    hw, hh = (box[2] - box[0]) * scale / 2, (box[3] - box[1]) * scale / 2
    return np.array([max(0.0, cx - hw), max(0.0, cy - hh), min(float(w), cx + hw), min(float(h), cy + hh)])


def central_box(w: int, h: int) -> np.ndarray:
    """The character region without a face: the central half of the frame (any character style)."""
    return np.array([w * 0.25, h * 0.25, w * 0.75, h * 0.75])


def laplacian_sharpness(gray: np.ndarray, box: np.ndarray, size: int) -> float:
    """Variance of the Laplacian of the square crop around ``box`` resized to size x size."""
    import cv2

    h, w = gray.shape[:2]
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) / 2
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(w, cx + half)), int(min(h, cy + half))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return float("nan")
    crop = cv2.resize(gray[y0:y1, x0:x1], (size, size), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_32F).var())


class ImageFeatures:
    """Stateful per-frame computation; keeps only the previous small grey frame."""

    def __init__(self, width: int, height: int, flow_size: int = 128, face_dilate: float = 1.6,
                 static_flow_px: float = 0.25, sharp_crop: int = 128):
        s = min(1.0, flow_size / float(max(width, height)))
        self.w, self.h = width, height
        self.sw, self.sh = max(8, round(width * s)), max(8, round(height * s))
        self.sx, self.sy = self.sw / width, self.sh / height
        self.diag = float(np.hypot(self.sw, self.sh))
        self.dilate, self.static_px, self.crop = face_dilate, static_flow_px, sharp_crop
        self.prev: np.ndarray | None = None

    def _small_mask(self, box: np.ndarray) -> tuple[slice, slice]:
        return (slice(int(box[1] * self.sy), int(np.ceil(box[3] * self.sy))),
                slice(int(box[0] * self.sx), int(np.ceil(box[2] * self.sx))))

    def frame(self, rgb: np.ndarray, gray: np.ndarray, face_box: np.ndarray | None):
        """(luma_flicker, body_flow, region_lab (3,), face_sharpness) of one frame."""
        import cv2

        small_rgb = cv2.resize(rgb, (self.sw, self.sh), interpolation=cv2.INTER_AREA)
        small = cv2.cvtColor(small_rgb, cv2.COLOR_RGB2GRAY)
        region = dilate_box(face_box, self.dilate, self.w, self.h) if face_box is not None else central_box(self.w, self.h)
        ry, rx = self._small_mask(region)
        lab = cv2.cvtColor(small_rgb[ry, rx].astype(np.float32) * (1.0 / 255.0), cv2.COLOR_RGB2Lab)
        region_lab = lab.reshape(-1, 3).mean(axis=0) if lab.size else np.full(3, np.nan)
        sharp = laplacian_sharpness(gray, face_box, self.crop) if face_box is not None else float("nan")
        flicker = body = float("nan")
        if self.prev is not None:
            flow = cv2.calcOpticalFlowFarneback(self.prev, small, None, *FARNEBACK)
            mag = np.sqrt(flow[..., 0] ** 2 + flow[..., 1] ** 2)
            static = mag < self.static_px
            if static.any():
                d = np.abs(small.astype(np.int16) - self.prev.astype(np.int16))
                flicker = float(d[static].mean())
            if face_box is not None:
                outside = np.ones_like(static)
                outside[ry, rx] = False
                body = float(mag[outside].mean()) / self.diag if outside.any() else float("nan")
            else:
                body = float(mag.mean()) / self.diag
        self.prev = small
        return flicker, body, region_lab, sharp


# the mouth crop of the mouth sharpness: a fixed box in IOD units (its size does not change as the
# mouth opens), centred on the outer lip points, resized to MOUTH_CROP_PX
MOUTH_BOX_IOD = (1.2, 0.8)  # width, height
MOUTH_CROP_PX = (48, 32)


def mouth_sharpness(gray: np.ndarray, landmarks: np.ndarray) -> float:
    """Variance of the Laplacian of the mouth box (:data:`MOUTH_BOX_IOD` around the mean of the
    outer lip points 48-59, in units of the eye-centre distance) resized to MOUTH_CROP_PX; NaN when
    the box leaves the frame by more than half or is smaller than 4 px."""
    import cv2

    lm = np.asarray(landmarks, dtype=np.float64)
    d = float(np.hypot(*(lm[42:48].mean(0) - lm[36:42].mean(0))))
    cx, cy = lm[48:60].mean(0)
    hw, hh = MOUTH_BOX_IOD[0] * d / 2, MOUTH_BOX_IOD[1] * d / 2
    h, w = gray.shape[:2]
    x0, y0, x1, y1 = int(max(0, cx - hw)), int(max(0, cy - hh)), int(min(w, cx + hw)), int(min(h, cy + hh))
    if x1 - x0 < 4 or y1 - y0 < 4 or (x1 - x0) * (y1 - y0) < 0.5 * (4 * hw * hh):
        return float("nan")
    crop = cv2.resize(gray[y0:y1, x0:x1], MOUTH_CROP_PX, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(crop, cv2.CV_32F).var())
