"""Validity of the motion-realism distance (metrics/realism.py) on controlled media.

Two talking astronauts (the same behaviour with different phases) and the still photo go through
the real analysis pass; one talker's windows are the "human reference" (its mean and covariance,
as ``lpmbench reference build`` stores them). The other talker must be near it, the still photo
far, a jittery copy in between; the distance is formed per context, in units of the reference's
spread, from additive per-case states.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lpmbench.features import Features
from lpmbench.metric_api import CorpusContext, MetricContext, MetricUnavailable
from lpmbench.metrics import realism as R
from lpmbench.reference import HumanReference
from lpmbench.testing import clips as MF
from lpmbench.testing.scoring import analyse

DURATION = 12.0  # 21 windows: the pooled covariance needs 20
NAME = R.MotionRealism.specs[0].name


@pytest.fixture(scope="module")
def clips():
    d = MF.media_dir()
    made = {"ref": MF.make_clip(d, "fd_talk0", duration=DURATION, **MF.talking_tracks(seed=0)),
            "other": MF.make_clip(d, "fd_talk1", duration=DURATION, **MF.talking_tracks(seed=1)),
            "still": MF.make_clip(d, "fd_still", duration=DURATION)}
    return {k: (c, analyse(c.video, c.case, embed_hz=0.5)) for k, c in made.items()}


def reference_from(x: np.ndarray, context: str = "idle") -> HumanReference:
    return HumanReference({"dynamics": {context: {"n_windows": len(x), "mean": x.mean(0).tolist(),
                                                  "cov": np.cov(x.T).tolist()}}})


def state_of(clip, features):
    out = R.MotionRealism()(MetricContext(features=features, case=clip.case))
    assert NAME in out.states, out.unavailable
    return out.states[NAME]


def test_windows_are_two_seconds_of_25_hz_dynamics(clips):
    _, f = clips["ref"]
    x = R.window_dynamics(f)
    assert x.shape == (int((DURATION - R.WINDOW_S) / R.HOP_S) + 1, len(R.FEATURE_NAMES))
    assert np.isfinite(x).all()
    still = R.window_dynamics(clips["still"][1])
    assert (x.mean(0)[:6] > still.mean(0)[:6] + 1.0).all()  # speeds: e times and more above the still photo


def test_distance_orders_talker_jitter_and_still_photo(clips):
    ref = reference_from(R.window_dynamics(clips["ref"][1]))  # silence-mode clips: the idle context
    ctx = CorpusContext(reference=ref)
    m = R.MotionRealism()

    def fd(clip, f):
        return m.reduce(NAME, state_of(clip, f), ctx)

    clip, f = clips["other"]
    rng = np.random.default_rng(0)
    jitter = Features({**f.values, "aligned": f["aligned"] + rng.normal(0, 0.01, f["aligned"].shape)},
                      f.unavailable, f.backends, f.meta)
    talker, jittery, still = fd(clip, f), fd(clip, jitter), fd(*clips["still"])
    assert talker < jittery < still, (talker, jittery, still)
    assert still > 10 * talker


def test_states_add_up_across_cases_and_contexts(clips):
    (c0, f0), (c1, f1) = clips["ref"], clips["other"]
    speak = dataclasses.replace(c1.case, mode="speak")
    s0, s1 = state_of(c0, f0), state_of(dataclasses.replace(c1, case=speak), f1)
    assert s0["idle.n"] > 0 and s0["speak.n"] == 0 and s1["speak.n"] > 0 and s1["idle.n"] == 0
    pooled = {k: s0[k] + s1[k] for k in s0}
    x0, x1 = R.window_dynamics(f0), R.window_dynamics(f1)
    ref = HumanReference({"dynamics": {c: {"mean": x.mean(0).tolist(), "cov": np.cov(x.T).tolist()}
                                       for c, x in (("idle", x0), ("speak", x1))}})
    both = R.MotionRealism().reduce(NAME, pooled, CorpusContext(reference=ref))
    assert both < 1.0  # each context is compared with its own reference windows: itself


def test_without_reference_dynamics_it_is_unavailable(clips):
    clip, f = clips["ref"]
    with pytest.raises(MetricUnavailable, match="no human reference"):
        R.MotionRealism().reduce(NAME, state_of(clip, f), CorpusContext(reference=None))
    with pytest.raises(MetricUnavailable, match="no reference dynamics"):
        R.MotionRealism().reduce(NAME, state_of(clip, f), CorpusContext(reference=HumanReference({"dynamics": {}})))
