"""Bundled baseline generators: ``static`` (this module) and ``puppet`` (:mod:`.puppet`).

``static`` repeats the (first) reference image, letterboxed to the case resolution, for the
case's duration, with the agent audio muxed in. It is the benchmark's lower bound: identity is
near perfect and nothing moves. It streams too (trivially): one frame per ``1/fps`` of audio.

This module also holds what both baselines share: the case's reference fitted to the case frame
(:func:`load_reference_frame`, letterboxed by :func:`lpmbench.vision.fit_to_frame`), a per-case
seed (:func:`case_seed`), a fingerprint of the generator code plus its configuration
(:func:`source_fingerprint`) and :class:`FrameClockSession`, a streaming session that turns
incoming audio into frames at the case's frame rate.
"""
from __future__ import annotations

import hashlib
import inspect
import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..case import AUDIO_RATE, Case, PromptEvent
from ..vision import fit_to_frame
from .base import Adapter, AudioChunk, StreamSession, _jsonable

# Below this RMS (-90 dBFS) audio counts as digital silence; avoids log(0).
_RMS_FLOOR = 10 ** (-90 / 20)


def load_reference_frame(case: Case) -> np.ndarray:
    """The case's first reference image fitted to the case resolution (RGB uint8)."""
    from ..media import load_image

    return fit_to_frame(load_image(case.reference), case.width, case.height)


def case_seed(case_id: str, seed: int = 0) -> int:
    """A 64-bit RNG seed from the case id and the configured seed: same case -> same video."""
    digest = hashlib.sha256(f"{int(seed)}:{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def source_fingerprint(modules: Sequence[Any], config: dict[str, Any]) -> str:
    """sha256 over the source of ``modules`` and the JSON of ``config``: changes with either."""
    h = hashlib.sha256()
    for m in modules:
        h.update(inspect.getsource(m).encode())
    h.update(json.dumps(_jsonable(config), sort_keys=True).encode())
    return h.hexdigest()


def rms_db(samples: np.ndarray) -> float:
    """RMS level of ``samples`` in dBFS (-90 for silence or an empty slice)."""
    if samples.size == 0:
        return -90.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, _RMS_FLOOR))


class FrameClockSession(StreamSession):
    """A stream session that emits frame ``k`` once the audio up to ``(k + 1) / fps`` has arrived.

    Frame ``k`` covers the audio samples ``[round(k * spf), round((k + 1) * spf))`` with
    ``spf = AUDIO_RATE / fps``. Subclasses implement :meth:`render` and get the levels of both
    tracks over that window. The session emits exactly ``case.n_frames`` frames: the last chunk
    (or :meth:`finish`) flushes frames whose audio the case does not cover fully. Memory stays
    flat: only the samples of the frame in progress are kept.
    """

    def __init__(self, case: Case):
        self.case = case
        self.fps = float(case.fps)
        self.n_frames = case.n_frames
        self._spf = AUDIO_RATE / self.fps
        self._agent = np.zeros(0, np.float32)  # samples not yet consumed by a frame
        self._partner = np.zeros(0, np.float32)
        self._buf_start = 0  # absolute sample index of _agent[0] / _partner[0]
        self._next = 0  # next frame index to emit
        self.events: list[PromptEvent] = []  # prompt events received so far

    def _bounds(self, k: int) -> tuple[int, int]:
        return int(round(k * self._spf)), int(round((k + 1) * self._spf))

    def feed(self, chunk: AudioChunk) -> list[np.ndarray]:
        agent = np.asarray(chunk.agent, np.float32).reshape(-1)
        partner = np.asarray(chunk.partner, np.float32).reshape(-1)
        if len(partner) != len(agent):  # a missing partner track arrives as zeros of another length
            partner = np.resize(partner, len(agent)) if len(partner) else np.zeros_like(agent)
        self._agent = np.concatenate([self._agent, agent])
        self._partner = np.concatenate([self._partner, partner])
        self.events.extend(chunk.events)
        return self._drain(flush=chunk.last)

    def finish(self) -> list[np.ndarray]:
        return self._drain(flush=True)

    def _drain(self, flush: bool) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        have = self._buf_start + len(self._agent)
        while self._next < self.n_frames:
            s0, s1 = self._bounds(self._next)
            if s1 > have and not flush:
                break
            a = self._agent[s0 - self._buf_start : s1 - self._buf_start]
            p = self._partner[s0 - self._buf_start : s1 - self._buf_start]
            out.append(self.render(self._next, rms_db(a), rms_db(p)))
            self._next += 1
        # Drop the samples every emitted frame has consumed (all of them once the case is done).
        keep_from = (have if self._next >= self.n_frames else min(self._bounds(self._next)[0], have)) - self._buf_start
        if keep_from > 0:
            self._agent, self._partner = self._agent[keep_from:], self._partner[keep_from:]
            self._buf_start += keep_from
        return out

    def render(self, k: int, agent_db: float, partner_db: float) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class _StaticSession(FrameClockSession):
    def __init__(self, case: Case, frame: np.ndarray):
        super().__init__(case)
        self._frame = frame

    def render(self, k: int, agent_db: float, partner_db: float) -> np.ndarray:
        return self._frame


class StaticAdapter(Adapter):
    """Lower-bound baseline: the (first) reference image, letterboxed, for the whole case.

    Config: none. Identity is near perfect, motion is zero, lips never move. Streaming-capable;
    offline generation drives the same session, so both paths give the same frames.
    """

    name = "static"
    version = "1.0"
    streaming = True

    def __init__(self, **config: Any):
        if config:
            raise TypeError(f"static adapter takes no parameters, got {sorted(config)}")
        super().__init__(**config)
        self._frames: dict[tuple[str, int, int], np.ndarray] = {}

    def fingerprint(self) -> str:
        import sys

        from .. import vision

        return source_fingerprint([sys.modules[__name__], vision.crops], self.config)

    def _frame(self, case: Case) -> np.ndarray:
        key = (str(Path(case.reference).resolve()), case.width, case.height)
        if key not in self._frames:
            frame = load_reference_frame(case)
            frame.setflags(write=False)  # shared by every frame of every case with this reference
            self._frames[key] = frame
        return self._frames[key]

    def open_stream(self, case: Case) -> StreamSession:
        return _StaticSession(case, self._frame(case))
