"""Figures (altair / Vega-Lite, which ships with Streamlit), separate from the table code.

Every function returns a :class:`ChartResult`: a chart, or the reason it cannot be drawn, so a
page shows the reason instead of breaking.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

MAX_POINTS = 5000  # per series, so long videos stay light in the browser


@dataclass
class ChartResult:
    chart: Any | None  # an altair chart
    reason: str = ""  # why there is no chart

    @property
    def ok(self) -> bool:
        return self.chart is not None


def _alt():
    import altair as alt

    return alt


def radar(table: pd.DataFrame, dims: Sequence[str], models: Sequence[str] | None = None) -> ChartResult:
    """A radar (spider) chart per model over the dimensions, 0-100. A polygon needs every axis, so
    a model with a missing dimension is left out and named in ``reason`` (never drawn as 0)."""
    dims = [d for d in dims if d in table.columns]
    if len(dims) < 3:
        return ChartResult(None, f"a radar needs at least 3 dimensions with scores (has {len(dims)}: {', '.join(dims)})")
    t = table if models is None else table[table["model"].isin(models)]
    if t.empty:
        return ChartResult(None, "no model selected")
    label = t["model"].astype(str) + (" [" + t["protocol"].astype(str).str.slice(0, 8) + "]" if "protocol" in t else "")
    complete = t[dims].notna().all(axis=1)
    skipped = sorted(label[~complete])
    t, label = t[complete], label[complete]
    if t.empty:
        return ChartResult(None, f"every selected model misses a dimension ({', '.join(skipped)})")
    alt = _alt()
    angles = np.pi / 2 - 2 * np.pi * np.arange(len(dims)) / len(dims)
    pts = []
    for (_, row), lab in zip(t.iterrows(), label):
        for k in list(range(len(dims))) + [0]:  # closed polygon
            r = float(row[dims[k]])
            pts.append({"model": lab, "dimension": dims[k], "score": round(r, 1), "order": len(pts),
                        "x": r * np.cos(angles[k]), "y": r * np.sin(angles[k])})
    grid = []
    for level in (25, 50, 75, 100):
        for k in list(range(len(dims))) + [0]:
            grid.append({"level": level, "order": len(grid), "x": level * np.cos(angles[k]), "y": level * np.sin(angles[k])})
    labels = pd.DataFrame({"dimension": dims, "x": 118 * np.cos(angles), "y": 118 * np.sin(angles)})
    scale = alt.Scale(domain=[-135, 135])
    axis = dict(scale=scale, axis=None)
    g = alt.Chart(pd.DataFrame(grid)).mark_line(color="#ccc", strokeWidth=1).encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis), detail="level:N", order="order:Q")
    txt = alt.Chart(labels).mark_text(fontSize=12).encode(x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis), text="dimension:N")
    poly = alt.Chart(pd.DataFrame(pts)).mark_line(point=True, strokeWidth=2).encode(
        x=alt.X("x:Q", **axis), y=alt.Y("y:Q", **axis), color=alt.Color("model:N", title="model"), order="order:Q",
        tooltip=["model:N", "dimension:N", "score:Q"])
    chart = (g + txt + poly).properties(width=420, height=420)
    reason = f"left out (a dimension is missing): {', '.join(skipped)}" if skipped else ""
    return ChartResult(chart, reason)


def interval_chart(table: pd.DataFrame, column: str = "overall") -> ChartResult:
    """Score with its bootstrap interval per model: overlapping bars cannot be told apart."""
    lo, hi = f"{column}_lo", f"{column}_hi"
    if column not in table.columns or lo not in table.columns:
        return ChartResult(None, f"no {column!r} scores in this table")
    t = table[table[column].notna()].copy()
    if t.empty:
        return ChartResult(None, f"no model has a complete {column!r} score")
    alt = _alt()
    t["label"] = t["model"].astype(str) + " [" + t["protocol"].astype(str).str.slice(0, 8) + "]"
    t = t[["label", column, lo, hi]].rename(columns={column: "score", lo: "lo", hi: "hi"})
    base = alt.Chart(t).encode(y=alt.Y("label:N", sort=alt.EncodingSortField("score", order="descending"), title=None,
                                       axis=alt.Axis(labelLimit=400)))
    bars = base.mark_rule(strokeWidth=2).encode(x=alt.X("lo:Q", scale=alt.Scale(domain=[0, 100]), title=f"{column} (0-100)"), x2="hi:Q")
    dots = base.mark_point(filled=True, size=60).encode(x="score:Q", tooltip=["label:N", "score:Q", "lo:Q", "hi:Q"])
    return ChartResult((bars + dots).properties(height=max(160, 26 * len(t)), title=f"{column} with bootstrap interval"))


def _downsample(t: np.ndarray, *ys: np.ndarray) -> tuple[np.ndarray, ...]:
    n = len(t)
    if n <= MAX_POINTS:
        return (t, *ys)
    idx = np.linspace(0, n - 1, MAX_POINTS).astype(int)
    return (t[idx], *(y[idx] for y in ys))


def series_chart(series: Mapping[str, Mapping[str, np.ndarray]], name: str, *, title: str | None = None,
                 y_title: str = "", y2_title: str = "") -> ChartResult:
    """One per-frame curve (and its second curve ``y2`` on its own axis, e.g. the audio envelope)."""
    s = series.get(name)
    if s is None:
        return ChartResult(None, f"this case has no {name!r} series (the metric was not computed or recorded no curve)")
    if "y" not in s:
        return ChartResult(None, f"series {name!r} has no values")
    y = np.asarray(s["y"], dtype=float).ravel()
    t = np.asarray(s["t"], dtype=float).ravel() if "t" in s else np.arange(len(y), dtype=float)
    if len(t) != len(y) or len(y) == 0:
        return ChartResult(None, f"series {name!r} is malformed: {len(t)} times for {len(y)} values")
    y2 = np.asarray(s["y2"], dtype=float).ravel() if "y2" in s else None
    if y2 is not None and len(y2) != len(y):
        y2 = None
    if not np.isfinite(y).any():
        return ChartResult(None, f"series {name!r} has no finite value (e.g. no face found in any frame)")
    alt = _alt()
    t, y, *rest = _downsample(t, y, *([y2] if y2 is not None else []))
    df = pd.DataFrame({"t": t, "y": np.where(np.isfinite(y), y, np.nan)})
    line = alt.Chart(df).mark_line().encode(x=alt.X("t:Q", title="time (s)"),
                                           y=alt.Y("y:Q", title=y_title or name, scale=alt.Scale(zero=False)))
    chart = line
    if rest:
        df2 = pd.DataFrame({"t": t, "y2": np.where(np.isfinite(rest[0]), rest[0], np.nan)})
        l2 = alt.Chart(df2).mark_line(color="#e45756", opacity=0.7).encode(
            x="t:Q", y=alt.Y("y2:Q", title=y2_title or f"{name} (second curve)", scale=alt.Scale(zero=False)))
        chart = alt.layer(line, l2).resolve_scale(y="independent")
    return ChartResult(chart.properties(title=title or name, height=200))


def head_pose_chart(series: Mapping[str, Mapping[str, np.ndarray]]) -> ChartResult:
    """Yaw, pitch and roll over time in one chart (series head_pose.yaw / .pitch / .roll)."""
    parts = []
    for axis in ("yaw", "pitch", "roll"):
        s = series.get(f"head_pose.{axis}")
        if s is None or "y" not in s:
            continue
        y = np.asarray(s["y"], dtype=float).ravel()
        t = np.asarray(s.get("t", np.arange(len(y))), dtype=float).ravel()
        if len(t) != len(y):
            continue
        t, y = _downsample(t, y)
        parts.append(pd.DataFrame({"t": t, "degrees": y, "angle": axis}))
    if not parts:
        return ChartResult(None, "this case has no head_pose.yaw/pitch/roll series")
    alt = _alt()
    df = pd.concat(parts)
    return ChartResult(alt.Chart(df).mark_line().encode(x=alt.X("t:Q", title="time (s)"), y=alt.Y("degrees:Q"),
                                                        color="angle:N").properties(title="head pose", height=200))


def latency_chart(samples: pd.DataFrame) -> ChartResult:
    """Distribution of per-frame latency (s) per model: a histogram (``samples``: model, latency_s)."""
    if samples is None or samples.empty:
        return ChartResult(None, "no streaming run with a per-frame 'realtime.latency' series in the selection")
    s = samples[np.isfinite(samples["latency_s"])]
    if s.empty:
        return ChartResult(None, "the latency series hold no finite values")
    alt = _alt()
    if len(s) > 50000:
        s = s.sample(50000, random_state=0)
    hist = alt.Chart(s).mark_bar(opacity=0.6).encode(
        x=alt.X("latency_s:Q", bin=alt.Bin(maxbins=40), title="latency per frame (s)"),
        y=alt.Y("count():Q", stack=None, title="frames"), color="model:N")
    return ChartResult(hist.properties(height=220, title="per-frame latency"))


def heatmap(table: pd.DataFrame, facet: str, score: str = "overall") -> ChartResult:
    """Model x category heat map of one score (0-100) from :func:`lpmbench.leaderboard.tables.breakdown`,
    the bootstrap interval in the tooltip. Missing cells stay empty (never drawn as 0)."""
    if table is None or table.empty or facet not in table or score not in table:
        return ChartResult(None, f"no per-{facet} scores for {score} in this selection")
    t = table[["model", facet, score, f"{score}_lo", f"{score}_hi", "cases"]].dropna(subset=[score]).copy()
    if t.empty:
        return ChartResult(None, f"no model has a {score} score in any {facet}")
    t["interval"] = [f"{lo:.1f}-{hi:.1f}" if np.isfinite(lo) and np.isfinite(hi) else "" for lo, hi in
                     zip(t[f"{score}_lo"], t[f"{score}_hi"])]
    t["label"] = t[score].round(0).astype(int).astype(str)
    alt = _alt()
    base = alt.Chart(t).encode(x=alt.X(f"{facet}:N", title=facet), y=alt.Y("model:N", title=None))
    cells = base.mark_rect().encode(
        color=alt.Color(f"{score}:Q", scale=alt.Scale(domain=[0, 100], scheme="viridis"), title=score),
        tooltip=["model", facet, alt.Tooltip(f"{score}:Q", format=".1f"), "interval", "cases"])
    text = base.mark_text(color="white").encode(text="label:N")
    return ChartResult((cells + text).properties(title=f"{score} by {facet} (95% bootstrap intervals in the tooltip)"))
