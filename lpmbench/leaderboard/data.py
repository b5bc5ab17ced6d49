"""Results folder -> pandas DataFrames, read only through :mod:`lpmbench.results`.

Every run folder is checked with :func:`lpmbench.results.validate_run`, the same validator as
``lpmbench validate`` and ``rescore``: a run with a fatal problem is listed in
``ResultsData.problems`` and skipped; nothing here raises on bad data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..results import CaseRecord, ResultsError, Run, list_runs, protocol_hash, validate_run

CASE_COLUMNS = ["run_id", "case_id", "status", "mode", "style", "character", "tags", "facets", "error"]
MAX_REFERENCE_BYTES = 64 << 20  # a human reference file named by a run's manifest
RUN_COLUMNS = [
    "run_id", "model", "protocol", "suite", "suite_hash", "suite_path", "status", "streaming", "timed", "n_cases",
    "n_ok", "n_error", "n_skipped", "started_at", "finished_at", "hardware", "dir", "warnings",
]


@dataclass
class ResultsData:
    """Everything the leaderboard shows, as tables. Indexes of ``cases`` and ``values`` match."""

    root: Path
    runs: pd.DataFrame  # one row per usable run (RUN_COLUMNS)
    cases: pd.DataFrame  # one row per (run, case): CASE_COLUMNS
    values: pd.DataFrame  # same index as ``cases``, one float column per metric (NaN = no value)
    unavailable: pd.DataFrame  # run_id, case_id, metric, reason
    specs: dict[str, dict[str, dict[str, Any]]]  # protocol -> metric name -> spec dict
    problems: pd.DataFrame  # path, run_id, severity ("skipped" | "warning"), problem
    # corpus-level metric states: ``cases`` index -> {metric: {key: array}}
    states: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)  # protocol -> HumanReference | None
    include_unfinished: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.runs.empty


def default_results_dir(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> Path:
    """``--results DIR`` from ``argv``, else ``$LPMBENCH_RESULTS``, else ``./results``."""
    import os
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if environ is None else environ
    for i, a in enumerate(argv):
        if a == "--results" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if a.startswith("--results="):
            return Path(a.split("=", 1)[1])
    if env.get("LPMBENCH_RESULTS"):
        return Path(env["LPMBENCH_RESULTS"])
    return Path("results")


def folder_signature(root: str | Path) -> tuple:
    """A cheap fingerprint of a results folder (names, sizes and mtimes of every run's manifest and
    case log): the cache key of :func:`load_results`, so a new or grown run invalidates it."""
    root = Path(root)
    if not root.is_dir():
        return (str(root), "missing")
    sig: list[tuple] = [(str(root.resolve()),)]
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for name in ("manifest.json", "cases.jsonl"):
            try:
                st = (d / name).stat()
                sig.append((d.name, name, st.st_size, st.st_mtime_ns))
            except OSError:
                sig.append((d.name, name, None))
    return tuple(sig)


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ("" if v is None else str(v))


def _case_row(run_id: str, r: CaseRecord) -> dict[str, Any]:
    err = ""
    if isinstance(r.error, dict):
        err = f"{r.error.get('stage', '?')}: {r.error.get('type', '')}: {r.error.get('message', '')}"
    return {
        "run_id": run_id, "case_id": _text(r.case_id), "status": r.status, "mode": _text(r.mode),
        "style": _text(r.style), "character": _text(r.character),
        "tags": ", ".join(_text(t) for t in r.tags) if isinstance(r.tags, list) else _text(r.tags),
        "facets": facets(r.tags if isinstance(r.tags, list) else [], r.mode, r.style), "error": err,
    }


def facets(tags: list[Any], mode: Any = "", style: Any = "") -> dict[str, str]:
    """A case's facets for the per-category breakdown: its ``key:value`` tags (``category:listen``,
    ``emotion:happy``, ``language:es`` ...) plus its mode and character style."""
    out = {"mode": _text(mode), "style": _text(style)}
    for t in tags:
        key, sep, value = _text(t).partition(":")
        if sep and key and value and key not in out:
            out[key] = value
    return {k: v for k, v in out.items() if v}


def load_results(root: str | Path, *, include_unfinished: bool = False) -> ResultsData:
    """Load every run under ``root``. Unusable runs (malformed manifest, unscorable metric specs,
    records the tables cannot take, or, unless ``include_unfinished``, runs that are still running
    or were interrupted) are listed in ``problems`` and left out of the tables: a bad run folder
    costs its own row, never the others'. A run is known by its folder name (unique in ``root``)."""
    root = Path(root)
    runs, bad = list_runs(root)
    problems: list[dict[str, Any]] = [
        {"path": str(p), "run_id": p.name, "severity": "skipped", "problem": msg} for p, msg in bad
    ]
    run_rows: list[dict[str, Any]] = []
    case_rows: list[dict[str, Any]] = []
    value_rows: list[dict[str, float]] = []
    unavail: list[dict[str, str]] = []
    specs: dict[str, dict[str, dict[str, Any]]] = {}
    states: dict[int, dict[str, dict[str, Any]]] = {}
    references: dict[str, Any] = {}
    for run in runs:
        try:
            t = _run_tables(run, include_unfinished, references)
        except Exception as e:  # noqa: BLE001 - whatever a hostile folder holds, it is that run's problem
            t = _RunTables(problems=[f"unusable run folder ({type(e).__name__}: {str(e)[:300]})"], fatal=True)
        problems += [{"path": str(run.dir), "run_id": run.dir.name, "severity": "skipped" if t.fatal else "warning",
                      "problem": p} for p in t.problems]
        if t.fatal:
            continue
        pspecs = specs.setdefault(t.row["protocol"], {})
        for name, spec in t.specs.items():
            pspecs.setdefault(name, spec)
        for i, st in t.states.items():
            states[len(case_rows) + i] = st
        case_rows += t.cases
        value_rows += t.values
        unavail += t.unavailable
        run_rows.append(t.row)
    cases = pd.DataFrame(case_rows, columns=CASE_COLUMNS)
    values = pd.DataFrame(value_rows, index=cases.index, dtype=float)
    values = values.reindex(columns=sorted(values.columns))
    return ResultsData(
        root=root,
        runs=pd.DataFrame(run_rows, columns=RUN_COLUMNS),
        cases=cases,
        values=values,
        unavailable=pd.DataFrame(unavail, columns=["run_id", "case_id", "metric", "reason"]),
        specs=specs,
        states=states,
        references=references,
        problems=pd.DataFrame(problems, columns=["path", "run_id", "severity", "problem"]),
        include_unfinished=include_unfinished,
    )


