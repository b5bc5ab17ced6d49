"""Fault-injection benchmark: SIGKILL the harness at random points and resume, again and again.

    python benchmarks/bench_faults.py                          # 20 kills, static model, smoke suite
    python benchmarks/bench_faults.py --kills 10 --model puppet --seed 1 --json faults.json

One uninterrupted run gives the baseline wall time T. Then ``lpmbench evaluate ... --resume`` is
started on a fresh run folder and, after a delay drawn uniformly from [0.5 s, T'] (T' the time of
the latest uninterrupted run, T at first: the machine's load changes), a SIGKILL goes to either
the main ``lpmbench evaluate`` process (then the run is resumed) or its generator worker
(``python -m lpmbench.worker``; the runner records that case as failed, restarts the worker and
goes on; the run is resumed until every case is ok, as a user would). Targets alternate in a
shuffled order, half each. A run that finishes before its next kill is checked and a new run
folder started, until ``--kills`` kills have landed; the last run is then let finish.

Per run folder it counts: ok records per case (must be exactly 1: no finished case is redone, none
lost), error records (left by worker kills, each retried), torn lines (lines that are not JSON,
right after each kill and at the end; must be 0), fatal validation problems (0). After each kill
it counts leaked processes: descendants of the killed process (snapshot taken just before the
kill) still alive 5 s later (must be 0; any found are then killed). Wall time lost per kill:
(wall time of all attempts - runs x T) / kills.

The analysis cache: fresh for the baseline and for each faulted run folder, shared by the attempts
on one folder (what a user resuming gets: analyses finished before a kill are reused; a cache
shared across folders would make every later run finish before its kill).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psutil

GRACE_S = 5.0  # how long the descendants of a killed process get to die


def evaluate_cmd(model: str, suite: str, results: Path, cache: Path, run_id: str) -> list[str]:
    return [sys.executable, "-m", "lpmbench.cli", "evaluate", f"model={model}", f"suite={suite}", f"run.id={run_id}",
            f"run.results_dir={results}", f"analysis.cache_dir={cache}", "--resume"]


def start(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def torn_lines(cases: Path) -> int:
    if not cases.exists():
        return 0
    bad = 0
    for line in cases.read_bytes().split(b"\n"):
        if line.strip():
            try:
                json.loads(line)
            except ValueError:
                bad += 1
    return bad


def worker_of(main: psutil.Process) -> psutil.Process | None:
    try:
        for p in main.children(recursive=True):
            if "lpmbench.worker" in " ".join(p.cmdline()):
                return p
    except psutil.Error:
        pass
    return None


def kill_and_count_leaks(victim: psutil.Process) -> int:
    """SIGKILL ``victim`` alone; the number of its descendants still alive GRACE_S later (then killed)."""
    try:
        tree = victim.children(recursive=True)
        victim.send_signal(signal.SIGKILL)
    except psutil.NoSuchProcess:
        return 0
    time.sleep(GRACE_S)
    leaked = []
    for p in tree:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                leaked.append(p)
        except psutil.NoSuchProcess:
            pass
    for p in leaked:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    return len(leaked)


def not_ok(run_dir: Path) -> bool:
    """Whether a selected case of the run has no ok record yet (a worker kill failed it)."""
    from lpmbench.results import load_run

    run = load_run(run_dir)
    return any(c not in run.cases or run.cases[c].status != "ok" for c in run.manifest.suite.get("selected") or [])


def check_run(run_dir: Path) -> dict:
    from lpmbench.results import load_run, validate_run

    recs = [json.loads(x) for x in (run_dir / "cases.jsonl").read_bytes().split(b"\n") if x.strip()]
    ok = Counter(r["case_id"] for r in recs if r["status"] == "ok")
    run = load_run(run_dir)
    selected = run.manifest.suite.get("selected") or []
    return {"run": run_dir.name, "cases": len(selected), "ok_records_per_case": sorted(set(ok[c] for c in selected)),
            "error_records": sum(r["status"] == "error" for r in recs), "torn_lines": torn_lines(run_dir / "cases.jsonl"),
            "fatal_problems": [str(p) for p in validate_run(run) if p.fatal], "status": run.manifest.status}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--model", default="static")
    ap.add_argument("--suite", default="smoke")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, help="work folder (default: a temporary one, removed)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    tmp = tempfile.TemporaryDirectory() if a.out is None else None
    work = Path(tmp.name) if tmp else a.out
    results = work / "results"

    t = time.monotonic()
    base = subprocess.run(evaluate_cmd(a.model, a.suite, results, work / "cache-baseline", "baseline"),
                          capture_output=True, text=True)
    t_base = time.monotonic() - t
    if base.returncode != 0:
        raise SystemExit(f"baseline run failed: {base.stderr[-2000:]}")
    print(f"baseline: {a.model} on {a.suite} in {t_base:.1f} s", flush=True)

    targets = ["main", "worker"] * (a.kills // 2) + ["main"] * (a.kills % 2)
    rng.shuffle(targets)
    kills: list[dict] = []
    runs: list[dict] = []
    run_no, attempts, wall = 0, 0, 0.0
    t_run = t_base  # kill delays are drawn from [0.5 s, t_run]: t_run follows the latest uninterrupted run

    def run_dir() -> Path:
        return results / f"faults-{run_no}"

    def cmd() -> list[str]:  # an attempt on the current run folder, with that folder's own cache
        return evaluate_cmd(a.model, a.suite, results, work / f"cache-faults-{run_no}", run_dir().name)

    proc: subprocess.Popen | None = None
    t0, fresh = 0.0, True

    def launch(new_folder: bool) -> None:
        """Start an attempt: on a new run folder (fresh: uninterrupted so far) or resuming this one."""
        nonlocal proc, t0, attempts, fresh
        proc, t0 = start(cmd()), time.monotonic()
        attempts, fresh = attempts + 1, new_folder

    launch(True)
    while len(kills) < a.kills:
        target, delay = targets[len(kills)], rng.uniform(0.5, t_run)
        due = time.monotonic() + delay
        while time.monotonic() < due and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None and not_ok(run_dir()):  # a worker kill left a failed case: resume retries it
            wall += time.monotonic() - t0
            launch(False)
            continue
        if proc.poll() is not None:  # the run finished before this kill: check it, start the next run
            wall += time.monotonic() - t0
            if fresh:  # an uninterrupted run: how long runs take now (the machine's load changes)
                t_run = time.monotonic() - t0
            runs.append(check_run(run_dir()))
            print(f"  run {runs[-1]['run']} finished: {runs[-1]}", flush=True)
            run_no += 1
            launch(True)
            continue
        main_p = psutil.Process(proc.pid)
        victim = main_p if target == "main" else None
        while victim is None and proc.poll() is None:  # between cases the worker may be restarting
            victim = worker_of(main_p)
            time.sleep(0.02)
        if victim is None:
            continue  # the run ended while we looked for its worker: the loop above checks it
        at = time.monotonic() - t0
        leaked = kill_and_count_leaks(victim)
        kill = {"target": target, "at_s": round(at, 2), "leaked": leaked, "run": run_dir().name}
        if target == "main":
            proc.wait()
            wall += time.monotonic() - t0 - GRACE_S  # the grace wait is the benchmark's, not the harness's
            kill["torn_after_kill"] = torn_lines(run_dir() / "cases.jsonl")
            launch(False)
        else:
            fresh = False  # the run goes on, its worker restarted: not an uninterrupted run
        kills.append(kill)
        print(f"  kill {len(kills):2d}: {kill}", flush=True)
    proc.wait()
    wall += time.monotonic() - t0
    while not_ok(run_dir()):  # the last run, too, ends with every case ok
        t0 = time.monotonic()
        subprocess.run(cmd(), capture_output=True)
        wall += time.monotonic() - t0
        attempts += 1
    runs.append(check_run(run_dir()))
    print(f"  run {runs[-1]['run']} finished: {runs[-1]}", flush=True)

    figures = {
        "model": a.model, "suite": a.suite, "seed": a.seed, "baseline_s": round(t_base, 1), "kills": len(kills),
        "kills_main": sum(k["target"] == "main" for k in kills), "kills_worker": sum(k["target"] == "worker" for k in kills),
        "runs": len(runs), "attempts": attempts,
        "ok_records_per_case": sorted({n for r in runs for n in r["ok_records_per_case"]}),
        "error_records": sum(r["error_records"] for r in runs),
        "torn_lines_after_kill": sum(k.get("torn_after_kill", 0) for k in kills),
        "torn_lines_at_end": sum(r["torn_lines"] for r in runs),
        "fatal_problems": sum(len(r["fatal_problems"]) for r in runs),
        "unfinished_runs": sum(r["status"] != "finished" for r in runs),
        "leaked_processes": sum(k["leaked"] for k in kills),
        "wall_s": round(wall, 1), "lost_per_kill_s": round((wall - len(runs) * t_base) / max(1, len(kills)), 1),
        "kill_log": kills, "run_checks": runs,
    }
    print()
    for k in ("baseline_s", "kills", "kills_main", "kills_worker", "runs", "attempts", "ok_records_per_case",
              "error_records", "torn_lines_after_kill", "torn_lines_at_end", "fatal_problems", "unfinished_runs",
              "leaked_processes", "wall_s", "lost_per_kill_s"):
        print(f"{k:24s} {figures[k]}")
    if a.json:
        a.json.write_text(json.dumps(figures, indent=1))
    if tmp:
        tmp.cleanup()
    return figures


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
