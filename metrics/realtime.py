"""Real-time metrics: throughput, time to first frame, streaming latency, stalls, memory.

They read only the :class:`~lpmbench.metric_api.Timing` that the runner (offline) or the paced
replay (:func:`lpmbench.streaming.driver.run_stream`) measured, never the video.

Definitions (times in seconds):

* ``realtime.rtf`` = ``wall_s / video_duration_s``. Offline and unpaced runs: compute speed (< 1 is
  faster than real time). Paced runs cannot go faster than real time, so there it is ~1 when the
  generator keeps up and > 1 when it falls behind.
* ``realtime.ttff_s``: request (``open_stream`` / ``generate`` call) to first frame. Offline
  generators deliver their first frame with the file, so there it equals ``wall_s``.
* ``realtime.fps`` = ``n_frames / wall_s``.
* ``realtime.latency_p50_s`` / ``_p95_s`` (paced streaming only): percentiles over frames of
  ``arrival_i - due_i``; ``due_i`` is when the audio chunk containing the end of frame ``i`` was made
  available by the paced replay (see :mod:`lpmbench.streaming.driver`).
* ``realtime.stall_ratio`` (paced streaming only): a viewer's player starts when the first frame
  arrives and shows frame ``i`` at ``slot_i = arrival_0 + B + i / fps`` with a jitter buffer
  ``B`` = 0.2 s (``jitter_buffer_s`` in the metric config). Frame ``i`` *stalls* when
  ``arrival_i > slot_i``. stall_ratio = stalled frames / frames. The schedule never slips after a
  stall (no re-buffering), so a generator slower than real time stalls on an ever larger share of
  frames, as a viewer would see.
* ``realtime.peak_rss_mb`` / ``peak_gpu_mb``: peak memory of the generator during the case
  (in-process: the whole process; remote: what the server reports for its own process).

Series ``realtime.latency``: t = frame time (i / fps), y = latency of frame i (paced streaming).
"""
from __future__ import annotations

import numpy as np

from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

JITTER_BUFFER_S = 0.2
OFFLINE = "offline run: not streamed"
UNPACED = "unpaced streaming run: latency and stalls need real-time pacing"


def _spec(name: str, direction: str, unit: str, description: str, anchors: tuple[float, float], **kw) -> MetricSpec:
    return MetricSpec(name=name, dimension="realtime", direction=direction, version=1, backend="timing", unit=unit,
                      description=description, anchors=anchors, **kw)


def latencies(arrival_s, due_s) -> np.ndarray:
    """Per-frame latency ``arrival - due`` (s)."""
    a, d = np.asarray(arrival_s, np.float64), np.asarray(due_s, np.float64)
    if a.shape != d.shape:
        raise MetricUnavailable(f"timing has {a.size} frame arrivals but {d.size} due times")
    return a - d


def stall_mask(arrival_s, fps: float, buffer_s: float = JITTER_BUFFER_S) -> np.ndarray:
    """True for frames that arrive after their playback slot ``arrival_0 + buffer + i / fps``."""
    a = np.asarray(arrival_s, np.float64)
    if a.size == 0:
        return np.zeros(0, bool)
    slots = a[0] + buffer_s + np.arange(a.size) / fps
    return a > slots


def _fps(ctx: MetricContext, n_frames: int, duration: float | None) -> float:
    try:
        return float(ctx.features["fps"])
    except Exception:  # features absent (analysis failed): fall back on the timing itself
        if duration and n_frames:
            return n_frames / duration
        if ctx.case is not None:
            return float(ctx.case.fps)
        raise MetricUnavailable("frame rate unknown (no features, no case)")


def _timed_or_measured(timed, ctx: MetricContext, feature: str, cast):
    """A figure the worker recorded, else the analysis pass's measurement of the video, else None."""
    if timed is not None:
        return timed
    try:
        return cast(ctx.features[feature])
    except Exception:  # no such feature (a run scored without it): the figure is unknown
        return None