@dataclass
class _RunTables:
    """One run's share of the tables, built completely before any of it is added."""

    problems: list[str] = field(default_factory=list)
    fatal: bool = False
    row: dict[str, Any] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    values: list[dict[str, float]] = field(default_factory=list)
    unavailable: list[dict[str, str]] = field(default_factory=list)
    states: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)  # index into ``cases``
    specs: dict[str, dict[str, Any]] = field(default_factory=dict)


def _run_tables(run: Run, include_unfinished: bool, references: dict[str, Any]) -> _RunTables:
    m = run.manifest
    found = validate_run(run, require_finished=not include_unfinished, check_files=False)
    errs = [str(p) for p in found if p.fatal]
    if errs:
        return _RunTables(problems=errs, fatal=True)
    out = _RunTables(problems=[str(p) for p in found])
    run_id = run.dir.name
    if m.run_id != run_id:
        out.problems.append(f"the manifest calls this run {m.run_id!r}: it is shown under its folder name")
    protocol = _text(m.protocol) or protocol_hash(_text(m.suite.get("hash")), m.metrics, m.backends,
                                                  (m.reference or {}).get("id"))
    if protocol not in references:
        references[protocol], why = resolve_reference(m.reference or {})
        if why:
            out.problems.append(why)
    out.specs = {name: {"name": name, **spec} for name, spec in m.metrics.items()}
    for r in run.cases.values():
        if r.states:
            out.states[len(out.cases)] = r.states
        out.cases.append(_case_row(run_id, r))
        out.values.append({k: float(v) for k, v in r.values.items() if k in m.metrics})
        for k, reason in (r.unavailable or {}).items():
            out.unavailable.append({"run_id": run_id, "case_id": r.case_id, "metric": _text(k), "reason": _text(reason)})
    statuses = [r.status for r in run.cases.values()]
    hw = m.hardware if isinstance(m.hardware, dict) else {}
    out.row = {
        "run_id": run_id, "model": _model_label(m.model), "protocol": protocol,
        "suite": _text(m.suite.get("name")), "suite_hash": _text(m.suite.get("hash")),
        "suite_path": _text(m.suite.get("path")), "status": m.status,
        "streaming": _streamed(run, m.model), "timed": _timed(run), "n_cases": len(statuses),
        "n_ok": statuses.count("ok"), "n_error": statuses.count("error"), "n_skipped": statuses.count("skipped"),
        "started_at": _text(m.started_at), "finished_at": _text(m.finished_at),
        "hardware": ", ".join(_text(hw.get(k)) for k in ("gpu", "cpu") if hw.get(k)),
        "dir": str(run.dir), "warnings": len(run.problems),
    }
    return out


def resolve_reference(recorded: dict[str, Any]) -> tuple[Any, str]:
    """The human reference a run was scored against (by the id it recorded), or (None, why not)."""
    from ..reference import ReferenceError, bundled_reference_path, load_reference

    if not recorded.get("id"):
        return None, ""
    for path in (recorded.get("path"), None if bundled_reference_path().is_file() else "skip"):
        if path == "skip" or (path is not None and not _readable_reference(path)):
            continue
        try:
            ref = load_reference(path)
        except ReferenceError:
            continue
        if ref.id == recorded["id"]:
            return ref, ""
    return None, (f"human reference {recorded.get('name', '?')} (id {recorded['id']}) not found here: natural metrics "
                  "are scored on their specs' ranges")


