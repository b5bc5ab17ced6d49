"""``lpmbench merge SHARD... --out DIR``: the run folders of a sharded evaluation (``run.shard=i/n``,
e.g. SLURM array jobs) combined into one run for the leaderboard.

The shards must be finished runs of one evaluation: the same protocol, suite (content hash),
model (adapter, parameters, version, fingerprint) and configuration (everything but the run's
id, shard, case selection, results folder and resume flag, the executor and the cache folder).
A case recorded in two shards is refused, as is an existing output folder. The merged run is written through
:class:`~lpmbench.results.RunStore` (records, series and kept videos), its corpus-level metrics
are reduced again over all cases, and its manifest's ``executor`` lists the shards (run id,
executor, hardware, number of cases), so per-shard provenance is kept.
"""
from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any, Iterable

from .results import Run, RunStore, ResultsError, load_run, utcnow, validate_run

# configuration keys that differ between the shards of one evaluation by design
_PER_SHARD = {"run": ("id", "shard", "cases", "results_dir", "resume"), "analysis": ("cache_dir",)}
_MODEL_KEYS = ("name", "adapter", "params", "version", "fingerprint", "timeout_s")


class MergeError(ResultsError):
    """The shards cannot be combined; the message names the shards and what differs."""


def _comparable_config(config: dict[str, Any]) -> dict[str, Any]:
    c = copy.deepcopy(config or {})
    c.pop("executor", None)
    for section, keys in _PER_SHARD.items():
        for k in keys:
            (c.get(section) or {}).pop(k, None)
    return c


def _differing(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differing(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}")
    return out


def check_shards(runs: list[Run]) -> None:
    """Raise :class:`MergeError` unless ``runs`` are finished, disjoint shards of one evaluation."""
    if len(runs) < 2:
        raise MergeError("lpmbench merge needs at least two run folders")
    for r in runs:
        fatal = [p for p in validate_run(r) if p.fatal]
        if fatal:
            raise MergeError(f"shard {r.dir}: {fatal[0]}")
    first = runs[0]
    m0 = first.manifest
    for r in runs[1:]:
        m = r.manifest
        if m.suite.get("hash") != m0.suite.get("hash"):
            raise MergeError(f"{r.dir} and {first.dir} ran different suites (hash {str(m.suite.get('hash'))[:12]} != "
                             f"{str(m0.suite.get('hash'))[:12]})")
        if m.protocol != m0.protocol:
            raise MergeError(f"{r.dir} and {first.dir} have different protocols ({m.protocol} != {m0.protocol}): metric "
                             "versions, feature backends or the human reference differ")
        model = [k for k in _MODEL_KEYS if m.model.get(k) != m0.model.get(k)]
        if model:
            raise MergeError(f"{r.dir} and {first.dir} ran different models (model.{model[0]}: "
                             f"{m.model.get(model[0])!r} != {m0.model.get(model[0])!r})")
        config = _differing(_comparable_config(m.config), _comparable_config(m0.config))
        if config:
            raise MergeError(f"{r.dir} and {first.dir} were run with different configurations ({', '.join(config[:5])})")
    seen: dict[str, Path] = {}
    for r in runs:
        for cid in r.cases:
            if cid in seen:
                raise MergeError(f"case {cid!r} is recorded in two shards, {seen[cid]} and {r.dir}; merge refuses "
                                 "duplicates (was a shard given twice, or were the shards not disjoint?)")
            seen[cid] = r.dir


def merge_runs(shards: Iterable[str | Path], out: str | Path) -> Path:
    """Combine finished shard runs into the run folder ``out`` (which must not exist yet)."""
    from .plan import plan_for_run
    from .runner import corpus_values

    runs = [load_run(s) for s in shards]
    if len({r.dir.resolve() for r in runs}) < len(runs):
        raise MergeError("the same run folder is given twice")
    check_shards(runs)
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise MergeError(f"output folder {out} exists and is not empty; choose another --out")
    plan = plan_for_run(runs[0].dir)  # the metrics whose corpus-level values are reduced again
    m = copy.deepcopy(runs[0].manifest)
    m.run_id = out.name
    m.suite["selected"] = [cid for r in runs for cid in (r.manifest.suite.get("selected") or list(r.cases))]
    m.started_at = min(r.manifest.started_at for r in runs)
    m.status = "running"
    m.finished_at = None
    m.config = copy.deepcopy(m.config)
    m.config.setdefault("run", {}).update({"id": out.name, "shard": None})
    m.executor = {"name": "merge", "merged_at": utcnow(),
                  "shards": [{"run_id": r.run_id, "shard": (r.manifest.config.get("run") or {}).get("shard"),
                              "executor": r.manifest.executor, "hardware": r.manifest.hardware, "n_cases": len(r.cases),
                              "started_at": r.manifest.started_at, "finished_at": r.manifest.finished_at} for r in runs]}
    from .config import to_yaml

    with RunStore(out) as store:
        store.write_manifest(m)
        store.write_config(to_yaml(m.config))
        for r in runs:
            for cid, rec in r.cases.items():
                rec = copy.deepcopy(rec)
                video = r.video_path(cid)
                if video is not None:
                    shutil.copyfile(video, store.video_path(cid))
                else:
                    rec.video = None
                series = r.series(cid)
                rec.series = store.write_series(cid, series) if series else None
                store.append(rec)
        m.corpus = corpus_values(plan, load_run(out).cases.values())
        m.status = "finished"
        m.finished_at = max(r.manifest.finished_at or "" for r in runs) or utcnow()
        store.write_manifest(m)
    return out
