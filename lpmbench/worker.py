"""Generators run in a worker process owned by the runner, so that the runner, not the adapter,
measures wall time and peak memory, enforces the per-case timeout, and survives a generator that
crashes (even with a segfault) or hangs: the worker is killed and restarted for the next case."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from multiprocessing.connection import Connection
from typing import Any

from .case import Case
from .metric_api import Timing


@dataclass
class AdapterSpec:
    """Everything a fresh process needs to rebuild the adapter (plain, picklable data)."""

    adapter: str  # registry name or "module:Class"
    params: dict[str, Any]
    include: tuple[str, ...] = ()  # --include files to import first (they may register adapters)


def build_adapter(spec: AdapterSpec):
    from .registry import ADAPTERS, include_file, load_object

    for inc in spec.include:
        if inc.endswith(".py"):
            include_file(inc)
    cls = load_object(spec.adapter) if ":" in spec.adapter else ADAPTERS.get(spec.adapter)
    return cls(**spec.params)


class GenerationFailed(RuntimeError):
    def __init__(self, kind: str, message: str, detail: str = ""):
        super().__init__(message)
        self.kind, self.message, self.detail = kind, message, detail


def _peak_gpu_mb() -> float | None:
    import sys

    torch = sys.modules.get("torch")  # only if the generator imported torch
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20


def _generate(adapter, case: Case, output: Path, stream: dict[str, Any] | None) -> Timing:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    if stream is not None:
        from .streaming.replay import run_stream

        timing = run_stream(adapter, case, output, **stream)
    else:
        t0 = time.perf_counter()
        adapter.generate(case, output)
        wall = time.perf_counter() - t0
        # Offline generation hands over the whole video at once: the first frame is available
        # only when generation ends, so time to first frame equals the wall time.
        timing = Timing(wall_s=wall, ttff_s=wall, streaming=False, paced=False)
        if not getattr(adapter, "timed", True):  # e.g. pre-generated videos: a file copy, not generation
            timing = Timing(wall_s=None, ttff_s=None, streaming=False, paced=False)
    timing.peak_gpu_mb = timing.peak_gpu_mb or _peak_gpu_mb()  # a remote server may report its own
    return timing


def _worker_main(conn: Connection) -> None:
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
            timing = _generate(adapter, case, Path(output), stream)
            conn.send(("ok", timing))
        except BaseException as e:
            stderr = getattr(e, "stderr", "") or ""
            conn.send(("error", f"{type(e).__name__}: {e}", traceback.format_exc() + (f"\n--- stderr ---\n{stderr}" if stderr else "")))


class AdapterWorker:
    """One generator process. ``run`` returns Timing or raises :class:`GenerationFailed`."""

    def __init__(self, spec: AdapterSpec, *, setup_timeout_s: float = 600):
        self.spec = spec
        self.setup_timeout_s = setup_timeout_s
        self.proc: subprocess.Popen | None = None
        self.conn = None
        self.description: dict[str, Any] = {}

    def start(self) -> dict[str, Any]:
        # A fresh interpreter (`python -m lpmbench.worker`) rather than multiprocessing's spawn:
        # nothing of the caller's __main__ is re-imported, no threads or CUDA state are inherited.
        parent_sock, child_sock = socket.socketpair()
        self.proc = subprocess.Popen([sys.executable, "-m", "lpmbench.worker", str(child_sock.fileno())],
                                     pass_fds=[child_sock.fileno()], stdin=subprocess.DEVNULL)
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
        if not self.alive():
            self.start()
        assert self.conn is not None and self.proc is not None
        sampler = _RssSampler(self.proc.pid)
        sampler.start()
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
                    raise GenerationFailed("timeout", f"generator exceeded the per-case timeout of {timeout_s:.0f} s and was killed")
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
            timing.peak_rss_mb = peak
            return timing
        if msg[0] == "unsupported":
            raise GenerationFailed("unsupported", msg[1])
        raise GenerationFailed("error", msg[1], msg[2])

    def kill(self) -> None:
        """Kill the worker and every process it started (a command adapter's child)."""
        if self.proc is None:
            return
        try:
            import psutil

            procs = psutil.Process(self.proc.pid).children(recursive=True)
        except Exception:
            procs = []
        for p in procs:
            try:
                p.kill()
            except Exception:
                pass
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
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


class _RssSampler:
    """Peak resident memory (MB) of a process and its children, sampled every 20 ms."""

    def __init__(self, pid: int, interval: float = 0.02):
        self.pid, self.interval = pid, interval
        self.peak = 0.0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        import psutil

        try:
            p = psutil.Process(self.pid)
            rss = p.memory_info().rss
            for c in p.children(recursive=True):
                try:
                    rss += c.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, rss / 2**20)
        except psutil.Error:
            pass

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._t.start()

    def stop(self) -> float | None:
        self._stop.set()
        self._t.join()
        return round(self.peak, 1) if self.peak else None



if __name__ == "__main__":  # the generator process: python -m lpmbench.worker FD
    _worker_main(Connection(int(sys.argv[1])))
