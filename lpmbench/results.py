"""The results store: the only writer of ``results/``, and the loader everything downstream reads.

Layout of one run, ``results/<run_id>/``::

    manifest.json      RunManifest (below), rewritten atomically at start and at the end
    cases.jsonl        one CaseRecord per line, appended (and fsynced) as soon as a case finishes
    series/<case>.npz  per-frame curves of a case: arrays "<series>.t", "<series>.y" [, "<series>.y2"]
    videos/<case>.mp4  the generated video (optional; may be pruned to keep a repository small)
    config.yaml        the resolved Hydra configuration of the run

A case may appear more than once in ``cases.jsonl`` (a rescore appends a newer record); the
loader keeps the last record per case id. Schema version: :data:`SCHEMA_VERSION`.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

SCHEMA_VERSION = 1


class ResultsError(ValueError):
    """A run folder is malformed; the message names the file and the problem."""


@dataclass
class RunManifest:
    schema_version: int  # SCHEMA_VERSION of the writer
    run_id: str  # folder name
    harness: dict[str, Any]  # {"version": lpmbench version, "git_revision": str | None}
    suite: dict[str, Any]  # {"name", "version", "hash" (sha256 of manifest + assets), "n_cases", "path"}
    model: dict[str, Any]  # {"name" (display), "adapter", "version", "fingerprint", "streaming", "config"}
    metrics: dict[str, dict[str, Any]]  # metric name -> MetricSpec.to_dict() (version, direction, ...)
    backends: dict[str, dict[str, Any]]  # feature backend -> {"version", "weights_sha256", "available", "reason"}
    analysis: dict[str, Any]  # analyzer version and config (detection stride, embedding rate, ...)
    hardware: dict[str, Any]  # {"platform", "cpu", "cpu_count", "memory_gb", "gpu", "torch"}
    started_at: str  # ISO 8601 UTC
    finished_at: str | None = None  # None while running or when interrupted
    status: str = "running"  # running | finished | interrupted
    protocol: str = ""  # hash of (suite hash, metric versions, backends): only equal protocols are ranked
    config: dict[str, Any] = field(default_factory=dict)  # the resolved configuration

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunManifest":
        missing = [k for k in ("schema_version", "run_id", "harness", "suite", "model", "metrics", "started_at") if k not in d]
        if missing:
            raise ResultsError(f"manifest.json: missing field(s) {missing}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known.setdefault("backends", {})
        known.setdefault("analysis", {})
        known.setdefault("hardware", {})
        return cls(**known)


@dataclass
class CaseRecord:
    case_id: str
    status: str  # "ok" (metrics computed) | "error" (generation or analysis failed) | "skipped" (unsupported)
    mode: str
    style: str
    character: str
    tags: list[str]
    input_hash: str  # sha256 of the case's definition and input files (audio, references)
    values: dict[str, float] = field(default_factory=dict)  # metric name -> value
    unavailable: dict[str, str] = field(default_factory=dict)  # metric name -> reason
    # {"stage": generate|analyze|score, "type": exception class, "message": str, "stderr": tail} or None
    error: dict[str, Any] | None = None
    timing: dict[str, Any] = field(default_factory=dict)  # Timing.to_dict()
    video: str | None = None  # path relative to the run folder
    video_sha256: str | None = None
    features_key: str | None = None  # analysis cache key
    series: str | None = None  # path of the series file relative to the run folder
    details: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "CaseRecord":
        for k in ("case_id", "status"):
            if k not in d:
                raise ResultsError(f"case record without {k!r}")
        if d["status"] not in ("ok", "error", "skipped"):
            raise ResultsError(f"case {d['case_id']!r}: unknown status {d['status']!r}")
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        for k, default in (("mode", ""), ("style", ""), ("character", ""), ("tags", []), ("input_hash", "")):
            known.setdefault(k, default)
        for name, v in (known.get("values") or {}).items():
            if not isinstance(v, (int, float)) or not np.isfinite(v):
                raise ResultsError(f"case {d['case_id']!r}: metric {name!r} has non-finite value {v!r}")
        return cls(**known)


def utcnow() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _atomic_write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str))
    tmp.replace(path)


class RunWriter:
    """Writes one run. Every finished case is appended and flushed immediately: a crash loses nothing."""

    def __init__(self, run_dir: str | Path):
        self.dir = Path(run_dir)
        (self.dir / "series").mkdir(parents=True, exist_ok=True)
        (self.dir / "videos").mkdir(parents=True, exist_ok=True)

    def write_manifest(self, manifest: RunManifest) -> None:
        _atomic_write_json(self.dir / "manifest.json", asdict(manifest))

    def append(self, record: CaseRecord) -> None:
        line = json.dumps(asdict(record), default=str)
        with open(self.dir / "cases.jsonl", "a") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def write_series(self, case_id: str, series: dict[str, dict[str, Any]]) -> str | None:
        if not series:
            return None
        arrays: dict[str, np.ndarray] = {}
        for name, s in series.items():
            for key in ("t", "y", "y2"):
                if key in s and s[key] is not None:
                    arrays[f"{name}.{key}"] = np.asarray(s[key], dtype=np.float32)
        rel = f"series/{case_id}.npz"
        tmp = self.dir / (rel + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        tmp.replace(self.dir / rel)
        return rel


@dataclass
class Run:
    dir: Path
    manifest: RunManifest
    cases: dict[str, CaseRecord]  # last record per case id
    problems: list[str] = field(default_factory=list)  # non-fatal issues (bad lines skipped)

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def series(self, case_id: str) -> dict[str, dict[str, np.ndarray]]:
        rec = self.cases.get(case_id)
        if rec is None or not rec.series:
            return {}
        path = (self.dir / rec.series).resolve()
        if self.dir.resolve() not in path.parents or not path.is_file():
            return {}
        out: dict[str, dict[str, np.ndarray]] = {}
        with np.load(path, allow_pickle=False) as z:
            for k in z.files:
                name, _, key = k.rpartition(".")
                out.setdefault(name, {})[key] = z[k]
        return out

    def video_path(self, case_id: str) -> Path | None:
        rec = self.cases.get(case_id)
        if rec is None or not rec.video:
            return None
        p = (self.dir / rec.video).resolve()
        return p if self.dir.resolve() in p.parents and p.is_file() else None


def iter_records(path: Path) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, parsed dict or None, problem or None) for each line of a cases.jsonl."""
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield i, json.loads(line), None
            except json.JSONDecodeError as e:
                # a run killed mid-write leaves a torn last line: report it, keep the rest
                yield i, None, f"cases.jsonl line {i}: not valid JSON ({e.msg})"