def _readable_reference(path: Any) -> bool:
    """Whether a reference path recorded in a manifest may be read: a regular file of a sane size
    (a manifest naming /dev/zero, a FIFO or a huge file must not hang or exhaust the app)."""
    try:
        p = Path(path)
        return p.is_file() and p.stat().st_size <= MAX_REFERENCE_BYTES
    except (OSError, TypeError, ValueError):
        return False


def _timed(run: Run) -> bool:
    """Whether any case was timed generation (pre-generated videos, model=folder, are not)."""
    return any(isinstance(r.timing, dict) and r.timing.get("wall_s") is not None for r in run.cases.values())


def _streamed(run: Run, model: dict[str, Any]) -> bool:
    """Whether the run was generated through the streaming path (the cases' timing says so; an
    adapter able to stream may still have been run offline). Falls back on the model's flag."""
    flags = [r.timing.get("streaming") for r in run.cases.values() if isinstance(r.timing, dict) and "streaming" in r.timing]
    return any(bool(f) for f in flags) if flags else bool(model.get("streaming"))


def _model_label(model: dict[str, Any]) -> str:
    """Display name of a model: its name, plus its version when the manifest records one."""
    name = _text(model.get("name")) or "?"
    version = _text(model.get("version"))
    return f"{name} {version}".strip() if version and version not in name else name


def run_of(data: ResultsData, run_id: str) -> Run | None:
    """Reload one run (for series and videos), or None when it has gone or is unusable."""
    from ..results import load_run

    rows = data.runs[data.runs["run_id"] == run_id]
    if rows.empty:
        return None
    try:
        return load_run(rows.iloc[0]["dir"])
    except (ResultsError, OSError, ValueError, TypeError):
        return None


def load_suite_soft(name: str, path: str) -> tuple[Any, str]:
    """The run's suite (for reference images, audio and prompts), or (None, why not)."""
    from ..case import SuiteError, load_suite

    reasons = []
    for candidate in (path, name):
        if not candidate:
            continue
        try:
            return load_suite(candidate, check_audio=False), ""
        except (SuiteError, OSError, ValueError, TypeError, ImportError) as e:
            reasons.append(str(e))
    return None, "; ".join(reasons) or "the run does not name its suite"


def case_metrics(data: ResultsData, run_id: str, case_id: str) -> pd.DataFrame:
    """Every metric of one case: value or the reason it is unavailable, with dimension and direction."""
    sel = (data.cases["run_id"] == run_id) & (data.cases["case_id"] == case_id)
    idx = data.cases.index[sel]
    protocol = data.runs.loc[data.runs["run_id"] == run_id, "protocol"]
    specs = data.specs.get(protocol.iloc[0], {}) if len(protocol) else {}
    vals = data.values.loc[idx[0]] if len(idx) else pd.Series(dtype=float)
    ua = data.unavailable[(data.unavailable["run_id"] == run_id) & (data.unavailable["case_id"] == case_id)]
    reasons = dict(zip(ua["metric"], ua["reason"]))
    rows = []
    for name in sorted(set(specs) | set(reasons) | {k for k, v in vals.items() if np.isfinite(v)}):
        v = vals.get(name, np.nan)
        spec = specs.get(name, {})
        rows.append({
            "metric": name, "dimension": spec.get("dimension", ""), "direction": spec.get("direction", ""),
            "value": float(v) if np.isfinite(v) else np.nan,
            "unavailable": "" if np.isfinite(v) else reasons.get(name, "no value recorded"),
            "unit": spec.get("unit", ""), "backend": spec.get("backend", ""),
        })
    return pd.DataFrame(rows, columns=["metric", "dimension", "direction", "value", "unavailable", "unit", "backend"])


def case_series(run: Run | None, case_id: str) -> tuple[dict[str, dict[str, np.ndarray]], str]:
    """A case's per-frame series, or ({}, why not) when its file is damaged or oversized."""
    if run is None:
        return {}, ""
    try:
        return run.series(case_id), ""
    except ResultsError as e:
        return {}, str(e)


def latency_samples(data: ResultsData, run_ids: list[str] | None = None, *, max_cases: int = 200) -> pd.DataFrame:
    """Per-frame latencies (series ``realtime.latency``) of streaming runs: columns model, run_id,
    case_id, latency_s. Reads at most ``max_cases`` series files."""
    runs = data.runs[data.runs["streaming"]]
    if run_ids is not None:
        runs = runs[runs["run_id"].isin(run_ids)]
    parts, read = [], 0
    for _, r in runs.iterrows():
        run = run_of(data, r["run_id"])
        if run is None:
            continue
        for case_id in sorted(run.cases):
            if read >= max_cases:
                break
            read += 1
            try:
                s = run.series(case_id, names=("realtime.latency",)).get("realtime.latency")
            except ResultsError:  # a damaged or oversized file: that case has no latency to show
                continue
            if s and "y" in s:
                y = np.asarray(s["y"], dtype=float).ravel()
                parts.append(pd.DataFrame({"model": r["model"], "run_id": r["run_id"], "case_id": case_id, "latency_s": y}))
    cols = ["model", "run_id", "case_id", "latency_s"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)
