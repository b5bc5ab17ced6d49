"""The model-adapter interface: one interface for any generator, driven offline or streaming.

An adapter turns a :class:`~lpmbench.case.Case` into frames. It knows nothing of metrics, and it
does not time itself, guard against hangs, measure memory or kill processes: the worker
(:mod:`lpmbench.worker`) wraps every adapter with timing, the timeout, memory measurement, error
capture and control of every process the adapter starts.

Offline: ``generate(case, output)`` writes a video file (MP4) for the whole case.
Streaming: ``open_stream(case)`` returns a :class:`StreamSession` (frames returned by ``feed``)
or an :class:`AsyncStreamSession` (frames arrive on their own, e.g. from a server); the streaming
driver (:mod:`lpmbench.streaming.driver`) feeds :class:`AudioChunk` objects (agent and partner
audio, prompt events) and collects frames as they come. A streaming adapter gets offline
generation for free (:meth:`Adapter.generate` feeds every chunk as fast as possible).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from ..case import AUDIO_RATE, Case, PromptEvent


class AdapterError(RuntimeError):
    """The generator failed in a way it can explain (bad output, unsupported mode, ...)."""


@dataclass
class AudioChunk:
    """``t0``..``t0 + duration`` seconds of the case, as the generator would receive it live."""

    t0: float
    agent: np.ndarray  # float32 mono at AUDIO_RATE (zeros where the agent is silent / no track)
    partner: np.ndarray  # float32 mono at AUDIO_RATE
    events: list[PromptEvent] = field(default_factory=list)  # prompt events whose start falls here
    last: bool = False

    @property
    def duration(self) -> float:
        return len(self.agent) / AUDIO_RATE


class StreamSession:
    """A live generation session. ``feed`` returns the frames that became ready (RGB uint8)."""

    def feed(self, chunk: AudioChunk) -> list[np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self) -> list[np.ndarray]:
        """Flush: return any frames still buffered. The case ends after this."""
        return []


class AsyncStreamSession(StreamSession):
    """A session whose frames arrive on their own (e.g. from a server), each with its arrival time.

    ``send`` hands a chunk over without waiting for frames; ``poll(timeout)`` returns the frames
    received so far as ``(perf_counter arrival time, RGB frame)``, waiting up to ``timeout`` for the
    first; ``close_input`` says no more chunks come; ``done`` is True once the generator has sent
    its last frame. Errors (disconnects, timeouts, malformed frames) raise :class:`AdapterError`
    from ``poll``. ``feed``/``finish`` are provided for synchronous callers (offline generation).
    """

    done: bool = False

    def send(self, chunk: AudioChunk) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def poll(self, timeout: float = 0.0) -> list[tuple[float, np.ndarray]]:  # pragma: no cover - interface
        raise NotImplementedError

    def close_input(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        """Release the connection/resources (idempotent)."""

    def stats(self) -> dict[str, Any]:
        """What the generator reported about the session (e.g. a server's memory)."""
        return {}

    def feed(self, chunk: AudioChunk) -> list[np.ndarray]:
        self.send(chunk)
        return [f for _, f in self.poll(0.0)]

    def finish(self) -> list[np.ndarray]:
        self.close_input()
        out: list[np.ndarray] = []
        while not self.done:
            out.extend(f for _, f in self.poll(0.05))
        out.extend(f for _, f in self.poll(0.0))
        self.close()
        return out


class Adapter:
    """Base class of every generator adapter.

    Subclasses set ``name`` and ``version``, accept their configuration as keyword arguments and
    implement ``generate`` and/or ``open_stream``. ``setup`` loads weights once per run.
    """

    name: str = "adapter"
    version: str = "0"
    streaming: bool = False  # True when open_stream is implemented

    def __init__(self, **config: Any):
        self.config = config

    def setup(self) -> None:
        """Load weights and warm up; called once before the first case."""

    def fingerprint(self) -> str:
        """A stable identifier of the checkpoint/code (e.g. sha256 of the weights). Empty if unknown."""
        return ""

    def supports(self, case: Case) -> str | None:
        """None when the case can be generated, else the reason it cannot (recorded per case)."""
        return None

    def reported_memory(self) -> dict[str, Any] | None:
        """None (default): the generator runs inside the worker's process tree, which the worker
        measures. A generator running elsewhere (a server) returns what it reported about the
        last case instead: ``peak_rss_mb``, ``peak_gpu_mb`` (absent: not reported) and ``notes``
        (figures dropped as implausible, and why)."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "streaming": self.streaming,
                "fingerprint": self.fingerprint(), "config": _jsonable(self.config)}

    def generate(self, case: Case, output: Path) -> None:
        """Write the whole case as a video to ``output``. Default: drive ``open_stream`` unpaced."""
        if not self.streaming:
            raise NotImplementedError(f"adapter {self.name!r} implements neither generate nor open_stream")
        from ..media import VideoWriter, load_audio

        agent = load_audio(case.agent_audio, duration=case.duration) if case.agent_audio else None
        session = self.open_stream(case)
        with VideoWriter(output, case.fps, case.width, case.height, audio=agent) as w:
            for chunk in iter_chunks(case, 0.04):
                for f in session.feed(chunk):
                    w.write(f)
            for f in session.finish():
                w.write(f)

    def open_stream(self, case: Case) -> StreamSession:
        raise NotImplementedError(f"adapter {self.name!r} does not stream")

    def close(self) -> None:
        """Release resources at the end of a run."""


def case_audio(case: Case, agent: np.ndarray | None = None, partner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The case's agent and partner tracks, exactly ``duration`` long (zeros where a track is absent);
    tracks already loaded by the caller are passed through."""
    from ..media import load_audio

    n = int(round(case.duration * AUDIO_RATE))
    if agent is None:
        agent = load_audio(case.agent_audio, duration=case.duration) if case.agent_audio else np.zeros(n, np.float32)
    if partner is None:
        partner = load_audio(case.partner_audio, duration=case.duration) if case.partner_audio else np.zeros(n, np.float32)
    return agent, partner


def iter_chunks(case: Case, chunk_s: float = 0.04, agent: np.ndarray | None = None,
                partner: np.ndarray | None = None) -> Iterable[AudioChunk]:
    """Split a case's audio into fixed-size chunks with the prompt events that start in each."""
    n = int(round(case.duration * AUDIO_RATE))
    agent, partner = case_audio(case, agent, partner)
    step = max(1, int(round(chunk_s * AUDIO_RATE)))
    events = sorted(case.prompts, key=lambda p: p.start)
    k = 0
    for i in range(0, n, step):
        t0, t1 = i / AUDIO_RATE, min(n, i + step) / AUDIO_RATE
        ev = []
        while k < len(events) and events[k].start < t1:
            ev.append(events[k])
            k += 1
        yield AudioChunk(t0, agent[i : i + step], partner[i : i + step], ev, last=i + step >= n)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    return str(x)
