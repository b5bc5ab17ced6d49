"""Benchmark of the streaming harness: overhead per chunk, latency added by loopback, memory on long cases.

    python benchmarks/bench_streaming.py                       # all three, 10-minute long case
    python benchmarks/bench_streaming.py --minutes 2 --speed 4 # a 2-minute case paced 4x faster than real time
    python benchmarks/bench_streaming.py --only loopback --model puppet --repeats 3

1. overhead: a paced case (``--overhead-s``, default 20 s) with the cheap synthetic session; the
   harness overhead per chunk as defined in lpmbench.streaming.driver (loop time minus waiting,
   session and encoder time), mean / p99 / max, and how late chunks were fed (feed lag).
2. loopback: the same paced case in-process and through the WebSocket protocol to a server in a
   separate process (``python -m lpmbench.streaming.puppet_server``), ``--repeats`` times each;
   latency p50/p95 of both and their difference: the latency the protocol adds.
3. memory: a ``--minutes`` long paced case (``--speed`` compresses time: the feed schedule runs that
   many times faster than real time), RSS of the harness process sampled every second: start,
   peak and end, and the growth between the first and last tenth of the run.

Prints a table and writes the figures as JSON (``--json``). Timings on a shared machine are noisy.
"""
from __future__ import annotations

import argparse
import json
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def _case(root: Path, case_id: str, duration: float, size: int, mode: str = "duplex"):
    from standins.stream_cases import make_case

    return make_case(root, case_id, duration, size=size, mode=mode)


def _lat(t) -> np.ndarray:
    return np.asarray(t.frame_arrival_s) - np.asarray(t.frame_due_s)


def bench_overhead(root: Path, seconds: float, size: int) -> dict:
    from lpmbench.streaming.synthetic_session import synthetic_session
    from lpmbench.streaming.driver import run_stream

    case = _case(root, "overhead", seconds, size)
    t = run_stream(lambda c: synthetic_session(c), case, root / "overhead.mp4", chunk_s=0.04, progress=True)
    return {"case_s": seconds, "size": size, "n_chunks": t.n_chunks, "overhead_ms_mean": t.overhead_ms_mean,
            "overhead_ms_p50": t.overhead_ms_p50, "overhead_cpu_ms_mean": t.overhead_cpu_ms_mean,
            "overhead_ms_p99": t.overhead_ms_p99, "overhead_ms_max": t.overhead_ms_max,
            "feed_lag_ms_p95": t.feed_lag_ms_p95, "feed_lag_ms_max": t.feed_lag_ms_max,
            "latency_p50_s": float(np.percentile(_lat(t), 50))}


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server_process(model: str) -> tuple[subprocess.Popen, str]:
    """``python -m lpmbench.streaming.puppet_server`` on a free port; waits until it answers."""
    from lpmbench.adapters.base import AdapterError
    from lpmbench.streaming.remote import server_info

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "lpmbench.streaming.puppet_server", "--port", str(port),
                             "--adapter", model], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"ws://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            server_info(url, timeout=2)
            return proc, url
        except AdapterError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError(f"stream server ({model}) did not start on {url}") from None
            time.sleep(0.2)


def in_process_factory(model: str):
    if model == "synthetic":
        from lpmbench.streaming.synthetic_session import synthetic_session

        return lambda c: synthetic_session(c)
    from lpmbench.registry import ADAPTERS

    adapter = ADAPTERS.get(model)()
    adapter.setup()
    return adapter


