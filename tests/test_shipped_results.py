"""The runs this repository ships in ``results/`` (what a fresh clone's leaderboard shows) are
valid, scored with today's metric specs and human reference, and rank the baselines sensibly.

A metric spec or the reference changed without re-running (or ``lpmbench rescore``) the shipped
runs fails here, instead of showing a newcomer numbers no current code would produce.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from lpmbench.plan import plan_for_run
from lpmbench.reference import load_reference
from lpmbench.results import load_run, validate_run
from lpmbench.runner import manifest_specs

RESULTS = Path(__file__).resolve().parent.parent / "results"
RUNS = sorted(p for p in RESULTS.iterdir() if (p / "manifest.json").is_file()) if RESULTS.is_dir() else []


def test_the_repository_ships_runs():
    assert {"puppet-mini", "static-mini"} <= {p.name for p in RUNS}


@pytest.mark.parametrize("run_dir", RUNS, ids=[p.name for p in RUNS])
def test_a_shipped_run_is_valid_and_current(run_dir):
    run = load_run(run_dir)
    assert not [p for p in validate_run(run) if p.fatal]
    assert run.manifest.status == "finished"
    plan = plan_for_run(run_dir)
    current = json.loads(json.dumps(manifest_specs(plan.metrics, run.manifest.analysis)))
    # the repository's own metrics (a third-party plug-in installed here is not the shipped runs' concern)
    ours = {n for n in current if plan.metrics.origins.get(n, "").startswith("built-in")} | set(run.manifest.metrics)
    stale = sorted(n for n in ours if run.manifest.metrics.get(n) != current.get(n))
    assert not stale, f"{run_dir.name}: specs changed since the run was scored: {stale} (re-run or rescore it)"
    assert run.manifest.reference.get("id") == load_reference().id


def test_the_puppet_outranks_the_still_image_on_every_shipped_suite():
    from lpmbench.leaderboard.data import load_results
    from lpmbench.leaderboard.tables import build_table

    data = load_results(RESULTS)
    table = build_table(data, n_boot=0).table.set_index(["protocol", "model"])["overall"]
    runs = data.runs.set_index("run_id")
    pairs = [(f"puppet-{p.name[len('static-'):]}", p.name) for p in RUNS if p.name.startswith("static-")]
    assert pairs
    for puppet, static in pairs:
        assert runs.loc[puppet, "protocol"] == runs.loc[static, "protocol"]
        key = lambda r: (runs.loc[r, "protocol"], runs.loc[r, "model"])  # noqa: E731
        assert table[key(puppet)] > table[key(static)], (puppet, table[key(puppet)], static, table[key(static)])
