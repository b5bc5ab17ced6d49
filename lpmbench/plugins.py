"""Metric plug-ins gathered into one :class:`MetricSet` that scores a case: every entry of the
:data:`lpmbench.registry.METRICS` registry (built-in modules, the ``lpmbench.metrics`` entry-point
group) plus ``--include`` files."""
from __future__ import annotations

import fnmatch
import types
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .metric_api import CorpusContext, Metric, MetricContext, MetricOutput, MetricSpec
from .registry import METRICS, RegistryError, include_file, load_object


class PluginError(RuntimeError):
    pass


def metrics_from(obj: Any, origin: str) -> list[Metric]:
    """Accept a Metric instance or subclass, a list of them, or a module exposing METRICS."""
    if isinstance(obj, Metric):
        return [obj]
    if isinstance(obj, type) and issubclass(obj, Metric):
        return [obj()]
    if isinstance(obj, types.ModuleType):
        if hasattr(obj, "METRICS"):
            return metrics_from(list(obj.METRICS), origin)
        return [v for v in vars(obj).values() if isinstance(v, Metric)]
    if isinstance(obj, (list, tuple)):
        out: list[Metric] = []
        for o in obj:
            out.extend(metrics_from(o, origin))
        return out
    raise PluginError(f"{origin}: expected a Metric, a Metric subclass, a list of them or a module with METRICS; got {type(obj).__name__}")


@dataclass
class MetricSet:
    metrics: list[Metric]
    origins: dict[str, str] = field(default_factory=dict)  # metric name -> where it came from
    errors: dict[str, str] = field(default_factory=dict)  # plugin source -> why it failed to load

    @property
    def specs(self) -> dict[str, MetricSpec]:
        return {s.name: s for m in self.metrics for s in m.specs}

    def requires(self) -> set[str]:
        return {r for m in self.metrics for r in m.requires}

    def backends(self) -> dict[str, dict[str, Any]]:
        """The data files the metrics read themselves (:meth:`Metric.backend_info`), by backend."""
        return {k: v for m in self.metrics for k, v in m.backend_info().items()}

    def compute(self, ctx: MetricContext) -> MetricOutput:
        """Run every metric; a metric that raises is recorded as unavailable, never crashes the case."""
        out = MetricOutput()
        for m in self.metrics:
            try:
                r = m(ctx)
            except Exception as e:  # a buggy plugin must not cost the other metrics
                r = MetricOutput(unavailable={n: f"metric crashed: {type(e).__name__}: {e}" for n in m.names})
            out.values.update(r.values)
            out.unavailable.update(r.unavailable)
            out.series.update(r.series)
            out.details.update(r.details)
            out.states.update(r.states)
        return out

    def corpus_names(self) -> list[str]:
        return [n for n, s in self.specs.items() if s.level == "corpus"]

    def reduce(self, name: str, state: dict[str, Any], ctx: "CorpusContext") -> float:
        """The value of corpus-level metric ``name`` from a pooled state (MetricUnavailable if none)."""
        for m in self.metrics:
            if name in m.names:
                return float(m.reduce(name, {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}, ctx))
        raise KeyError(f"no metric {name!r} in this metric set")


def load_metrics(include: Iterable[str] = (), select: Iterable[str] = ("*",), exclude: Iterable[str] = (),
                 builtin: bool = True, scan_entry_points: bool = True) -> MetricSet:
    """Gather metrics; ``select``/``exclude`` are glob patterns on metric names (``identity.*``).

    Every plug-in of the METRICS registry (``builtin``: the bundled ones; ``scan_entry_points``:
    third-party ones) and every ``include`` (a ``.py`` file or ``module:attr``) contributes. A
    plug-in that fails to load raises :class:`PluginError` naming it; two plug-ins providing one
    metric name are an error naming both.
    """
    found: list[tuple[Metric, str]] = []
    for name in METRICS.names():
        origin = METRICS.origin(name)
        if (origin == "built-in" and not builtin) or (origin.startswith("entry point") and not scan_entry_points):
            continue
        try:
            obj = METRICS.get(name)
        except RegistryError as e:
            raise PluginError(f"metric plug-in {name!r} ({origin}) failed to load: {e}") from None
        found.extend((m, f"{origin} {name}" if origin == "built-in" else origin) for m in metrics_from(obj, origin))
    for inc in include:
        try:
            obj = load_object(inc) if ":" in inc and not inc.endswith(".py") else include_file(inc)
        except RegistryError as e:
            raise PluginError(str(e)) from None
        found.extend((m, f"include {inc}") for m in metrics_from(obj, inc))

    select, exclude = list(select) or ["*"], list(exclude)
    metrics: list[Metric] = []
    origins: dict[str, str] = {}
    for m, origin in found:
        names = [n for n in m.names if any(fnmatch.fnmatch(n, p) for p in select) and not any(fnmatch.fnmatch(n, p) for p in exclude)]
        if not names:
            continue
        dup = [n for n in m.names if n in origins]
        if dup:
            raise PluginError(f"metric name(s) {dup} from {origin} already provided by {origins[dup[0]]}")
        for n in m.names:
            origins[n] = origin
        metrics.append(m)
    return MetricSet(metrics, origins)
