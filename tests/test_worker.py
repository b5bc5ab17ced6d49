"""The worker owns the per-case timeout and memory measurement: real worker processes, real
programs, the real reference stream server on loopback."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from lpmbench.worker import AdapterSpec, AdapterWorker, GenerationFailed
from standins.stream_cases import make_case

PRESET_LIMITS = {"sadtalker": 1800, "wav2lip": 1800, "liveportrait": 1800, "musetalk": 3600, "hallo2": 7200,
                 "echomimic": 7200, "sonic": 7200, "command": 600}


def script(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


def worker_run(spec: AdapterSpec, case, out: Path, timeout_s: float, stream=None):
    w = AdapterWorker(spec)
    try:
        w.start()
        return w.run(case, out, timeout_s, stream)
    finally:
        w.close()


@pytest.mark.parametrize("name", sorted(PRESET_LIMITS))
def test_preset_time_limits_are_model_level_and_reach_the_run(name):
    """Preset limits used to sit in model.params (the command adapter's own timer), and the run's
    default of 600 s killed the generator first: now the model's timeout_s is the run's default."""
    from lpmbench.config import compose

    cfg = compose([f"model={name}"])
    assert "timeout_s" not in cfg.model.params
    assert cfg.model.timeout_s == PRESET_LIMITS[name]
    assert cfg.run.timeout_s == PRESET_LIMITS[name]
    assert compose([f"model={name}", "run.timeout_s=30"]).run.timeout_s == 30  # the run still overrides it


def test_a_model_level_limit_kills_a_sleeping_program_at_that_limit(tmp_path):
    from lpmbench.config import compose, to_container

    sleeper = script(tmp_path, "sleeper.py", "import time\ntime.sleep(120)\n")
    c = to_container(compose(["model=command", "model.timeout_s=1.5", f"model.params.argv=[{sys.executable},{sleeper}]"]))
    spec, timeout_s = AdapterSpec(c["model"]["adapter"], c["model"]["params"]), c["run"]["timeout_s"]
    assert timeout_s == 1.5
    t0 = time.monotonic()
    with pytest.raises(GenerationFailed) as e:
        worker_run(spec, make_case(tmp_path, "speak_t", 0.2), tmp_path / "t.mp4", timeout_s)
    took = time.monotonic() - t0
    assert e.value.kind == "timeout" and "1.5 s" in e.value.message
    assert 1.5 <= took < 8, took


def test_the_command_adapter_has_no_timer_of_its_own():
    from lpmbench.adapters.base import AdapterError
    from lpmbench.adapters.command import CommandAdapter

    with pytest.raises(AdapterError, match="model.timeout_s"):
        CommandAdapter(argv=["true"], timeout_s=5)


def test_the_worker_measures_the_process_tree_it_owns(tmp_path):
    """A command whose program holds 300 MB: the peak is the worker's tree, program included."""
    from lpmbench.media import VideoWriter

    import numpy as np

    src = tmp_path / "src.mp4"
    with VideoWriter(src, 25, 64, 64) as w:
        for _ in range(5):
            w.write(np.zeros((64, 64, 3), np.uint8))
    prog = script(tmp_path, "hog.py", "import shutil, sys, time\nblock = bytearray(300 * 2**20)\n"
                  "block[::4096] = b'x' * len(block[::4096])\ntime.sleep(0.5)\nshutil.copy(sys.argv[1], sys.argv[2])\n")
    spec = AdapterSpec("command", {"argv": [sys.executable, str(prog), str(src), "{output}"]})
    timing = worker_run(spec, make_case(tmp_path, "speak_m", 0.2), tmp_path / "m.mp4", 60)
    assert timing.memory_source == "worker"
    assert timing.peak_rss_mb > 300, timing.peak_rss_mb


@pytest.fixture(scope="module")
def reference_server():
    """``python -m lpmbench.streaming.puppet_server`` (the puppet behind the protocol) on loopback."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from bench_streaming import start_server_process

    proc, url = start_server_process("puppet")
    yield proc, url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.parametrize("paced", [None, False])  # offline generation, unpaced streaming
def test_a_remote_servers_own_memory_is_kept(tmp_path, reference_server, paced):
    """The worker used to overwrite the server's peak_rss_mb with its own (the client's)."""
    import psutil

    proc, url = reference_server
    stream = None if paced is None else {"chunk_s": 0.04, "paced": paced}
    case = make_case(tmp_path, "duplex_r", 1.0, mode="duplex")
    timing = worker_run(AdapterSpec("remote", {"url": url}), case, tmp_path / "r.mp4", 120, stream)
    assert timing.memory_source == "server"
    server_rss = psutil.Process(proc.pid).memory_info().rss / 2**20
    # the server's figure is its own process (near its RSS now), not the client's (measured here:
    # the client worker ~100 MB, the puppet server ~160 MB)
    assert abs(timing.peak_rss_mb - server_rss) < 0.15 * server_rss, (timing.peak_rss_mb, server_rss)
    if stream is not None:
        assert timing.peak_rss_mb == timing.session_stats["peak_rss_mb"]


SLOW_GENERATOR = """
import os, subprocess, sys, time
pids = {"program": os.getpid()}
pids["child"] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"]).pid
r, w = os.pipe()
if os.fork() == 0:  # a daemon: double fork into its own session
    os.setsid()
    if os.fork() == 0:
        os.write(w, str(os.getpid()).encode())
        time.sleep(300)
    os._exit(0)
