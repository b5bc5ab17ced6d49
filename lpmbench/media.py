"""Media I/O on PyAV: audio loading, a streaming video writer, probing and the one frame decoder.

Videos come as generators and cameras make them: any frame rate (variable too), size and aspect
ratio, rotation metadata. :func:`probe` reads the container's facts (and decodes the first frame
only, for its upright size); :func:`timeline` reads every frame's timestamp without decoding;
:func:`decode` is the one frame decoder (upright, C-contiguous RGB, bounded by
:data:`MAX_PIXELS` / :data:`MAX_SIDE`) and :class:`GridFrames` puts its frames on a timeline's
uniform grid. Only the analysis pass decodes whole videos.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Iterator

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
    width: int  # upright, as a player shows it (rotation applied)
    height: int
    fps: float  # the container's nominal rate; the analysis reads the frame timestamps (timeline)
    n_frames: int  # from the container; may be an estimate for some formats
    duration: float
    has_audio: bool
    rotation: int = 0  # degrees counter-clockwise a player turns the coded frames (display matrix)
    container: str = ""  # FFmpeg's format name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    codec: str = ""  # e.g. "h264"


# Bounds on what the decoder accepts, checked from the container header before any frame is
# decoded, and again by FFmpeg for every frame (``max_pixels``): a 8K UHD frame is 33 MP.
MAX_PIXELS = 40_000_000  # width * height
MAX_SIDE = 8192  # px, either side
MIN_FRAMES = 2  # fewer frames than this is a still image, not a video


def _is_image_format(name: str) -> bool:
    # FFmpeg reads a single picture through an image demuxer: "png_pipe", "jpeg_pipe", "image2", ...
    return name == "image2" or name.endswith("_pipe")


def _quarter_turns(rotation: float | None) -> int:
    """Counter-clockwise quarter turns (0-3) of a display-matrix rotation in degrees."""
    return int(round((rotation or 0) / 90.0)) % 4


def _open_decoder(c, s, threads: int, max_pixels: int) -> None:
    s.thread_type = "AUTO"
    if threads:
        s.codec_context.thread_count = threads
    s.codec_context.options = {"max_pixels": str(int(max_pixels))}  # FFmpeg refuses larger frames itself


def probe(path: str | Path, *, max_pixels: int = MAX_PIXELS, max_side: int = MAX_SIDE) -> VideoInfo:
    """Container facts, and the first frame decoded (it must decode; its display matrix gives the
    upright size). Raises :class:`MediaError` with one line for a missing, empty, corrupt or
    oversized file and for an image that is not a video (a PNG renamed ``.mp4``)."""
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
            fmt, codec = c.format.name, s.codec_context.name
            if _is_image_format(fmt):
                raise MediaError(f"{path}: is a still image ({codec}), not a video")
            w, h = s.codec_context.width, s.codec_context.height
            if w > max_side or h > max_side or w * h > max_pixels:
                raise MediaError(f"{path}: frames are {w}x{h} ({w * h / 1e6:.1f} MP), over the limit of "
                                 f"{max_pixels / 1e6:g} MP and {max_side} px a side")
            rate = s.average_rate or s.guessed_rate or s.base_rate
            fps = float(rate) if rate else 0.0
            if s.duration is not None and s.time_base is not None:
                dur = float(s.duration * s.time_base)
            elif c.duration is not None:
                dur = c.duration / 1e6
            else:
                dur = 0.0
            n = s.frames or int(round(dur * fps))
            has_audio = bool(c.streams.audio)
            _open_decoder(c, s, 0, max_pixels)
            first = next(iter(c.decode(s)), None)
            if first is None:
                raise MediaError(f"{path}: no decodable video frame")
            rotation = _quarter_turns(first.rotation) * 90
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: unreadable video: {e}") from None
    if rotation % 180:
        w, h = h, w
    return VideoInfo(path, w, h, fps, int(n), dur, has_audio, rotation, fmt, codec)


@dataclass(frozen=True)
class Timeline:
    """When a video's frames are shown, and the uniform grid the analysis reads them on.

    ``constant``: every timestamp lies on the grid of the stream's nominal rate (the usual case);
    ``gaps``: on that grid with frames missing (a grid point without a frame repeats the nearest);
    ``variable``: the timestamps are irregular, and the grid is the mean rate over the video
    (first to last timestamp) with as many points as frames; each point takes the frame nearest in
    time. Grid point k is at ``start_s + k / fps``.
    """

    fps: float
    n_frames: int  # grid points
    start_s: float  # timestamp of the first frame
    kind: str  # "constant" | "gaps" | "variable"
    source_frames: int  # frames in the stream

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps


ON_GRID = 0.25  # a timestamp within this fraction of a frame of a grid point lies on the grid


def timeline(path: str | Path) -> Timeline:
    """The :class:`Timeline` of a video from its packet timestamps (demuxed, not decoded: ~30 us
    per frame). Raises :class:`MediaError` for fewer than :data:`MIN_FRAMES` frames."""
    import av

    path = Path(path)
    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            pts = [p.pts for p in c.demux(s) if p.size and not p.is_discard]
            tb = float(s.time_base) if s.time_base else 0.0
            rates = [r for r in (s.base_rate, s.average_rate, s.guessed_rate) if r]
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: unreadable video: {e}") from None
    if len(pts) < MIN_FRAMES:
        raise MediaError(f"{path}: has {len(pts)} video frame(s); a video needs at least {MIN_FRAMES}")
    if any(p is None for p in pts) or not tb:
        # no timestamps (raw streams): frames are shown at the nominal rate, one after the other
        if not rates:
            raise MediaError(f"{path}: has neither frame timestamps nor a frame rate")
        return Timeline(float(rates[0]), len(pts), 0.0, "constant", len(pts))
    t = np.unique(np.asarray(pts, dtype=np.float64)) * tb
    start, span = float(t[0]), float(t[-1] - t[0])
    if span <= 0:
        raise MediaError(f"{path}: all {len(pts)} frames have the same timestamp")
    step = float(np.median(np.diff(t)))
    # the nominal rate whose period is the typical frame step (r_frame_rate first), if one is
    rate = min(rates, key=lambda r: abs(1.0 / float(r) - step)) if rates else None
    if rate is not None and abs(float(rate) * step - 1.0) <= ON_GRID:
        k = (t - start) * float(rate)
        if np.all(np.abs(k - np.round(k)) <= ON_GRID):
            n = int(round(k[-1])) + 1
            return Timeline(float(rate), n, start, "constant" if n == len(t) else "gaps", len(pts))
    return Timeline((len(t) - 1) / span, len(t), start, "variable", len(pts))


def decode(path: str | Path, *, threads: int = 0, max_pixels: int = MAX_PIXELS) -> Iterator[tuple[float | None, np.ndarray]]:
    """``(timestamp s or None, rgb)`` of every frame, in presentation order: upright (the display
    matrix applied), C-contiguous RGB uint8 (H, W, 3), one at a time (memory does not grow with
    length). A frame whose size differs from the first one's is a :class:`MediaError`."""
    import av

    path = Path(path)
    size = None
    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            _open_decoder(c, s, threads, max_pixels)
            for i, frame in enumerate(c.decode(s)):
                rgb = frame.to_ndarray(format="rgb24")
                k = _quarter_turns(frame.rotation)
                # PyAV pads rows at widths that are not a multiple of 16: C code needs them packed
                rgb = np.ascontiguousarray(np.rot90(rgb, k) if k else rgb)
                if size is None:
                    size = rgb.shape
                elif rgb.shape != size:
                    raise MediaError(f"{path}: frame {i} is {rgb.shape[1]}x{rgb.shape[0]}, the video started "
                                     f"{size[1]}x{size[0]}")
                yield frame.time, rgb
    except av.error.FFmpegError as e:
        raise MediaError(f"{path}: decoding failed: {e}") from None


