"""Validity of the quality metrics: per-frame random face warps raise landmark_jitter, alternating
brightness raises flicker, blur lowers face_sharpness_ratio, a blurred mouth lowers
mouth_sharpness_ratio (and barely the face's). landmark_jitter version 2 is computed on the track
resampled to 25 Hz: the same motion gives the same value at 24, 25 and 30 fps."""
from __future__ import annotations

import numpy as np
import pytest

from lpmbench.media import VideoWriter, iter_frames
from lpmbench.metric_api import MetricContext
from lpmbench.metrics import quality as qm
from lpmbench.testing import clips as mf
from lpmbench.testing.scoring import analyse, score


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    d = mf.media_dir()
    clips = {
        "static": mf.static_clip(d),
        "jitter": mf.make_clip(d, "q_jitter", duration=1.2, fps=25, jitter=0.02),
        "flicker": mf.make_clip(d, "q_flicker", duration=1.2, fps=25, brightness=mf.alternating(0.04)),
        "blur": mf.make_clip(d, "q_blur", duration=1.2, fps=25, blur=1.5),
    }
    out = {}
    for k, c in clips.items():
        out[k] = score(qm.METRICS, analyse(c.video, c.case), c.case)
        print(k, {n: round(v, 4) for n, v in out[k].values.items()}, out[k].unavailable)
    return out


def test_jitter_raises_landmark_jitter(scored):
    assert scored["jitter"].values["quality.landmark_jitter"] > 2.0 * scored["static"].values["quality.landmark_jitter"]


def test_flicker_raises_flicker(scored):
    assert scored["flicker"].values["quality.flicker"] > scored["static"].values["quality.flicker"] + 3.0


def test_blur_lowers_sharpness(scored):
    s, b = scored["static"].values["quality.face_sharpness_ratio"], scored["blur"].values["quality.face_sharpness_ratio"]
    assert b < 0.5 * s


def test_second_difference_on_known_motion():
    t = np.arange(10, dtype=float)
    a = np.zeros((10, 68, 2))
    a[:, :, 0] = 0.01 * t[:, None]  # constant velocity: no acceleration
    assert np.nanmax(qm.second_difference_norm(a)) == pytest.approx(0.0, abs=1e-12)
    a[5, :, 0] += 0.1  # one displaced frame
    j = qm.second_difference_norm(a)
    assert j[5] == pytest.approx(0.2) and j[4] == pytest.approx(0.1) and np.isnan(j[0])


def blur_mouth(video, out, landmarks, fps, sigma_iod=0.12):
    """``video`` with the mouth box (landmarks 48-67 grown by 0.35 IOD) Gaussian-blurred per frame."""
    import cv2

    with VideoWriter(out, fps, 256, 256) as w:
        for rgb, lm in zip(iter_frames(video), landmarks):
            iod = float(np.hypot(*(lm[42:48].mean(0) - lm[36:42].mean(0))))
            (x0, y0), (x1, y1) = (lm[48:68].min(0) - 0.35 * iod).astype(int), (lm[48:68].max(0) + 0.35 * iod).astype(int)
            rgb = np.ascontiguousarray(rgb).copy()
            rgb[y0:y1, x0:x1] = cv2.GaussianBlur(rgb, (0, 0), sigma_iod * iod)[y0:y1, x0:x1]
            w.write(rgb)
    return out


def test_blurred_mouth_lowers_mouth_sharpness_not_face_sharpness(scored, tmp_path):
    static = mf.static_clip(mf.media_dir())
    f = analyse(static.video, static.case)
    blurred = blur_mouth(static.video, tmp_path / "mouth_blur.mp4", f["landmarks_px"], f.fps)
    out = score(qm.METRICS, analyse(blurred, static.case), static.case)
    mouth0 = scored["static"].values["quality.mouth_sharpness_ratio"]
    face0 = scored["static"].values["quality.face_sharpness_ratio"]
    assert 0.7 < mouth0 < 1.3  # the unchanged photo's mouth is about as sharp as the reference's
    assert out.values["quality.mouth_sharpness_ratio"] < 0.3 * mouth0, out.values
    assert out.values["quality.face_sharpness_ratio"] > 0.6 * face0, out.values  # the face crop barely notices
    assert scored["blur"].values["quality.mouth_sharpness_ratio"] < 0.5 * mouth0  # whole-frame blur too


@pytest.mark.parametrize("fps", [24.0, 30.0])
def test_jitter_of_the_same_motion_is_the_same_at_any_frame_rate(fps):
    from lpmbench.features import Features

    def jitter(rate):
        t = np.arange(int(4 * rate)) / rate
        a = np.zeros((len(t), 68, 2))
        a[:, :, 0] = 0.05 * np.sin(2 * np.pi * 3.0 * t)[:, None]  # 3 Hz motion, 0.05 IOD
        f = Features(values={"fps": rate, "n_frames": len(t), "aligned": a})
        return qm.LandmarkJitter()(MetricContext(features=f, case=None)).values["quality.landmark_jitter"]

    assert jitter(fps) == pytest.approx(jitter(25.0), rel=0.03)