pids["daemon"] = int(os.read(r, 32))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(" ".join(f"{k}={v}" for k, v in pids.items()))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(300)
"""


@pytest.mark.timeout(180)
def test_killing_the_harness_leaves_no_generator_running(tmp_path):
    """SIGKILL of a real `lpmbench evaluate`: the worker, the program, its child and its daemon
    all die within seconds. Before, the worker went on generating with no timeout at all."""
    import os
    import signal
    import subprocess

    import psutil

    prog = script(tmp_path, "slow.py", SLOW_GENERATOR)
    pid_file = tmp_path / "pids.txt"
    cli = subprocess.Popen([sys.executable, "-m", "lpmbench.cli", "evaluate", "model=command",
                            f"model.params.argv=['{sys.executable}','{prog}','{pid_file}']", "suite=smoke",
                            "run.cases=[smoke_speak]", f"run.results_dir={tmp_path / 'results'}", "run.id=killed",
                            f"analysis.cache_dir={tmp_path / 'cache'}"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 150
    while not pid_file.exists():
        assert cli.poll() is None, cli.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "the generator did not start"
        time.sleep(0.1)
    pids = {k: int(v) for k, v in (kv.split("=") for kv in pid_file.read_text().split())}
    tree = {p.pid: p for p in psutil.Process(cli.pid).children(recursive=True)}
    tree.update({pid: psutil.Process(pid) for pid in pids.values()})
    assert len(tree) >= 4  # the worker, the program, its child, its daemon
    os.kill(cli.pid, signal.SIGKILL)
    cli.wait()
    deadline = time.monotonic() + 5
    alive = dict(tree)
    while alive and time.monotonic() < deadline:
        for pid, p in list(alive.items()):
            try:
                if not p.is_running() or p.status() == psutil.STATUS_ZOMBIE:
                    del alive[pid]
            except psutil.NoSuchProcess:
                del alive[pid]
        time.sleep(0.05)
    survivors = {pid: " ".join(p.cmdline()[:3]) for pid, p in alive.items() if p.is_running()}
    for p in alive.values():
        p.kill()
    assert not survivors, f"survived the harness: {survivors} (program pids {pids})"


POOL_OWNER = """
import multiprocessing as mp, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from lpmbench.procs import die_with_parent

def task(path):
    with open(path + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(path + ".tmp", path)
    time.sleep(120)

if __name__ == "__main__":
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=die_with_parent) as pool:
        pool.submit(task, sys.argv[1]).result()
"""


def test_a_pool_worker_initialised_with_die_with_parent_dies_with_its_owner(tmp_path):
    """What the analysis pool's initializer calls: a busy pool worker dies with a SIGKILLed owner."""
    import os
    import signal
    import subprocess

    import psutil

    pid_file = tmp_path / "pool_worker.pid"
    owner = subprocess.Popen([sys.executable, str(script(tmp_path, "owner.py", POOL_OWNER)), str(pid_file)])
    deadline = time.monotonic() + 60
    while not pid_file.exists():
        assert owner.poll() is None and time.monotonic() < deadline, "the pool worker did not start"
        time.sleep(0.05)
    worker = psutil.Process(int(pid_file.read_text()))
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    try:
        worker.wait(timeout=5)
    except psutil.TimeoutExpired:
        worker.kill()
        pytest.fail("the pool worker outlived its owner")
