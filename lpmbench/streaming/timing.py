"""The streaming harness's timing record, and how its per-frame arrays survive a run folder.

:meth:`Timing.to_dict` (the case record) leaves out the per-frame arrays; :func:`frame_series`
stores them in the case's series file (``timing.frames``: t = due time, y = arrival time, s since
session start) and :func:`timing_from_record` rebuilds the :class:`StreamTiming`, so ``rescore``
recomputes latency and stalls without generating again.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ..metric_api import Timing

FRAME_SERIES = "timing.frames"


@dataclass
class StreamTiming(Timing):
    """:class:`Timing` plus what the streaming harness measured about itself."""

    chunk_s: float | None = None
    speed: float = 1.0  # pacing speed-up (1 = real time; only benchmarks use another value)
    jitter_buffer_s: float | None = None
    open_s: float | None = None  # request -> session ready
    n_chunks: int | None = None
    overhead_ms_mean: float | None = None  # harness overhead per chunk, wall time (see lpmbench.streaming.driver)
    overhead_ms_p50: float | None = None
    overhead_cpu_ms_mean: float | None = None  # the same in CPU time of the feeding thread (no preemption)
    overhead_ms_p99: float | None = None
    overhead_ms_max: float | None = None
    feed_lag_ms_p95: float | None = None  # how late chunks were fed vs the schedule (paced)
    feed_lag_ms_max: float | None = None
    session_stats: dict[str, Any] | None = None  # what the session reported (e.g. remote server memory)


def frame_series(timing: Timing | None) -> dict[str, dict[str, Any]]:
    """``{"timing.frames": {"t": due, "y": arrival}}`` for a streamed case, else ``{}``."""
    if timing is None or not timing.frame_arrival_s or timing.frame_due_s is None:
        return {}
    return {FRAME_SERIES: {"t": np.asarray(timing.frame_due_s, np.float64),
                           "y": np.asarray(timing.frame_arrival_s, np.float64), "label": "frame due / arrival (s)"}}


def timing_from_record(timing: dict[str, Any] | None, series: dict[str, dict[str, Any]] | None = None) -> Timing | None:
    """Rebuild a (Stream)Timing from a case record's ``timing`` dict and its series (if any)."""
    if not timing:
        return None
    names = {f.name for f in fields(StreamTiming)}
    t = StreamTiming(**{k: v for k, v in timing.items() if k in names})
    s = (series or {}).get(FRAME_SERIES)
    if s is not None and "t" in s and "y" in s:
        t.frame_due_s = [float(x) for x in np.asarray(s["t"])]
        t.frame_arrival_s = [float(x) for x in np.asarray(s["y"])]
    return t
