"""The leaderboard's plain-Python side: loading results into tables, scoring, charts, human
preference votes and export. The Streamlit app (``leaderboard_app/``) only lays these out.

:func:`launch` starts the app: ``lpmbench leaderboard [--results DIR] [--port N]``.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .data import ResultsData, default_results_dir, folder_signature, load_results
from .tables import Filters, LeaderboardTable, build_table, display_table

__all__ = [
    "Filters", "LeaderboardTable", "ResultsData", "app_path", "build_table", "default_results_dir",
    "display_table", "folder_signature", "launch", "load_results", "streamlit_command",
]


def app_path() -> Path:
    """The Streamlit entry script (``leaderboard_app/app.py``, installed as lpmbench.leaderboard_app)."""
    import lpmbench.leaderboard_app as app

    return Path(app.__file__).resolve().parent / "app.py"


def streamlit_command(results_dir: str | Path | None = None, port: int | None = None, *, headless: bool = False,
                      address: str | None = None) -> list[str]:
    """The ``streamlit run`` command line that :func:`launch` executes."""
    cmd = [sys.executable, "-m", "streamlit", "run", str(app_path())]
    if port is not None:
        cmd += ["--server.port", str(int(port))]
    if address:
        cmd += ["--server.address", address]
    if headless:
        cmd += ["--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal", "--"]
    if results_dir is not None:
        cmd += ["--results", str(Path(results_dir).resolve())]
    return cmd


def launch(results_dir: str | Path | None = None, port: int | None = None, *, headless: bool = False) -> int:
    """Run the leaderboard app over ``results_dir`` (default: ``$LPMBENCH_RESULTS`` or ./results)
    until it is stopped; returns streamlit's exit status."""
    return subprocess.call(streamlit_command(results_dir, port, headless=headless))
