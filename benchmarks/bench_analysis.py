"""Throughput and memory of the analysis pass on synthetic talking-face videos.

    python benchmarks/bench_analysis.py            # 60 s and 10 min videos, 512x512 at 25 fps
    python benchmarks/bench_analysis.py --quick    # 10 s and 40 s videos

Videos (a moving, talking warp of skimage's astronaut photo from ``lpmbench.testing.clips``, with
speech-like audio as the case's agent track) are rendered once into a temporary folder and reused. Every measurement runs in a
fresh subprocess, so peak RSS (getrusage) is that of the one pass. The "plain loop" baseline is the
naive per-frame pipeline (HOG detection at full resolution + 68 landmarks + dlib embedding on every
frame, one process); it runs on the first frames only and is extrapolated, as the output says.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REAL_TIME_FPS = 25.0


def _case(video_dir: Path, seconds: float):
    from lpmbench.case import Case, Character

    return Case(id=f"bench_{int(seconds)}s", mode="speak",
                character=Character("astronaut", "photoreal", (video_dir / "reference.png",)),
                duration=seconds, fps=REAL_TIME_FPS, width=512, height=512, agent_audio=video_dir / f"speech_{int(seconds)}s.wav")


def make_inputs(video_dir: Path, seconds: float) -> Path:
    """Render (once) the clip, its reference image and its agent audio."""
    import cv2

    from lpmbench.testing import audio, clips

    video_dir.mkdir(parents=True, exist_ok=True)
    ref = video_dir / "reference.png"
    if not ref.exists():
        cv2.imwrite(str(ref), cv2.cvtColor(clips.face_photo("astronaut_portrait", 512), cv2.COLOR_RGB2BGR))
    wav = video_dir / f"speech_{int(seconds)}s.wav"
    if not wav.exists():
        audio.write_wav(wav, audio.syllable_audio(seconds))
    video = video_dir / f"talking_{int(seconds)}s_512.mp4"
    if not video.exists():
        clips.write_video(video, seconds, REAL_TIME_FPS, person="astronaut_portrait", size=512, progress=True,
                          **clips.talking_tracks())
    return video


# -- measurements (each in its own process) -----------------------------------------------------------
def child_analysis(video: Path, seconds: float) -> dict:
    """One warm Analyzer (models loaded and workers started on a 2 s clip, as in a run of many
    cases), then the timed pass over the whole video."""
    import psutil

    from lpmbench.analysis import AnalysisConfig, Analyzer

    warm_video = make_inputs(video.parent, 2.0)
    an = Analyzer(AnalysisConfig(), cache_dir=None)
    t0 = time.perf_counter()
    an.run(warm_video, _case(video.parent, 2.0))
    warmup = time.perf_counter() - t0
    cpu0, pool0 = _cpu_s(), _children_cpu_s()
    t0 = time.perf_counter()
    f = an.run(video, _case(video.parent, seconds))
    wall = time.perf_counter() - t0
    workers = psutil.Process().children(recursive=True)
    worker_rss = max((p.memory_info().rss for p in workers), default=0) / 2**20
    cpu_pool = _children_cpu_s() - pool0
    cpu_main = _cpu_s() - cpu0
    an.close()
    return {"frames": f.n_frames, "wall_s": wall, "fps": f.n_frames / wall, "warmup_s": warmup,
            "cpu_ms_per_frame": 1000 * (cpu_main + cpu_pool) / f.n_frames, "cpu_main_ms_per_frame": 1000 * cpu_main / f.n_frames,
            "face_presence": float(f["face_present"].mean()), "embeddings": int(len(f["emb_frames"])),
            "timings_s": {k: round(v, 2) for k, v in f.meta["timings_s"].items()},
            "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_worker_mb": worker_rss}


def _children_cpu_s() -> float:
    """CPU seconds of the live child processes (the embedding workers)."""
    import psutil

    return sum(sum(p.cpu_times()[:2]) for p in psutil.Process().children(recursive=True))


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child_plain(video: Path, max_frames: int) -> dict:
    """Naive loop: full-resolution HOG + 68 landmarks + embedding on every frame, one process."""
    import cv2
    import numpy as np

    from lpmbench.analysis.identity import embed_chips
    from lpmbench.media import iter_frames
    from lpmbench.vision import face_chip, face_models

    det, sp = face_models()
    embed_chips(face_chip(*_dummy_face())[None])  # load the ResNet outside the timing
    t0 = time.perf_counter()
    n = 0
    for rgb in iter_frames(video):
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        rects = det(gray, 0)
        if rects:
            r = max(rects, key=lambda r: r.area())
            shape = sp(gray, r)
            lm = [(p.x, p.y) for p in shape.parts()]
            box = np.array([r.left(), r.top(), r.right(), r.bottom()])
            embed_chips(face_chip(rgb, box, np.asarray(lm, dtype=np.float32))[None])
        n += 1
        if n >= max_frames:
            break
    wall = time.perf_counter() - t0
    return {"frames": n, "wall_s": wall, "fps": n / wall,
            "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _dummy_face():
    import numpy as np

    from lpmbench.testing.clips import face_photo
    from lpmbench.vision import reference_face

    img = face_photo("astronaut_portrait", 256)
    box, lm = reference_face(img)
    return img, box, lm.astype(np.float32)


def run_child(kind: str, video: Path, arg: float) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, str(video), str(arg)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} measurement failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10 s and 40 s videos, a shorter baseline")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "lpmbench_bench_analysis",
                    help="where the rendered videos are kept between runs")
    ap.add_argument("--lengths", type=float, nargs="+", default=None, metavar="SECONDS",
                    help="video lengths to measure (default 60 600; --quick: 10 40)")
    ap.add_argument("--plain-frames", type=int, default=None, help="frames of the plain-loop baseline")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        kind, video, arg = a.child
        res = child_analysis(Path(video), float(arg)) if kind == "analysis" else child_plain(Path(video), int(float(arg)))
        print(json.dumps(res))
        return

    lengths = tuple(a.lengths) if a.lengths else ((10.0, 40.0) if a.quick else (60.0, 600.0))
    plain_n = a.plain_frames or (25 if a.quick else 125)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared machines make timings noisy)")
    results = {}
    for seconds in lengths:
        video = make_inputs(a.workdir, seconds)
        r = run_child("analysis", video, seconds)
        p = run_child("plain", video, plain_n)
        results[seconds] = r
        plain_total = r["frames"] / p["fps"]
        print(f"\n{int(seconds)} s video ({r['frames']} frames 512x512 @ 25 fps): {video}")
        cores = os.cpu_count() or 1
        print(f"  analysis pass : {r['fps']:6.1f} frames/s = {r['fps'] / REAL_TIME_FPS:4.2f}x real time, "
              f"wall {r['wall_s']:.1f} s (models already loaded: cold start adds {r['warmup_s']:.1f} s once per run), "
              f"peak RSS main {r['rss_main_mb']:.0f} MB, embedding worker RSS {r['rss_worker_mb']:.0f} MB")
        print(f"    CPU time    : {r['cpu_ms_per_frame']:.1f} ms/frame in all processes ({r['cpu_main_ms_per_frame']:.1f} in the "
              f"main process) -> {1000 * cores / r['cpu_ms_per_frame']:.0f} frames/s if the {cores} cores were idle")
        print(f"    face found in {100 * r['face_presence']:.1f} % of frames, {r['embeddings']} embeddings; stages (wall s): {r['timings_s']}")
        print(f"  plain loop    : {p['fps']:6.1f} frames/s = {p['fps'] / REAL_TIME_FPS:4.2f}x real time "
              f"(measured on the first {p['frames']} frames, extrapolated to {plain_total:.0f} s for the whole video), "
              f"peak RSS {p['rss_main_mb']:.0f} MB")
        print(f"  speed-up      : {r['fps'] / p['fps']:.1f}x")
    if len(lengths) < 2:
        return
    short, long_ = results[min(lengths)], results[max(lengths)]
    ratio = long_["rss_main_mb"] / short["rss_main_mb"]
    ok_fps = min(short["fps"], long_["fps"]) >= 2 * REAL_TIME_FPS
    print(f"\nrequirements: analysis >= 50 frames/s: {'PASS' if ok_fps else 'FAIL'} "
          f"({min(short['fps'], long_['fps']):.1f}); peak RSS {int(max(lengths))} s / {int(min(lengths))} s = {ratio:.2f} "
          f"(<= 1.2: {'PASS' if ratio <= 1.2 else 'FAIL'})")


if __name__ == "__main__":
    main()