def load_run(run_dir: str | Path, *, strict: bool = False) -> Run:
    """Load and validate a run folder. Raises :class:`ResultsError` when the manifest is unusable;
    bad case lines are skipped and listed in ``Run.problems`` (or raise when ``strict``)."""
    run_dir = Path(run_dir)
    mpath = run_dir / "manifest.json"
    if not mpath.is_file():
        raise ResultsError(f"{run_dir}: no manifest.json")
    try:
        mdata = json.loads(mpath.read_text())
    except json.JSONDecodeError as e:
        raise ResultsError(f"{mpath}: not valid JSON ({e.msg})") from None
    if not isinstance(mdata, dict):
        raise ResultsError(f"{mpath}: expected a JSON object")
    manifest = RunManifest.from_dict(mdata)
    if manifest.schema_version > SCHEMA_VERSION:
        raise ResultsError(f"{mpath}: schema version {manifest.schema_version} is newer than this lpmbench ({SCHEMA_VERSION})")
    cases: dict[str, CaseRecord] = {}
    problems: list[str] = []
    cpath = run_dir / "cases.jsonl"
    if cpath.is_file():
        for i, d, problem in iter_records(cpath):
            if problem is None:
                try:
                    rec = CaseRecord.from_dict(d if isinstance(d, dict) else {})
                    cases[rec.case_id] = rec
                    continue
                except (ResultsError, TypeError) as e:
                    problem = f"cases.jsonl line {i}: {e}"
            if strict:
                raise ResultsError(f"{run_dir}: {problem}")
            problems.append(problem)
    return Run(run_dir, manifest, cases, problems)


def list_runs(results_dir: str | Path) -> tuple[list[Run], list[tuple[Path, str]]]:
    """All loadable runs under a results folder, and (folder, problem) for those that are not."""
    runs: list[Run] = []
    bad: list[tuple[Path, str]] = []
    root = Path(results_dir)
    if not root.is_dir():
        return runs, bad
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            runs.append(load_run(d))
        except (ResultsError, OSError, TypeError, ValueError) as e:
            bad.append((d, str(e)))
    return runs, bad
