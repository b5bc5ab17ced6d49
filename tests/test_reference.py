"""The human reference: the bundled file, its build from real recordings, and its place in the
protocol."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpmbench.cli import main
from lpmbench.plugins import load_metrics
from lpmbench.reference import (CONTEXTS, ReferenceError, bundled_reference_path, check_reference, load_reference)
from lpmbench.results import load_run

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real" / "human"


def test_bundled_reference_is_statistics_of_named_real_clips():
    ref = load_reference()
    data = ref.data
    check_reference(data)
    natural = {n for n, s in load_metrics().specs.items() if s.natural}
    assert set(data["metrics"]) <= natural and len(data["metrics"]) >= 8
    for name, per in data["metrics"].items():
        assert set(per) <= set(CONTEXTS)
        for ctx, st in per.items():
            assert st["n"] >= 5 and set(st) == {"n", "q", "mean", "std"}, (name, ctx)  # quantiles only, no values
    sources = data["sources"]
    assert len(sources) >= 10 and all(s["provenance"] and s["context"] in CONTEXTS for s in sources)
    assert {s["context"] for s in sources} >= {"speak", "idle"}
    assert data["dynamics"]["all"]["n_windows"] > 2 * len(data["dynamics"]["all"]["mean"])
    assert bundled_reference_path().stat().st_size < 200_000  # a small data file, never media


def test_human_ranges_follow_the_metric_direction():
    ref = load_reference()
    blink = {"name": "expressiveness.blink_rate_per_min", "direction": "target"}
    lo, hi = ref.range(blink, "speak")
    assert 0 <= lo < 20 < hi  # real talkers blink far more than the old catalogue's 8-25
    jitter = {"name": "quality.landmark_jitter", "direction": "lower"}
    lo, hi = ref.range(jitter, "silence")  # a silence case is scored in the idle context
    assert lo == float("-inf") and 0.01 < hi < 0.05
    assert ref.range({"name": "no.such_metric", "direction": "target"}, "speak") is None


def test_malformed_references_are_one_clear_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(ReferenceError, match="not an lpmbench human reference"):
        load_reference(bad)
    doc = json.loads(bundled_reference_path().read_text())
    name = next(iter(doc["metrics"]))
    ctx = next(iter(doc["metrics"][name]))
    doc["metrics"][name][ctx]["q"]["5"] = 1e9  # quantiles out of order
    bad.write_text(json.dumps(doc))
    with pytest.raises(ReferenceError, match="non-decreasing"):
        load_reference(bad)
    with pytest.raises(ReferenceError, match="not found"):
        load_reference(tmp_path / "missing.json")


def test_reference_build_from_recordings_and_its_place_in_the_protocol(tmp_path, tiny_suite):
    clips = ["vexpress_short_10.mp4", "vexpress_short_tys.mp4", "vexpress_short_AOC.mp4", "sadtalker_wda_aoc.mp4",
             "liveportrait_d11.mp4"]
    if not all((REAL / c).is_file() for c in clips):
        pytest.skip(f"real recordings not found in {REAL}")
    out = tmp_path / "mine.json"
    assert main(["reference", "build", *[str(REAL / c) for c in clips], "--out", str(out), "--name", "mine",
                 "--provenance", "test", f"analysis.cache_dir={tmp_path / 'c'}"]) == 0
    mine = load_reference(out)
    assert [s["context"] for s in mine.data["sources"]] == ["speak"] * 5
    assert mine.stats("expressiveness.head_motion_deg", "speak")["n"] == 5
    assert main(["reference", "show", str(out)]) == 0
    # a run records the reference it was scored against, and it is part of the protocol
    runs = {}
    for name, extra in (("bundled", []), ("mine", [f"reference.path={out}"])):
        assert main(["evaluate", "model=static", f"suite={tiny_suite}", f"run.id={name}", f"run.results_dir={tmp_path / 'r'}",
                     f"analysis.cache_dir={tmp_path / 'c'}", "run.cases=[silence_nod]", *extra]) == 0
        runs[name] = load_run(tmp_path / "r" / name).manifest
    assert runs["bundled"].reference["id"] == load_reference().id
    assert runs["mine"].reference["id"] == mine.id and runs["mine"].reference["name"] == "mine"
    assert runs["bundled"].protocol != runs["mine"].protocol  # never ranked together
