"""Attacks on a run while it is written, with real processes and real file systems: a full disk and
a read-only results folder (before and during the run), a torn last line then --resume, two
``evaluate`` processes on one run folder; and the one-line errors of ``score``, ``validate`` and
the README's command-adapter example.

Each ends in one clear line (no traceback), leaves no ``.tmp`` file and no half record, and the
run can be resumed to a complete one. Reproduce the disk-full run by hand::

    unshare -rm sh -c 'mount -t tmpfs -o size=2m tmpfs /mnt && lpmbench evaluate ... run.results_dir=/mnt/results'
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import write_suite
from fs_faults import run_on_tmpfs
from lpmbench.plan import build_plan
from lpmbench.results import load_run, validate_run

REPO = Path(__file__).resolve().parents[1]
CASES = ("  - {id: c1, mode: silence, character: astronaut, duration: 1.0}\n"
         "  - {id: c2, mode: silence, character: astronaut, duration: 1.0}\n")

# A generator for model=command: the reference image as a 1 s video. The first time it meets the case
# named by --trigger (--once marks that) it fills the disk before writing (--fault fill), or after
# writing makes the run's series/ folder read-only (--fault ro: a read-only bind mount; the run folder
# itself cannot be remounted while the store holds its lock file open); --fault sleep: 4 s a case.
GENERATOR = textwrap.dedent('''
    import argparse, os, subprocess, time
    import numpy as np
    from PIL import Image
    from lpmbench.media import VideoWriter
    p = argparse.ArgumentParser()
    for a in ("--ref", "--out", "--case", "--trigger", "--fault", "--mount", "--once"):
        p.add_argument(a)
    a = p.parse_args()
    first = a.case == a.trigger and not os.path.exists(a.once)
    if first:
        open(a.once, "w").close()
    if first and a.fault == "fill":
        try:
            with open(a.mount + "/filler", "wb") as f:
                while True:
                    f.write(bytes(1 << 16))
        except OSError:
            pass
    if a.fault == "sleep":
        time.sleep(4)
    img = np.asarray(Image.open(a.ref).convert("RGB"))
    with VideoWriter(a.out, 25, img.shape[1], img.shape[0]) as w:
        for _ in range(25):
            w.write(img)
    if first and a.fault == "ro":
        series = a.mount + "/results/faulty/series"
        subprocess.run(["mount", "--bind", series, series], check=True)
        subprocess.run(["mount", "-o", "remount,ro,bind", series], check=True)
''')

# Runs inside the private mount namespace: evaluate, look at the run folder, undo the fault, resume.
DRIVER = textwrap.dedent('''
    import json, os, subprocess, sys
    from pathlib import Path
    a = json.loads(sys.argv[1])
    run_dir = Path(a["run_dir"])

    def evaluate(*extra):
        p = subprocess.run([sys.executable, "-m", "lpmbench.cli", "evaluate", *a["overrides"], *extra],
                           capture_output=True, text=True, timeout=600)
        return {"rc": p.returncode, "stderr": p.stderr}

    def look():
        lines = run_dir.joinpath("cases.jsonl").read_bytes().split(b"\\n") if run_dir.joinpath("cases.jsonl").exists() else []
        parsed = []
        for line in lines[:-1]:
            try:
                parsed.append(json.loads(line)["case_id"])
            except ValueError:
                parsed.append("TORN")
        return {"tmp": sorted(str(p) for p in run_dir.rglob("*.tmp")) if run_dir.exists() else [],
                "records": parsed, "ends_with_newline": not lines or lines[-1] == b""}

    out = {"first": evaluate(), "after_first": look()}
    if a["undo"] == "fill":
        os.remove(a["mount"] + "/filler")
    elif a["undo"] == "ro":
        subprocess.run(["umount", str(run_dir / "series")], check=True)
    out["resume"] = evaluate("--resume")
    out["after_resume"] = look()
    print("RESULT " + json.dumps(out))
''')


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory) -> Path:
    return write_suite(tmp_path_factory.mktemp("runs_suite"), CASES, name="faults")


@pytest.fixture(scope="module")
def generator(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "gen.py"
    path.write_text(GENERATOR)
    return path


def overrides(suite_dir: Path, generator: Path, results: Path, cache: Path, fault: str, mount: Path,
              run_id: str = "faulty") -> list[str]:
    argv = [sys.executable, str(generator), "--ref", "{reference}", "--out", "{output}", "--case", "{case_id}",
            "--trigger", "c2", "--fault", fault, "--mount", str(mount), "--once", str(cache.parent / "fault.done")]
    return ["model=command", "model.params.argv=[" + ",".join(f"'{x}'" for x in argv) + "]", f"suite={suite_dir}",
            f"run.id={run_id}", f"run.results_dir={results}", f"analysis.cache_dir={cache}"]


def one_clear_line(stderr: str) -> str:
    """The error line the CLI ended with; fails on a traceback."""
    assert "Traceback" not in stderr, stderr[-3000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("lpmbench evaluate: error: "), stderr[-3000:]
    return last


@pytest.mark.parametrize("fault", ["fill", "ro"])
def test_a_full_or_read_only_disk_mid_run_is_one_line_and_resumes_to_a_complete_run(suite_dir, generator, tmp_path,
                                                                                      fault):
    mount = tmp_path / "mnt"
    mount.mkdir()
    run_dir = mount / "results" / "faulty"
    args = {"overrides": overrides(suite_dir, generator, mount / "results", tmp_path / "cache", fault, mount),
            "run_dir": str(run_dir), "mount": str(mount), "undo": fault}
    out = run_on_tmpfs(mount, [sys.executable, "-c", DRIVER, json.dumps(args)], size="2m")
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.split("RESULT ", 1)[1])
    line = one_clear_line(r["first"]["stderr"])
    assert r["first"]["rc"] == 2
    assert ("No space left on device" if fault == "fill" else "Read-only file system") in line and str(run_dir) in line
    # the executor may generate c2 (the fault) before c1's record is appended: c1 is kept or not, never torn
    assert r["after_first"]["records"] in ([], ["c1"]), r["after_first"]
    assert r["after_first"]["tmp"] == [] and r["after_first"]["ends_with_newline"]
    print(line)
    assert r["resume"]["rc"] == 0, r["resume"]["stderr"][-3000:]
    assert r["after_resume"] == {"tmp": [], "records": ["c1", "c2"], "ends_with_newline": True}


def test_a_read_only_results_folder_is_one_line_before_anything_runs(suite_dir, generator, tmp_path):
    mount = tmp_path / "mnt"
    mount.mkdir()
    cmd = [sys.executable, "-m", "lpmbench.cli", "evaluate",
           *overrides(suite_dir, generator, mount / "results", tmp_path / "cache", "none", mount)]
    out = run_on_tmpfs(mount, cmd, readonly=True)
    line = one_clear_line(out.stderr)
    assert out.returncode == 2 and "Read-only file system" in line and str(mount / "results" / "faulty") in line


def test_a_second_evaluate_on_the_same_run_folder_is_refused_and_the_first_completes(suite_dir, generator, tmp_path):
    results = tmp_path / "results"
    cmd = [sys.executable, "-m", "lpmbench.cli", "evaluate",
           *overrides(suite_dir, generator, results, tmp_path / "cache", "sleep", tmp_path, run_id="shared")]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        lock = results / "shared" / ".lock"
        deadline = time.monotonic() + 120
        while not (lock.exists() and lock.read_text().startswith("pid")) and time.monotonic() < deadline:
            time.sleep(0.1)
        second = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300)
        line = one_clear_line(second.stderr)
        assert second.returncode == 2 and f"is being written by pid {first.pid}" in line
        _, err = first.communicate(timeout=300)
        assert first.returncode == 0, err[-3000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    run = load_run(results / "shared")
    assert sorted(run.cases) == ["c1", "c2"] and not run.problems and run.manifest.status == "finished"


def test_a_torn_last_line_is_cut_before_resume_appends(suite_dir, tmp_path):
    """A run killed mid-append leaves half a line; the resumed run must not glue its next record to it."""
    results, cache = tmp_path / "results", tmp_path / "cache"
    base = ["evaluate", "model=static", f"suite={suite_dir}", "run.id=torn", f"run.results_dir={results}",
            f"analysis.cache_dir={cache}"]
    assert subprocess.run([sys.executable, "-m", "lpmbench.cli", *base], capture_output=True, timeout=300).returncode == 0
    cases = results / "torn" / "cases.jsonl"
    lines = cases.read_bytes().splitlines(keepends=True)
    cases.write_bytes(lines[0] + lines[1][: len(lines[1]) // 2])  # killed half way through c2's record
    m = json.loads((results / "torn" / "manifest.json").read_text())
    m["status"] = "running"
    (results / "torn" / "manifest.json").write_text(json.dumps(m))
    again = subprocess.run([sys.executable, "-m", "lpmbench.cli", *base, "--resume"], capture_output=True, text=True,
                           timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    records = [json.loads(x) for x in cases.read_text().splitlines()]  # every line whole
    assert [r["case_id"] for r in records] == ["c1", "c2"]
    run = load_run(results / "torn")
    assert not run.problems and not [p for p in validate_run(run) if p.fatal]


def test_validate_fails_an_incomplete_or_unfinished_run(suite_dir, tmp_path, capsys):
    from lpmbench.cli import main

    results = tmp_path / "results"
    assert main(["evaluate", "model=static", f"suite={suite_dir}", "run.id=v", f"run.results_dir={results}",
                 f"analysis.cache_dir={tmp_path / 'cache'}"]) == 0
    assert main(["validate", str(results / "v")]) == 0
    cases = results / "v" / "cases.jsonl"
    cases.write_text(cases.read_text().splitlines()[0] + "\n")  # c2's record lost
    capsys.readouterr()
    assert main(["validate", str(results / "v")]) == 1
    assert "incomplete: 1 selected case(s) without a record, e.g. 'c2'" in capsys.readouterr().out
    m = json.loads((results / "v" / "manifest.json").read_text())
    m["status"] = "interrupted"
    (results / "v" / "manifest.json").write_text(json.dumps(m))
    assert main(["validate", str(results / "v")]) == 1
    assert "partial run: status 'interrupted'" in capsys.readouterr().out


@pytest.fixture(scope="module")
def real_video(tmp_path_factory) -> Path:
    from PIL import Image

    from lpmbench.media import VideoWriter
    from lpmbench.vision import astronaut_portrait

    folder = tmp_path_factory.mktemp("score")
    img = astronaut_portrait(128)
    Image.fromarray(img).save(folder / "ref.png")
    with VideoWriter(folder / "ok.mp4", 25, 128, 128) as w:
        for _ in range(50):
            w.write(img)
    return folder / "ok.mp4"


@pytest.mark.parametrize("damage", ["empty", "first 3000 bytes", "half", "a folder", "missing"])
def test_score_on_a_damaged_video_is_one_line(real_video, tmp_path, damage):
    data = real_video.read_bytes()
    video = tmp_path / "v.mp4"
    if damage == "empty":
        video.write_bytes(b"")
    elif damage == "first 3000 bytes":
        video.write_bytes(data[:3000])
    elif damage == "half":
        video.write_bytes(data[: len(data) // 2])
    elif damage == "a folder":
        video.mkdir()
    out = subprocess.run([sys.executable, "-m", "lpmbench.cli", "score", str(video), "--reference",
                          str(real_video.with_name("ref.png"))], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    last = out.stderr.strip().splitlines()[-1]
    assert out.returncode == 2 and last.startswith("lpmbench score: error: ") and str(video) in last, out.stderr[-2000:]


def _example_lines() -> list[tuple[str, str]]:
    """The command-adapter examples users copy: README.md's and the comment of conf/model/command.yaml."""
    out = []
    for path in (REPO / "README.md", REPO / "lpmbench" / "conf" / "model" / "command.yaml"):
        for line in path.read_text().splitlines():
            if "model.params.argv=[" in line:
                out.append((path.name, line))
    return out


@pytest.mark.parametrize("where, line", _example_lines(), ids=[w for w, _ in _example_lines()])
def test_the_documented_command_adapter_example_composes(where, line):
    text = line[line.index("'model.params.argv=["):]
    override = shlex.split(text)[0]  # exactly what a shell passes on
    plan = build_plan(["model=command", override], need_suite=False)
    argv = plan.adapter.params["argv"]
    assert "{output}" in argv and any(a == "{reference}" for a in argv), argv
