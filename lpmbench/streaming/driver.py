"""The streaming driver (paced duplex replay): play a case into a stream session in real time and
time every frame.

One loop drives every session: a synchronous :class:`~lpmbench.adapters.base.StreamSession`
(frames returned by ``feed``) is wrapped in the :class:`~lpmbench.adapters.base.AsyncStreamSession`
interface (frames stamped when ``feed`` returns them), so pacing, feeding, collection and the
bookkeeping below exist once. The driver measures time only: memory belongs to the worker
(:mod:`lpmbench.worker`), and a remote server's own figures arrive in ``session_stats``.

Clock and definitions (all times in seconds on ``time.perf_counter``):

* **request**: just before ``open_stream(case)``; **session start** ``T0``: when it returned.
  ``frame_arrival_s`` and ``frame_due_s`` are relative to ``T0``; ``ttff_s`` is measured from the
  request (so it includes session set-up: connection, reference encoding, warm-up).
* **paced**: chunk ``k`` (case time ``[k*c, (k+1)*c)``, ``c = chunk_s``) is fed at ``T0 + k*c``
  with the prompt events that start inside it. Its audio is *available* from then on: in live
  terms, the clock is shifted by one chunk so that the first chunk is ready at ``t = 0``.
* **due** of frame ``i`` (case time ``[i/fps, (i+1)/fps)``): the availability time of the chunk
  ``j`` that contains the frame's end time, ``j = ceil((i+1)/fps / c) - 1`` (clamped to the last
  chunk), i.e. ``j*c`` when paced ("paced time": the schedule, not the moment the harness actually
  got to it) and the actual feed time of chunk ``j`` when unpaced. A causal generator that is
  infinitely fast has latency 0; latency = arrival - due.
* **harness overhead per chunk**: wall time of one chunk iteration of the loop minus the time
  spent waiting for the schedule (sleep / waiting poll), inside the session (``feed``, ``send``,
  ``poll``) and handing frames to the video writer (a queue; encoding runs on its own thread).
  It is what the harness itself adds: slicing, event dispatch, timestamps, due bookkeeping,
  progress. Reported as mean / p50 / p99 / max of wall time, and as the mean of
  the feeding thread's CPU time over the same spans (``overhead_cpu_ms_mean``), which a busy
  machine's preemption does not inflate. Budget: < 1 ms per 40 ms chunk.

Frames are written to the video as they arrive: nothing per frame is kept except two floats
(arrival, due), so memory does not grow with the case length beyond the case's audio (loaded
once: 64 kB per second for agent + partner, needed to mux the agent track).
"""
from __future__ import annotations

import math
import time
from array import array
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from ..adapters.base import (Adapter, AdapterError, AsyncStreamSession, AudioChunk, StreamSession, case_audio,
                              iter_chunks)
from ..case import AUDIO_RATE, Case
from .timing import StreamTiming

clock = time.perf_counter
cpu = time.thread_time  # CPU time of the feeding thread: harness overhead without preemption


class _SyncSession(AsyncStreamSession):
    """A synchronous session behind the asynchronous interface: the frames ``feed``/``finish``
    return are stamped on return; nothing arrives on its own, so a waiting ``poll`` just sleeps."""

    def __init__(self, session: StreamSession):
        self.session = session
        self._ready: list[tuple[float, np.ndarray]] = []
        self.done = False

    def _stamp(self, frames: list[np.ndarray]) -> None:
        t = clock()
        # a copy: a session may reuse its output buffer while the frame waits to be encoded
        self._ready.extend((t, np.array(f, copy=True) if isinstance(f, np.ndarray) else f) for f in frames)

    def send(self, chunk: AudioChunk) -> None:
        self._stamp(self.session.feed(chunk))

    def poll(self, timeout: float = 0.0) -> list[tuple[float, np.ndarray]]:
        if not self._ready:
            if timeout > 0:
                time.sleep(timeout)
            return []
        out, self._ready = self._ready, []
        return out

    def close_input(self) -> None:
        self._stamp(self.session.finish())
        self.done = True

    def close(self) -> None:
        close = getattr(self.session, "close", None)
        if callable(close):
            close()

    def stats(self) -> dict[str, Any]:
        stats = getattr(self.session, "stats", None)
        return dict(stats()) if callable(stats) else {}


def due_chunk_index(i: np.ndarray | int, fps: float, chunk_s: float, n_chunks: int) -> np.ndarray:
    """Index of the chunk containing the end time of frame ``i`` (clamped to the chunks fed)."""
    end = (np.asarray(i, dtype=np.float64) + 1.0) / fps
    # a tiny epsilon: a frame that ends exactly on a chunk boundary belongs to the earlier chunk
    j = np.ceil(end / chunk_s - 1e-9) - 1
    return np.clip(j, 0, max(0, n_chunks - 1)).astype(np.int64)


