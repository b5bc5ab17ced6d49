"""The puppet baseline through the reference stream server (a separate process) vs in-process.

Over loopback the protocol adds JPEG encoding/decoding and two socket hops to each frame; the
benchmark (benchmarks/bench_streaming.py) measures it at a few ms (p50) on a loaded 2-core
machine. TOLERANCE_S is the bound these tests hold the remote numbers to.
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

TOLERANCE_P50_S = 0.03  # |remote p50 - in-process p50|
# p95 of a few-second case rests on a handful of frames: one scheduling hiccup of a loaded machine
# (2 cores, load ~15 when measured) moves it by hundreds of ms, in-process or remote alike
TOLERANCE_P95_S = 0.15
ATTEMPTS = 3  # timing on a shared machine: a comparison passes if one of three attempts is within


@pytest.fixture(scope="module")
def puppet_server():
    pytest.importorskip("lpmbench.adapters.puppet")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from bench_streaming import start_server_process

    proc, url = start_server_process("puppet")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.slow
def test_puppet_over_the_protocol_matches_in_process(tmp_path, puppet_server):
    from lpmbench.adapters.puppet import PuppetAdapter
    from lpmbench.case import load_suite
    from lpmbench.streaming.remote import RemoteAdapter
    from lpmbench.streaming.driver import run_stream

    case = dataclasses.replace(load_suite("smoke").case("smoke_duplex"), duration=3.0)
    local = PuppetAdapter()
    remote = RemoteAdapter(url=puppet_server)
    remote.setup()
    assert remote.describe()["server"]["name"] == "puppet"
    gaps = []
    for _ in range(ATTEMPTS):
        lo = run_stream(local, case, tmp_path / "local.mp4")
        re = run_stream(remote, case, tmp_path / "remote.mp4")
        assert lo.n_frames == re.n_frames == 75
        ll = np.asarray(lo.frame_arrival_s) - np.asarray(lo.frame_due_s)
        rl = np.asarray(re.frame_arrival_s) - np.asarray(re.frame_due_s)
        gaps.append((abs(np.median(rl) - np.median(ll)), abs(np.percentile(rl, 95) - np.percentile(ll, 95))))
        if gaps[-1][0] < TOLERANCE_P50_S and gaps[-1][1] < TOLERANCE_P95_S:
            break
    else:
        pytest.fail(f"remote vs in-process latency differences (p50, p95) in s: {gaps}")
    # same generator, same case: the frames match up to JPEG loss
    from lpmbench.media import iter_frames

    diffs = [np.abs(a.astype(int) - b.astype(int)).mean()
             for a, b in zip(iter_frames(tmp_path / "local.mp4"), iter_frames(tmp_path / "remote.mp4"))]
    assert np.mean(diffs) < 4.0


@pytest.mark.slow
def test_paced_evaluation_of_the_puppet_server_on_the_smoke_suite(tmp_path, puppet_server):
    """The runner, model=remote with run.stream=true: latency metrics for every case, within the
    tolerance of the in-process puppet run."""
    from lpmbench.case import load_suite
    from lpmbench.plan import build_plan
    from lpmbench.results import load_run
    from lpmbench.runner import evaluate

    suite = load_suite("smoke")
    runs = {}
    for name, model in (("local", ["model=puppet"]), ("remote", ["model=remote", f"model.params.url={puppet_server}"])):
        plan = build_plan([*model, "suite=smoke", f"run.id={name}", f"run.results_dir={tmp_path / 'results'}",
                           "run.stream=true", "run.paced=true", f"analysis.cache_dir={tmp_path / 'cache'}",
                           "metrics.select=[realtime.*]"])
        runs[name] = load_run(evaluate(plan))
    for case in suite.cases:
        lo, re = runs["local"].cases[case.id], runs["remote"].cases[case.id]
        assert lo.status == re.status == "ok", (lo.error, re.error)
        for rec in (lo, re):
            for m in ("realtime.latency_p50_s", "realtime.latency_p95_s", "realtime.stall_ratio", "realtime.ttff_s"):
                assert m in rec.values, (case.id, m, rec.unavailable.get(m))
        assert abs(re.values["realtime.latency_p50_s"] - lo.values["realtime.latency_p50_s"]) < TOLERANCE_P50_S
        assert abs(re.values["realtime.latency_p95_s"] - lo.values["realtime.latency_p95_s"]) < TOLERANCE_P95_S
