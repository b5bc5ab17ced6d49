"""The runner end to end on real media: every adapter kind, failures recorded per case, resume,
and metric directions between the two baselines."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lpmbench.case import load_suite
from lpmbench.config import as_overrides
from lpmbench.plan import build_plan
from lpmbench.results import load_run
from lpmbench.runner import evaluate

REPO = Path(__file__).resolve().parent.parent

# A generator program for the command adapter: writes the reference image as a video, or fails
# the way real generators do, depending on --behaviour.
GENERATOR = textwrap.dedent('''
    import argparse, sys, time
    import numpy as np
    from PIL import Image
    from lpmbench.media import VideoWriter
    p = argparse.ArgumentParser()
    p.add_argument("--ref"); p.add_argument("--out"); p.add_argument("--fps", type=float)
    p.add_argument("--seconds", type=float); p.add_argument("--behaviour", default="ok")
    a = p.parse_args()
    if a.behaviour == "crash":
        print("CUDA error: out of memory (simulated)", file=sys.stderr); sys.exit(3)
    if a.behaviour == "hang":
        time.sleep(120)
    img = np.asarray(Image.open(a.ref).convert("RGB"))
    with VideoWriter(a.out, a.fps, img.shape[1], img.shape[0]) as w:
        for i in range(int(round(a.fps * a.seconds))):
            w.write(img)
''')


@pytest.fixture(scope="module")
def env(tiny_suite, tmp_path_factory):
    return {
        "suite_dir": tiny_suite,
        "suite": load_suite(tiny_suite),
        "cache": tmp_path_factory.mktemp("cache"),
        "results": tmp_path_factory.mktemp("results"),
    }


def run(env, adapter, params, run_id, **run_options):
    """Evaluate the tiny suite with ``adapter`` through the same plan the CLI builds."""
    plan = build_plan([f"model={adapter}", f"suite={env['suite_dir']}", f"run.id={run_id}",
                       f"run.results_dir={env['results']}", f"analysis.cache_dir={env['cache']}",
                       *as_overrides("model.params", params), *as_overrides("run", run_options)])
    return load_run(evaluate(plan))


@pytest.fixture(scope="module")
def static_run(env):
    return run(env, "static", {}, "static")


@pytest.fixture(scope="module")
def puppet_run(env):
    return run(env, "puppet", {}, "puppet")


def test_run_manifest_and_records(static_run, env):
    m = static_run.manifest
    assert m.status == "finished" and m.finished_at
    assert m.suite["hash"] == env["suite"].content_hash and m.suite["n_cases"] == 3
    assert m.model["adapter"] == "static" and m.model["version"] and m.model["fingerprint"]
    assert "identity.csim" in m.metrics and m.metrics["identity.csim"]["direction"] == "higher"
    assert m.protocol and m.hardware["cpu_count"] >= 1 and m.harness["version"]
    assert set(static_run.cases) == {"speak_a", "listen_a", "silence_nod"}
    for rec in static_run.cases.values():
        assert rec.status == "ok", rec.error
        assert rec.timing["wall_s"] > 0 and rec.timing["peak_rss_mb"] > 50
        assert rec.video and static_run.video_path(rec.case_id) is not None
        assert rec.input_hash and rec.features_key
        # nothing is ever silently zero-filled: every metric is a value, a reason, or (corpus-level
        # metrics) a per-case state reduced over the run
        assert set(rec.values) | set(rec.unavailable) | set(rec.states) >= set(m.metrics)
    assert set(m.corpus) == {n for n, s in m.metrics.items() if s["level"] == "corpus"}
    assert m.executor["name"] == "local"


def test_baselines_differ_in_the_expected_direction(static_run, puppet_run):
    s, p = static_run.cases, puppet_run.cases
    # identity: the static baseline is the reference itself
    assert s["speak_a"].values["identity.csim"] > 0.97
    # expressiveness: the puppet moves, the static image does not
    for cid in ("speak_a", "listen_a", "silence_nod"):
        assert p[cid].values["expressiveness.face_motion"] > 2 * s[cid].values["expressiveness.face_motion"] + 1e-3
    assert p["silence_nod"].values["expressiveness.head_motion_deg"] > s["silence_nod"].values["expressiveness.head_motion_deg"] + 0.5
    # lip sync: the puppet's mouth follows its audio; a still mouth has no correlation to find
    assert p["speak_a"].values["lipsync.av_corr"] > 0.3
    assert p["speak_a"].values["lipsync.av_corr"] > s["speak_a"].values.get("lipsync.av_corr", 0.0) + 0.2
    # series for the leaderboard's curves
    assert "identity.csim" in puppet_run.series("speak_a")


def test_folder_adapter_reuses_pregenerated_videos(env, static_run):
    videos = static_run.dir / "videos"
    r = run(env, "folder", {"root": str(videos)}, "folder")
    for cid, rec in r.cases.items():
        assert rec.status == "ok"
        assert rec.video_sha256 == static_run.cases[cid].video_sha256
        assert rec.values["identity.csim"] == pytest.approx(static_run.cases[cid].values["identity.csim"])
        # a file copy is not generation: no realtime numbers are invented for it (before, the
        # copy's own 36 MB of memory scored realtime.peak_rss_mb full marks)
        assert not [k for k in rec.values if k.startswith("realtime.")]


def test_folder_adapter_missing_video_is_a_case_error(env, static_run, tmp_path):
    (tmp_path / "speak_a.mp4").write_bytes((static_run.dir / "videos" / "speak_a.mp4").read_bytes())
    (tmp_path / "listen_a.mp4").write_bytes(b"")  # empty file
    r = run(env, "folder", {"root": str(tmp_path)}, "folder-partial")
    assert r.cases["speak_a"].status == "ok"
    assert r.cases["listen_a"].status == "error" and "empty" in r.cases["listen_a"].error["message"]
    assert r.cases["silence_nod"].status == "error" and "no video for case 'silence_nod'" in r.cases["silence_nod"].error["message"]


def test_command_adapter_ok_crash_and_hang(env, tmp_path):
    script = tmp_path / "gen.py"
    script.write_text(GENERATOR)
    argv = ["{python}", str(script), "--ref", "{reference}", "--out", "{output}", "--fps", "{fps}",
            "--seconds", "{duration}", "--behaviour", "{behaviour}"]
    params = {"argv": argv}
    ok = run(env, "command", {**params, "vars": {"behaviour": "ok"}}, "cmd-ok")
    assert all(r.status == "ok" for r in ok.cases.values()), [r.error for r in ok.cases.values()]
    t0 = time.monotonic()
    crash = run(env, "command", {**params, "vars": {"behaviour": "crash"}}, "cmd-crash")
    for r in crash.cases.values():
        assert r.status == "error" and r.error["stage"] == "generate"
        assert "exited with code 3" in r.error["message"]
        assert "out of memory (simulated)" in r.error["detail"]  # the program's stderr is kept
    hang = run(env, "command", {**params, "vars": {"behaviour": "hang"}}, "cmd-hang", timeout_s=3)
    for r in hang.cases.values():
        assert r.status == "error" and r.error["type"] == "timeout" and "3 s" in r.error["message"]
    assert time.monotonic() - t0 < 100  # three hung cases cost three timeouts, not 3 x 120 s of sleep


def test_runner_timeout_kills_a_hanging_python_generator(env, tmp_path):
    plugin = tmp_path / "slow_adapter.py"
    plugin.write_text(textwrap.dedent('''
        import time
        from lpmbench.adapters.base import Adapter
        class Sleepy(Adapter):
            name = "sleepy"; version = "1"
            def generate(self, case, output):
                if case.mode == "listen":
                    time.sleep(300)   # hangs and ignores everything
                if case.mode == "speak":
                    import os; os._exit(7)   # dies without a word
                from lpmbench.adapters.baselines import StaticAdapter
                StaticAdapter().generate(case, output)
    '''))
    r = run(env, "python", {"target": f"{plugin}:Sleepy"}, "python-faults", timeout_s=20)
    assert r.cases["listen_a"].status == "error" and r.cases["listen_a"].error["type"] == "timeout"
    assert r.cases["speak_a"].status == "error" and "exit code 7" in r.cases["speak_a"].error["message"]
    # the worker was restarted after the kill: the last case still ran
    assert r.cases["silence_nod"].status == "ok"
    assert r.manifest.model["adapter"] == "python"


def test_resume_after_interrupted_run_loses_nothing(env, tiny_suite, tmp_path):
    """Kill a CLI run after its first case is recorded, resume, and check every case is there once."""
    results = tmp_path / "results"
    cache = env["cache"]
    cmd = [sys.executable, "-m", "lpmbench.cli", "evaluate", "model=puppet", f"suite={tiny_suite}", "run.id=resumable",
           f"run.results_dir={results}", f"analysis.cache_dir={cache}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    cases = results / "resumable" / "cases.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if cases.exists() and cases.read_text().count("\n") >= 1:
            break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    first = [json.loads(line) for line in cases.read_text().splitlines()]
    assert 1 <= len(first) < 3
    assert load_run(results / "resumable").manifest.status == "running"  # killed: never marked finished
    again = subprocess.run(cmd[:-1] + [f"analysis.cache_dir={cache}", "--resume"], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    lines = [json.loads(line) for line in cases.read_text().splitlines()]
    assert [d["case_id"] for d in lines[: len(first)]] == [d["case_id"] for d in first]
    assert sorted(d["case_id"] for d in lines) == ["listen_a", "silence_nod", "speak_a"]  # each exactly once
    run_ = load_run(results / "resumable")
    assert run_.manifest.status == "finished"
    assert run_.cases[first[0]["case_id"]].finished_at == first[0]["finished_at"]  # not recomputed


def test_existing_run_without_resume_is_refused(env, static_run):
    with pytest.raises(FileExistsError, match="--resume"):
        run(env, "static", {}, "static")


def test_keep_videos_by_glob_stores_only_matching_videos(env):
    r = run(env, "static", {}, "static-keep", keep_videos=["speak_*"])
    assert r.video_path("speak_a") is not None
    for cid in ("listen_a", "silence_nod"):
        rec = r.cases[cid]
        assert rec.status == "ok" and rec.video is None and rec.video_sha256  # scored, then not stored
        assert not (r.dir / "videos" / f"{cid}.mp4").exists()
