"""Gaze: the iris position the analysis measures, on a drawn eye and on controlled clips whose
irises are shifted by known amounts (lpmbench.testing.clips ``gaze_x``), and the gaze metrics."""
from __future__ import annotations

import numpy as np
import pytest

from lpmbench.analysis.gaze import eye_position
from lpmbench.metrics import gaze as gm
from lpmbench.testing import clips
from lpmbench.testing.scoring import analyse, score

SECONDS = 4.0


def _steps(*levels: float):
    """A track holding levels[k] during second k (abrupt changes, as saccades are)."""
    return lambda t: np.asarray(levels, dtype=float)[np.minimum((np.asarray(t) // 1).astype(int), len(levels) - 1)]


def _phase(f, k: int, margin: float = 0.2) -> np.ndarray:
    t = f.times()
    return (t >= k + margin) & (t < k + 1 - 0.05)


def _run(clip):
    return analyse(clip.video, clip.case), clip.case


@pytest.fixture(scope="module")
def steps():
    return _run(clips.make_clip(clips.media_dir(), "gaze_steps", duration=SECONDS, gaze_x=_steps(0.0, 0.3, -0.3, 0.0)))


@pytest.fixture(scope="module")
def still():
    return _run(clips.static_clip(clips.media_dir(), duration=SECONDS))


def test_iris_shifts_are_measured_with_their_sign(steps, still):
    (steps, _), (still, _) = steps, still
    g, valid = steps["gaze"], steps["gaze_valid"]
    assert valid.mean() > 0.98 and g.shape == (steps.n_frames, 2)
    rest, right, left, back = (np.nanmean(g[_phase(steps, k), 0]) for k in range(4))
    assert abs(rest - back) < 0.03  # the same eyes, the same value
    assert right - rest > 0.1 and rest - left > 0.15  # 0.3 half widths each way
    assert abs((right - rest) - (rest - left)) < 0.1  # about symmetric
    for k in range(4):
        assert np.nanstd(g[_phase(steps, k), 0]) < 0.03
    # a still face: the value of its reference photo, and steady
    assert np.nanstd(still["gaze"][:, 0]) < 0.01
    # the same as on its (uncompressed) reference photo: x closely, y (between the lids) roughly
    assert np.allclose(np.nanmean(still["gaze"], axis=0), still["ref_gaze"], atol=(0.03, 0.15))
    assert abs(still["ref_gaze"][0] - rest) < 0.03


def test_closed_eyes_are_not_measured():
    n = int(3.0 * 25)
    blink = clips.blink_track(n, [25, 50], length=7)
    f, _ = _run(clips.make_clip(clips.media_dir(), "gaze_blinks", duration=3.0, blink=blink))
    shut = blink >= 0.95
    assert shut.sum() >= 4
    assert not f["gaze_valid"][shut].any() and np.isnan(f["gaze"][shut]).all()
    assert f["gaze_valid"][blink == 0].mean() > 0.98


def test_eye_position_on_a_drawn_eye():
    import cv2

    # an almond eye 40 px wide, 12 px open, with a dark iris (radius 0.42 half widths) at known
    # offsets: x in half widths, y in half openings (up > 0); drawn 4x larger, then reduced
    def eye(dx: float, dy: float = 0.0):
        s, hw = 4, 20.0
        img = np.full((120 * s, 160 * s), 190, np.uint8)
        c = np.array([80.0, 60.0])
        pts = c + np.array([[-hw, 0], [-hw / 3, -6], [hw / 3, -6], [hw, 0], [hw / 3, 6], [-hw / 3, 6]])
        lids = np.zeros_like(img)
        cv2.fillPoly(lids, [np.round(pts * s).astype(np.int32)], 1)
        inner = np.full_like(img, 235)
        cv2.circle(inner, (int((c[0] + dx * hw) * s), int((c[1] - dy * 6) * s)), int(0.42 * hw * s), 70, -1)
        return cv2.resize(np.where(lids > 0, inner, img), (160, 120), interpolation=cv2.INTER_AREA), pts

    shifts = np.array([-0.5, -0.25, 0.0, 0.25, 0.5])
    xs = np.array([eye_position(*eye(d))[0] for d in shifts])
    ys = np.array([eye_position(*eye(0.0, d))[1] for d in shifts])
    slope_x, icpt_x = np.polyfit(shifts, xs, 1)
    slope_y = np.polyfit(shifts, ys, 1)[0]
    assert 0.75 < slope_x < 1.05 and abs(icpt_x) < 0.03 and np.all(np.diff(xs) > 0.08)
    assert 0.3 < slope_y < 1.0 and np.all(np.diff(ys) > 0.02)  # the lids hide part of the iris
    closed = eye(0.0)[1].copy()
    closed[[1, 2], 1] += 5.0
    closed[[4, 5], 1] -= 5.0  # lids 2 px apart: aspect ratio 0.05
    assert np.isnan(eye_position(eye(0.0)[0], closed)).all()


# -- the metrics ---------------------------------------------------------------------------------------
def _speech(name: str, text: str, seconds: float, offset: float):
    from conftest import speech

    return speech(text, clips.media_dir() / f"{name}.wav", seconds, offset=offset)


def test_eye_contact_while_listening():
    words = _speech("partner_gaze", "so tell me, what did you see out there in the dark, and how long did it last",
                    6.0, 0.3)
    looking = clips.make_clip(clips.media_dir(), "gaze_listen", duration=6.0, partner_audio=words)
    away = clips.make_clip(clips.media_dir(), "gaze_listen_away", duration=6.0, partner_audio=words,
                           gaze_x=clips.pulse(1.5, 4.5, 0.45, ramp=0.05))
    vals = {clip.case.id: score(gm.METRICS, *_run(clip)).values for clip in (looking, away)}
    a, b = vals["gaze_listen"]["conversation.eye_contact_ratio"], vals["gaze_listen_away"]["conversation.eye_contact_ratio"]
    assert a > 0.95 and b < a - 0.3, (a, b)


def test_gaze_aversions_while_speaking():
    words = _speech("agent_gaze", "well, I think that the mission went quite well, all things considered, and we "
                    "learned a great deal about the station", 6.0, 0.2)
    looking = clips.make_clip(clips.media_dir(), "gaze_speak", duration=6.0, agent_audio=words)
    away = clips.make_clip(clips.media_dir(), "gaze_speak_away", duration=6.0, agent_audio=words,
                           gaze_x=lambda t: sum(clips.pulse(s, s + 0.6, 0.45, ramp=0.05)(t) for s in (1.0, 2.8, 4.6)))
    out = {clip.case.id: score(gm.METRICS, *_run(clip)) for clip in (looking, away)}
    assert out["gaze_speak"].values["conversation.gaze_aversion_rate"] == 0
    aw = out["gaze_speak_away"]
    assert len(aw.details["aversions"]) == 3, aw.details


def test_gaze_shifts(steps, still):
    assert score(gm.METRICS, *steps).values["expressiveness.gaze_shift_per_min"] == pytest.approx(3 / (SECONDS / 60))
    assert score(gm.METRICS, *still).values["expressiveness.gaze_shift_per_min"] == 0
