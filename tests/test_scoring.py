"""Unit tests of the leaderboard's pure scoring functions (lpmbench.scoring)."""
import numpy as np
import pytest

from lpmbench.scoring import (
    Anchors, ScoringError, check_spec, dimension_scores, normalise, overall_score, rank_desc, resolve_anchors,
    score_group, target_distance,
)


def spec(name, dim="identity", direction="higher", **kw):
    return {"name": name, "dimension": dim, "direction": direction, "version": 1, **kw}


def test_higher_and_lower_are_linear_between_anchors_and_clipped():
    hi = spec("x.up", anchors=[0.0, 1.0])
    s = normalise([-0.5, 0.0, 0.25, 1.0, 2.0], hi, resolve_anchors(hi))
    assert s.tolist() == [0.0, 0.0, 25.0, 100.0, 100.0]
    lo = spec("x.down", direction="lower", anchors=[10.0, 0.0])
    assert normalise([0.0, 2.5, 10.0, 30.0], lo, resolve_anchors(lo)).tolist() == [100.0, 75.0, 0.0, 0.0]


def test_nan_stays_nan_never_zero():
    hi = spec("x.up", anchors=[0.0, 1.0])
    s = normalise([np.nan, 0.5], hi, resolve_anchors(hi))
    assert np.isnan(s[0]) and s[1] == 50.0


def test_target_point_and_range_scored_by_distance():
    assert target_distance([7.0, 8.0, 20.0, 25.0, 30.0], [8, 25]).tolist() == [1.0, 0.0, 0.0, 0.0, 5.0]
    pt = spec("x.t", direction="target", target=0.0, anchors=[8.0, 1.0])
    # |offset| <= 1 frame scores 100, 8 frames (either side) scores 0, linear between
    assert normalise([0.0, -1.0, 4.5, -8.0, 12.0], pt, resolve_anchors(pt)).tolist() == [100.0, 100.0, 50.0, 0.0, 0.0]
    rng = spec("x.r", dim="expressiveness", direction="target", target=[1.0, 6.0])
    a = resolve_anchors(rng)
    assert (a.zero, a.full, a.source) == (5.0, 0.0, "range")  # d0 = width of the range
    # above the range: distance anchors; below a range of a non-negative amount: linear from 0 at 0
    assert normalise([3.0, 8.5, 11.0], rng, a).tolist() == [100.0, 50.0, 0.0]
    assert normalise([0.0, 0.5, 1.0], rng, a).tolist() == [0.0, 50.0, 100.0]


def test_anchor_precedence_spec_then_backend_then_default_then_relative():
    assert resolve_anchors(spec("identity.csim", anchors=[0.5, 0.9])) == Anchors(0.5, 0.9, "spec")
    assert resolve_anchors(spec("identity.csim", backend="dlib")) == Anchors(0.75, 1.0, "default")
    assert resolve_anchors(spec("identity.csim", backend="arcface")).zero == 0.2
    assert resolve_anchors(spec("identity.csim", backend="unknown")) == Anchors(0.0, 1.0, "default")
    unknown = spec("plugin.thing", direction="lower")
    assert not resolve_anchors(unknown).usable  # no values to fall back on: not scored, not guessed
    pooled = np.linspace(0, 100, 101)
    a = resolve_anchors(unknown, pooled)
    assert a.source == "relative" and a.zero == pytest.approx(95.0) and a.full == pytest.approx(5.0)


def test_check_spec_names_metric_and_problem():
    with pytest.raises(ScoringError, match="x.bad.*direction"):
        check_spec(spec("x.bad", direction="up"))
    with pytest.raises(ScoringError, match="x.t.*target"):
        check_spec(spec("x.t", direction="target"))
    with pytest.raises(ScoringError, match="x.a.*anchors"):
        check_spec(spec("x.a", anchors=[1.0, 1.0]))
    with pytest.raises(ScoringError, match="unknown dimension"):
        check_spec(spec("x.d", dim="vibes"))


def test_missing_metric_makes_dimension_missing_not_zero():
    scores = np.array([[80.0, 60.0, 90.0], [80.0, np.nan, 90.0]])
    dims = dimension_scores(scores, ["identity", "identity", "quality"], np.array([True, True, True]), ["identity", "quality"])
    assert dims[0].tolist() == [70.0, 90.0]
    assert np.isnan(dims[1, 0]) and dims[1, 1] == 90.0
    # a metric that does not apply is ignored instead
    dims = dimension_scores(scores, ["identity", "identity", "quality"], np.array([True, False, True]), ["identity", "quality"])
    assert dims[1].tolist() == [80.0, 90.0]
    ov = overall_score(np.array([[70.0, 90.0], [np.nan, 90.0]]))
    assert ov[0] == 80.0 and np.isnan(ov[1])


