"""The real analysis pass and the real metric runner for tests and benchmarks on fixture media."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from .clips import media_dir

_ANALYZERS: dict[tuple, Any] = {}


def analyse(video: str | Path, case: Any, **config: Any):
    """Features of ``video`` from the real analysis pass with ``AnalysisConfig(**config)``: one
    Analyzer per configuration and process, its cache in :func:`~lpmbench.testing.clips.media_dir`
    (keyed by content, so media shared by several test modules is analysed once)."""
    from ..analysis import AnalysisConfig, Analyzer

    key = tuple(sorted(config.items()))
    if key not in _ANALYZERS:
        _ANALYZERS[key] = Analyzer(AnalysisConfig(**config), cache_dir=media_dir() / "cache")
    return _ANALYZERS[key].run(video, case)


def score(metrics: Sequence[Any], features: Any, case: Any):
    """The merged :class:`~lpmbench.metric_api.MetricOutput` of metric plug-ins on ``features``,
    run as the runner runs them (:meth:`lpmbench.plugins.MetricSet.compute`)."""
    from ..metric_api import MetricContext
    from ..plugins import MetricSet

    return MetricSet(list(metrics)).compute(MetricContext(features=features, case=case))


def scores(metrics: Sequence[Any], features: Any, case: Any) -> tuple[dict[str, float], dict[str, str], dict]:
    """:func:`score` as (values, unavailable reasons, series)."""
    out = score(metrics, features, case)
    return out.values, out.unavailable, out.series
