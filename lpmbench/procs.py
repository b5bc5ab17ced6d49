"""Process utilities of the generator worker: the process tree it owns, that tree's memory, and
how it dies.

* :func:`become_subreaper` makes a process the reaper of its orphans (Linux), so a grandchild that
  double-forks or starts its own session stays inside the tree and can be found and killed.
* :func:`die_with_parent` asks the kernel to signal a process when its parent dies (Linux,
  ``PR_SET_PDEATHSIG``), so a killed harness leaves no generator running. Call it first thing in
  a child (a worker, a pool initializer); it also covers a parent that died before the call.
* :func:`kill_tree` stops a whole tree first (nobody forks or escapes while it is killed), then
  kills every process of it and the process groups led inside it.
* :class:`RssSampler` is the one memory sampler: peak resident memory of a process (and, with
  ``tree=True``, of all its descendants), sampled on a thread.

Elsewhere than Linux the two ``prctl`` calls do nothing and report False; the tree kill still works
on what ``psutil`` sees.
"""
from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from typing import Iterable

import psutil

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37
# resolved once here: a preexec_fn (between fork and exec) must not load libraries
_LIBC_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def _prctl(option: int, arg) -> bool:
    if _LIBC_PRCTL is None:
        return False
    return _LIBC_PRCTL(option, arg, 0, 0, 0) == 0


def become_subreaper() -> bool:
    """Orphaned descendants of this process are re-parented to it rather than to init."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1))


def is_subreaper() -> bool:
    """Whether this process reaps its orphaned descendants (:func:`become_subreaper`)."""
    flag = ctypes.c_int(0)
    return _prctl(_PR_GET_CHILD_SUBREAPER, ctypes.byref(flag)) and flag.value != 0


def die_with_parent(parent_pid: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent dies.

    ``parent_pid``: the parent that started this process (default: the multiprocessing parent, else
    the current parent). If it is already gone, ``sig`` is sent at once. The signal follows the
    death of the parent *thread* that started the child: start children from a long-lived thread.
    Returns False where the platform has no parent-death signal.
    """
    if parent_pid is None:
        import multiprocessing

        parent = multiprocessing.parent_process()
        parent_pid = parent.pid if parent is not None else os.getppid()
    ok = _prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(int(sig)))
    if os.getppid() != parent_pid:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)
    return ok


def set_child_death_signal() -> None:
    """``preexec_fn`` of a program the worker starts: it gets SIGKILL when the worker dies."""
    _prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(int(signal.SIGKILL)))


def _tree(root):
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return [root]


def kill_tree(pid: int, *, include_root: bool = True) -> list[int]:
    """SIGKILL ``pid``'s descendants (and ``pid`` itself with ``include_root``) and the process
    groups led by any of them; returns the pids killed.

    Every process is stopped (SIGSTOP) before anything is killed, until the tree is stable, so a
    process cannot fork a new one or be re-parented out of reach while the tree is being killed.
    The caller's own process group is never signalled.
    """
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        return []
    me = os.getpid()
    stopped: dict[int, psutil.Process] = {}
    for _ in range(100):  # a fork bomb cannot outrun stopping: each pass stops every process seen
        new = [p for p in _tree(root) if p.pid not in stopped and p.pid != me]
        if not new:
            break
        for p in new:
            if p.pid == pid and not include_root:
                stopped[p.pid] = p  # counted as seen, left running
                continue
            try:
                p.send_signal(signal.SIGSTOP)
            except psutil.Error:
                pass
            stopped[p.pid] = p
    own_group = os.getpgrp()
    killed = []
    for p in stopped.values():
        if p.pid == pid and not include_root:
            continue
        try:
            p.kill()
            killed.append(p.pid)
        except psutil.Error:
            pass
    for leader in killed:  # members of a group led inside the tree that left the tree
        if leader != own_group:
            try:
                os.killpg(leader, signal.SIGKILL)
            except OSError:  # not a group leader, or the group is empty
                pass
    return killed


def reap(pids: Iterable[int], timeout: float = 2.0) -> None:
    """Wait until killed processes are dead, collecting the exit status of those that are (or, in
    a subreaper, become) this process's children, so that none lingers as a zombie of ours; gives
    up after ``timeout`` seconds."""
    pending = set(pids)
    ours_later = is_subreaper()  # orphans of the killed tree are re-parented to us: reap them too
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for pid in list(pending):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
                if done == pid:
                    pending.discard(pid)
            except ChildProcessError:  # not (yet) our child
                try:
                    zombie = psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
                except psutil.Error:
                    pending.discard(pid)
                    continue
                if zombie and not ours_later:
                    pending.discard(pid)  # dead; its own parent reaps it
        if pending:
            time.sleep(0.01)


class RssSampler:
    """Peak resident memory (MB) of a process, and of its descendants with ``tree=True``, sampled
    every ``interval`` seconds on a daemon thread between :meth:`start` and :meth:`stop`.

    Finding the descendants means reading every process of the machine (~3 ms of CPU), so the
    tree is re-listed every ``refresh`` samples only; the memory of the processes known is read
    at every sample (~30 us each). A child that lives less than ``refresh * interval`` may be missed.
    """

    def __init__(self, pid: int | None = None, *, tree: bool = True, interval: float = 0.02, refresh: int = 10):
        self.pid, self.tree, self.interval, self.refresh = pid or os.getpid(), tree, interval, refresh
        self.peak = 0.0
        self._procs: list[psutil.Process] = []
        self._n = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, name="lpmbench-rss", daemon=True)

    def sample(self) -> None:
        if not self._procs or self._n % self.refresh == 0:
            try:
                root = psutil.Process(self.pid)
                self._procs = _tree(root) if self.tree else [root]
            except psutil.Error:  # gone or not permitted: memory is simply not measured
                self._procs = []
        self._n += 1
        rss = 0
        for p in self._procs:
            try:
                rss += p.memory_info().rss
            except psutil.Error:
                pass
        self.peak = max(self.peak, rss / 2**20)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> "RssSampler":
        self._t.start()
        return self

    def stop(self) -> float | None:
        """Stop sampling; the peak in MB (one decimal), None when nothing could be measured."""
        self._stop.set()
        if self._t.is_alive():
            self._t.join()
        self.sample()
        return round(self.peak, 1) if self.peak else None


def reset_cuda_peak() -> None:
    """Start a new peak of CUDA memory, if this process uses torch with CUDA."""
    torch = sys.modules.get("torch")  # only if the generator imported torch
    if torch is not None and torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def cuda_peak_mb() -> float | None:
    """Peak CUDA memory allocated by torch in this process since :func:`reset_cuda_peak` (MB)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return None
    return torch.cuda.max_memory_allocated() / 2**20
