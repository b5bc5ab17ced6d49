"""Leaderboard data side: loading and validating run folders, tables, preference, export, charts."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest

from lpmbench.leaderboard import charts, export
from lpmbench.leaderboard import preference as pref
from lpmbench.leaderboard.data import (
    case_metrics, default_results_dir, folder_signature, latency_samples, load_results, load_suite_soft,
)
from lpmbench.testing.runs import make_results
from lpmbench.leaderboard.tables import Filters, build_table, display_table
from lpmbench.results import CaseRecord, RunWriter


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return make_results(tmp_path_factory.mktemp("lb") / "results", n_models=4, n_cases=8, n_frames=10)


@pytest.fixture()
def scratch(results, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(results, out)
    return out


def test_results_dir_resolution_order():
    assert str(default_results_dir(["--results", "a"], {"LPMBENCH_RESULTS": "b"})) == "a"
    assert str(default_results_dir(["--results=c"], {})) == "c"
    assert str(default_results_dir([], {"LPMBENCH_RESULTS": "b"})) == "b"
    assert str(default_results_dir([], {})) == "results"


def test_load_results_tables(results):
    d = load_results(results)
    assert len(d.runs) == 4 and d.problems.empty
    assert len(d.cases) == 32 and d.values.index.equals(d.cases.index)
    assert "identity.csim" in d.values.columns
    assert set(d.cases["mode"]) == {"speak", "listen", "silence", "duplex"}
    assert d.runs["streaming"].tolist() == [False, True, False, True]
    ua = d.unavailable[d.unavailable["metric"] == "lipsync.lse_c"]
    assert len(ua) == 32 and ua["reason"].str.contains("SyncNet").all()


def test_malformed_and_partial_runs_are_listed_and_skipped(scratch):
    (scratch / "garbage").mkdir()
    (scratch / "garbage" / "manifest.json").write_text("{not json")
    (scratch / "nomanifest").mkdir()
    m = json.loads((scratch / "synthetic-000" / "manifest.json").read_text())
    bad_spec = dict(m, run_id="badspec")
    bad_spec["metrics"] = dict(m["metrics"], **{"identity.csim": {**m["metrics"]["identity.csim"], "direction": "up"}})
    (scratch / "badspec").mkdir()
    (scratch / "badspec" / "manifest.json").write_text(json.dumps(bad_spec))
    shutil.copy(scratch / "synthetic-000" / "cases.jsonl", scratch / "badspec" / "cases.jsonl")
    running = dict(m, run_id="running", status="running", finished_at=None)
    shutil.copytree(scratch / "synthetic-000", scratch / "running")
    (scratch / "running" / "manifest.json").write_text(json.dumps(running))
    model_list = dict(m, run_id="wrongtype", model=["not", "a", "dict"])
    (scratch / "wrongtype").mkdir()
    (scratch / "wrongtype" / "manifest.json").write_text(json.dumps(model_list))
    with open(scratch / "synthetic-001" / "cases.jsonl", "a") as f:
        f.write('{"case_id": "torn", "stat')  # a run killed mid-write

    d = load_results(scratch)
    assert sorted(d.runs["run_id"]) == [f"synthetic-{i:03d}" for i in range(4)]
    skipped = d.problems[d.problems["severity"] == "skipped"].set_index("run_id")["problem"]
    assert "not valid JSON" in skipped["garbage"]
    assert "no manifest.json" in skipped["nomanifest"]
    assert "identity.csim" in skipped["badspec"] and "direction" in skipped["badspec"]
    assert "partial run" in skipped["running"]
    assert "model" in skipped["wrongtype"]
    warn = d.problems[d.problems["severity"] == "warning"]
    assert warn["problem"].str.contains("line").any()
    d2 = load_results(scratch, include_unfinished=True)
    assert "running" in set(d2.runs["run_id"])


def test_folder_signature_changes_when_a_case_is_appended(scratch):
    before = folder_signature(scratch)
    RunWriter(scratch / "synthetic-000").append(CaseRecord(case_id="extra", status="error", mode="speak", style="photoreal",
                                                           character="astronaut", tags=[], input_hash="x"))
    assert folder_signature(scratch) != before
    assert folder_signature(scratch / "missing") == (str(scratch / "missing"), "missing")


def test_table_ranks_better_models_first_with_intervals(results):
    d = load_results(results)
    lb = build_table(d, n_boot=200)
    t = lb.table
    assert t["protocol"].nunique() == 1
    # synthetic quality increases with the model index
    assert t["model"].tolist() == [f"synthetic-{i:03d}" for i in (3, 2, 1, 0)]
    assert t["rank"].tolist() == [1, 2, 3, 4] and t["complete"].all()
    assert (t["overall_lo"] <= t["overall"]).all() and (t["overall"] <= t["overall_hi"]).all()
    assert "lipsync" in lb.dims and "text_control" not in lb.dims
    assert (lb.coverage["lipsync.lse_c"] == 0).all()
    shown = display_table(lb)
    assert {"rank range", "overall CI", "identity", "identity CI", "cases"} <= set(shown.columns)


def test_filters_change_cases_and_columns(results):
    d = load_results(results)
    listen = build_table(d, Filters(modes=("listen",)), n_boot=0)
    assert (listen.table["cases"] == 2).all()
    assert "lipsync" not in listen.dims  # no agent speech in listen cases
    only_id = build_table(d, Filters(dimensions=("identity",)), n_boot=0)
    assert only_id.dims == ["identity"] and "quality" not in only_id.table.columns
    assert np.isfinite(only_id.table["overall"]).all()  # overall still uses every dimension
    two = build_table(d, Filters(models=("synthetic-000", "synthetic-003")), n_boot=0)
    assert sorted(two.table["model"]) == ["synthetic-000", "synthetic-003"]
    none = build_table(d, Filters(styles=("non_humanoid",)), n_boot=0)
    assert none.table.empty


def test_incompatible_protocols_are_ranked_separately(scratch):
    m = json.loads((scratch / "synthetic-003" / "manifest.json").read_text())
    m["protocol"] = "another-protocol"
    (scratch / "synthetic-003" / "manifest.json").write_text(json.dumps(m))
    t = build_table(load_results(scratch), n_boot=0).table
    assert t["protocol"].nunique() == 2
    assert t.loc[t["protocol"] == "another-protocol", "rank"].tolist() == [1]
    assert t.loc[t["protocol"] != "another-protocol", "rank"].tolist() == [1, 2, 3]


def test_model_without_a_metric_is_incomplete_not_zero(scratch):
    path = scratch / "synthetic-002" / "cases.jsonl"
    recs = [json.loads(x) for x in path.read_text().splitlines()]
    for r in recs:
        r["unavailable"]["identity.csim"] = r["values"].pop("identity.csim", None) and "no face found"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    t = build_table(load_results(scratch), n_boot=0).table.set_index("model")
    row = t.loc["synthetic-002"]
    assert not row["complete"] and np.isnan(row["identity"]) and np.isnan(row["overall"]) and pd.isna(row["rank"])
    assert row["missing"] == "identity" and np.isfinite(row["quality"])
    assert t.loc["synthetic-003", "rank"] == 1 and t["rank"].max() == 3


def test_case_metrics_lists_values_and_reasons(results):
    d = load_results(results)
    mt = case_metrics(d, "synthetic-000", "listen_01").set_index("metric")
    assert np.isfinite(mt.loc["identity.csim", "value"])
    assert mt.loc["lipsync.av_corr", "unavailable"] == "no agent speech in this case"
    assert mt.loc["realtime.latency_p50_s", "unavailable"].startswith("streaming only")


def test_suite_loads_softly(results):
    d = load_results(results)
    suite, why = load_suite_soft("synthetic", d.runs.iloc[0]["suite_path"])
    assert suite is not None and why == "" and len(suite.cases) == 8
    none, why = load_suite_soft("no-such-suite", "/nonexistent/place")
    assert none is None and "no-such-suite" in why


def test_latency_samples_come_from_streaming_runs(results):
    d = load_results(results)
    s = latency_samples(d)
    assert set(s["run_id"]) == {"synthetic-001", "synthetic-003"} and len(s) == 2 * 8 * 10
    assert latency_samples(d, ["synthetic-000"]).empty


# ---- preference -----------------------------------------------------------------------------

def simulated_votes(strength, n, seed=0, tie_margin=0.3):
    rng = np.random.default_rng(seed)
    names = list(strength)
    rows = []
    for _ in range(n):
        a, b = rng.choice(len(names), 2, replace=False)
        d = strength[names[a]] - strength[names[b]] + rng.normal(0, 1)
        rows.append({"model_a": names[a], "model_b": names[b], "dimension": "overall",
                     "outcome": "same" if abs(d) < tie_margin else ("good" if d > 0 else "bad")})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("ties", ["half", "davidson"])
def test_bradley_terry_recovers_the_order(ties):
    votes = simulated_votes({"a": 0.0, "b": 1.0, "c": 2.0, "d": 3.0}, 400)
    r = pref.bradley_terry(votes, ties=ties, n_boot=30)
    assert r["model"].tolist() == ["d", "c", "b", "a"]
    assert (r["rating_lo"] <= r["rating"]).all() and (r["rating"] <= r["rating_hi"]).all()
    assert r["votes"].sum() == 800 and (r["wins"] + r["ties"] + r["losses"] == r["votes"]).all()
    assert r["rating"].mean() == pytest.approx(1000.0, abs=1e-6)


def test_bradley_terry_is_finite_when_a_model_wins_everything():
    votes = pd.DataFrame({"model_a": ["a"] * 5, "model_b": ["b"] * 5, "dimension": "overall", "outcome": ["good"] * 5})
    r = pref.bradley_terry(votes, n_boot=20).set_index("model")
    assert np.isfinite(r["rating"]).all() and r.loc["a", "rating"] > r.loc["b", "rating"]
    even = pd.DataFrame({"model_a": ["a", "a"], "model_b": ["b", "b"], "dimension": "overall", "outcome": ["same", "same"]})
    assert pref.bradley_terry(even, n_boot=0)["rating"].tolist() == pytest.approx([1000.0, 1000.0])


def test_vote_store_roundtrip_and_validation(tmp_path):
    store = pref.VoteStore(tmp_path / "sub" / "votes.sqlite")
    assert store.votes().empty
    n = store.add([pref.Vote("p1", "case1", "m1", "m2", "identity", "good", voter="ann"),
                   pref.Vote("p1", "case1", "m1", "m2", "overall", "same"),
                   pref.Vote("p2", "case9", "m3", "m1", "overall", "bad")])
    assert n == 3
    v = store.votes("p1")
    assert v["outcome"].tolist() == ["good", "same"] and v["voter"].tolist() == ["ann", ""]
    assert len(store.votes()) == 3
    with pytest.raises(pref.PreferenceError, match="outcome"):
        store.add(pref.Vote("p1", "c", "m1", "m2", "overall", "great"))
    with pytest.raises(pref.PreferenceError, match="two different models"):
        store.add(pref.Vote("p1", "c", "m1", "m1", "overall", "good"))
    assert len(store.votes()) == 3  # nothing half-written


def test_agreement_of_automatic_scores_with_human_ratings():
    human = pd.Series({"a": 900.0, "b": 1000.0, "c": 1100.0, "d": 1200.0})
    same = pref.agreement(human, pd.Series({"a": 10.0, "b": 20.0, "c": 30.0, "d": 40.0, "e": 50.0}))
    assert same["spearman"] == pytest.approx(1.0) and same["kendall"] == pytest.approx(1.0) and same["n_models"] == 4
    rev = pref.agreement(human, pd.Series({"a": 40.0, "b": 30.0, "c": 20.0, "d": 10.0}))
    assert rev["spearman"] == pytest.approx(-1.0)
    few = pref.agreement(human, pd.Series({"a": 1.0, "b": 2.0}))
    assert np.isnan(few["spearman"]) and "at least 3" in few["reason"]
    votes = simulated_votes({"a": 0.0, "b": 1.0, "c": 2.0, "d": 3.0}, 300)
    table = pd.DataFrame({"model": list("abcd"), "overall": [10.0, 20.0, 30.0, 40.0], "identity": [40.0, 30.0, 20.0, 10.0]})
    at = pref.agreement_table(votes, table, ["identity"]).set_index("dimension")
    assert at.loc["overall", "spearman"] == pytest.approx(1.0)
    assert at.loc["identity", "reason"] == "no votes on this dimension"


# ---- export and charts -------------------------------------------------------------------------

def test_exports_contain_the_table_and_escape_latex():
    df = pd.DataFrame({"model": ["m_1 & <b>x</b>", "m2"], "overall": [81.234, np.nan], "rank": [1, None]})
    csv = export.export(df, "csv")
    assert csv.splitlines()[0] == "model,overall,rank" and "81.23" in csv
    md = export.export(df, "markdown")
    assert "| model" in md and "81.23" in md
    tex = export.export(df, "latex")
    assert r"m\_1 \& <b>x</b>" in tex and r"\toprule" in tex and "81.23" in tex
    with pytest.raises(export.ExportError, match="unknown export format"):
        export.export(df, "xlsx")


def test_charts_draw_or_say_why(results):
    d = load_results(results)
    lb = build_table(d, n_boot=50)
    r = charts.radar(lb.table, lb.dims)
    assert r.ok and r.chart.to_dict()["layer"]
    assert "at least 3" in charts.radar(lb.table, lb.dims[:2]).reason
    assert charts.interval_chart(lb.table).ok
    from lpmbench.results import load_run

    s = load_run(results / "synthetic-001").series("speak_00")
    assert charts.series_chart(s, "identity.csim").ok
    assert charts.series_chart(s, "lipsync.mouth_vs_audio").chart.to_dict()["resolve"]["scale"]["y"] == "independent"
    assert charts.head_pose_chart(s).ok
    assert "no 'nope' series" in charts.series_chart(s, "nope").reason
    bad = {"x": {"t": np.arange(3.0), "y": np.arange(4.0)}, "n": {"t": np.arange(2.0), "y": np.full(2, np.nan)}}
    assert "malformed" in charts.series_chart(bad, "x").reason
    assert "no finite value" in charts.series_chart(bad, "n").reason
    assert charts.latency_chart(latency_samples(d)).ok
    assert "no streaming run" in charts.latency_chart(pd.DataFrame(columns=["model", "latency_s"])).reason
