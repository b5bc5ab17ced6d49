"""Validity of the quality metrics: per-frame random face warps raise landmark_jitter, alternating
brightness raises flicker, blur lowers face_sharpness_ratio."""
from __future__ import annotations

import numpy as np
import pytest

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
