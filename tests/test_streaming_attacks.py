"""Attacks of a hostile stream server on the client (model=remote), each reproduced with a real
server on loopback and the client in a real worker process whose memory is measured: a flood of
frames, a burst the client cannot take at once, a decompression bomb, absurd statistics."""
from __future__ import annotations

import struct
import time
import zlib

import numpy as np
import pytest

from lpmbench.procs import RssSampler
from lpmbench.streaming import protocol as P
from lpmbench.worker import AdapterSpec, AdapterWorker, GenerationFailed
from standins.stream_cases import make_case
from standins.stream_servers import scripted_server, url

# Bound on the client worker's peak memory during an attack, above its peak on the same case
# with a well-behaved server: its queues hold at most remote.FRAMES_QUEUED + the driver's 25
# frames waiting for the encoder (256x256 here: 0.2 MB each, 8 MB) and remote.MESSAGES_BUFFERED
# undecoded messages (< 1 MB), so 40 MB leaves room for allocator noise only.
EXCESS_BOUND_MB = 40


def noise_jpeg(size: int) -> bytes:
    return P.encode_jpeg(np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8))


def frame(index: int, payload: bytes) -> bytes:
    return P.pack({"type": "frame", "index": index, "format": "jpeg"}, payload)


def attack(tmp_path, after_ready, *, duration: float = 2.0, stream=None, timeout_s: float = 20.0):
    """Run one case of ``model=remote`` against the scripted server in a real worker:
    (timing or the GenerationFailed, peak RSS of the worker in MB)."""
    srv = scripted_server(after_ready)
    w = AdapterWorker(AdapterSpec("remote", {"url": url(srv), "frame_timeout_s": 5}))
    try:
        w.start()
        sampler = RssSampler(w.proc.pid, tree=True).start()
        try:
            result = w.run(make_case(tmp_path, "duplex_a", duration, size=256, mode="duplex"), tmp_path / "a.mp4",
                           timeout_s, stream)
        except GenerationFailed as e:
            result = e
        return result, sampler.stop()
    finally:
        w.close()
        srv.shutdown()


@pytest.fixture(scope="module")
def normal_peak(tmp_path_factory) -> float:
    """The client worker's peak RSS on the same case against a well-behaved server (MB)."""
    jpg = noise_jpeg(256)

    def honest(ws, hello):
        n = 0
        while True:
            head, _ = P.unpack(ws.recv())
            if head["type"] == "finish":
                ws.send(P.text({"type": "end", "n_frames": n, "stats": {}}))
                return
            ws.send(frame(n, jpg))
            n += 1

    timing, peak = attack(tmp_path_factory.mktemp("normal"), honest, stream={"chunk_s": 0.04, "paced": True})
    assert timing.n_frames == 50
    return peak


def test_a_server_flooding_frames_is_cut_off_with_a_clear_error(tmp_path, normal_peak):
    """Before: frames past the case's count were accepted and every queue was unbounded (8.97 GB
    in 60 s); the case ran into the timeout."""
    jpg = noise_jpeg(256)

    def flood(ws, hello):
        i = 0
        while True:
            ws.send(frame(i, jpg))
            i += 1

    t0 = time.monotonic()
    err, peak = attack(tmp_path, flood, stream={"chunk_s": 0.04, "paced": True})
    assert isinstance(err, GenerationFailed) and err.kind == "error", err
    assert "flooding: frame #75 refused, a case of 50 frames takes at most 75" in err.message
    assert time.monotonic() - t0 < 15
    assert peak < normal_peak + EXCESS_BOUND_MB, (peak, normal_peak)
    print(f"flood: client worker peak {peak:.0f} MB (well-behaved server: {normal_peak:.0f} MB)")


def test_back_pressure_holds_a_burst_the_client_has_not_taken(tmp_path):
    """A burst of all 500 frames of a 20 s case at once, while the client reads none: the server
    can send only what the bounded queues (and the socket buffers) hold; then every frame arrives."""
    from lpmbench.streaming.remote import RemoteSession

    jpg = noise_jpeg(512)
    sent = [0]

    def burst(ws, hello):
        for i in range(500):
            ws.send(frame(i, jpg))
            sent[0] += 1
        while P.unpack(ws.recv())[0]["type"] != "finish":
            pass
        ws.send(P.text({"type": "end", "n_frames": 500, "stats": {}}))

    srv = scripted_server(burst)
    try:
        session = RemoteSession(url(srv), make_case(tmp_path, "duplex_b", 20.0, size=512, mode="duplex"))
        time.sleep(1.5)
        held = sent[0]
        session.close_input()
        n = 0
        while not session.done:
            n += len(session.poll(0.05))
        session.close()
    finally:
        srv.shutdown()
    assert held < 120, f"{held} of 500 frames sent without the client reading"  # before: all 500
    assert n == 500


