"""Validity of the expressiveness metrics: a frozen clip scores ~0 motion, motion metrics grow with
the injected motion (3 levels), injected blinks are counted."""
from __future__ import annotations

import numpy as np
import pytest

from lpmbench.metrics import expressiveness as exm
from lpmbench.testing import clips as mf
from lpmbench.testing.scoring import analyse, score

LEVELS = (1, 2, 3)
BLINK_FRAMES = (12, 38, 64, 88)


def motion_tracks(k: int) -> dict:
    """Face, head and body motion scaled by level ``k``."""
    return dict(
        mouth=mf.speech_mouth(0.08 * k, seed=1), brow=mf.oscillation(0, 2.4, 2, 0.03 * k),
        yaw=mf.oscillation(0, 2.4, 1.5, 5.0 * k), pitch=mf.oscillation(0, 2.4, 2, 3.0 * k, phase=1.0),
        roll=mf.oscillation(0, 2.4, 1, 2.0 * k), body_dx=mf.oscillation(0, 2.4, 2, 0.08 * k),
    )


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    d = mf.media_dir()
    clips = {"static": mf.static_clip(d)}
    for k in LEVELS:
        clips[f"level{k}"] = mf.make_clip(d, f"motion{k}", duration=2.4, fps=12.5, **motion_tracks(k))
    clips["blinks"] = mf.make_clip(d, "blinks", duration=4.0, fps=25, blink=mf.blink_track(100, BLINK_FRAMES, 5))
    out = {}
    for k, c in clips.items():
        out[k] = score(exm.METRICS, analyse(c.video, c.case), c.case)
        print(k, {n: round(v, 4) for n, v in out[k].values.items()}, out[k].unavailable)
    return out


@pytest.mark.parametrize("name,limit", [("expressiveness.face_motion", 0.01), ("expressiveness.head_motion_deg", 0.5),
                                        ("expressiveness.body_motion", 0.002)])
def test_frozen_video_has_no_motion(scored, name, limit):
    assert scored["static"].values[name] < limit


@pytest.mark.parametrize("name", ["expressiveness.face_motion", "expressiveness.head_motion_deg",
                                  "expressiveness.body_motion"])
def test_motion_grows_with_injected_motion(scored, name):
    vals = [scored["static"].values[name]] + [scored[f"level{k}"].values[name] for k in LEVELS]
    assert all(b > a * 1.2 for a, b in zip(vals, vals[1:])), vals


def test_injected_blinks_are_counted(scored):
    out = scored["blinks"]
    n = out.values["expressiveness.blink_rate_per_min"] * 4.0 / 60.0
    assert abs(n - len(BLINK_FRAMES)) <= 1, out.details
    assert scored["static"].values["expressiveness.blink_rate_per_min"] == 0.0


def test_blink_runs_on_a_known_signal():
    ear = np.full(100, 0.3)
    ear[10:14] = 0.1  # a blink (4 frames)
    ear[40:41] = 0.1  # 1 frame: too short
    ear[60:80] = 0.1  # 20 frames: a closure, not a blink
    ear[90:93] = np.nan  # missing face: ignored
    assert exm.detect_blinks(ear, 25.0) == [(10, 14)]
    assert exm.blink_length_bounds(50.0) == (4, 24)


def test_missing_face_is_unavailable_not_zero():
    from lpmbench.features import Features
    from lpmbench.metric_api import MetricContext

    reason = "no face found in any of 50 frames"
    f = Features(values={"fps": 25.0, "n_frames": 50, "body_flow": np.full(50, np.nan)},
                 unavailable={"aligned": reason, "pose_deg": reason, "ear": reason})
    outs = [m(MetricContext(features=f, case=None)) for m in exm.METRICS]
    assert not any(o.values for o in outs)
    assert all(reason in r for o in outs[:2] for r in o.unavailable.values())
