"""The media layer on real files: any frame rate (variable too), size and rotation; what is not a
video; bounded decoding. Every clip is encoded here with PyAV (libx264); frames carry their own
index as a grey level so that the frame the grid took can be read back after lossy coding."""
from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from lpmbench import media
from lpmbench.media import GridFrames, MediaError, Timeline


def _level(i: int) -> int:
    return 20 + 8 * i  # frame i's grey level (frames < 29)


def encode(path: Path, frames, times_s, *, fps: float = 25.0, rotation: int = 0) -> Path:
    """An H.264 MP4 (crf 10) of RGB ``frames`` shown at ``times_s`` (seconds; any spacing, so
    variable frame rate too), nominal rate ``fps``, with a display-matrix ``rotation`` (degrees
    counter-clockwise, as players apply it)."""
    import av

    tb = Fraction(1, 90000)
    with av.open(str(path), "w") as c:
        s = None
        for img, t in zip(frames, times_s):
            if s is None:
                s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                s.width, s.height, s.pix_fmt, s.time_base = img.shape[1], img.shape[0], "yuv420p", tb
                s.codec_context.time_base = tb
                s.options = {"crf": "10", "preset": "ultrafast"}
                if rotation:
                    s.set_display_rotation(rotation)
            f = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            f.pts, f.time_base = int(round(t / tb)), tb
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def write(path: Path, times_s: list[float] | None = None, *, n: int = 10, fps: float = 25.0, width: int = 64,
          height: int = 48, rotation: int = 0, marker: bool = False) -> Path:
    """Flat grey frames (frame i at level ``_level(i)``) at ``times_s`` (default: ``n`` frames at
    ``fps``); ``marker`` paints the top-left 8x8 white."""
    times = times_s if times_s is not None else [i / fps for i in range(n)]

    def frames():
        for i in range(len(times)):
            img = np.full((height, width, 3), _level(i), np.uint8)
            if marker:
                img[:8, :8] = 255
            yield img

    return encode(path, frames(), times, fps=fps, rotation=rotation)


