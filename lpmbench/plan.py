"""The evaluation plan: everything one evaluation needs, built once from the Hydra configuration.

``lpmbench evaluate``, ``score`` and ``rescore``, the tests and notebooks all build the same
:class:`EvaluationPlan` (:func:`build_plan` from overrides, :func:`plan_for_run` from a run's frozen
configuration), so there is one way of reading configuration:

- the suite (any registered suite name, or a folder),
- the generator (an :class:`~lpmbench.worker.AdapterSpec` and its display name),
- the metric set (selection, exclusions and per-metric options),
- the analysis configuration, whose extractors are *derived* from what the chosen metrics
  require (a metric needing SyncNet features turns the SyncNet extractor on) plus any the user
  names,
- the run options (results folder, run id, resume, per-case timeout, videos kept, case subset,
  streaming, shard).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from .analysis.config import AnalysisConfig
from .case import Suite, as_id, valid_id
from .plugins import MetricSet, load_metrics


@dataclass(frozen=True)
class RunOptions:
    """The ``run`` section of the configuration (lpmbench/conf/config.yaml documents each field)."""

    results_dir: Path = Path("results")
    run_id: str | None = None
    resume: bool = False
    timeout_s: float = 600.0  # per case, generation only; enforced by the worker
    keep_videos: bool | tuple[str, ...] = True  # or case-id globs: keep only those videos
    cases: tuple[str, ...] | None = None  # case ids or glob patterns; None = all
    stream: bool = False  # drive streaming adapters through the paced replay
    paced: bool = True
    chunk_s: float = 0.04
    shard: tuple[int, int] | None = None  # (i, n): every n-th selected case from the i-th (array jobs)

    @classmethod
    def from_config(cls, run: dict[str, Any]) -> "RunOptions":
        keep = run.get("keep_videos", True)
        cases = run.get("cases")
        timeout = float(run.get("timeout_s") or 600.0)
        if not timeout > 0:
            raise ValueError(f"run.timeout_s must be > 0, got {run.get('timeout_s')!r}")
        run_id = run.get("id")
        if isinstance(run_id, int) and not isinstance(run_id, bool):
            run_id = str(run_id)  # run.id=2024 reaches us as a number
        if run_id is not None and not valid_id(run_id):
            raise ValueError(f"run.id {run_id!r} is not a valid run id: it names the folder results/<id>, so letters, "
                             "digits, '_', '.', '-', not starting with '.' or '-'")
        return cls(
            results_dir=Path(run.get("results_dir") or "results"), run_id=run_id, resume=bool(run.get("resume")),
            timeout_s=timeout, keep_videos=tuple(keep) if isinstance(keep, (list, tuple)) else bool(keep),
            cases=tuple(str(c) for c in cases) if cases else None, stream=bool(run.get("stream")),
            paced=bool(run.get("paced", True)), chunk_s=float(run.get("chunk_s") or 0.04),
            shard=parse_shard(run.get("shard")),
        )

    def id_for(self, model_name: str, suite_name: str) -> str:
        """The run id: ``run.id``, else ``<model>-<suite>-<YYYYmmdd-HHMMSS>`` made a valid folder name
        whatever the model is called (``../x``, ``a/b``)."""
        if self.run_id is not None:
            if not valid_id(self.run_id):  # set past from_config (with_run, a notebook)
                raise ValueError(f"run id {self.run_id!r} is not a valid folder name")
            return self.run_id
        return as_id(f"{model_name}-{suite_name}-{time.strftime('%Y%m%d-%H%M%S')}")


def parse_shard(value: Any) -> tuple[int, int] | None:
    """``run.shard=i/n`` -> (i, n) with 0 <= i < n; None or empty -> None."""
    if value is None or value == "":
        return None
    i, slash, n = str(value).partition("/")
    try:
        shard = (int(i), int(n))
    except ValueError:
        shard = None
    if not slash or shard is None or not 0 <= shard[0] < shard[1]:
        raise ValueError(f"run.shard must be i/n with 0 <= i < n (e.g. 0/4), got {value!r}")
    return shard


@dataclass
class EvaluationPlan:
    config: dict[str, Any]  # the resolved configuration, frozen into the run
    suite: Suite | None  # None for `lpmbench score` (one video, no suite)
    adapter: Any  # lpmbench.worker.AdapterSpec
    model_name: str
    metrics: MetricSet
    metric_options: dict[str, Any]
    analysis: AnalysisConfig
    cache_dir: Path | None
    run: RunOptions
    includes: tuple[str, ...] = ()
    reference: Any = None  # lpmbench.reference.HumanReference the natural metrics are scored against
    executor: dict[str, Any] = field(default_factory=lambda: {"name": "local"})  # the executor section
    notes: list[str] = field(default_factory=list)  # what the plan decided on its own (derived extractors)

    def analyzer(self):
        """A fresh :class:`~lpmbench.analysis.Analyzer` for this plan (close it when done)."""
        from .analysis import Analyzer

        return Analyzer(self.analysis, cache_dir=self.cache_dir)

    def with_run(self, **changes: Any) -> "EvaluationPlan":
        return replace(self, run=replace(self.run, **changes))


def derive_extractors(metrics: MetricSet, config: AnalysisConfig) -> tuple[AnalysisConfig, list[str]]:
    """The analysis configuration with the extractors the metrics need added; and notes saying so."""
    from .analysis.extractors import extractors_for

    needed = [n for n in extractors_for(metrics.requires()) if n != config.identity_backend and n not in config.extractors]
    if not needed:
        return config, []
    cfg = replace(config, extractors=[*config.extractors, *needed])
    return cfg, [f"analysis extractor(s) {', '.join(needed)} enabled: the selected metrics need their features"]


def plan_from_config(c: dict[str, Any], *, include: Iterable[str] = (), need_suite: bool = True) -> EvaluationPlan:
    """The plan of a resolved configuration (a plain dict, as frozen into every run)."""
    from .case import load_suite
    from .worker import AdapterSpec

    includes = tuple(dict.fromkeys([*(c.get("include") or []), *include]))
    suite_cfg = c.get("suite") or {}
    suite = load_suite(suite_cfg.get("path") or suite_cfg.get("name")) if need_suite else None
    model = c.get("model") or {}
    adapter = AdapterSpec(adapter=str(model.get("adapter")), params=dict(model.get("params") or {}),
                          include=tuple(i for i in includes if i.endswith(".py")))
    mcfg = c.get("metrics") or {}
    metrics = load_metrics(include=includes, select=mcfg.get("select") or ["*"], exclude=mcfg.get("exclude") or [])
    analysis_cfg = c.get("analysis") or {}
    analysis, notes = derive_extractors(metrics, AnalysisConfig.from_dict(analysis_cfg.get("options")))
    cache = analysis_cfg.get("cache_dir")
    from .reference import bundled_reference_path, load_reference

    ref_path = (c.get("reference") or {}).get("path")
    reference = None
    if ref_path or bundled_reference_path().is_file():
        reference = load_reference(ref_path)
    else:
        notes.append("no human reference installed: natural metrics are scored on their specs' ranges")
    return EvaluationPlan(
        config=c, suite=suite, adapter=adapter, model_name=str(model.get("name") or model.get("adapter")),
        metrics=metrics, metric_options=dict(mcfg.get("options") or {}), analysis=analysis,
        cache_dir=Path(cache) if cache else None, run=RunOptions.from_config(c.get("run") or {}),
        includes=includes, reference=reference, executor=dict(c.get("executor") or {"name": "local"}), notes=notes,
    )


def compose_config(overrides: Iterable[str] = (), *, include: Iterable[str] = ()) -> dict[str, Any]:
    """The resolved configuration for these overrides, after importing the ``include`` files (their
    registrations make names such as ``model=NAME`` valid)."""
    from .config import compose, to_container
    from .registry import include_file

    for inc in include:
        if str(inc).endswith(".py"):
            include_file(inc)
    return to_container(compose(list(overrides)))


def build_plan(overrides: Iterable[str] = (), *, include: Iterable[str] = (), need_suite: bool = True) -> EvaluationPlan:
    """Compose ``lpmbench/conf`` with command-line style overrides and build the plan."""
    include = list(include)
    return plan_from_config(compose_config(overrides, include=include), include=include, need_suite=need_suite)


def plan_for_run(run_dir: str | Path, overrides: Iterable[str] = (), *, include: Iterable[str] = ()) -> EvaluationPlan:
    """The plan a run was made with (its frozen configuration), with ``overrides`` on top: what
    ``lpmbench rescore`` uses, so a ``metrics=all`` run rescored stays ``metrics=all``."""
    from .config import compose, to_container
    from .results import ResultsError, load_run

    run = load_run(run_dir)
    frozen = run.manifest.config
    if not isinstance(frozen, dict) or not frozen.get("model"):
        raise ResultsError(f"{run_dir}: the manifest holds no frozen configuration to rescore with")
    cfg = to_container(compose(list(overrides), base=frozen))
    return plan_from_config(cfg, include=include)
