"""Sharded evaluations: ``run.shard=i/n`` covers a suite exactly once, ``lpmbench merge`` combines the
shards into one valid run (and refuses what does not belong together), and the SLURM launcher
configuration of ``python -m lpmbench.sweep`` composes; the same sweep runs end to end through
hydra-submitit-launcher's local launcher."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lpmbench.case import load_suite
from lpmbench.merge import MergeError, merge_runs
from lpmbench.plan import build_plan, parse_shard
from lpmbench.results import RunStore, load_run, validate_run
from lpmbench.runner import evaluate, select_cases

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return tmp_path_factory.mktemp("results")


def shard_run(results: Path, cache: Path, run_id: str, *overrides: str):
    plan = build_plan(["model=static", "suite=smoke", f"run.results_dir={results}", f"run.id={run_id}",
                       f"analysis.cache_dir={cache}", *overrides])
    return load_run(evaluate(plan))


@pytest.fixture(scope="module")
def shards(results, cache):
    return [shard_run(results, cache, f"s{i}", f"run.shard={i}/2") for i in range(2)]


@pytest.fixture(scope="module")
def whole(results, cache, shards):
    return shard_run(results, cache, "whole")  # unsharded; features cached by the shards


def test_shards_cover_the_suite_exactly_once():
    suite = load_suite("smoke")
    for n in (1, 2, 4, 7):
        parts = [select_cases(suite, None, (i, n)) for i in range(n)]
        ids = [c.id for p in parts for c in p]
        assert sorted(ids) == sorted(c.id for c in suite.cases)
    # shards apply after the case patterns
    assert [c.id for c in select_cases(suite, ["smoke_speak*"], (1, 2))] == ["smoke_speak_stylized"]
    assert parse_shard("3/8") == (3, 8) and parse_shard(None) is None
    for bad in ("8/8", "-1/2", "1", "a/b", "1/0"):
        with pytest.raises(ValueError, match="run.shard must be i/n"):
            parse_shard(bad)


def test_merge_makes_one_valid_run_equal_to_the_unsharded_one(shards, whole, tmp_path):
    assert [len(s.cases) for s in shards] == [3, 3]
    out = merge_runs([s.dir for s in shards], tmp_path / "merged")
    merged = load_run(out)
    assert not validate_run(merged), validate_run(merged)
    m = merged.manifest
    assert m.run_id == "merged" and m.status == "finished" and m.protocol == whole.manifest.protocol
    assert sorted(m.suite["selected"]) == sorted(whole.manifest.suite["selected"])
    assert [s["run_id"] for s in m.executor["shards"]] == ["s0", "s1"] and m.executor["name"] == "merge"
    assert [s["shard"] for s in m.executor["shards"]] == ["0/2", "1/2"]
    for cid, rec in whole.cases.items():
        got = merged.cases[cid]
        assert got.status == rec.status == "ok"
        assert got.video_sha256 == rec.video_sha256 and got.values.keys() == rec.values.keys()
        assert {k: v for k, v in got.values.items() if not k.startswith("realtime.")} == \
               {k: v for k, v in rec.values.items() if not k.startswith("realtime.")}
        assert merged.video_path(cid) is not None and set(merged.series(cid)) == set(whole.series(cid))
    # corpus-level metrics are reduced again over all cases, as in the unsharded run
    assert m.corpus.keys() == whole.manifest.corpus.keys()
    for k, v in whole.manifest.corpus.items():
        assert m.corpus[k] == v, k


def test_merge_refuses_what_does_not_belong_together(shards, results, cache, tmp_path):
    with pytest.raises(MergeError, match="given twice"):
        merge_runs([shards[0].dir, shards[0].dir], tmp_path / "a")
    dup = shard_run(results, cache, "dup", "run.cases=[smoke_speak]")
    assert "smoke_speak" in shards[0].cases
    with pytest.raises(MergeError, match="'smoke_speak' is recorded in two shards"):
        merge_runs([shards[0].dir, dup.dir], tmp_path / "b")
    other = shard_run(results, cache, "other-timeout", "run.shard=1/2", "run.timeout_s=33")
    with pytest.raises(MergeError, match="timeout_s"):
        merge_runs([shards[0].dir, other.dir], tmp_path / "c")
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("")
    with pytest.raises(MergeError, match="exists and is not empty"):
        merge_runs([s.dir for s in shards], tmp_path / "taken")
    # an interrupted shard must be resumed first
    unfinished = shard_run(results, cache, "unfinished", "run.shard=1/2")
    m = unfinished.manifest
    m.status = "interrupted"
    with RunStore(unfinished.dir) as store:
        store.write_manifest(m)
    with pytest.raises(MergeError, match="partial run"):
        merge_runs([shards[0].dir, unfinished.dir], tmp_path / "d")


def test_merge_cli(shards, tmp_path):
    cli = [sys.executable, "-m", "lpmbench.cli", "merge"]
    ok = subprocess.run([*cli, *(str(s.dir) for s in shards), "--out", str(tmp_path / "m")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert "merged 2 shards" in ok.stdout and load_run(tmp_path / "m").manifest.status == "finished"
    bad = subprocess.run([*cli, str(shards[0].dir), str(shards[0].dir), "--out", str(tmp_path / "n")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "given twice" in bad.stderr
    # a bad shard option is one line naming it, too
    shard = subprocess.run([sys.executable, "-m", "lpmbench.cli", "evaluate", "model=static", "suite=smoke",
                            "run.shard=2/2", f"run.results_dir={tmp_path}"], capture_output=True, text=True, timeout=120)
    assert shard.returncode == 2 and "run.shard must be i/n" in shard.stderr and "Traceback" not in shard.stderr


def test_slurm_launcher_configuration_composes():
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e '.[slurm]'")
    out = subprocess.run([sys.executable, "-m", "lpmbench.sweep", "hydra/launcher=slurm", "--cfg", "hydra"],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "submitit_launcher.SlurmLauncher" in out.stdout and "gpus_per_node: 1" in out.stdout


@pytest.mark.slow
def test_sweep_shards_through_the_submitit_launcher_and_merges(cache, tmp_path):
    """The SLURM recipe with hydra-submitit-launcher's local launcher: two shard jobs (separate
    processes started by submitit), each writing its run folder, merged into one."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher", reason="pip install -e '.[slurm]'")
    res = tmp_path / "results"
    out = subprocess.run([sys.executable, "-m", "lpmbench.sweep", "--multirun", "hydra/launcher=submitit_local",
                          f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.launcher.timeout_min=10",
                          "model=static", "suite=smoke", f"run.results_dir={res}", f"analysis.cache_dir={cache}",
                          "run.shard=0/2,1/2"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, (out.stdout[-2000:], out.stderr[-3000:])
    dirs = sorted(res.iterdir())
    assert [d.name for d in dirs] == ["static-smoke-shard0of2", "static-smoke-shard1of2"]
    merged = load_run(merge_runs(dirs, tmp_path / "merged"))
    assert not [p for p in validate_run(merged) if p.fatal] and len(merged.cases) == 6
    assert json.loads((tmp_path / "merged" / "manifest.json").read_text())["executor"]["shards"][1]["shard"] == "1/2"
