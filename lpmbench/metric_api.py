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
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Literal

import numpy as np

from .case import Case
from .features import FeatureUnavailable, Features

DIMENSIONS = ("identity", "lipsync", "expressiveness", "conversation", "text_control", "quality", "realtime")
Direction = Literal["higher", "lower", "target"]
# How a metric's per-case values pool into one number for a model (the leaderboard's raw column):
# "mean", "mean_abs" (signed quantities such as offsets and drift: late and early do not cancel),
# "median". Scores are always formed per case first and then averaged.
AGGREGATES = ("mean", "mean_abs", "median")
# "case": one value per case. "corpus": a distribution over all of a model's videos (FID-like); the
# metric returns a small additive per-case *state* and reduces the pooled state to one value.
LEVELS = ("case", "corpus")


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
    # normalisation anchors for the leaderboard's 0-100 score: (value scoring 0, value scoring 100);
    # for target metrics distances to the target (distance scoring 0, distance scoring 100). A
    # mapping {backend: (a0, a100)} gives per-backend anchors ("*": any other backend), resolved
    # when a run records the spec (:meth:`for_backend`). None: the target range's width, or scores
    # relative to the protocol's values.
    anchors: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None
    validity: str = ""  # what the validity tests show (documented in the reference page)
    limits: str = ""  # known limits
    aggregate: str = "mean"  # one of AGGREGATES
    level: str = "case"  # one of LEVELS
    # real recordings of people define what scores 100: natural behaviour (motion, blinks, nods,
    # mouth activity, gaze) and what real video measures at its best (sync, jitter, flicker,
    # sharpness, colour and identity stability): scored by how human its per-case value is against
    # the human reference (lpmbench.reference)
    natural: bool = False
    # False: reported (and kept in results) but not scored, e.g. a quantity shown in two units of
    # which the leaderboard ranks one
    scored: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"metric name must be a non-empty string, got {self.name!r}")
        if self.dimension not in DIMENSIONS:
            raise ValueError(f"metric {self.name!r}: unknown dimension {self.dimension!r} (one of {DIMENSIONS})")
        if self.direction not in ("higher", "lower", "target"):
            raise ValueError(f"metric {self.name!r}: direction must be higher, lower or target, got {self.direction!r}")
        if self.direction == "target":
            _check_target(self.name, self.target)
        if isinstance(self.anchors, Mapping):
            for backend, pair in self.anchors.items():
                _check_pair(f"{self.name}[{backend}]", pair)
        elif self.anchors is not None:
            _check_pair(self.name, self.anchors)
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"metric {self.name!r}: aggregate must be one of {AGGREGATES}, got {self.aggregate!r}")
        if self.level not in LEVELS:
            raise ValueError(f"metric {self.name!r}: level must be one of {LEVELS}, got {self.level!r}")
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise ValueError(f"metric {self.name!r}: version must be an integer, got {self.version!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "dimension": self.dimension, "direction": self.direction,
            "version": self.version, "target": list(self.target) if isinstance(self.target, tuple) else self.target,
            "backend": self.backend, "unit": self.unit, "description": self.description,
            "anchors": _anchors_json(self.anchors), "aggregate": self.aggregate, "level": self.level,
            "natural": self.natural, "scored": self.scored,
        }

    def for_backend(self, backend: str) -> "MetricSpec":
        """This spec as a run records it when its features came from ``backend`` (anchors resolved)."""
        anchors = self.anchors
        if isinstance(anchors, Mapping):
            anchors = anchors.get(backend, anchors.get("*"))
        return replace(self, backend=backend, anchors=anchors)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "MetricSpec":
        """The spec a run recorded (``to_dict``), validated; ValueError names the field at fault."""
        if not isinstance(d, dict):
            raise ValueError(f"a metric spec must be an object, got {type(d).__name__}")
        target, anchors = d.get("target"), d.get("anchors")
        return cls(
            name=d.get("name"), dimension=d.get("dimension"), direction=d.get("direction"), version=d.get("version", 1),
            target=tuple(target) if isinstance(target, list) else target,
            backend=str(d.get("backend") or ""), unit=str(d.get("unit") or ""), description=str(d.get("description") or ""),
            anchors=({k: tuple(v) if isinstance(v, list) else v for k, v in anchors.items()} if isinstance(anchors, dict)
                     else tuple(anchors) if isinstance(anchors, list) else anchors),
            aggregate=d.get("aggregate", "mean"), level=d.get("level", "case"), natural=bool(d.get("natural", False)),
            scored=bool(d.get("scored", True)),
        )