def _which_frame(rgb: np.ndarray) -> int:
    return int(round((float(rgb[rgb.shape[0] // 2, rgb.shape[1] // 2].mean()) - 20) / 8))


@pytest.mark.parametrize("fps", [24.0, 25.0, 30000 / 1001, 30.0, 60.0])
def test_constant_rates_are_read_as_they_are(tmp_path, fps):
    v = write(tmp_path / "v.mp4", n=12, fps=fps)
    tl = media.timeline(v)
    assert tl.kind == "constant" and tl.n_frames == tl.source_frames == 12
    assert tl.fps == pytest.approx(fps, rel=1e-9) and tl.duration == pytest.approx(12 / fps)
    grid = GridFrames(media.decode(v), tl, tl.n_frames)
    assert [_which_frame(rgb) for _, rgb in grid] == list(range(12))
    assert (grid.decoded, grid.duplicated, grid.dropped) == (12, 0, 0)


def test_variable_frame_rate_is_resampled_by_nearest_timestamp(tmp_path):
    # 12 frames at irregular times over 0.9 s: the grid is the mean rate, 11 steps over the span
    times = [0.0, 0.05, 0.09, 0.20, 0.24, 0.40, 0.44, 0.47, 0.60, 0.70, 0.82, 0.90]
    v = write(tmp_path / "vfr.mp4", times)
    tl = media.timeline(v)
    assert tl.kind == "variable" and tl.n_frames == 12 and tl.fps == pytest.approx(11 / 0.9)
    grid = GridFrames(media.decode(v), tl, tl.n_frames)
    got = [_which_frame(rgb) for _, rgb in grid]
    want = [int(np.argmin(np.abs(np.array(times) - k / tl.fps))) for k in range(12)]
    assert got == want
    assert grid.duplicated == 12 - len(set(want)) and grid.dropped == 12 - len(set(want))


def test_constant_rate_with_missing_frames_repeats_the_nearest(tmp_path):
    kept = [i for i in range(15) if i not in (4, 5, 9)]
    v = write(tmp_path / "gaps.mp4", [i / 25 for i in kept])
    tl = media.timeline(v)
    assert (tl.kind, tl.fps, tl.n_frames, tl.source_frames) == ("gaps", 25.0, 15, 12)
    grid = GridFrames(media.decode(v), tl, 15)
    got = [_which_frame(rgb) for _, rgb in grid]
    # each slot takes the nearest frame, the earlier on a tie (slot 9, between 8 and 10)
    want = [int(np.argmin(np.abs(np.array(kept) - k))) for k in range(15)]
    assert got == want and want[9] == kept.index(8)
    assert grid.duplicated == 3 and grid.dropped == 0


def test_grid_stops_early_and_counts():
    closed = []

    def source():
        try:
            for i, t in enumerate([0.0, 0.1, 0.1, 0.3, 0.4, 0.5]):  # a repeated timestamp
                yield t, np.full((2, 2, 3), i, np.uint8)
        finally:
            closed.append(True)

    tl = Timeline(fps=10.0, n_frames=6, start_s=0.0, kind="variable", source_frames=6)
    grid = GridFrames(source(), tl, 4)
    got = [(k, int(rgb[0, 0, 0])) for k, rgb in grid]
    assert got == [(0, 0), (1, 1), (2, 1), (3, 3)]  # 0.2 s: between 0.1 and 0.3, the earlier
    assert grid.dropped == 1 and grid.duplicated == 1 and closed == [True]


@pytest.mark.parametrize("rotation", [90, 180, -90])
def test_rotation_metadata_is_applied_as_a_player_does(tmp_path, rotation):
    v = write(tmp_path / "rot.mp4", n=4, width=96, height=64, rotation=rotation, marker=True)
    info = media.probe(v)
    assert info.rotation == rotation % 360
    assert (info.width, info.height) == ((64, 96) if rotation % 180 else (96, 64))
    frame = next(media.iter_frames(v))
    assert frame.shape == (info.height, info.width, 3) and frame.flags.c_contiguous
    where = np.argwhere(frame[..., 0] > 200).mean(axis=0)
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: cannot compare with its autorotation")
    png = tmp_path / "ff.png"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(v), "-frames:v", "1", str(png)], check=True)
    ref = media.load_image(png)
    assert ref.shape == frame.shape
    np.testing.assert_allclose(where, np.argwhere(ref[..., 0] > 200).mean(axis=0), atol=1.0)


@pytest.mark.parametrize("size", [(590, 332), (1080, 1920), (720, 1364), (526, 300)])
def test_odd_and_portrait_sizes_decode_contiguous(tmp_path, size):
    import dlib

    w, h = size
    v = write(tmp_path / "odd.mp4", n=2, width=w, height=h)
    info = media.probe(v)
    assert (info.width, info.height) == (w, h)
    frames = list(media.iter_frames(v))
    assert len(frames) == 2 and all(f.shape == (h, w, 3) and f.flags.c_contiguous for f in frames)
    # dlib's C++ takes it (its get_face_chip refuses PyAV's row-padded arrays with a TypeError)
    shape = dlib.full_object_detection(dlib.rectangle(4, 4, 40, 40), [dlib.point(10 + i % 20, 10 + i // 4) for i in range(68)])
    assert dlib.get_face_chip(frames[0], shape, size=32).shape == (32, 32, 3)


def test_what_is_not_a_video_fails_in_one_line(tmp_path):
    from PIL import Image

    img = Image.fromarray(np.full((32, 32, 3), 128, np.uint8))
    img.save(tmp_path / "still.png")
    shutil.copy(tmp_path / "still.png", tmp_path / "still.mp4")
    img.save(tmp_path / "photo.jpg")
    shutil.copy(tmp_path / "photo.jpg", tmp_path / "photo.mp4")
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 50)
    for bad, match in ((tmp_path / "still.mp4", "still image .png., not a video"),
                       (tmp_path / "photo.mp4", "still image .mjpeg., not a video"),
                       (tmp_path / "notes.mp4", "unreadable video")):
        with pytest.raises(MediaError, match=match) as e:
            media.probe(bad)
        assert "\n" not in str(e.value)
    one = write(tmp_path / "one.mp4", n=1)
    media.probe(one)  # one frame decodes ...
    with pytest.raises(MediaError, match=r"has 1 video frame\(s\); a video needs at least 2"):
        media.timeline(one)  # ... but is no video


def test_frame_size_limits_are_checked_before_decoding(tmp_path):
    wide = write(tmp_path / "wide.mp4", n=2, width=media.MAX_SIDE + 16, height=16)
    with pytest.raises(MediaError, match=r"8208x16 .* over the limit of 40 MP and 8192 px a side"):
        media.probe(wide)
    v = write(tmp_path / "v.mp4", n=2, width=640, height=480)
    with pytest.raises(MediaError, match=r"640x480 \(0.3 MP\), over the limit of 0.1 MP"):
        media.probe(v, max_pixels=100_000)
    # the decoder itself refuses frames over its limit (FFmpeg's max_pixels), not just the header check
    with pytest.raises(MediaError, match="decoding failed"):
        next(media.decode(v, max_pixels=100_000))


def test_probe_and_timeline_of_a_missing_or_empty_file(tmp_path):
    with pytest.raises(MediaError, match="not found"):
        media.probe(tmp_path / "nope.mp4")
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        media.probe(tmp_path / "empty.mp4")
