"""Attacks on the leaderboard through the results folder it serves: malformed records, a series
decompression bomb, manifests naming devices, copies of runs, run ids with ", ". Every page still
renders (streamlit's AppTest), the bad run is listed on the Runs page with its reason, and memory
stays bounded.

Reproduce by hand: put ``tests/test_attacks_leaderboard.py::hostile``'s folder under ``--results``
and open ``lpmbench leaderboard``.
"""
from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import urllib.parse
import zipfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from lpmbench.leaderboard.data import latency_samples, load_results
from lpmbench.leaderboard.tables import build_table
from lpmbench.results import MAX_MANIFEST_JSON_BYTES, ResultsError, load_run, read_series
from lpmbench.testing.runs import make_results

APP = Path(__file__).resolve().parents[1] / "leaderboard_app" / "app.py"
PAGES = [None, "views/case.py", "views/compare.py", "views/preference.py", "views/runs.py"]
COMMA = "synthetic-003, copy"  # sorts after synthetic-003: the drill-down link of that model points at it


def npy_header(shape: tuple, descr: str = "<f4") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def write_zero_bomb(path: Path, n_bytes: int) -> Path:
    """A series .npz whose one float32 array is ``n_bytes`` of zeros, deflated (2.5 GB -> 2.4 MB)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z, \
            z.open("realtime.latency.y.npy", "w", force_zip64=True) as m:
        m.write(npy_header((n_bytes // 4,)))
        chunk = bytes(1 << 24)
        for at in range(0, n_bytes, len(chunk)):
            m.write(chunk[: min(len(chunk), n_bytes - at)])
    return path


def write_npz(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """4 synthetic runs (001 and 003 streaming) x 4 cases with real small videos."""
    return make_results(tmp_path_factory.mktemp("lb_attack") / "results", n_models=4, n_cases=4, videos=True,
                        size=64, n_frames=8)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = write_zero_bomb(tmp_path_factory.mktemp("bomb") / "bomb.npz", 2_500_000_000)
    assert path.stat().st_size < 3_000_000
    return path


def _records(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "cases.jsonl").read_text().splitlines()]


def _write_records(run_dir: Path, lines: list) -> None:
    (run_dir / "cases.jsonl").write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))


@pytest.fixture(scope="module")
def hostile(base, bomb, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hostile") / "results"
    shutil.copytree(base, out)
    # one malformed case line (the record that crashed every page)
    recs = _records(out / "synthetic-000")
    recs[1]["values"] = [1.0, 2.0]
    _write_records(out / "synthetic-000", recs)
    # the bomb as the latency series of a streaming run's case
    shutil.copy(bomb, out / "synthetic-001" / "series" / "speak_00.npz")
    # the first manifest of the protocol names a device as its human reference (read once per protocol)
    m = json.loads((out / "synthetic-000" / "manifest.json").read_text())
    m["reference"] = {"id": "0123456789abcdef", "name": "zero", "path": "/dev/zero"}
    (out / "synthetic-000" / "manifest.json").write_text(json.dumps(m))
    # records with a list as video and a NUL in a path, a 5000-digit number and arrays nested 100,000 deep
    recs = _records(out / "synthetic-002")
    recs[0]["video"] = [1]
    recs[1]["series"] = "series/\u0000.npz"
    _write_records(out / "synthetic-002", [*recs, '{"case_id": "x", "status": "ok", "n": ' + "9" * 5000 + "}",
                                           "[" * 100_000 + "]" * 100_000])
    # a streaming run whose id holds ", " (a copy of synthetic-003, started later)
    shutil.copytree(out / "synthetic-003", out / COMMA)
    m = json.loads((out / COMMA / "manifest.json").read_text())
    m["run_id"], m["started_at"] = COMMA, "2026-02-01T00:00:00Z"
    (out / COMMA / "manifest.json").write_text(json.dumps(m))
    # a backup copy: its manifest still says synthetic-002
    shutil.copytree(out / "synthetic-002", out / "synthetic-002-backup")
    # folders that are no runs at all: deep JSON, an oversized manifest, a series file that lies
    (out / "deep").mkdir()
    (out / "deep" / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    (out / "fat").mkdir()
    with open(out / "fat" / "manifest.json", "wb") as f:
        f.truncate(MAX_MANIFEST_JSON_BYTES + 1)
    return out


def open_page(monkeypatch, results_dir: Path, page: str | None = None) -> AppTest:
    monkeypatch.setenv("LPMBENCH_RESULTS", str(results_dir))
    monkeypatch.setenv("LPMBENCH_VOTES", str(results_dir.parent / "votes.sqlite"))
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    kinds = ("text", "markdown", "caption", "info", "warning", "error", "success", "title", "subheader")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(at, kind))


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_over_a_hostile_results_folder(monkeypatch, hostile, page):
    open_page(monkeypatch, hostile, page)


def test_the_runs_page_lists_each_bad_run_with_its_reason(monkeypatch, hostile):
    at = open_page(monkeypatch, hostile, "views/runs.py")
    problems = next(df.value for df in at.dataframe if "problem" in df.value.columns and "severity" in df.value.columns)
    skipped = problems.groupby("run_id")["problem"].apply(" | ".join)
    assert "not valid JSON (RecursionError" in skipped["deep"]
    assert "more than the 16 MiB" in skipped["fat"]
    usable = next(df.value for df in at.dataframe if "n_ok" in df.value.columns)
    assert sorted(usable["run_id"]) == [f"synthetic-00{i}" for i in range(3)] + ["synthetic-002-backup", "synthetic-003",
                                                                                  COMMA]
    warnings = texts(at) + "\n" + "\n".join(
        " ".join(map(str, df.value.to_numpy().ravel())) for df in at.dataframe)
    assert "field 'values' must be a JSON object" in warnings  # the one bad line, its run kept
    assert "field 'video' must be a string or null" in warnings
    assert "not a usable JSON value (ValueError" in warnings and "RecursionError" in warnings
    assert "the manifest calls this run 'synthetic-002'" in warnings
    assert "human reference zero (id 0123456789abcdef) not found here" in warnings  # /dev/zero was not read


def test_the_bomb_costs_its_curves_not_the_page(monkeypatch, hostile):
    at = open_page(monkeypatch, hostile, "views/case.py")
    at.selectbox(key="case_run").set_value("synthetic-001").run()
    at.selectbox(key="case_case").set_value("speak_00").run()
    assert not at.exception
    assert "Series file unreadable" in texts(at) and "decompression bomb" in texts(at)
    at.selectbox(key="case_case").set_value("listen_01").run()
    assert "Series file unreadable" not in texts(at) and len(at.get("vega_lite_chart")) >= 3


def test_run_ids_with_a_comma_keep_their_links_and_latencies(monkeypatch, hostile):
    data = load_results(hostile)
    lb = build_table(data, n_boot=0)
    row = lb.table[lb.table["model"] == "synthetic-003"].iloc[0]
    assert list(row["runs"]) == [COMMA]  # pooled with synthetic-003 and started later: it wins every case
    lat = latency_samples(data, [COMMA, "synthetic-003"])
    assert set(lat["run_id"]) == {"synthetic-003", COMMA} and lat["latency_s"].notna().all()
    at = open_page(monkeypatch, hostile)
    at.selectbox(key="drill_row").set_value(list(lb.table["model"]).index("synthetic-003")).run()
    link = next(p for p in at.get("page_link") if p.proto.page == "case")
    assert urllib.parse.parse_qs(link.proto.query_string)["run"] == [COMMA]
    at = open_page(monkeypatch, hostile, "views/case.py")
    at.selectbox(key="case_run").set_value(COMMA).run()
    assert not at.exception and len(at.get("video")) == 1


@pytest.mark.parametrize("members, message", [
    ({"a.y.npy": npy_header((1 << 22,)) + b"\0" * 100}, "truncated"),
    ({"a.y.npy": npy_header(((1 << 22) + 1,))}, "more than the 4194304"),
    ({"a.y.npy": npy_header((2, 2)) + b"\0" * 16}, "1-D float array"),
    ({"a.y.npy": npy_header((2,), "|O") + b"\0" * 16}, "1-D float array"),
    ({"a.y.npy": npy_header((2,), "<i8") + b"\0" * 16}, "1-D float array"),
    ({"../../x.npy": npy_header((2,)) + b"\0" * 8}, "unexpected member"),
    ({"a.t.npy": npy_header((2,)) + b"\0" * 8, "a.y.npy": npy_header((3,)) + b"\0" * 12}, "differ in length"),
    ({"a.y.npy": b"\x93NUMPY\x01\x00" + b"\xff\xff" + b" " * 100}, "unreadable"),
])
def test_a_series_file_is_checked_before_it_is_read(tmp_path, members, message):
    with pytest.raises(ResultsError, match=message):
        read_series(write_npz(tmp_path / "s.npz", members))


def test_many_members_are_refused_before_zipfile_lists_them(tmp_path):
    path = write_npz(tmp_path / "s.npz", {f"s{i}.y.npy": b"" for i in range(5000)})
    with pytest.raises(ResultsError, match="5000 members"):
        read_series(path)


def test_series_round_trip_matches_numpy(base):
    run = load_run(base / "synthetic-001")
    got = run.series("speak_00")
    with np.load(base / "synthetic-001" / "series" / "speak_00.npz") as z:
        assert sorted(f"{n}.{p}" for n, parts in got.items() for p in parts) == sorted(z.files)
        for k in z.files:
            name, _, part = k.rpartition(".")
            assert got[name][part].dtype == z[k].dtype and np.array_equal(got[name][part], z[k], equal_nan=True)
    assert set(run.series("speak_00", names=["realtime.latency"])) == {"realtime.latency"}


# the child's own peak: its high-water mark inherited from this (large) test process is reset first
PEAK_RSS = """
import os, sys
open("/proc/self/clear_refs", "w").write("5")
from streamlit.testing.v1 import AppTest
os.environ["LPMBENCH_RESULTS"] = sys.argv[1]
at = AppTest.from_file(sys.argv[2], default_timeout=300)
at.run()  # the leaderboard page: its latency chart reads every streaming case's series
at.switch_page("views/case.py").run()
at.selectbox(key="case_run").set_value("synthetic-001").run()
at.selectbox(key="case_case").set_value("speak_00").run()
assert not at.exception, [e.message for e in at.exception]
print([ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM")][0])
"""


def test_peak_memory_under_the_bomb_is_that_of_a_clean_folder(base, bomb, tmp_path):
    """The bomb expands to 2.5 GB (the old reader took the page to 7.5 GB): pages over it peak within
    32 MiB of the same pages over the clean folder."""
    bombed = tmp_path / "results"
    shutil.copytree(base, bombed)
    shutil.copy(bomb, bombed / "synthetic-001" / "series" / "speak_00.npz")

    def peak_kb(folder: Path) -> int:
        out = subprocess.run([sys.executable, "-c", PEAK_RSS, str(folder), str(APP)], capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return int(out.stdout.split()[-1])

    clean, under_bomb = peak_kb(base), peak_kb(bombed)
    print(f"peak RSS: clean {clean / 1024:.0f} MiB, under the 2.5 GB bomb {under_bomb / 1024:.0f} MiB")
    assert under_bomb - clean < 32 * 1024
