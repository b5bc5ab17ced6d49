"""The metric plugin interface.

A metric is a small pure function of the cached features (plus the case and the generation's
timing). It declares the names it produces, each with dimension, direction, version and backend
(:class:`MetricSpec`), and the feature names it ``requires``. It never decodes media and never
imports adapters, the runner or the app.

Two ways to write one::

    from lpmbench.metric_api import metric, MetricContext

    @metric("identity.csim", dimension="identity", direction="higher", version=1,
            requires=("embeddings", "ref_embedding"), description="mean cosine similarity ...")
    def csim(ctx: MetricContext) -> float:
        e = ctx.features["embeddings"]
        return float((e @ ctx.features["ref_embedding"]).mean())

or a :class:`Metric` subclass whose ``compute`` returns a :class:`MetricOutput` with several
values (and per-frame series for the leaderboard's curves). Raise :class:`MetricUnavailable`
(or let :class:`~lpmbench.features.FeatureUnavailable` propagate) when a value cannot be computed:
it is recorded as unavailable with the reason, never as 0 or NaN.

Third parties register a Metric subclass, instance or decorated function in the
``lpmbench.metrics`` entry-point group, or pass ``--include my_metrics.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np

from .case import Case
from .features import FeatureUnavailable, Features

DIMENSIONS = ("identity", "lipsync", "expressiveness", "conversation", "text_control", "quality", "realtime")
Direction = Literal["higher", "lower", "target"]


class MetricUnavailable(Exception):
    """This value cannot be computed for this case; the message is the reason shown to users."""


@dataclass(frozen=True)
class MetricSpec:
    """Metadata of one metric value. ``name`` is a public contract: it never changes meaning."""

    name: str
    dimension: str
    direction: Direction
    version: int = 1
    # for direction="target": a number or a (low, high) range of natural values
    target: float | tuple[float, float] | None = None
    backend: str = "landmarks"  # which feature backend the value depends on (protocol)
    unit: str = ""
    description: str = ""
    # normalisation anchors for the leaderboard's 0-100 score: value scored 0 and value scored 100
    # (for target metrics: distance from the target that scores 0). None = leaderboard default.
    anchors: tuple[float, float] | None = None
    validity: str = ""  # what the validity tests show (documented in the reference page)
    limits: str = ""  # known limits

    def __post_init__(self) -> None:
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"metric {self.name!r}: unknown dimension {self.dimension!r} (one of {DIMENSIONS})")
        if self.direction not in ("higher", "lower", "target"):
            raise ValueError(f"metric {self.name!r}: direction must be higher, lower or target")
        if self.direction == "target" and self.target is None:
            raise ValueError(f"metric {self.name!r}: a target metric needs target=")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "dimension": self.dimension, "direction": self.direction,
            "version": self.version, "target": list(self.target) if isinstance(self.target, tuple) else self.target,
            "backend": self.backend, "unit": self.unit, "description": self.description,
            "anchors": list(self.anchors) if self.anchors else None,
        }


@dataclass
class Timing:
    """What the runner measured around the generator (None where not measured)."""

    wall_s: float | None = None
    ttff_s: float | None = None
    n_frames: int | None = None
    video_duration_s: float | None = None
    peak_rss_mb: float | None = None
    peak_gpu_mb: float | None = None
    streaming: bool = False
    paced: bool = False
    # streaming only: per-frame arrival time (s since the session opened) and the time at which
    # the audio that frame covers became available
    frame_arrival_s: list[float] | None = None
    frame_due_s: list[float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("frame_arrival_s", "frame_due_s")}


@dataclass
class MetricContext:
    features: Features
    case: Case | None
    timing: Timing | None = None
    config: dict[str, Any] = field(default_factory=dict)  # per-metric options from the metrics config


@dataclass
class MetricOutput:
    values: dict[str, float] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    # name -> {"t": seconds (N,), "y": values (N,), optional "y2": second curve, "label": ...}
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # small JSON-able extras (e.g. detected events)


class Metric:
    """Base class: set ``specs`` and ``requires``; implement ``compute``."""

    specs: tuple[MetricSpec, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    def compute(self, ctx: MetricContext) -> MetricOutput:  # pragma: no cover - interface
        raise NotImplementedError

    def __call__(self, ctx: MetricContext) -> MetricOutput:
        """Run ``compute`` and enforce the contract: finite floats, every name accounted for."""
        missing = [r for r in self.requires if not ctx.features.has(r)]
        if missing:
            reason = "; ".join(f"{m}: {ctx.features.unavailable.get(m, 'not computed')}" for m in missing)
            return MetricOutput(unavailable={n: f"missing feature(s) {reason}" for n in self.names})
        try:
            out = self.compute(ctx)
        except (MetricUnavailable, FeatureUnavailable) as e:
            return MetricOutput(unavailable={n: str(e) for n in self.names})
        clean = MetricOutput(unavailable=dict(out.unavailable), series=out.series, details=out.details)
        for name, v in out.values.items():
            if v is None or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(float(v)):
                clean.unavailable.setdefault(name, f"not a finite number ({v!r})")
            else:
                clean.values[name] = float(v)
        for name in self.names:
            if name not in clean.values and name not in clean.unavailable:
                clean.unavailable[name] = "not computed"
        return clean


class FunctionMetric(Metric):
    def __init__(self, fn: Callable[[MetricContext], float | MetricOutput], spec: MetricSpec, requires: tuple[str, ...]):
        self.fn, self.specs, self.requires = fn, (spec,), requires
        self.__doc__ = fn.__doc__

    def compute(self, ctx: MetricContext) -> MetricOutput:
        r = self.fn(ctx)
        if isinstance(r, MetricOutput):
            return r
        return MetricOutput(values={self.specs[0].name: r})


def metric(name: str, *, dimension: str, direction: Direction, version: int = 1, requires: tuple[str, ...] = (),
           **spec_kwargs: Any) -> Callable[[Callable[[MetricContext], Any]], FunctionMetric]:
    """Decorator turning ``fn(ctx) -> float`` into a single-value :class:`Metric`."""

    def wrap(fn: Callable[[MetricContext], Any]) -> FunctionMetric:
        spec = MetricSpec(name=name, dimension=dimension, direction=direction, version=version, **spec_kwargs)
        return FunctionMetric(fn, spec, tuple(requires))

    return wrap
