"""Attacks on the human-preference vote store with real processes: many voters at once lose no
vote (the attack run lost 14 of 3,200 to "database is locked"), readers meanwhile never fail,
and a read-only votes folder is one clear error on the page, not a traceback.

Reproduce: ``python tests/test_attacks_votes.py VOTES.sqlite 16 100`` (16 processes x 100 votes).
"""
from __future__ import annotations

import multiprocessing
import sys
import time
from pathlib import Path

import pytest

from fs_faults import run_on_tmpfs
from lpmbench.leaderboard.preference import PreferenceError, Vote, VoteStore

WRITERS, VOTES_EACH, READERS = 16, 100, 2


def _write(args: tuple[str, int, int]) -> list[str]:
    path, k, n = args
    store, errors = VoteStore(path), []
    for i in range(n):
        try:
            store.add(Vote("p", f"c{i}", f"m{k}", "ref", "overall", "good", voter=f"v{k}"))
        except Exception as e:  # noqa: BLE001 - counted: each one is a lost vote
            errors.append(f"{type(e).__name__}: {e}")
    return errors


def _read(args: tuple[str, str]) -> list[str]:
    path, stop = args
    store, errors, t = VoteStore(path), [], time.monotonic()
    while not Path(stop).exists() and time.monotonic() - t < 300:
        try:
            store.votes("p")
        except Exception as e:  # noqa: BLE001 - counted: a page that could not show the votes
            errors.append(f"{type(e).__name__}: {e}")
        time.sleep(0.02)
    return errors


def hammer(path: Path, writers: int = WRITERS, each: int = VOTES_EACH, readers: int = READERS) -> tuple[int, list[str]]:
    """``writers`` processes storing ``each`` single votes while ``readers`` processes read: (stored, errors)."""
    stop = path.with_name(path.name + ".writers-done")
    with multiprocessing.get_context("fork").Pool(writers + readers) as pool:
        reads = pool.map_async(_read, [(str(path), str(stop))] * readers)
        errors = [e for part in pool.map(_write, [(str(path), k, each) for k in range(writers)]) for e in part]
        stop.touch()
        errors += [e for part in reads.get() for e in part]
    return len(VoteStore(path).votes()), errors


def test_concurrent_voters_lose_no_vote(tmp_path):
    stored, errors = hammer(tmp_path / "votes.sqlite")
    assert errors == [] and stored == WRITERS * VOTES_EACH


def test_a_read_only_votes_folder_is_one_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    code = ("from lpmbench.leaderboard.preference import VoteStore, Vote, PreferenceError\n"
            "s = VoteStore(__import__('sys').argv[1])\n"
            "print('before', len(s.votes()))\n"
            "try:\n    s.add(Vote('p', 'c', 'a', 'b', 'overall', 'good'))\n"
            "except PreferenceError as e:\n    print('ERR', e)\n")
    seed = ("from lpmbench.leaderboard.preference import VoteStore, Vote\n"
            "VoteStore(__import__('sys').argv[1]).add(Vote('p', 'c', 'a', 'b', 'overall', 'same'))\n")
    for name, setup in (("missing.sqlite", None), ("existing.sqlite", [sys.executable, "-c", seed, str(folder / "existing.sqlite")])):
        out = run_on_tmpfs(folder, [sys.executable, "-c", code, str(folder / name)], setup=setup, readonly=True)
        assert out.returncode == 0, out.stderr[-2000:]
        lines = out.stdout.splitlines()
        assert lines[-1].startswith("ERR votes file") and "read-only" in lines[-1] and len(lines) == 2, out.stdout
        assert lines[0] == ("before 0" if name == "missing.sqlite" else "before 1")  # what is there stays readable


PAGE = """
import sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=120)
at.run()
at.switch_page("views/preference.py").run()
at.radio(key="pref_vote_overall").set_value("good")
next(b for b in at.button if b.label == "Submit votes").click().run()
assert not at.exception, [e.message for e in at.exception]
print("ERRORS", [e.value for e in at.error])
print("TEXT", [e.value for e in at.text])
"""


def test_the_preference_page_says_in_one_line_that_a_read_only_folder_takes_no_vote(tmp_path):
    from lpmbench.testing.runs import make_results

    results = make_results(tmp_path / "results", n_models=2, n_cases=2)
    folder = tmp_path / "ro"
    folder.mkdir()
    app = Path(__file__).resolve().parents[1] / "leaderboard_app" / "app.py"
    out = run_on_tmpfs(folder, [sys.executable, "-c", PAGE, str(app)], readonly=True,
                       env={**__import__("os").environ, "LPMBENCH_RESULTS": str(results),
                            "LPMBENCH_VOTES": str(folder / "votes.sqlite")})
    assert out.returncode == 0, out.stderr[-3000:]
    assert "ERRORS ['Votes not stored:']" in out.stdout
    assert any("read-only" in line and line.startswith("TEXT") for line in out.stdout.splitlines()), out.stdout


def test_a_vote_into_a_folder_that_cannot_exist_is_one_clear_error(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(PreferenceError, match="cannot create its folder"):
        VoteStore(tmp_path / "file" / "votes.sqlite").add(Vote("p", "c", "a", "b", "overall", "good"))


def test_a_corrupt_votes_file_is_one_clear_error(tmp_path):
    path = tmp_path / "votes.sqlite"
    path.write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(PreferenceError, match=f"votes file {path}: cannot read it"):
        VoteStore(path).votes()
    with pytest.raises(PreferenceError, match="cannot store 1 vote"):
        VoteStore(path).add(Vote("p", "c", "a", "b", "overall", "good"))


if __name__ == "__main__":
    p = Path(sys.argv[1])
    p.unlink(missing_ok=True)
    t = time.monotonic()
    n, errs = hammer(p, int(sys.argv[2]), int(sys.argv[3]))
    print(f"stored {n} of {int(sys.argv[2]) * int(sys.argv[3])}, {len(errs)} error(s) {sorted(set(errs))[:3]}, "
          f"{time.monotonic() - t:.1f} s")
