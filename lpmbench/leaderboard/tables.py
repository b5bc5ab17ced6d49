"""Leaderboard tables (no figures, no Streamlit): filters, per-protocol scoring, the main table.

One row per (protocol, model). Runs of the same model under the same protocol are pooled; for a
case present in several of them the record of the most recently started run is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..metric_api import DIMENSIONS
from ..scoring import GroupScores, score_group
from .data import ResultsData

MODES = ("speak", "listen", "silence", "duplex")


@dataclass(frozen=True)
class Filters:
    """Empty tuples mean 'all'. ``dimensions`` only narrows what is shown, not how it is scored."""

    suites: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ()


@dataclass
class LeaderboardTable:
    table: pd.DataFrame  # the main table, one row per (protocol, model)
    raw: pd.DataFrame  # same rows, raw metric means (columns = metric names)
    metric_scores: pd.DataFrame  # same rows, 0-100 metric scores
    coverage: pd.DataFrame  # same rows, number of cases with a value per metric
    groups: dict[str, GroupScores] = field(default_factory=dict)  # protocol -> scores
    anchors: pd.DataFrame = field(default_factory=pd.DataFrame)  # protocol, metric, anchors used
    notes: list[str] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)  # dimensions shown


def filter_options(data: ResultsData) -> dict[str, list[str]]:
    """Values offered by the filter widgets."""
    runs, cases = data.runs, data.cases
    styles = sorted(s for s in cases["style"].unique() if s) if not cases.empty else []
    return {
        "suites": sorted(runs["suite"].unique()) if not runs.empty else [],
        "modes": [m for m in MODES if not cases.empty and m in set(cases["mode"])],
        "styles": styles,
        "models": sorted(runs["model"].unique()) if not runs.empty else [],
        "dimensions": list(DIMENSIONS),
        "protocols": sorted(runs["protocol"].unique()) if not runs.empty else [],
    }


def selected_cases(data: ResultsData, filters: Filters) -> pd.DataFrame:
    """Case rows kept by the filters, joined with their run's model, protocol, suite and start time,
    with duplicates across pooled runs resolved (latest run wins)."""
    cases = data.cases.join(_run_cols(data))
    keep = pd.Series(True, index=cases.index)
    if filters.suites:
        keep &= cases["suite"].isin(filters.suites)
    if filters.modes:
        keep &= cases["mode"].isin(filters.modes)
    if filters.styles:
        keep &= cases["style"].isin(filters.styles)
    if filters.models:
        keep &= cases["model"].isin(filters.models)
    if filters.protocols:
        keep &= cases["protocol"].isin(filters.protocols)
    cases = cases[keep]
    # pooled runs: latest started run wins per (protocol, model, case)
    cases = cases.sort_values("started_at", kind="stable")
    cases = cases[~cases.duplicated(["protocol", "model", "case_id"], keep="last")]
    return cases


def _run_cols(data: ResultsData) -> pd.DataFrame:
    r = data.runs.set_index("run_id")[["model", "protocol", "suite", "streaming", "timed", "started_at"]]
    return r.reindex(data.cases["run_id"]).set_index(data.cases.index)


def build_table(data: ResultsData, filters: Filters = Filters(), *, n_boot: int = 1000, seed: int = 0,
                ci: float = 0.95) -> LeaderboardTable:
    """Score every (protocol, model) on the filtered cases; ranks are within a protocol only."""
    cases = selected_cases(data, filters)
    rows, raw_rows, score_rows, cov_rows, anchor_rows = [], [], [], [], []
    groups: dict[str, GroupScores] = {}
    notes: list[str] = []
    for protocol, pc in cases.groupby("protocol", sort=True):
        specs_map = data.specs.get(protocol, {})
        metrics = sorted(specs_map)  # a metric with no value anywhere is still listed (coverage 0)
        specs = [specs_map[m] for m in metrics]
        models = sorted(pc["model"].unique())
        case_ids = sorted(pc["case_id"].unique())
        m_idx = {m: i for i, m in enumerate(models)}
        c_idx = {c: i for i, c in enumerate(case_ids)}
        vals = np.full((len(models), len(case_ids), len(metrics)), np.nan)
        if metrics:
            block = data.values.reindex(columns=metrics).loc[pc.index].to_numpy(dtype=float)
            vals[pc["model"].map(m_idx).to_numpy(), pc["case_id"].map(c_idx).to_numpy()] = block
        kinds = [_kind(pc[pc["model"] == m]) for m in models]
        modes = pc.drop_duplicates("case_id").set_index("case_id")["mode"]
        contexts = [str(modes.get(c, "")) for c in case_ids]
        reference = data.references.get(protocol)
        corpus = _corpus_inputs(data, pc, metrics, specs, m_idx, c_idx, reference)
        g = score_group(vals, specs, kinds=kinds, contexts=contexts, reference=reference, corpus=corpus,
                        n_boot=n_boot, seed=seed, ci=ci)
        groups[protocol] = g
        notes += [f"protocol {protocol[:8]}: {n}" for n in g.notes]
        for k, name in enumerate(metrics):
            for ctx, a in g.scales[k].items():
                anchor_rows.append({"protocol": protocol, "metric": name, "context": ctx, "dimension": specs[k]["dimension"],
                                    "direction": specs[k]["direction"], "target": _fmt_target(specs[k].get("target")),
                                    "range": _fmt_target((a.low, a.high)) if a.kind == "target" else "",
                                    "anchor_0": a.zero, "anchor_100": a.full, "source": a.source})
        suite = ", ".join(sorted(pc["suite"].unique()))
        for i, model in enumerate(models):
            mc = pc[pc["model"] == model]
            row: dict[str, Any] = {
                "protocol": protocol, "suite": suite, "model": model,
                "rank": g.rank[i], "rank_lo": g.rank_lo[i], "rank_hi": g.rank_hi[i],
                "overall": g.overall[i], "overall_lo": g.overall_lo[i], "overall_hi": g.overall_hi[i],
            }
            for j, d in enumerate(g.dims):
                row[d], row[f"{d}_lo"], row[f"{d}_hi"] = g.dim_score[i, j], g.dim_lo[i, j], g.dim_hi[i, j]
            missing = [d for j, d in enumerate(g.dims) if not np.isfinite(g.dim_score[i, j])]
            row.update({
                "complete": not missing, "missing": ", ".join(missing),
                "cases": int(len(mc)), "cases_ok": int((mc["status"] == "ok").sum()), "protocol_cases": len(case_ids),
                "streaming": kinds[i] == "streaming", "kind": kinds[i], "runs": sorted(mc["run_id"].unique()),
            })
            rows.append(row)
            key = {"protocol": protocol, "model": model}
            raw_rows.append({**key, **dict(zip(metrics, g.metric_mean[i]))})
            score_rows.append({**key, **dict(zip(metrics, g.metric_score[i]))})
            cov_rows.append({**key, **dict(zip(metrics, g.metric_n[i]))})
    shown = [d for d in DIMENSIONS if (not filters.dimensions or d in filters.dimensions)
             and any(d in g.dims for g in groups.values())]
    base = ["protocol", "suite", "model", "rank", "rank_lo", "rank_hi", "overall", "overall_lo", "overall_hi"]
    cols = base + [c for d in shown for c in (d, f"{d}_lo", f"{d}_hi")] + [
        "complete", "missing", "cases", "cases_ok", "protocol_cases", "streaming", "kind", "runs"]
    table = pd.DataFrame(rows).reindex(columns=cols) if rows else pd.DataFrame(columns=cols)
    if not table.empty:
        table = table.sort_values(["protocol", "rank", "model"], na_position="last", kind="stable").reset_index(drop=True)
    order = table[["protocol", "model"]] if not table.empty else None

    def aligned(rs: list[dict]) -> pd.DataFrame:
        df = pd.DataFrame(rs)
        if order is None or df.empty:
            return df
        return order.merge(df, on=["protocol", "model"], how="left")

    return LeaderboardTable(table=table, raw=aligned(raw_rows), metric_scores=aligned(score_rows),
                            coverage=aligned(cov_rows), groups=groups, anchors=pd.DataFrame(anchor_rows),
                            notes=notes, dims=shown)


def _kind(mc: pd.DataFrame) -> str:
    """What kind of run a model's cases come from: which metrics can apply to it at all."""
    if bool(mc["streaming"].any()):
        return "streaming"
    return "offline" if bool(mc["timed"].any()) else "pregenerated"


