"""Validity of the identity metrics on controlled clips through the real analysis pass.

Each clip is a real photo (lpmbench/testing/clips.py) with one controlled change: a switch to another
person midway, a gradual cross-fade to them, a growing colour cast, the face hidden at the end.
"""
from __future__ import annotations

import numpy as np
import pytest

from lpmbench.metrics import identity as idm
from lpmbench.testing import clips as mf
from lpmbench.testing.scoring import analyse, score


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    d = mf.media_dir()
    clips = {
        "static": mf.static_clip(d),
        "switch": mf.make_clip(d, "id_switch", duration=6.0, fps=5, identity=lambda t: (t >= 3.0).astype(float)),
        "morph": mf.make_clip(d, "id_morph", duration=6.0, fps=5, identity=mf.ramp(0.5, 5.5)),
        "cast": mf.make_clip(d, "id_cast", duration=3.0, fps=5, cast=mf.ramp(0.0, 3.0, 0.0, 12.0)),
        "hidden": mf.make_clip(d, "id_hidden", duration=5.0, fps=5, occlude=lambda t: (t >= 3.0).astype(float)),
    }
    out = {}
    for k, c in clips.items():
        out[k] = score(idm.METRICS, analyse(c.video, c.case), c.case)
        print(k, {n: round(v, 4) for n, v in out[k].values.items()}, out[k].unavailable)
    return out


def test_unchanged_video_is_the_reference(scored):
    v = scored["static"].values
    assert v["identity.csim"] > 0.95
    assert v["identity.face_presence"] == 1.0
    assert abs(v["identity.drift_per_min"]) < 0.3
    assert v["identity.color_drift"] < 1.5


def test_switch_to_another_person_drops_worst_window(scored):
    s, w = scored["static"].values, scored["switch"].values
    assert w["identity.csim_worst_window"] < s["identity.csim_worst_window"] - 0.1
    assert w["identity.csim"] < s["identity.csim"] - 0.05
    series = scored["switch"].series["identity.csim"]
    t, y = np.asarray(series["t"]), np.asarray(series["y"])
    assert y[t < 2.5].mean() > y[t > 3.5].mean() + 0.1  # the drop is where the switch is


def test_gradual_morph_drifts_negative(scored):
    assert scored["morph"].values["identity.drift_per_min"] < -1.0
    assert scored["morph"].values["identity.drift_per_min"] < scored["static"].values["identity.drift_per_min"] - 1.0


def test_growing_colour_cast_raises_color_drift(scored):
    assert scored["cast"].values["identity.color_drift"] > scored["static"].values["identity.color_drift"] + 5.0


def test_hidden_face_lowers_presence(scored):
    p = scored["hidden"].values["identity.face_presence"]
    assert 0.5 < p < 0.7  # hidden from 3.0 s of 5.0 s: 0.6
    assert p < scored["static"].values["identity.face_presence"] - 0.3


def test_window_helpers_on_known_numbers():
    t = np.arange(0, 6, 0.2)
    s = 1.0 - 0.01 * t  # loses 0.01 per second = 0.6 per minute
    c, m = idm.window_means(t, s, 6.0, 5.0)
    assert c[0] == pytest.approx(1.0) and c[-1] == pytest.approx(5.0)
    assert idm.slope_per_min(c, m) == pytest.approx(-0.6, rel=1e-6)
    with pytest.raises(idm.MetricUnavailable):
        idm.window_means(t[t < 1.5], s[t < 1.5], 1.5, 5.0)


def test_short_video_keeps_csim_but_not_windows():
    from lpmbench.features import Features
    from lpmbench.metric_api import MetricContext

    rng = np.random.default_rng(0)
    ref = rng.normal(size=128)
    ref /= np.linalg.norm(ref)
    emb = ref + 0.1 * rng.normal(size=(8, 128))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    f = Features(values={"fps": 25.0, "n_frames": 40, "duration": 1.6, "emb_frames": np.arange(0, 40, 5),
                         "embeddings": emb, "ref_embedding": ref, "emb_backend": "dlib"})
    out = idm.EmbeddingIdentity()(MetricContext(features=f, case=None))
    assert out.values["identity.csim"] == pytest.approx(float((emb @ ref).mean()))
    assert "shorter than one 2 s window" in out.unavailable["identity.csim_worst_window"]
    assert "identity.drift_per_min" in out.unavailable
