"""Unit tests of the leaderboard's pure scoring functions (lpmbench.scoring)."""
import numpy as np
import pytest

from lpmbench.reference import HumanReference, summarize
from lpmbench.scoring import (
    Scale, ScoringError, check_spec, dimension_scores, overall_score, rank_desc, reference_scale, score_group, spec_scale,
    target_distance,
)


def spec(name, dim="identity", direction="higher", **kw):
    return {"name": name, "dimension": dim, "direction": direction, "version": 1, **kw}


def test_higher_and_lower_are_linear_between_anchors_and_clipped():
    hi = spec("x.up", anchors=[0.0, 1.0])
    assert spec_scale(hi).score([-0.5, 0.0, 0.25, 1.0, 2.0]).tolist() == [0.0, 0.0, 25.0, 100.0, 100.0]
    lo = spec("x.down", direction="lower", anchors=[10.0, 0.0])
    assert spec_scale(lo).score([0.0, 2.5, 10.0, 30.0]).tolist() == [100.0, 75.0, 0.0, 0.0]


def test_nan_stays_nan_never_zero():
    s = spec_scale(spec("x.up", anchors=[0.0, 1.0])).score([np.nan, 0.5])
    assert np.isnan(s[0]) and s[1] == 50.0


def test_target_point_and_range_scored_by_distance():
    assert target_distance([7.0, 8.0, 20.0, 25.0, 30.0], [8, 25]).tolist() == [1.0, 0.0, 0.0, 0.0, 5.0]
    pt = spec_scale(spec("x.t", direction="target", target=0.0, anchors=[8.0, 1.0]))
    # |offset| <= 1 frame scores 100, 8 frames (either side) scores 0, linear between
    assert pt.score([0.0, -1.0, 4.5, -8.0, 12.0]).tolist() == [100.0, 100.0, 50.0, 0.0, 0.0]
    a = spec_scale(spec("x.r", dim="expressiveness", direction="target", target=[1.0, 6.0]))
    assert (a.zero, a.full, a.source) == (5.0, 0.0, "range")  # d0 = width of the range
    # above the range: distance anchors; below a range of a non-negative amount: linear from 0 at 0
    assert a.score([3.0, 8.5, 11.0]).tolist() == [100.0, 50.0, 0.0]
    assert a.score([0.0, 0.5, 1.0]).tolist() == [0.0, 50.0, 100.0]


def test_scale_from_spec_else_relative_never_guessed():
    assert spec_scale(spec("identity.csim", anchors=[0.5, 0.9])) == Scale("linear", 0.5, 0.9, source="spec")
    unknown = spec("plugin.thing", direction="lower")
    assert not spec_scale(unknown).usable  # no values to fall back on: not scored, not guessed
    a = spec_scale(unknown, np.linspace(0, 100, 101))
    assert a.source == "relative" and a.zero == pytest.approx(95.0) and a.full == pytest.approx(5.0)


def test_per_backend_anchors_resolve_when_a_run_records_the_spec():
    from lpmbench.metric_api import MetricSpec

    s = MetricSpec("identity.x", "identity", "higher", backend="identity_embedding",
                   anchors={"dlib": (0.75, 1.0), "arcface": (0.2, 0.8)})
    assert s.for_backend("dlib").to_dict()["anchors"] == [0.75, 1.0]
    assert s.for_backend("arcface").to_dict()["anchors"] == [0.2, 0.8]
    assert s.for_backend("clip").anchors is None  # no anchors for that backend: relative, and flagged


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


def test_score_group_scores_each_case_then_averages():
    v = np.full((2, 3, 4), np.nan)
    v[0, :, 0] = [0.6, 0.8, 1.0]  # case scores 60, 80, 100 -> 80
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


def test_offsets_either_side_do_not_cancel():
    """Before: target metrics were scored on the mean over cases, so 8 frames late on one case and
    8 early on another scored 100."""
    off = spec("lipsync.off", dim="lipsync", direction="target", target=0.0, anchors=[8.0, 1.0], aggregate="mean_abs")
    v = np.array([[[8.0], [-8.0]], [[0.0], [1.0]]])
    g = score_group(v, [off], n_boot=0)
    assert g.metric_score[:, 0].tolist() == [0.0, 100.0]
    assert g.metric_mean[:, 0].tolist() == [8.0, 0.5]  # shown as the mean magnitude
    rng = spec("x.r", dim="expressiveness", direction="target", target=[1.0, 2.0])
    v = np.array([[[0.0], [0.0], [4.5]]])  # mean 1.5 is in range; no case is
    assert score_group(v, [rng], n_boot=0).metric_score[0, 0] == 0.0


def test_streaming_only_metric_does_not_make_offline_rows_incomplete():
    v = np.full((3, 2, 4), np.nan)
    v[:, :, 0] = 0.9
    v[:, :, 1] = 1.0
    v[:, :, 3] = 2.0
    v[1, :, 2] = 0.5  # model 1 streams: latency measured
    g = score_group(v, SPECS, kinds=[False, True, False], n_boot=0)
    assert np.all(np.isfinite(g.overall)) and g.complete.all()  # offline: latency does not apply
    assert g.shared_dims == ["identity", "quality", "realtime"]


