"""A synthetic stream session for tests and benchmarks: the reference image with a mouth driven by
the audio, cheap and causal.

It is no generator worth scoring; it exists so the streaming harness, the protocol and the
benchmarks can be exercised without a model: it emits frame ``i`` as soon as the audio up to the
frame's end has arrived (latency ~0 plus ``work_s``), keeps nothing but the current frame, and
can simulate per-frame compute time (``work_s``) or emit frames in batches (``batch``).
"""
from __future__ import annotations

import time

import numpy as np

from ..adapters.base import AudioChunk, StreamSession
from ..case import AUDIO_RATE
from ..vision import fit_image


class SyntheticSession(StreamSession):
    """Emit ``fps`` frames per second of audio received, mouth opening = agent RMS of the frame."""

    def __init__(self, reference: np.ndarray, fps: float, width: int, height: int, n_frames: int | None = None,
                 work_s: float = 0.0, batch: int = 1):
        self.base = fit_image(reference, width, height)
        self.fps, self.n_frames = float(fps), n_frames
        self.work_s, self.batch = work_s, max(1, int(batch))
        self.samples = 0  # audio samples received
        self.emitted = 0
        self._tail = np.zeros(0, np.float32)  # agent samples not yet consumed by a frame
        self._pending: list[np.ndarray] = []
        self.events: list = []  # prompt events received (kept so tests can check their delivery)

    def _render(self, rms: float) -> np.ndarray:
        import cv2

        f = self.base.copy()
        h, w = f.shape[:2]
        open_px = int(min(0.12, 0.02 + 0.6 * rms) * h)
        cv2.ellipse(f, (w // 2, int(0.72 * h)), (w // 10, max(1, open_px // 2)), 0, 0, 360, (40, 10, 10), -1)
        return f

    def _frames_until(self, n_samples: int) -> list[np.ndarray]:
        out = []
        while True:
            end = int(round((self.emitted + 1) / self.fps * AUDIO_RATE))
            if end > n_samples or (self.n_frames is not None and self.emitted >= self.n_frames):
                break
            start = int(round(self.emitted / self.fps * AUDIO_RATE))
            seg = self._tail[: end - start]
            self._tail = self._tail[end - start :]
            rms = float(np.sqrt(np.mean(seg**2))) if len(seg) else 0.0
            if self.work_s:
                time.sleep(self.work_s)  # stands for model compute
            self._pending.append(self._render(rms))
            self.emitted += 1
        if len(self._pending) >= self.batch:
            out, self._pending = self._pending, []
        return out

    def feed(self, chunk: AudioChunk) -> list[np.ndarray]:
        self.events.extend(chunk.events)
        self._tail = np.concatenate([self._tail, chunk.agent])
        self.samples += len(chunk.agent)
        return self._frames_until(self.samples)

    def finish(self) -> list[np.ndarray]:
        # emit the frames that the audio covers only partly, up to the case length
        target = self.n_frames if self.n_frames is not None else int(np.ceil(self.samples / AUDIO_RATE * self.fps))
        out = self._frames_until(self.samples)
        while self.emitted < target:
            self._pending.append(self._render(0.0))
            self.emitted += 1
        out += self._pending
        self._pending = []
        return out


def synthetic_session(case, work_s: float = 0.0, batch: int = 1) -> SyntheticSession:
    """A :class:`SyntheticSession` for a case (its first reference image, size, fps, length)."""
    from ..media import load_image

    return SyntheticSession(load_image(case.reference), case.fps, case.width, case.height, case.n_frames,
                            work_s=work_s, batch=batch)