def _corpus_inputs(data: ResultsData, pc: pd.DataFrame, metrics: list[str], specs: list[dict], m_idx: dict, c_idx: dict,
                   reference: Any) -> dict[int, tuple[dict[str, np.ndarray], Any]]:
    """Per corpus-level metric: its per-case states as (models, cases, ...) arrays and its reduce."""
    ks = [k for k, sp in enumerate(specs) if sp.get("level") == "corpus"]
    if not ks:
        return {}
    from ..metric_api import CorpusContext
    from ..plugins import load_metrics

    metric_set = load_metrics()
    ctx = CorpusContext(reference=reference)
    out: dict[int, tuple[dict[str, np.ndarray], Any]] = {}
    for k in ks:
        name = metrics[k]
        if name not in metric_set.specs:
            continue  # the plug-in that reduces it is not installed here
        found = [(i, data.states[i][name]) for i in pc.index if name in data.states.get(i, {})]
        if not found:
            continue
        shapes = {key: np.asarray(v, float).shape for key, v in found[0][1].items()}
        arrays = {key: np.zeros((len(m_idx), len(c_idx), *shape)) for key, shape in shapes.items()}
        for i, st in found:
            mi, ci = m_idx[pc.at[i, "model"]], c_idx[pc.at[i, "case_id"]]
            for key in arrays:
                a = np.asarray(st.get(key, 0.0), float)
                if a.shape == shapes[key]:
                    arrays[key][mi, ci] = a
        out[k] = (arrays, lambda state, _n=name: metric_set.reduce(_n, state, ctx))
    return out


