"""Scale-out benchmark: what the harness costs per case when the generator is the bottleneck.

Part 1 (about 2 minutes): a generator that sleeps a fixed time per case (and then writes the
reference image as its video) on a suite of identical one-second cases, so the analysis is one
cache hit per case after a warm-up and the figures measure scheduling, transfer and writing, not
the CPU. It prints cases/s in the steady state (from the first wave of finished cases to the last)
for the local executor and for ``executor=ray`` with 1, 2 and 4 actors on a private local Ray
cluster on loopback, the speed-up over one actor, and the per-case overhead
(``actors / rate - sleep``).

Part 2 (``--mini``; about 15 minutes on 2 cores): the wall time of
``lpmbench evaluate model=puppet suite=mini`` with the local executor pipelined
(``executor.pipeline=true``: the next case generates while this one is analysed) and sequential,
each with a fresh analysis cache.

    python benchmarks/bench_scale.py [--cases 24] [--sleep 1.0] [--actors 1 2 4] [--mini]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # the private cluster on loopback

SLEEPY = textwrap.dedent('''
    import time
    from lpmbench.adapters.baselines import StaticAdapter

    class Sleepy(StaticAdapter):
        """The static baseline after a fixed sleep: a generator whose time is known exactly."""
        name = "sleepy"

        def __init__(self, sleep_s=1.0, **config):
            super().__init__(**config)
            self.sleep_s = float(sleep_s)

        def generate(self, case, output):
            time.sleep(self.sleep_s)
            super().generate(case, output)
''')


def write_suite(root: Path, n: int) -> Path:
    from PIL import Image

    from lpmbench.vision import astronaut_portrait

    (root / "characters").mkdir(parents=True)
    Image.fromarray(astronaut_portrait(256)).save(root / "characters" / "astronaut.png")
    cases = "".join(f"  - {{id: c{i:04d}, mode: silence, character: astronaut, duration: 1.0}}\n" for i in range(n))
    (root / "suite.yaml").write_text(
        "name: bench_scale\nversion: 1\ndescription: identical one-second cases\n"
        "characters:\n  astronaut:\n    style: photoreal\n    references: [characters/astronaut.png]\n"
        "    source: scikit-image astronaut (NASA)\n    license: public domain\n"
        f"defaults: {{fps: 25, resolution: [256, 256]}}\ncases:\n{cases}")
    return root


def timed_run(base: list[str], run_id: str, executor: list[str]) -> tuple[float, list[float]]:
    """(wall seconds, finish time of each case since the start) of one evaluation."""
    from lpmbench.plan import build_plan
    from lpmbench.runner import evaluate

    plan = build_plan([*base, f"run.id={run_id}", *executor])
    stamps: list[float] = []
    t0 = time.perf_counter()
    evaluate(plan, progress=lambda _msg: stamps.append(time.perf_counter() - t0))
    return time.perf_counter() - t0, stamps


def steady_rate(stamps: list[float], first_wave: int) -> float:
    """Cases per second from the end of the first wave (one case per actor) to the last case."""
    k = min(first_wave, len(stamps) - 1)
    return (len(stamps) - k) / (stamps[-1] - stamps[k - 1])


def part1(n: int, sleep_s: float, actor_counts: list[int]) -> None:
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        suite = write_suite(tmp / "suite", n)
        (tmp / "sleepy.py").write_text(SLEEPY)
        base = ["model=python", "model.name=sleepy", f"model.params.target={tmp / 'sleepy.py'}:Sleepy",
                f"++model.params.params.sleep_s={sleep_s}", f"suite={suite}", f"run.results_dir={tmp / 'results'}",
                f"analysis.cache_dir={tmp / 'cache'}", "run.keep_videos=false"]
        timed_run(base, "warm", ["run.cases=[c0000]"])  # one analysis: every case's video is the same
        rows = []
        wall, stamps = timed_run(base, "local", ["executor=local"])
        rows.append(("local (pipelined)", 1, wall, steady_rate(stamps, 1)))
        ray.init(num_cpus=max(actor_counts) + 2, include_dashboard=False, object_store_memory=200 * 2**20,
                 log_to_driver=False, configure_logging=False)
        try:
            t0 = time.perf_counter()
            ray.get(ray.remote(lambda: 1).remote())
            print(f"Ray {ray.__version__}: local cluster up ({time.perf_counter() - t0:.1f} s to the first task)")
            for k in actor_counts:
                wall, stamps = timed_run(base, f"ray{k}", ["executor=ray", f"executor.actors={k}", "executor.num_cpus=0.5"])
                rows.append((f"ray, {k} actor(s)", k, wall, steady_rate(stamps, k)))
        finally:
            ray.shutdown()
    one = next(r for r in rows if r[0].startswith("ray, ") and r[1] == 1)[3] if 1 in actor_counts else None
    print(f"\n{n} cases, generator sleeps {sleep_s:g} s per case (ideal: actors / {sleep_s:g} cases/s)")
    print(f"{'executor':<20} {'wall s':>8} {'cases/s':>8} {'ideal':>6} {'speed-up':>9} {'overhead/case':>14}")
    for name, k, wall, rate in rows:
        speed = f"{rate / one:.2f}x" if one and name.startswith("ray") else ""
        print(f"{name:<20} {wall:8.1f} {rate:8.3f} {k / sleep_s:6.2f} {speed:>9} {(k / rate - sleep_s) * 1000:11.0f} ms")


def part2() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = {}
        for pipeline in ("true", "false"):
            cmd = [sys.executable, "-m", "lpmbench.cli", "evaluate", "model=puppet", "suite=mini",
                   f"run.results_dir={tmp}/results", f"run.id=mini-{pipeline}", f"analysis.cache_dir={tmp}/cache-{pipeline}",
                   f"executor.pipeline={pipeline}", "run.keep_videos=false"]
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            out[pipeline] = time.perf_counter() - t0
            print(f"puppet on mini, executor.pipeline={pipeline}: {out[pipeline] / 60:.2f} min")
        print(f"pipelined / sequential: {out['true'] / out['false']:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=24)
    p.add_argument("--sleep", type=float, default=1.0, help="seconds the generator sleeps per case")
    p.add_argument("--actors", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--mini", action="store_true", help="also time puppet on mini, pipelined vs sequential (~15 min)")
    a = p.parse_args()
    part1(a.cases, a.sleep, a.actors)
    if a.mini:
        part2()


if __name__ == "__main__":
    main()
