"""Streamlit helpers shared by the pages: cached loading, the results folder, safe text.

Nothing read from a results folder is rendered as HTML or Markdown: data goes through
``st.dataframe``, ``st.text`` / ``st.code`` or :func:`md_escape`.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

from lpmbench.leaderboard import data as lbdata
from lpmbench.leaderboard.tables import Filters, LeaderboardTable, build_table

N_BOOT = 1000  # bootstrap resamples of the main table (seed 0): see lpmbench.scoring
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """Text from a results file made inert inside Markdown (no links, images, HTML or emphasis)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def results_dir() -> Path:
    """``--results`` after ``--`` on the streamlit command line, else $LPMBENCH_RESULTS, else ./results."""
    return lbdata.default_results_dir()


def include_unfinished() -> bool:
    return bool(st.session_state.get("include_unfinished", False))


@st.cache_data(show_spinner="Loading results ...", max_entries=8)
def _load(root: str, signature: tuple, include_unfinished: bool) -> lbdata.ResultsData:
    # ``signature`` (folder mtimes and sizes) is only the cache key: a changed run reloads
    return lbdata.load_results(root, include_unfinished=include_unfinished)


def get_data() -> lbdata.ResultsData:
    root = results_dir()
    return _load(str(root), lbdata.folder_signature(root), include_unfinished())


@st.cache_data(show_spinner="Scoring ...", max_entries=32)
def _table(root: str, signature: tuple, include_unfinished: bool, filters: tuple, n_boot: int) -> LeaderboardTable:
    d = _load(root, signature, include_unfinished)
    return build_table(d, Filters(*filters), n_boot=n_boot, seed=0)


def get_table(filters: Filters = Filters(), n_boot: int = N_BOOT) -> LeaderboardTable:
    root = results_dir()
    key = (filters.suites, filters.modes, filters.styles, filters.models, filters.dimensions, filters.protocols)
    return _table(str(root), lbdata.folder_signature(root), include_unfinished(), key, n_boot)


@st.cache_data(show_spinner="Scoring by category ...", max_entries=16)
def _breakdown(root: str, signature: tuple, include_unfinished: bool, key: str, filters: tuple) -> pd.DataFrame:
    from lpmbench.leaderboard.tables import breakdown

    return breakdown(_load(root, signature, include_unfinished), key, Filters(*filters))


def get_breakdown(key: str, filters: Filters = Filters()) -> pd.DataFrame:
    root = results_dir()
    f = (filters.suites, filters.modes, filters.styles, filters.models, filters.dimensions, filters.protocols)
    return _breakdown(str(root), lbdata.folder_signature(root), include_unfinished(), key, f)


@st.cache_data(max_entries=16, show_spinner=False)
def suite_for(name: str, path: str) -> tuple[object, str]:
    return lbdata.load_suite_soft(name, path)


def empty_state(d: lbdata.ResultsData) -> None:
    """What to show when there is nothing to rank."""
    st.info("No usable runs in this results folder yet.")
    st.text(f"Results folder: {d.root.resolve()}")
    st.markdown(
        "Produce runs with `lpmbench evaluate model=<name> suite=<name>` (they are written to "
        "`./results/<run>/`), or point the app at another folder with `--results DIR` or the "
        "`LPMBENCH_RESULTS` environment variable. A synthetic demo folder (not benchmark results) "
        "can be written with `python -m lpmbench.testing.runs DIR`."
    )
    if not d.problems.empty:
        st.warning(f"{len(d.problems)} problem(s) were found: see the Runs page.")
        st.dataframe(d.problems, hide_index=True, width="stretch")


def run_label(runs: pd.DataFrame, run_id: str) -> str:
    r = runs[runs["run_id"] == run_id]
    if r.empty:
        return run_id
    r = r.iloc[0]
    return f"{r['model']} | {r['suite']} | {run_id}"


def pick_protocol(cases: pd.DataFrame, key: str) -> tuple[str, pd.DataFrame]:
    """A protocol selector (labelled with its suites) and the case rows of the chosen protocol."""
    protocols = sorted(cases["protocol"].unique())

    def label(p: str) -> str:
        return f"{p[:8]} ({', '.join(sorted(cases.loc[cases['protocol'] == p, 'suite'].unique()))})"

    protocol = st.selectbox("Protocol", protocols, key=key, format_func=label)
    return protocol, cases[cases["protocol"] == protocol]


def query_default(key: str, options: list[str]) -> int:
    """Index of the option named in the URL's query parameter ``key`` (0 when absent)."""
    v = st.query_params.get(key)
    return options.index(v) if v in options else 0


def show_chart(result, *, key: str | None = None) -> None:
    """Draw a ChartResult, or say why it cannot be drawn."""
    if result.chart is None:
        st.info(f"Chart not drawn: {result.reason}")
        return
    st.altair_chart(result.chart, width="stretch", key=key)
    if result.reason:
        st.caption(md_escape(result.reason))


@st.cache_data(show_spinner="Fitting Bradley-Terry ratings ...", max_entries=32)
def bt_ratings(votes: pd.DataFrame, ties: str, n_boot: int = 200) -> pd.DataFrame:
    from lpmbench.leaderboard.preference import bradley_terry

    return bradley_terry(votes, ties=ties, n_boot=n_boot, seed=0)


@st.cache_data(show_spinner=False, max_entries=16)
def _latency(root: str, signature: tuple, include_unfinished: bool, run_ids: tuple) -> pd.DataFrame:
    return lbdata.latency_samples(_load(root, signature, include_unfinished), list(run_ids))


def get_latency(run_ids: list[str]) -> pd.DataFrame:
    """Per-frame latencies of these streaming runs (cached like the tables)."""
    root = results_dir()
    return _latency(str(root), lbdata.folder_signature(root), include_unfinished(), tuple(sorted(run_ids)))
