"""Attacks on what a user hands lpmbench: suite files and run ids. Each ends in one clear error
(or a safe folder name), nothing is written outside ``results/``, nothing exhausts memory.

Reproduce one by hand, e.g. ``lpmbench evaluate model=static suite=smoke run.id=../escape``.
"""
from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import write_suite
from lpmbench.case import SuiteError, as_id, load_suite, valid_id
from lpmbench.cli import main
from lpmbench.plan import RunOptions

SILENT = "  - {id: still, mode: silence, character: astronaut, duration: 1.0}\n"


@pytest.fixture(scope="module")
def suite_dir(tmp_path_factory) -> Path:
    return write_suite(tmp_path_factory.mktemp("attack_suite"), SILENT, name="attack")


def _manifest(suite_dir: Path) -> dict:
    return yaml.safe_load((suite_dir / "suite.yaml").read_text())


def _write(tmp_path: Path, suite_dir: Path, manifest: dict | str) -> Path:
    root = tmp_path / "s"
    if not root.exists():
        (root / "characters").mkdir(parents=True)
        (root / "characters" / "astronaut.png").write_bytes((suite_dir / "characters" / "astronaut.png").read_bytes())
    (root / "suite.yaml").write_text(manifest if isinstance(manifest, str) else yaml.safe_dump(manifest))
    return root


def _limit_memory() -> None:  # the child, should the bomb go off, fails with MemoryError instead of swapping
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


@pytest.mark.parametrize("where", ["tags", "top"])
def test_a_yaml_alias_bomb_fails_at_once_in_bounded_memory(suite_dir, tmp_path, where):
    # "billion laughs" with 72 aliases only (9 levels of 9 = 387 million strings once expanded), inside a
    # field the loader walks (a case's tags) or as unknown top-level fields
    levels = ["&a0 [" + ", ".join(["lol"] * 9) + "]"] + [
        f"&a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    text = (suite_dir / "suite.yaml").read_text()
    if where == "tags":
        text = text.replace(SILENT, "  - id: still\n    mode: silence\n    character: astronaut\n    duration: 1.0\n"
                                    "    tags: [" + ", ".join(levels) + "]\n")
    else:
        text += "".join(f"x{i}: {lv}\n" for i, lv in enumerate(levels))
    root = _write(tmp_path, suite_dir, text)
    # peak RSS of the child alone: a forked child inherits the (large) test process's high-water
    # mark, so it is reset ('5' to clear_refs) before loading, then read back as VmHWM
    code = ("from lpmbench.case import load_suite, SuiteError\n"
            "open('/proc/self/clear_refs', 'w').write('5')\n"
            f"try:\n    load_suite({str(root)!r})\nexcept SuiteError as e:\n    print('ERR', e)\n"
            "print('RSS', [ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM')][0])")
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         preexec_fn=_limit_memory)
    assert time.monotonic() - t < 20, "the alias bomb was expanded"
    assert out.stdout.startswith("ERR"), out.stdout + out.stderr[-2000:]
    if where == "tags":
        assert "once its aliases are expanded" in out.stdout
    assert int(out.stdout.split("RSS")[1]) < 300_000  # kB


@pytest.mark.parametrize("name", ["x/../../..", "../up", ".", "..", "--help", "a b", "x\n", 5])
def test_a_hostile_suite_name_is_refused(suite_dir, tmp_path, name):
    m = _manifest(suite_dir)
    m["name"] = name
    with pytest.raises(SuiteError, match="not a valid suite name"):
        load_suite(_write(tmp_path, suite_dir, m))


@pytest.mark.parametrize("case_id", ["x\n", ".", "..", "--help", "a/b", "../x", "", None, 7])
def test_a_hostile_case_id_is_refused(suite_dir, tmp_path, case_id):
    m = _manifest(suite_dir)
    m["cases"][0]["id"] = case_id
    with pytest.raises(SuiteError, match="id"):
        load_suite(_write(tmp_path, suite_dir, m))


@pytest.mark.parametrize("res", [[True, True], [0, 64], [64], "64x64", [64.5, 64], [10 ** 9, 64]])
def test_a_hostile_resolution_is_refused(suite_dir, tmp_path, res):
    m = _manifest(suite_dir)
    m["cases"][0]["resolution"] = res
    with pytest.raises(SuiteError, match="resolution"):
        load_suite(_write(tmp_path, suite_dir, m))


HOSTILE_RUN_IDS = ["../escape", "a/b", ".", "..", "--help", "x\n", "a, b", "/abs", "~", "é"]


@pytest.mark.parametrize("run_id", HOSTILE_RUN_IDS)
def test_a_hostile_run_id_is_one_clear_error(run_id):
    with pytest.raises(ValueError, match=r"^run\.id .* is not a valid run id") as err:
        RunOptions.from_config({"id": run_id})
    assert "\n" not in str(err.value)  # one line: the id is shown as its repr


@pytest.mark.parametrize("run_id", ["../escape", "a/b", "--help", "/abs"])
def test_the_cli_refuses_a_hostile_run_id_before_writing_anything(suite_dir, tmp_path, capsys, run_id, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(["evaluate", "model=static", f"suite={suite_dir}", f"run.id={run_id}", "run.results_dir=results",
               f"analysis.cache_dir={tmp_path / 'cache'}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("lpmbench evaluate: error: run.id"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # not even results/


def test_numbers_are_run_ids_too():
    assert RunOptions.from_config({"id": 2024}).run_id == "2024"
    assert RunOptions.from_config({"id": None}).run_id is None


@pytest.mark.parametrize("model", ["../x", "a/b", "..", "-x"])
def test_the_default_run_id_stays_inside_results_whatever_the_model_is_called(suite_dir, tmp_path, monkeypatch, model):
    monkeypatch.chdir(tmp_path)
    rc = main(["evaluate", "model=static", f"model.name={model}", f"suite={suite_dir}", "run.results_dir=out/results",
               f"analysis.cache_dir={tmp_path / 'cache'}"])
    assert rc == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["results"]
    (run_dir,) = (tmp_path / "out" / "results").iterdir()
    assert valid_id(run_dir.name) and run_dir.name.startswith(as_id(model) + "-attack-")


def test_as_id_always_gives_a_valid_id():
    for text in ["../x", "a/b", ".", "..", "", "-", "x\n", "a, b", "\x00", "é" * 300, "ok.name-1"]:
        assert valid_id(as_id(text)), text
    assert as_id("ok.name-1") == "ok.name-1" and as_id("a/b") == "a_b"