def test_rows_missing_a_dimension_are_ranked_on_the_shared_ones():
    """Before: a run of pre-generated videos (no realtime) could never be ranked beside others."""
    v = np.full((2, 2, 4), np.nan)
    v[:, :, 0] = [[0.9, 0.9], [0.5, 0.5]]
    v[:, :, 1] = 1.0
    v[0, :, 3] = 2.0  # model 1 (pre-generated videos) has no realtime values
    g = score_group(v, SPECS, kinds=["offline", "pregenerated"], n_boot=50)
    assert g.shared_dims == ["identity", "quality"]
    assert np.isnan(g.dim_score[1, g.dims.index("realtime")]) and not g.complete[1]
    assert g.rank.tolist() == [1.0, 2.0]  # both ranked, on identity and quality
    assert g.overall[0] == pytest.approx((90 + 90) / 2) and np.isfinite(g.overall_lo[1])
    assert any("realtime: does not apply to 1 of 2" in n for n in g.notes)
    failed = score_group(v, SPECS, n_boot=0)  # same kind: realtime applies to both, model 1 failed it
    assert np.isnan(failed.overall[1]) and np.isnan(failed.rank[1]) and failed.shared_dims[-1] == "realtime"


def test_natural_metric_scores_against_the_human_reference_per_context():
    ref = HumanReference({"metrics": {"expressiveness.blinks": {
        "speak": summarize(np.linspace(20, 60, 21)), "idle": summarize(np.linspace(5, 25, 21))}}})
    blinks = spec("expressiveness.blinks", dim="expressiveness", direction="target", target=[8.0, 25.0], natural=True)
    v = np.array([[[40.0], [40.0], [0.0]]])  # 40/min: human while talking, not while idle; 0: dead
    g = score_group(v, [blinks], contexts=["speak", "silence", "speak"], reference=ref, n_boot=0)
    cs = g.case_scores[0, :, 0]
    assert cs[0] == 100.0 and cs[1] < 30.0 and cs[2] == 0.0
    assert {s.source for s in g.scales[0].values()} == {"reference"}
    no_ref = score_group(v, [blinks], contexts=["speak", "silence", "speak"], n_boot=0)
    assert no_ref.scales[0]["*"].source == "range"  # without a reference: the spec's own range
    half_open = reference_scale(spec("x.c", direction="higher"), (0.4, float("inf")))
    assert half_open.score([0.0, 0.2, 0.4, 3.0]).tolist() == [0.0, 50.0, 100.0, 100.0]


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


def test_corpus_metric_is_reduced_from_pooled_states_per_model_and_resample():
    """A distribution-level metric: per-case additive states, one value per model."""
    fd = spec("expressiveness.fd", dim="expressiveness", direction="lower", anchors=[4.0, 0.0], level="corpus")
    hi = spec("identity.csim", anchors=[0.0, 1.0])
    M, C = 2, 6
    n = np.zeros((M, C))
    total = np.zeros((M, C))
    n[0], total[0] = 10.0, 10.0  # model 0: mean 1.0 -> distance 0 from the "reference" mean 1
    n[1, :3], total[1, :3] = 10.0, 30.0  # model 1: mean 3.0 on the cases it has -> distance 2
    v = np.full((M, C, 2), np.nan)
    v[:, :, 1] = 0.9

    def reduce(state):
        if state["n"] <= 0:
            raise ValueError("no windows")
        return abs(state["sum"] / state["n"] - 1.0)

    g = score_group(v, [fd, hi], corpus={0: ({"n": n, "sum": total}, reduce)}, n_boot=20)
    assert g.metric_mean[:, 0].tolist() == [0.0, 2.0]
    assert g.metric_score[:, 0].tolist() == [100.0, 50.0]
    assert g.metric_n[:, 0].tolist() == [6, 3]
    assert g.dims == ["identity", "expressiveness"] or set(g.dims) == {"identity", "expressiveness"}
    assert np.all(np.isfinite(g.dim_lo)) and g.rank.tolist() == [1.0, 2.0]


def test_an_unscored_metric_is_reported_but_does_not_count():
    off_f = spec("lipsync.off_frames", dim="lipsync", direction="target", target=0.0, anchors=[8.0, 1.0], scored=False)
    off_s = spec("lipsync.off_s", dim="lipsync", direction="target", target=0.0, anchors=[0.3, 0.04])
    v = np.array([[[8.0, 0.32]], [[0.0, 0.0]]])
    g = score_group(v, [off_f, off_s], n_boot=0)
    assert not g.applicable[:, 0].any() and g.metric_mean[0, 0] == 8.0  # shown, not counted
    assert g.dim_score[:, 0].tolist() == [0.0, 100.0]
    assert not any("off_frames" in n for n in g.notes)