def iter_frames(path: str | Path, *, threads: int = 0) -> Iterator[np.ndarray]:
    """Every frame of :func:`decode`, without its timestamp."""
    for _, rgb in decode(path, threads=threads):
        yield rgb


class GridFrames:
    """The frames of :func:`decode` on a :class:`Timeline`'s first ``n`` grid points, as
    ``(index, rgb)``: each point takes the frame nearest in time (on a tie, the earlier). On a
    ``constant`` timeline that is every frame once. Afterwards ``decoded``, ``duplicated`` (grid
    points that repeat a frame) and ``dropped`` (frames no grid point took, before the last point)
    say what it did."""

    def __init__(self, frames: Iterable[tuple[float | None, np.ndarray]], tl: Timeline, n: int):
        self.frames, self.tl, self.n = frames, tl, n
        self.decoded = self.duplicated = self.dropped = 0

    def __iter__(self) -> Iterator[tuple[int, np.ndarray]]:
        try:
            yield from self._points()
        finally:  # stop the decoder (and close its file) as soon as the grid is full
            close = getattr(self.frames, "close", None)
            if close is not None:
                close()

    def _points(self) -> Iterator[tuple[int, np.ndarray]]:
        tl, n = self.tl, self.n
        k = 0  # the next grid point
        prev: tuple[float, np.ndarray] | None = None
        uses = 0  # grid points the previous frame took
        for i, (t, rgb) in enumerate(self.frames):
            self.decoded += 1
            t = tl.start_s + i / tl.fps if t is None else float(t)
            if prev is not None:
                if t <= prev[0]:  # out of order or a repeated timestamp: keep the first
                    self.dropped += 1
                    continue
                mid = (prev[0] + t) / 2.0
                while k < n and tl.start_s + k / tl.fps <= mid:
                    yield k, prev[1]
                    k, uses = k + 1, uses + 1
                self._count(uses)
                if k >= n:
                    return
            prev, uses = (t, rgb), 0
        while prev is not None and k < n:  # the last frame holds to the end of the grid
            yield k, prev[1]
            k, uses = k + 1, uses + 1
        if prev is not None:
            self._count(uses)

    def _count(self, uses: int) -> None:
        if uses == 0:
            self.dropped += 1
        else:
            self.duplicated += uses - 1


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
