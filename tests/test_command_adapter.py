"""The command adapter controls its children, run by a real worker: a grandchild holding the
output pipe, daemons that double-fork into their own session, a flood of stderr. Each test
reproduces an attack found against the harness with real processes."""
from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from lpmbench.worker import AdapterSpec, AdapterWorker, GenerationFailed
from standins.stream_cases import make_case

# A daemon the way servers start one: fork, setsid, fork again; the daemon closes its stdio and
# writes its pid (atomically) to PID_FILE.
DAEMONIZE = textwrap.dedent('''
    import os, sys, time

    def daemonize(pid_file):
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                fd = os.open(os.devnull, os.O_RDWR)
                for i in (0, 1, 2):
                    os.dup2(fd, i)
                with open(pid_file + ".tmp", "w") as f:
                    f.write(str(os.getpid()))
                os.rename(pid_file + ".tmp", pid_file)
                time.sleep(120)
                os._exit(0)
            os._exit(0)
        os.wait()
        while not os.path.exists(pid_file):
            time.sleep(0.01)
''')


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    from lpmbench.media import VideoWriter

    path = tmp_path_factory.mktemp("src") / "src.mp4"
    with VideoWriter(path, 25, 64, 64) as w:
        for i in range(5):
            w.write(np.full((64, 64, 3), 40 * i, np.uint8))
    return path


def program(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "program.py"
    p.write_text(DAEMONIZE + textwrap.dedent(body))
    return p


def gone(pid: int, within_s: float = 3.0) -> bool:
    """The process ``pid`` no longer runs (a zombie awaiting its reaper counts as gone)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    psutil.Process(pid).kill()  # leave nothing behind for the next test
    return False


def read_pid(path: Path) -> int:
    return int(path.read_text())


def run_command(tmp_path: Path, argv: list[str], timeout_s: float = 30.0, *, worker: AdapterWorker | None = None):
    w = worker or AdapterWorker(AdapterSpec("command", {"argv": argv}))
    try:
        return w.run(make_case(tmp_path, "speak_c", 0.2), tmp_path / "out.mp4", timeout_s)
    finally:
        if worker is None:
            w.close()


def test_a_grandchild_holding_the_output_pipe_does_not_turn_success_into_a_timeout(tmp_path, video):
    """The adapter used to wait for EOF on the program's pipes: a grandchild that inherited them
    (a server, a `sleep &`) kept the case running until the timeout."""
    prog = program(tmp_path, '''
        import shutil, subprocess
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # inherits stdout/stderr
        open(sys.argv[3], "w").write(str(child.pid))
        shutil.copy(sys.argv[1], sys.argv[2])
    ''')
    pid_file = tmp_path / "child.pid"
    t0 = time.monotonic()
    timing = run_command(tmp_path, [sys.executable, str(prog), str(video), "{output}", str(pid_file)], timeout_s=20)
    assert time.monotonic() - t0 < 10 and timing.wall_s < 10
    assert gone(read_pid(pid_file)), "the grandchild outlived the case"


@pytest.mark.parametrize("how", ["timeout", "exit"])
def test_a_double_forked_daemon_in_its_own_session_dies_with_the_case(tmp_path, video, how):
    """Before: a daemon re-parented to init was out of the worker's reach; it survived the
    timeout kill and the end of the case."""
    prog = program(tmp_path, '''
        import shutil
        daemonize(sys.argv[3])
        if sys.argv[4] == "timeout":
            time.sleep(120)
        shutil.copy(sys.argv[1], sys.argv[2])
    ''')
    pid_file = tmp_path / "daemon.pid"
    argv = [sys.executable, str(prog), str(video), "{output}", str(pid_file), how]
    if how == "timeout":
        with pytest.raises(GenerationFailed) as e:
            run_command(tmp_path, argv, timeout_s=2)
        assert e.value.kind == "timeout"
        assert gone(read_pid(pid_file)), "the daemon survived the timeout"
        return
    w = AdapterWorker(AdapterSpec("command", {"argv": argv}))
    try:
        assert run_command(tmp_path, argv, worker=w).wall_s > 0
        assert gone(read_pid(pid_file)), "the daemon survived the case"
        zombies = [c.pid for c in psutil.Process(w.proc.pid).children() if c.status() == psutil.STATUS_ZOMBIE]
        assert not zombies  # the worker reaped what it killed
    finally:
        w.close()


def test_closing_the_worker_kills_what_the_adapter_started_in_setup(tmp_path):
    """A Python adapter whose setup starts a daemon (double fork, own session): close() kills it."""
    pid_file = tmp_path / "daemon.pid"
    mod = tmp_path / "spawner.py"
    mod.write_text(DAEMONIZE + textwrap.dedent(f'''
        from lpmbench.adapters.base import Adapter

        class Spawner(Adapter):
            name = "spawner"

            def setup(self):
                daemonize({str(pid_file)!r})
    '''))
    w = AdapterWorker(AdapterSpec(f"{mod}:Spawner", {}))
    w.start()
    pid = read_pid(pid_file)
    assert psutil.pid_exists(pid)
    w.close()
    assert gone(pid), "the daemon outlived the worker"


@pytest.mark.parametrize("exit_code", [0, 1])
def test_a_flood_of_stderr_is_kept_as_a_bounded_tail_and_not_charged_to_the_model(tmp_path, video, exit_code):
    """300 MB of stderr: the whole of it used to be kept in the worker (and counted as the model's
    peak memory: 2 GB of stderr read as realtime.peak_rss_mb = 6190)."""
    prog = program(tmp_path, '''
        import shutil
        block = b"x" * (1 << 20)
        for _ in range(300):
            sys.stderr.buffer.write(block)
        sys.stderr.buffer.write(b"\\nTHE END\\n")
        sys.stderr.flush()
        shutil.copy(sys.argv[1], sys.argv[2])
        sys.exit(int(sys.argv[3]))
    ''')
    argv = [sys.executable, str(prog), str(video), "{output}", str(exit_code)]
    if exit_code == 0:
        timing = run_command(tmp_path, argv)
        assert timing.memory_source == "worker" and timing.peak_rss_mb < 250, timing.peak_rss_mb
        return
    with pytest.raises(GenerationFailed) as e:
        run_command(tmp_path, argv)
    detail = e.value.detail
    assert "exited with code 1" in e.value.message
    assert detail.rstrip().endswith("THE END") and "earlier bytes of output not kept" in detail
    assert len(detail) < 80_000


def test_a_program_killed_by_a_signal_says_so(tmp_path):
    prog = program(tmp_path, '''
        import os, signal
        print("allocating the model ...", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
    ''')
    with pytest.raises(GenerationFailed) as e:
        run_command(tmp_path, [sys.executable, str(prog)])
    assert "killed by signal 9 (SIGKILL)" in e.value.message and "allocating the model" in e.value.detail
