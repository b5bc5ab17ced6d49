"""Media I/O on PyAV: audio loading, a streaming video writer, probing and the one frame decoder.

Only the analysis pass calls :func:`iter_frames`; everything else that needs facts about a video
asks :func:`probe`, which reads container metadata without decoding frames.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from .case import AUDIO_RATE


class MediaError(RuntimeError):
    """A media file is missing, empty, corrupt or not what the case asked for."""


def load_audio(path: str | Path, sr: int = AUDIO_RATE, duration: float | None = None) -> np.ndarray:
    """Mono float32 samples at ``sr``. Reads WAV/FLAC/OGG with soundfile, anything else with PyAV.

    ``duration`` trims or zero-pads to exactly that many seconds (AAC pads to 1024-sample frames).
    """
    path = Path(path)
    if not path.is_file():
        raise MediaError(f"audio file not found: {path}")
    try:
        import soundfile as sf

        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        data = data.mean(axis=1)
    except Exception:
        data, rate = _decode_audio_av(path)
    if rate != sr and len(data):
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(int(rate), int(sr))
        data = resample_poly(data, sr // g, int(rate) // g).astype(np.float32)
    if duration is not None:
        n = int(round(duration * sr))
        data = data[:n] if len(data) >= n else np.pad(data, (0, n - len(data)))
    return np.ascontiguousarray(data, dtype=np.float32)


def _decode_audio_av(path: Path) -> tuple[np.ndarray, int]:
    import av

    try:
        with av.open(str(path)) as c:
            if not c.streams.audio:
                raise MediaError(f"{path}: no audio stream")
            s = c.streams.audio[0]
            resampler = av.AudioResampler(format="flt", layout="mono", rate=AUDIO_RATE)
            parts = []
            for frame in c.decode(s):
                for f in resampler.resample(frame):
                    parts.append(f.to_ndarray().reshape(-1))
            for f in resampler.resample(None):
                parts.append(f.to_ndarray().reshape(-1))
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: cannot decode audio: {e}") from None
    return (np.concatenate(parts) if parts else np.zeros(0, np.float32)), AUDIO_RATE


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    n_frames: int  # from the container; may be an estimate for some formats
    duration: float
    has_audio: bool


def probe(path: str | Path) -> VideoInfo:
    """Container facts without decoding. Raises :class:`MediaError` for missing/empty/corrupt files."""
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"video file not found: {path}")
    if path.stat().st_size == 0:
        raise MediaError(f"video file is empty (0 bytes): {path}")
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise MediaError(f"{path}: no video stream")
            s = c.streams.video[0]
            rate = s.average_rate or s.guessed_rate or s.base_rate
            fps = float(rate) if rate else 0.0
            if s.duration is not None and s.time_base is not None:
                dur = float(s.duration * s.time_base)
            elif c.duration is not None:
                dur = c.duration / 1e6
            else:
                dur = 0.0
            n = s.frames or int(round(dur * fps))
            return VideoInfo(path, s.codec_context.width, s.codec_context.height, fps, int(n), dur, bool(c.streams.audio))
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: unreadable video: {e}") from None


def iter_frames(path: str | Path, *, threads: int = 0) -> Iterator[np.ndarray]:
    """Decode frames one at a time as RGB uint8 (H, W, 3): memory does not grow with length."""
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            s.thread_type = "AUTO"
            if threads:
                s.codec_context.thread_count = threads
            for frame in c.decode(s):
                yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: decoding failed: {e}") from None


class VideoWriter:
    """Streaming H.264 writer (yuv420p, even size) with optional AAC audio muxed at close.

    >>> with VideoWriter(out, fps=25, width=512, height=512, audio=samples) as w:
    ...     w.write(frame_rgb)
    """

    def __init__(self, path: str | Path, fps: float, width: int, height: int, *, audio: np.ndarray | None = None,
                 audio_rate: int = AUDIO_RATE, crf: int = 23, preset: str = "veryfast"):
        import av

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.width, self.height = width - width % 2, height - height % 2
        self._c = av.open(str(self.path), mode="w")
        rate = Fraction(fps).limit_denominator(1001)
        self._v = self._c.add_stream("libx264", rate=rate)
        self._v.width, self._v.height, self._v.pix_fmt = self.width, self.height, "yuv420p"
        self._v.options = {"crf": str(crf), "preset": preset}
        self._audio = audio
        self._a = None
        if audio is not None and len(audio):
            self._a = self._c.add_stream("aac", rate=audio_rate)
            self._a.layout = "mono"
        self._audio_rate = audio_rate
        self.n_frames = 0

    def write(self, frame: np.ndarray) -> None:
        import av

        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise MediaError(f"frames must be uint8 RGB (H, W, 3), got {frame.dtype} {frame.shape}")
        if frame.shape[0] != self.height or frame.shape[1] != self.width:
            frame = np.ascontiguousarray(frame[: self.height, : self.width])
            if frame.shape[0] != self.height or frame.shape[1] != self.width:
                raise MediaError(f"frame size {frame.shape[1]}x{frame.shape[0]} != video size {self.width}x{self.height}")
        vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
        for pkt in self._v.encode(vf):
            self._c.mux(pkt)
        self.n_frames += 1

    def close(self) -> None:
        import av

        if self._c is None:
            return
        for pkt in self._v.encode():
            self._c.mux(pkt)
        if self._a is not None:
            samples = np.asarray(self._audio, dtype=np.float32).reshape(1, -1)
            n = self._a.codec_context.frame_size or 1024
            pts = 0
            for i in range(0, samples.shape[1], n):
                part = np.ascontiguousarray(samples[:, i : i + n])
                af = av.AudioFrame.from_ndarray(part, format="flt", layout="mono")
                af.sample_rate = self._audio_rate
                af.pts = pts
                pts += part.shape[1]
                for pkt in self._a.encode(af):
                    self._c.mux(pkt)
            for pkt in self._a.encode():
                self._c.mux(pkt)
        self._c.close()
        self._c = None

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_image(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 (H, W, 3)."""
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"image file not found: {path}")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception as e:
        raise MediaError(f"{path}: cannot read image: {e}") from None