def facet_keys(data: ResultsData) -> list[str]:
    """The facets cases carry (``category`` first when present), for :func:`breakdown`."""
    keys: dict[str, int] = {}
    for f in data.cases.get("facets", pd.Series(dtype=object)):
        for k in (f or {}):
            keys[k] = keys.get(k, 0) + 1
    return sorted(keys, key=lambda k: (k != "category", k))


def breakdown(data: ResultsData, key: str = "category", filters: Filters = Filters(), *, n_boot: int = 300,
              seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Every dimension and the overall score per (protocol, model, value of facet ``key``): each
    category scored on its own cases, with its own paired bootstrap interval, so a heat map of
    model x category shows where a model is strong and which differences are real.

    Columns: protocol, model, ``key`` (the value), cases, overall (+ _lo/_hi), each dimension
    (+ _lo/_hi). Categories with fewer than 2 cases are left out (no interval).
    """
    cases = selected_cases(data, filters)
    if cases.empty or "facets" not in cases:
        return pd.DataFrame()
    value = cases["facets"].map(lambda f: (f or {}).get(key))
    rows = []
    for v in sorted(x for x in value.dropna().unique()):
        sub = cases[value == v]
        if sub["case_id"].nunique() < 2:
            continue
        part = ResultsData(root=data.root, runs=data.runs, cases=data.cases.loc[sub.index],
                           values=data.values.loc[sub.index], unavailable=data.unavailable, specs=data.specs,
                           problems=data.problems, states={i: s for i, s in data.states.items() if i in sub.index},
                           references=data.references, include_unfinished=data.include_unfinished)
        lb = build_table(part, Filters(models=filters.models), n_boot=n_boot, seed=seed, ci=ci)
        for _, r in lb.table.iterrows():
            row = {"protocol": r["protocol"], "model": r["model"], key: v, "cases": r["cases"],
                   "overall": r["overall"], "overall_lo": r["overall_lo"], "overall_hi": r["overall_hi"]}
            for d in lb.dims:
                row.update({d: r[d], f"{d}_lo": r[f"{d}_lo"], f"{d}_hi": r[f"{d}_hi"]})
            rows.append(row)
    return pd.DataFrame(rows)


def display_table(lb: LeaderboardTable, *, decimals: int = 1) -> pd.DataFrame:
    """The main table for people: rank with its bootstrap interval, score per dimension, overall
    with its interval, completeness. Numeric columns stay numeric so they sort correctly."""
    t = lb.table
    if t.empty:
        return pd.DataFrame(columns=["protocol", "model", "rank", "rank range", "overall", "overall CI"])
    out = pd.DataFrame({
        "protocol": t["protocol"].str.slice(0, 8),
        "suite": t["suite"],
        "model": t["model"],
        "rank": t["rank"].astype("Int64"),
        "rank range": [_range(lo, hi, 0) for lo, hi in zip(t["rank_lo"], t["rank_hi"])],
        "overall": t["overall"].round(decimals),
        "overall CI": [_range(lo, hi, decimals) for lo, hi in zip(t["overall_lo"], t["overall_hi"])],
    })
    for d in lb.dims:
        out[d] = t[d].round(decimals)
        out[f"{d} CI"] = [_range(lo, hi, decimals) for lo, hi in zip(t[f"{d}_lo"], t[f"{d}_hi"])]
    out["complete"] = t["complete"]
    out["missing"] = t["missing"]
    out["cases"] = [f"{ok}/{n} of {p}" for ok, n, p in zip(t["cases_ok"], t["cases"], t["protocol_cases"])]
    return out


def _fmt_target(t: Any) -> str:
    if t is None:
        return ""
    if isinstance(t, (list, tuple)):
        return "-".join(f"{float(x):g}" for x in t)
    return f"{float(t):g}"


def _range(lo: float, hi: float, decimals: int) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return ""
    if decimals == 0:
        return f"{int(lo)}" if lo == hi else f"{int(lo)}-{int(hi)}"
    return f"{lo:.{decimals}f}-{hi:.{decimals}f}"