class _Progress:
    def __init__(self, progress: Any, total: int, desc: str):
        self.cb = progress if callable(progress) and not isinstance(progress, bool) else None
        self.bar = None
        if progress is True:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="chunk", leave=False)
        self.total = total

    def update(self, k: int) -> None:
        if self.bar is not None:
            self.bar.update(1)
        elif self.cb is not None:
            self.cb(k, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _BackgroundWriter:
    """Encodes frames on a thread so that the encoder (tens of ms per 512x512 frame on a busy CPU)
    never holds up the feeding loop. The queue is bounded (memory stays constant); a full queue
    blocks the loop, and that time is counted as writer time."""

    def __init__(self, writer, maxsize: int = 25):
        import queue
        import threading

        self.writer, self.error = writer, None
        self.q: "queue.Queue" = queue.Queue(maxsize=maxsize)
        self.thread = threading.Thread(target=self._run, name="lpmbench-encode", daemon=True)
        self.thread.start()

    @property
    def width(self) -> int:
        return self.writer.width

    @property
    def height(self) -> int:
        return self.writer.height

    def _run(self) -> None:
        while True:
            frame = self.q.get()
            if frame is None:
                return
            if self.error is None:
                try:
                    self.writer.write(frame)
                except Exception as e:  # re-raised in the feeding thread
                    self.error = e

    def write(self, frame: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.q.put(frame)

    def close(self) -> None:
        self.q.put(None)
        self.thread.join()
        self.writer.close()
        if self.error is not None:
            raise self.error


def _open(adapter_or_factory: Adapter | Callable[[Case], StreamSession], case: Case) -> AsyncStreamSession:
    if isinstance(adapter_or_factory, Adapter):
        if not adapter_or_factory.streaming:
            raise AdapterError(f"adapter {adapter_or_factory.name!r} does not stream (streaming=False)")
        session = adapter_or_factory.open_stream(case)
    else:
        session = adapter_or_factory(case)
    return session if isinstance(session, AsyncStreamSession) else _SyncSession(session)


def run_stream(adapter_or_session_factory: Adapter | Callable[[Case], StreamSession], case: Case, output: Path, *,
               chunk_s: float = 0.04, paced: bool = True, jitter_buffer_s: float = 0.2, progress: Any = None,
               speed: float = 1.0, agent: np.ndarray | None = None, partner: np.ndarray | None = None,
               chunks: Iterable[AudioChunk] | None = None) -> StreamTiming:
    """Play ``case`` into a stream session, write the frames to ``output``; return the timing.

    ``adapter_or_session_factory``: a streaming :class:`Adapter` or ``callable(case) -> StreamSession``.
    ``paced``: feed chunk ``k`` at ``k * chunk_s / speed`` after session start; else as fast as
    possible. ``progress``: True for a tqdm bar, or ``callable(done_chunks, total_chunks)``.
    ``agent``/``partner``: preloaded audio (mono float32 at 16 kHz, case duration) to skip loading.
    ``jitter_buffer_s`` is recorded with the timing; ``realtime.stall_ratio`` is defined with 200 ms
    (a metric name never changes meaning), other buffers can be evaluated from the arrival times.
    ``speed`` > 1 compresses the schedule (benchmarks of long cases only: latencies stay in wall s).
    Raises :class:`AdapterError` (session error, no frames) after closing the partial video.
    """
    from ..media import VideoWriter

    if chunk_s <= 0 or speed <= 0:
        raise ValueError(f"chunk_s and speed must be > 0 (got {chunk_s}, {speed})")
    n = int(round(case.duration * AUDIO_RATE))
    agent, partner = case_audio(case, agent, partner)
    step = max(1, int(round(chunk_s * AUDIO_RATE)))
    chunk_s = step / AUDIO_RATE  # the exact chunk length fed
    n_chunks = max(1, math.ceil(n / step))
    period = chunk_s / speed
    fps = float(case.fps)
    chunk_iter = iter(chunks if chunks is not None else iter_chunks(case, chunk_s, agent=agent, partner=partner))

    arrivals = array("d")  # per frame, s since T0
    feed_times = array("d")  # per chunk, s since T0 (actual)
    overheads = array("d")  # per chunk, seconds of wall time
    overheads_cpu = array("d")  # per chunk, seconds of this thread's CPU time (immune to preemption)
    writer: list[_BackgroundWriter] = []  # one writer (a list so that take() can replace it)
    excl = [0.0, 0.0]  # wall, CPU seconds of this chunk spent waiting, in the session or the writer
    bar = _Progress(progress, n_chunks, f"stream {case.id}")

    def take(items: list[tuple[float, np.ndarray]], t: float, c: float) -> None:
        """Hand frames to the writer; ``t``/``c`` (wall/CPU) started the session call that got them."""
        for t_arr, frame in items:
            if frame is None or getattr(frame, "ndim", 0) != 3:
                raise AdapterError(f"case {case.id!r}: session returned a non-image frame #{len(arrivals)}")
            if not arrivals and frame.shape[:2] != (writer[0].height, writer[0].width):
                # the generator's own resolution: the analysis is resolution-independent
                writer.pop().close()
                writer.append(_BackgroundWriter(VideoWriter(output, fps, frame.shape[1], frame.shape[0], audio=mux)))
            elif frame.shape[:2] != (writer[0].height, writer[0].width) and (
                    frame.shape[0] < writer[0].height or frame.shape[1] < writer[0].width):
                raise AdapterError(f"case {case.id!r}: frame #{len(arrivals)} is {frame.shape[1]}x{frame.shape[0]}, "
                                   f"earlier frames were {writer[0].width}x{writer[0].height}")
            arrivals.append(t_arr - T0)
            writer[0].write(frame)
        excl[0] += clock() - t
        excl[1] += cpu() - c

    # opened before the clock starts (encoder start-up is no part of the stream); reopened at the
    # first frame if the generator's frames have another size than the case asks for
    mux = agent if case.agent_audio else None
    writer.append(_BackgroundWriter(VideoWriter(output, fps, case.width, case.height, audio=mux)))
    t_request = T0 = clock()
    session: AsyncStreamSession | None = None
    finished = False
    try:
        session = _open(adapter_or_session_factory, case)
        T0 = clock()
        for k in range(n_chunks):
            it0, ic0 = clock(), cpu()
            excl[0] = excl[1] = 0.0
            chunk = next(chunk_iter, None)
            if chunk is None:
                break
            if paced:  # wait for the schedule, collecting the frames that arrive meanwhile
                target = T0 + k * period
                while (now := clock()) < target:
                    c = cpu()
                    take(session.poll(target - now), now, c)
            c, t_feed = cpu(), clock()
            feed_times.append(t_feed - T0)
            session.send(chunk)
            take(session.poll(0.0), t_feed, c)
            overheads.append(clock() - it0 - excl[0])
            overheads_cpu.append(cpu() - ic0 - excl[1])
            bar.update(k + 1)
        session.close_input()
        while not session.done:
            take(session.poll(0.05), clock(), cpu())
        take(session.poll(0.0), clock(), cpu())
        finished = True
    finally:
        t_end = clock()
        bar.close()
        if session is not None:
            session.close()
        for w in writer:
            try:
                w.close()
            except Exception:
                if finished:  # else the session's error is the one to report
                    raise
        if not finished:
            output.unlink(missing_ok=True)  # no half video that could pass for a result

    if not arrivals:
        raise AdapterError(f"case {case.id!r}: the stream session produced no frames")

    n_frames = len(arrivals)
    n_fed = len(feed_times)
    j = due_chunk_index(np.arange(n_frames), fps, chunk_s, n_fed)
    if paced:
        due = j * period
        lag = np.asarray(feed_times) - np.arange(n_fed) * period
    else:
        due = np.asarray(feed_times)[j]
        lag = None
    ov = np.asarray(overheads) * 1e3
    stats = session.stats() if session is not None else {}
    return StreamTiming(
        wall_s=t_end - t_request, ttff_s=T0 - t_request + arrivals[0], n_frames=n_frames,
        video_duration_s=n_frames / fps, streaming=True, paced=paced,
        frame_arrival_s=list(arrivals), frame_due_s=[float(x) for x in due],
        chunk_s=chunk_s, speed=speed, jitter_buffer_s=jitter_buffer_s, open_s=T0 - t_request, n_chunks=n_fed,
        overhead_ms_mean=float(ov.mean()) if len(ov) else None,
        overhead_ms_p50=float(np.median(ov)) if len(ov) else None,
        overhead_cpu_ms_mean=float(np.mean(overheads_cpu) * 1e3) if len(overheads_cpu) else None,
        overhead_ms_p99=float(np.percentile(ov, 99)) if len(ov) else None,
        overhead_ms_max=float(ov.max()) if len(ov) else None,
        feed_lag_ms_p95=float(np.percentile(lag, 95) * 1e3) if lag is not None and len(lag) else None,
        feed_lag_ms_max=float(lag.max() * 1e3) if lag is not None and len(lag) else None,
        session_stats=stats or None,
    )