def test_rank_desc_ties_share_the_better_rank_and_nan_unranked():
    assert rank_desc(np.array([50.0, 80.0, 50.0, np.nan, 90.0])).tolist()[:3] == [3.0, 2.0, 3.0]
    r = rank_desc(np.array([50.0, 80.0, 50.0, np.nan, 90.0]))
    assert np.isnan(r[3]) and r[4] == 1.0


SPECS = [
    spec("identity.csim", anchors=[0.0, 1.0]),
    spec("quality.flicker", dim="quality", direction="lower", anchors=[10.0, 0.0]),
    spec("realtime.latency_p50_s", dim="realtime", direction="lower", anchors=[2.0, 0.0]),
    spec("realtime.rtf", dim="realtime", direction="lower", anchors=[5.0, 1.0]),
]


def test_score_group_means_over_cases_then_normalises():
    v = np.full((2, 3, 4), np.nan)
    v[0, :, 0] = [0.6, 0.8, 1.0]  # mean 0.8 -> 80
    v[0, :, 1] = [2.0, 2.0, np.nan]  # mean over available cases: 2 -> 80
    v[0, :, 3] = 1.0  # 100
    v[1, :, 0] = 0.5
    v[1, :, 1] = 5.0
    v[1, :, 3] = 3.0  # 50
    g = score_group(v, SPECS, n_boot=0)
    assert g.dims == ["identity", "quality", "realtime"]  # latency has no value anywhere: left out
    assert g.metric_mean[0].tolist()[:2] == pytest.approx([0.8, 2.0])
    assert g.metric_n[0].tolist() == [3, 2, 0, 3]
    np.testing.assert_allclose(g.dim_score, [[80.0, 80.0, 100.0], [50.0, 50.0, 50.0]])
    assert g.overall.tolist() == pytest.approx([260 / 3, 50.0])
    assert g.rank.tolist() == [1.0, 2.0]
    assert any("latency_p50_s" in n for n in g.notes)


def test_streaming_only_metric_does_not_make_offline_rows_incomplete():
    v = np.full((3, 2, 4), np.nan)
    v[:, :, 0] = 0.9
    v[:, :, 1] = 1.0
    v[:, :, 3] = 2.0
    v[1, :, 2] = 0.5  # model 1 streams: latency measured
    g = score_group(v, SPECS, kinds=[False, True, True], n_boot=0)
    assert np.isfinite(g.overall[0])  # offline: latency does not apply
    assert np.isfinite(g.overall[1])
    assert np.isnan(g.overall[2]) and np.isnan(g.rank[2])  # streaming without latency: incomplete
    assert not g.complete[2] and np.isnan(g.dim_score[2, g.dims.index("realtime")])


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(1)
    v = np.full((3, 20, 4), np.nan)
    v[:, :, 0] = np.clip(np.array([0.5, 0.52, 0.9])[:, None] + rng.normal(0, 0.1, (3, 20)), 0, 1)
    v[:, :, 1] = 1.0
    v[:, :, 3] = 2.0
    a = score_group(v, SPECS, n_boot=300, seed=0)
    b = score_group(v, SPECS, n_boot=300, seed=0)
    c = score_group(v, SPECS, n_boot=300, seed=7)
    assert np.array_equal(a.overall_lo, b.overall_lo) and np.array_equal(a.rank_hi, b.rank_hi)
    assert not np.array_equal(a.overall_lo, c.overall_lo)
    assert np.all(a.overall_lo <= a.overall) and np.all(a.overall <= a.overall_hi)
    # models 0 and 1 are indistinguishable (their rank ranges overlap); model 2 is clearly first
    assert a.rank[2] == 1 and a.rank_lo[2] == a.rank_hi[2] == 1
    assert a.rank_lo[0] <= a.rank_hi[1] and a.rank_lo[1] <= a.rank_hi[0]
    assert a.rank_hi[0] - a.rank_lo[0] >= 1


def test_score_group_rejects_bad_shapes():
    with pytest.raises(ScoringError, match="shape"):
        score_group(np.zeros((2, 3)), SPECS)
    with pytest.raises(ScoringError, match="ci"):
        score_group(np.zeros((1, 1, 4)), SPECS, ci=1.5)
