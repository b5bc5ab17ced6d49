"""Time the leaderboard's loader and main table on a large results folder.

    python benchmarks/bench_leaderboard.py [--runs 100] [--cases 24] [--boot 1000] [--app]

Writes ``--runs`` synthetic runs x ``--cases`` cases (real run folders, see
lpmbench.testing.runs) into a temporary folder, then times:
- cold: load_results (parse and validate every run) + build_table (scoring + bootstrap);
- warm: the same through the app's st.cache_data wrappers keyed by the folder signature
  (what every rerun of the page pays after the first load: a stat() of each run's files);
- with --app: the whole Leaderboard page rendered by streamlit.testing.v1.AppTest, first and
  second run (includes imports, altair charts and Arrow serialisation).
The target is a main table in under 3 s after the first load.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--cases", type=int, default=24)
    ap.add_argument("--boot", type=int, default=1000)
    ap.add_argument("--app", action="store_true", help="also time the Leaderboard page through AppTest")
    a = ap.parse_args(argv)

    from lpmbench.leaderboard import build_table, folder_signature, load_results
    from lpmbench.testing.runs import make_results

    with tempfile.TemporaryDirectory(prefix="lpmbench-bench-") as tmp:
        t0 = time.perf_counter()
        root = make_results(Path(tmp) / "results", n_models=a.runs, n_cases=a.cases, series=False)
        print(f"wrote {a.runs} runs x {a.cases} cases in {time.perf_counter() - t0:.1f} s")
        out: dict[str, float] = {}
        out["cold_load_s"], data = timed(lambda: load_results(root))
        out["cold_table_s"], lb = timed(lambda: build_table(data, n_boot=a.boot))
        out["signature_s"], _ = timed(lambda: folder_signature(root), repeat=5)

        os.environ["LPMBENCH_RESULTS"] = str(root)
        import streamlit.logger

        streamlit.logger.set_log_level("error")  # bare-mode cache warnings are expected here
        from lpmbench.leaderboard_app import ui

        timed(lambda: ui.get_table())  # first load fills the cache
        out["warm_table_s"], _ = timed(lambda: (ui.get_data(), ui.get_table()), repeat=5)
        if a.app:
            from streamlit.testing.v1 import AppTest

            app = Path(__file__).resolve().parents[1] / "leaderboard_app" / "app.py"
            at = AppTest.from_file(str(app), default_timeout=300)
            out["app_first_run_s"], _ = timed(at.run)
            out["app_rerun_s"], _ = timed(at.run, repeat=3)
            if at.exception:
                print("app raised:", at.exception[0].message, file=sys.stderr)
        print(f"table: {len(lb.table)} rows, {len(lb.dims)} dimensions, bootstrap {a.boot}")
        for k, v in out.items():
            print(f"{k:>18}: {v:6.3f} s")
        return out


if __name__ == "__main__":
    main()
