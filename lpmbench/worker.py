"""Generators run in a worker process owned by the runner. The worker is the one owner of
execution: it measures wall time and peak memory, enforces the per-case timeout, and survives a
generator that crashes (even with a segfault) or hangs: the worker is killed and restarted for the
next case. Adapters never time themselves, sample memory or kill anything.

The process tree: the worker (``python -m lpmbench.worker FD PARENT_PID``) starts in its own
session and process group, becomes the child subreaper of everything it starts (an orphan, even a
double-forked daemon, is re-parented to it and stays in the tree), and dies with the harness: when
its parent dies it is sent SIGTERM, kills its whole tree and exits. A timeout, a crash or
:meth:`AdapterWorker.close` kills the whole tree and its process groups
(:func:`lpmbench.procs.kill_tree`).

Memory: ``peak_rss_mb`` is the peak resident memory of the worker's process tree during the case
(sampled by the runner every 20 ms), ``peak_gpu_mb`` torch's CUDA peak inside the worker. A
generator that runs elsewhere (``model=remote``: a server) reports its own memory
(:meth:`~lpmbench.adapters.base.Adapter.reported_memory`); the worker keeps that and never
substitutes the client's.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .case import Case
from .metric_api import Timing
from .procs import RssSampler, become_subreaper, cuda_peak_mb, die_with_parent, kill_tree, reap, reset_cuda_peak


@dataclass
class AdapterSpec:
    """Everything a fresh process needs to rebuild the adapter (plain, picklable data)."""

    adapter: str  # registry name or "module:Class"
    params: dict[str, Any]
    include: tuple[str, ...] = ()  # --include files to import first (they may register adapters)


def build_adapter(spec: AdapterSpec):
    from .registry import ADAPTERS, include_file

    for inc in spec.include:
        if inc.endswith(".py"):
            include_file(inc)
    return ADAPTERS.resolve(spec.adapter)(**spec.params)


class GenerationFailed(RuntimeError):
    """``kind``: setup_timeout, setup_error, crash, timeout, unsupported or error."""

    def __init__(self, kind: str, message: str, detail: str = ""):
        super().__init__(message)
        self.kind, self.message, self.detail = kind, message, detail


def _generate(adapter, case: Case, output: Path, stream: dict[str, Any] | None) -> Timing:
    reset_cuda_peak()
    if stream is not None:
        from .streaming.driver import run_stream

        timing: Timing = run_stream(adapter, case, output, **stream)
    else:
        t0 = time.perf_counter()
        adapter.generate(case, output)
        wall = time.perf_counter() - t0
        # Offline generation hands over the whole video at once: the first frame is available
        # only when generation ends, so time to first frame equals the wall time.
        timing = Timing(wall_s=wall, ttff_s=wall, streaming=False, paced=False)
    if not getattr(adapter, "timed", True):  # e.g. pre-generated videos: a file copy, not generation
        return Timing(streaming=False, paced=False)
    reported = adapter.reported_memory()
    if reported is None:  # the generator ran in this process tree: the runner fills peak_rss_mb
        timing.peak_gpu_mb = cuda_peak_mb()
        timing.memory_source = "worker"
    else:
        timing.peak_rss_mb = reported.get("peak_rss_mb")
        timing.peak_gpu_mb = reported.get("peak_gpu_mb")
        timing.memory_source = "server"
        timing.notes = list(reported.get("notes") or []) or None
    return timing


def _exit_with_tree(signum: int, _frame) -> None:
    """The harness died (parent-death signal) or someone terminated the worker: take the tree along."""
    kill_tree(os.getpid(), include_root=False)
    os._exit(128 + signum)


def _worker_main(conn: Connection, parent_pid: int) -> None:
    become_subreaper()
    signal.signal(signal.SIGTERM, _exit_with_tree)
    die_with_parent(parent_pid, signal.SIGTERM)
    try:
        _serve(conn)
    finally:
        reap(kill_tree(os.getpid(), include_root=False))  # no straggler outlives the worker


def _serve(conn: Connection) -> None:
    try:
        spec: AdapterSpec = conn.recv()
        adapter = build_adapter(spec)
        adapter.setup()
        conn.send(("ready", adapter.describe()))
    except BaseException as e:  # report why the generator could not even start
        conn.send(("setup_error", f"{type(e).__name__}: {e}", traceback.format_exc()))
        return
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            adapter.close()
            return
        case, output, stream = msg
        try:
            reason = adapter.supports(case)
            if reason:
                conn.send(("unsupported", reason))
                continue
            conn.send(("ok", _generate(adapter, case, Path(output), stream)))
        except BaseException as e:
            output_tail = getattr(e, "output", "") or ""
            conn.send(("error", f"{type(e).__name__}: {e}", traceback.format_exc()
                       + (f"\n--- program output (tail) ---\n{output_tail}" if output_tail else "")))


class AdapterWorker:
    """One generator process. ``run`` returns Timing or raises :class:`GenerationFailed`.

    The worker dies with the thread that started it: create, start and run it from a thread that
    outlives it (the runner's).
    """

    def __init__(self, spec: AdapterSpec, *, setup_timeout_s: float = 600):
        self.spec = spec
        self.setup_timeout_s = setup_timeout_s
        self.proc: subprocess.Popen | None = None
        self.conn = None
        self.description: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        # A fresh interpreter (`python -m lpmbench.worker`) rather than multiprocessing's spawn:
        # nothing of the caller's __main__ is re-imported, no threads or CUDA state are inherited.
        # Its own session: a Ctrl-C meant for the harness reaches the harness, which closes it.
        parent_sock, child_sock = socket.socketpair()
        self.proc = subprocess.Popen([sys.executable, "-m", "lpmbench.worker", str(child_sock.fileno()), str(os.getpid())],
                                     pass_fds=[child_sock.fileno()], stdin=subprocess.DEVNULL, start_new_session=True)
        child_sock.close()
        self.conn = Connection(parent_sock.detach())
        self.conn.send(self.spec)
        if not self.conn.poll(self.setup_timeout_s):
            self.kill()
            raise GenerationFailed("setup_timeout", f"generator did not finish setup within {self.setup_timeout_s:.0f} s")
        try:
            msg = self.conn.recv()
        except EOFError:
            code = self.proc.wait(5)
            self.kill()
            raise GenerationFailed("crash", f"generator process died during setup (exit code {code})") from None
        if msg[0] != "ready":
            self.kill()
            raise GenerationFailed("setup_error", msg[1], msg[2] if len(msg) > 2 else "")
        self.description = msg[1]
        return self.description

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def run(self, case: Case, output: Path, timeout_s: float, stream: dict[str, Any] | None = None) -> Timing:
        """Generate one case within ``timeout_s`` seconds (the one timeout of a case)."""
        if not self.alive():
            self.start()
        assert self.conn is not None and self.proc is not None
        sampler = RssSampler(self.proc.pid, tree=True).start()
        try:
            self.conn.send((case, str(output), stream))
            deadline = time.monotonic() + timeout_s
            while not self.conn.poll(0.05):
                if self.proc.poll() is not None:
                    code = self.proc.returncode
                    self.kill()
                    raise GenerationFailed("crash", f"generator process died (exit code {code}) while generating")
                if time.monotonic() > deadline:
                    self.kill()
                    raise GenerationFailed("timeout", f"generator exceeded the per-case timeout of {timeout_s:g} s and was killed")
            try:
                msg = self.conn.recv()
            except EOFError:
                code = self.proc.wait(5) if self.proc else None
                self.kill()
                raise GenerationFailed("crash", f"generator process died (exit code {code}) while generating") from None
        finally:
            peak = sampler.stop()
        if msg[0] == "ok":
            timing: Timing = msg[1]
            if timing.memory_source == "worker":
                timing.peak_rss_mb = peak
            return timing
        if msg[0] == "unsupported":
            raise GenerationFailed("unsupported", msg[1])
        raise GenerationFailed("error", msg[1], msg[2])

    def kill(self) -> None:
        """Kill the worker, every process it started, and their process groups."""
        if self.proc is None:
            return
        killed = kill_tree(self.proc.pid)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        reap(killed)
        if self.conn is not None:
            self.conn.close()
        self.proc = None
        self.conn = None

    def close(self) -> None:
        if self.alive() and self.conn is not None:
            try:
                self.conn.send(None)
                self.proc.wait(10)  # type: ignore[union-attr]
            except Exception:
                pass
        self.kill()


if __name__ == "__main__":  # the generator process: python -m lpmbench.worker FD PARENT_PID
    _worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]))