def _anchors_json(anchors: Any) -> Any:
    if anchors is None:
        return None
    if isinstance(anchors, Mapping):
        return {k: list(v) for k, v in anchors.items()}
    return list(anchors)


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def _check_target(name: str, target: Any) -> None:
    if isinstance(target, (list, tuple)):
        if len(target) != 2 or not all(_finite(v) for v in target) or float(target[0]) > float(target[1]):
            raise ValueError(f"metric {name!r}: target range must be [low, high] finite numbers, got {target!r}")
    elif not _finite(target):
        raise ValueError(f"metric {name!r}: a target metric needs a finite target number or range, got {target!r}")


def _check_pair(name: str, anchors: Any) -> None:
    if not isinstance(anchors, (list, tuple)) or len(anchors) != 2 or not all(_finite(v) for v in anchors) \
            or float(anchors[0]) == float(anchors[1]):
        raise ValueError(f"metric {name!r}: anchors must be [value scoring 0, value scoring 100], two different "
                         f"finite numbers, got {anchors!r}")


@dataclass
class Timing:
    """What the runner measured around the generator (None where not measured)."""

    wall_s: float | None = None
    ttff_s: float | None = None
    n_frames: int | None = None
    video_duration_s: float | None = None
    peak_rss_mb: float | None = None
    peak_gpu_mb: float | None = None
    # whose memory the two peaks are: "worker" (the worker's process tree, which ran the generator)
    # or "server" (figures a remote generator reported about itself); None: not measured
    memory_source: str | None = None
    notes: list[str] | None = None  # what the measurement left out and why (e.g. implausible server figures)
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
    # the analysis of the case's ground-truth recording (Case.ground_truth), for paired metrics
    ground_truth: Features | None = None


@dataclass
class MetricOutput:
    values: dict[str, float] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    # name -> {"t": seconds (N,), "y": values (N,), optional "y2": second curve, "label": ...}
    series: dict[str, dict[str, Any]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)  # small JSON-able extras (e.g. detected events)
    # corpus-level metrics: name -> additive per-case state {key: array}; the states of a model's
    # cases are summed and reduced to one value by Metric.reduce (see CorpusContext)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class CorpusContext:
    """What a corpus-level metric's ``reduce`` sees besides the pooled state."""

    reference: Any = None  # lpmbench.reference.HumanReference or None
    config: dict[str, Any] = field(default_factory=dict)


class Metric:
    """Base class: set ``specs`` and ``requires``; implement ``compute``."""

    specs: tuple[MetricSpec, ...] = ()
    requires: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.specs)

    def compute(self, ctx: MetricContext) -> MetricOutput:  # pragma: no cover - interface
        raise NotImplementedError

    def backend_info(self) -> dict[str, dict[str, Any]]:
        """Data files the metric itself reads (a fitted projection, a threshold table), as
        ``{backend: {"name", "version", "weights_sha256"}}``: recorded beside the analysis backends
        in every run, so they are part of its protocol. Most metrics read none."""
        return {}

    def reduce(self, name: str, state: dict[str, np.ndarray], ctx: CorpusContext) -> float:
        """A corpus-level metric's value from the sum of its per-case states (``MetricOutput.states``).

        Per-case states must be *additive* (counts, sums, sums of outer products), so states merge
        across cases, runs and shards, and a bootstrap over cases is a weighted sum. Raise
        :class:`MetricUnavailable` when the pooled state is too small to mean anything.
        """
        raise NotImplementedError(f"metric {name!r} is not a corpus-level metric")

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
        for name, state in out.states.items():
            arrays = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
            if all(np.all(np.isfinite(a)) for a in arrays.values()):
                clean.states[name] = arrays
            else:
                clean.unavailable.setdefault(name, "per-case state is not finite")
        for name, v in out.values.items():
            if v is None or not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(float(v)):
                clean.unavailable.setdefault(name, f"not a finite number ({v!r})")
            else:
                clean.values[name] = float(v)
        for name in self.names:
            if name not in clean.values and name not in clean.unavailable and name not in clean.states:
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