class Throughput(Metric):
    specs = (
        _spec("realtime.rtf", "lower", "x", "generation wall time / duration of the produced video", (10.0, 1.0),
              limits="paced runs are bounded below by ~1; compare throughput on offline/unpaced runs"),
        _spec("realtime.ttff_s", "lower", "s", "time from request to first frame", (5.0, 0.2)),
        _spec("realtime.fps", "higher", "frames/s", "frames produced per second of generation wall time", (1.0, 25.0)),
    )

    def compute(self, ctx: MetricContext) -> MetricOutput:
        t = ctx.timing
        if t is None or t.wall_s is None:
            raise MetricUnavailable("no generation timing recorded for this case")
        out = MetricOutput()
        n = _timed_or_measured(t.n_frames, ctx, "n_frames", int)
        dur = _timed_or_measured(t.video_duration_s, ctx, "duration", float)
        if dur and dur > 0:
            out.values["realtime.rtf"] = t.wall_s / dur
        else:
            out.unavailable["realtime.rtf"] = "duration of the produced video unknown"
        if t.ttff_s is not None:
            out.values["realtime.ttff_s"] = t.ttff_s
        elif not t.streaming:
            out.values["realtime.ttff_s"] = t.wall_s  # offline: the first frame comes with the file
        else:
            out.unavailable["realtime.ttff_s"] = "no first-frame time recorded"
        if n and t.wall_s > 0:
            out.values["realtime.fps"] = n / t.wall_s
        else:
            out.unavailable["realtime.fps"] = "number of frames unknown"
        return out


class Latency(Metric):
    specs = (
        _spec("realtime.latency_p50_s", "lower", "s", "median time from an audio chunk being available (paced) to "
              "the frame that covers it", (2.0, 0.1)),
        _spec("realtime.latency_p95_s", "lower", "s", "95th percentile of the same", (3.0, 0.2)),
        _spec("realtime.stall_ratio", "lower", "", "fraction of frames that miss their playback slot with a 200 ms "
              "jitter buffer", (0.5, 0.0)),
    )

    def compute(self, ctx: MetricContext) -> MetricOutput:
        t = ctx.timing
        if t is None or not t.streaming:
            raise MetricUnavailable(OFFLINE)
        if not t.paced:
            raise MetricUnavailable(UNPACED)
        if not t.frame_arrival_s or t.frame_due_s is None:
            raise MetricUnavailable("streaming run without per-frame arrival times")
        lat = latencies(t.frame_arrival_s, t.frame_due_s)
        fps = _fps(ctx, lat.size, t.video_duration_s)
        buffer_s = float(ctx.config.get("jitter_buffer_s", JITTER_BUFFER_S))
        stalls = stall_mask(t.frame_arrival_s, fps, buffer_s)
        return MetricOutput(
            values={"realtime.latency_p50_s": float(np.percentile(lat, 50)),
                    "realtime.latency_p95_s": float(np.percentile(lat, 95)),
                    "realtime.stall_ratio": float(stalls.mean())},
            series={"realtime.latency": {"t": np.arange(lat.size) / fps, "y": lat, "label": "latency (s)"}},
            details={"n_stalls": int(stalls.sum()), "latency_max_s": float(lat.max()), "jitter_buffer_s": buffer_s},
        )


class Memory(Metric):
    specs = (
        _spec("realtime.peak_rss_mb", "lower", "MB", "peak resident memory of the generator during the case",
              (65536.0, 4096.0)),
        _spec("realtime.peak_gpu_mb", "lower", "MB", "peak GPU memory of the generator during the case",
              (81920.0, 8192.0)),
    )

    def compute(self, ctx: MetricContext) -> MetricOutput:
        t = ctx.timing
        out = MetricOutput()
        if t is None or t.wall_s is None:
            # pre-generated videos (model=folder): copying a file is no generation to measure
            raise MetricUnavailable("no generation timing recorded for this case")
        if t.peak_rss_mb is not None:
            out.values["realtime.peak_rss_mb"] = t.peak_rss_mb
        else:
            out.unavailable["realtime.peak_rss_mb"] = "memory not measured"
        if t.peak_gpu_mb is not None:
            out.values["realtime.peak_gpu_mb"] = t.peak_gpu_mb
        else:
            out.unavailable["realtime.peak_gpu_mb"] = "no GPU memory measured (CPU run or not reported)"
        return out


METRICS: list[Metric] = [Throughput(), Latency(), Memory()]