def png_bomb(width: int, height: int) -> bytes:
    """A valid grayscale PNG of zeros: ~1.7 MB that decodes to width x height x 3 bytes in colour."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(1)
    rows = (b"\x00" * (width + 1)) * 500
    idat = b"".join(z.compress(rows) for _ in range(height // 500)) + z.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return png_bomb(20000, 20000)


def test_a_decompression_bomb_is_refused_from_its_header(tmp_path, bomb, normal_peak):
    """Before: the 20000x20000 frame was decoded (1.2 GB in colour; 2.9 GB measured)."""
    assert len(bomb) < 2e6 and P.image_size(bomb) == (20000, 20000)

    def send_bomb(ws, hello):
        ws.recv()
        ws.send(frame(0, bomb))
        while True:
            ws.recv()

    err, peak = attack(tmp_path, send_bomb, stream={"chunk_s": 0.04, "paced": False})
    assert isinstance(err, GenerationFailed), err
    assert "frame #0: a 20000x20000 image exceeds the limit of 4194304 pixels (not decoded)" in err.message
    assert peak < normal_peak + EXCESS_BOUND_MB, (peak, normal_peak)
    print(f"bomb: client worker peak {peak:.0f} MB (well-behaved server: {normal_peak:.0f} MB)")


def test_implausible_server_statistics_are_dropped_with_a_note(tmp_path):
    """Before: `peak_gpu_mb: 1e308` went into the results as the model's memory."""
    jpg = noise_jpeg(64)

    def liar(ws, hello):
        n = 0
        while True:
            head, _ = P.unpack(ws.recv())
            if head["type"] == "finish":
                stats = {"peak_rss_mb": float("nan"), "peak_gpu_mb": 1e308, "flops": 1}
                ws.send(P.text({"type": "end", "n_frames": n, "stats": stats}))
                return
            ws.send(frame(n, jpg))
            n += 1

    timing, _ = attack(tmp_path, liar, duration=0.4)
    assert timing.memory_source == "server"
    assert timing.peak_rss_mb is None and timing.peak_gpu_mb is None
    notes = " | ".join(timing.notes)
    assert "peak_rss_mb=nan dropped" in notes and "peak_gpu_mb=1e+308 dropped" in notes and "flops" in notes


def test_an_oversized_message_ends_the_case_naming_the_limit(tmp_path):
    from lpmbench.adapters.base import AdapterError
    from lpmbench.streaming.driver import run_stream
    from lpmbench.streaming.remote import RemoteAdapter

    def oversized(ws, hello):
        ws.recv()
        ws.send(frame(0, b"\xff\xd8" + bytes(3 * 2**20)))
        while True:
            ws.recv()

    srv = scripted_server(oversized)
    try:
        with pytest.raises(AdapterError, match=r"a message exceeded max_message_mb=2 \(after 0 frame\(s\)\)"):
            run_stream(RemoteAdapter(url=url(srv), max_message_mb=2), make_case(tmp_path, "big", 0.4), tmp_path / "b.mp4",
                       paced=False)
    finally:
        srv.shutdown()


def test_plausible_statistics_pass_and_limits_follow_the_case():
    assert P.clean_stats({"peak_rss_mb": 812.5, "peak_gpu_mb": 0}) == ({"peak_rss_mb": 812.5, "peak_gpu_mb": 0.0}, [])
    assert P.clean_stats({"peak_rss_mb": True})[0] == {}  # a boolean is no number of MB
    assert P.frame_pixel_limit(512, 512) == 2048 * 2048  # the floor: generators render at their own size
    assert P.frame_pixel_limit(1920, 1080) == 4 * 1920 * 1080
    assert P.frame_pixel_limit(8192, 8192) == P.MAX_IMAGE_PIXELS
    assert P.max_frames(50) == 75 and P.max_frames(1000) == 1050
    big = np.zeros((100, 60, 3), np.uint8)
    with pytest.raises(P.ProtocolError, match="60x100 image exceeds the limit of 5000 pixels"):
        P.decode_image(P.encode_jpeg(big), "frame", max_pixels=5000)
    assert P.decode_image(P.encode_jpeg(big), "frame", max_pixels=6000).shape == (100, 60, 3)