def bench_loopback(root: Path, seconds: float, size: int, model: str, repeats: int) -> dict:
    from lpmbench.streaming.remote import RemoteAdapter
    from lpmbench.streaming.driver import run_stream

    case = _case(root, "loopback", seconds, size)
    local_src = in_process_factory(model)
    proc, url = start_server_process(model)
    rows = []
    try:
        remote = RemoteAdapter(url=url)
        remote.setup()
        for r in range(repeats):
            lo = run_stream(local_src, case, root / "local.mp4")
            re = run_stream(remote, case, root / "remote.mp4")
            ll, rl = _lat(lo), _lat(re)
            rows.append({"local_p50": float(np.percentile(ll, 50)), "local_p95": float(np.percentile(ll, 95)),
                         "remote_p50": float(np.percentile(rl, 50)), "remote_p95": float(np.percentile(rl, 95)),
                         "local_ttff": lo.ttff_s, "remote_ttff": re.ttff_s, "n_frames": [lo.n_frames, re.n_frames]})
            print(f"  repeat {r + 1}: p50 local {rows[-1]['local_p50'] * 1e3:.1f} ms, remote "
                  f"{rows[-1]['remote_p50'] * 1e3:.1f} ms; p95 {rows[-1]['local_p95'] * 1e3:.1f} / "
                  f"{rows[-1]['remote_p95'] * 1e3:.1f} ms", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    d50 = [r["remote_p50"] - r["local_p50"] for r in rows]
    d95 = [r["remote_p95"] - r["local_p95"] for r in rows]
    return {"model": model, "case_s": seconds, "size": size, "repeats": rows,
            "added_p50_ms_mean": float(np.mean(d50) * 1e3), "added_p50_ms_max": float(np.max(np.abs(d50)) * 1e3),
            "added_p95_ms_mean": float(np.mean(d95) * 1e3), "added_p95_ms_max": float(np.max(np.abs(d95)) * 1e3)}


def bench_memory(root: Path, minutes: float, speed: float, size: int) -> dict:
    import psutil

    from lpmbench.media import load_audio
    from lpmbench.streaming.synthetic_session import synthetic_session
    from lpmbench.streaming.driver import run_stream

    seconds = minutes * 60
    case = _case(root, "long", seconds, size)
    agent = load_audio(case.agent_audio, duration=seconds)
    partner = load_audio(case.partner_audio, duration=seconds)
    proc = psutil.Process()
    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        t0 = time.perf_counter()
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, proc.memory_info().rss / 2**20))
            stop.wait(1.0)

    th = threading.Thread(target=sample, daemon=True)
    rss_before = proc.memory_info().rss / 2**20
    th.start()
    t = run_stream(lambda c: synthetic_session(c), case, root / "long.mp4", speed=speed, agent=agent,
                   partner=partner, progress=True)
    stop.set()
    th.join()
    rss = np.array([s[1] for s in samples])
    tenth = max(1, len(rss) // 10)
    return {"minutes": minutes, "speed": speed, "wall_s": t.wall_s, "n_frames": t.n_frames, "size": size,
            "rss_before_mb": rss_before, "rss_peak_mb": float(rss.max()), "rss_end_mb": float(rss[-1]),
            "rss_growth_first_to_last_tenth_mb": float(rss[-tenth:].mean() - rss[:tenth].mean()),
            "overhead_ms_mean": t.overhead_ms_mean, "overhead_ms_p99": t.overhead_ms_p99,
            "overhead_cpu_ms_mean": t.overhead_cpu_ms_mean, "latency_p50_s": float(np.percentile(_lat(t), 50)), "latency_p95_s": float(np.percentile(_lat(t), 95)),
            "audio_mb": (agent.nbytes + partner.nbytes) / 2**20}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["overhead", "loopback", "memory"], action="append")
    ap.add_argument("--overhead-s", type=float, default=20.0)
    ap.add_argument("--loopback-s", type=float, default=5.0)
    ap.add_argument("--model", default="synthetic", help="synthetic (cheap built-in session) or a streaming adapter, e.g. puppet")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--speed", type=float, default=1.0, help="pacing speed-up of the memory run (1 = real time)")
    ap.add_argument("--size", type=int, default=256, help="frame size (pixels) of the test cases")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    which = a.only or ["overhead", "loopback", "memory"]
    out: dict = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                             "cpus": __import__("os").cpu_count()}}
    with tempfile.TemporaryDirectory(prefix="bench_streaming_") as tmp:
        root = Path(tmp)
        if "overhead" in which:
            print(f"overhead: {a.overhead_s:g} s paced case at {a.size}px ...", flush=True)
            out["overhead"] = r = bench_overhead(root, a.overhead_s, a.size)
            print(f"  harness overhead per 40 ms chunk: mean {r['overhead_ms_mean']:.3f} ms (CPU "
                  f"{r['overhead_cpu_ms_mean']:.3f} ms), p50 {r['overhead_ms_p50']:.3f} ms, p99 "
                  f"{r['overhead_ms_p99']:.3f} ms, max {r['overhead_ms_max']:.3f} ms over {r['n_chunks']} chunks; "
                  f"feed lag p95 {r['feed_lag_ms_p95']:.2f} ms, max {r['feed_lag_ms_max']:.2f} ms")
        if "loopback" in which:
            print(f"loopback: {a.loopback_s:g} s paced case, model {a.model}, {a.repeats} repeats ...", flush=True)
            out["loopback"] = r = bench_loopback(root, a.loopback_s, a.size, a.model, a.repeats)
            print(f"  latency added by the protocol over loopback: p50 {r['added_p50_ms_mean']:+.1f} ms (max |d| "
                  f"{r['added_p50_ms_max']:.1f}), p95 {r['added_p95_ms_mean']:+.1f} ms (max |d| {r['added_p95_ms_max']:.1f})")
        if "memory" in which:
            print(f"memory: {a.minutes:g}-minute case paced at {a.speed:g}x real time, {min(a.size, 128)}px ...", flush=True)
            out["memory"] = r = bench_memory(root, a.minutes, a.speed, min(a.size, 128))
            print(f"  RSS before {r['rss_before_mb']:.0f} MB (case audio {r['audio_mb']:.0f} MB loaded), peak "
                  f"{r['rss_peak_mb']:.0f} MB, end {r['rss_end_mb']:.0f} MB; growth first->last tenth "
                  f"{r['rss_growth_first_to_last_tenth_mb']:+.1f} MB; wall {r['wall_s']:.0f} s for {r['n_frames']} frames; "
                  f"overhead mean {r['overhead_ms_mean']:.3f} ms (CPU {r['overhead_cpu_ms_mean']:.3f} ms)")
    if a.json:
        a.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
