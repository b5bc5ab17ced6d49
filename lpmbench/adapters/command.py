"""``command``: run an external program per case from an argument-list template.

No shell is involved: every element of ``argv`` is formatted with the case's fields and passed
as one argument, so spaces or quotes in paths cannot break or inject into the command line.

Fields: ``{reference}`` (first reference image), ``{references}`` (all, comma-separated),
``{audio}`` (agent audio; a silent WAV is written when the case has none and
``silent_audio_for_missing`` is true), ``{partner_audio}``, ``{prompt}`` (prompt texts/actions
joined by ``; ``), ``{output}`` (the video to write), ``{output_dir}``, ``{workdir}`` (a fresh
scratch folder per case), ``{case_id}``, ``{mode}``, ``{fps}``, ``{duration}``, ``{width}``,
``{height}``, ``{language}``, ``{transcript}``, ``{python}``, plus any key of ``vars``.

When the program chooses its own output name, ``output_glob`` (relative to ``{workdir}`` or
absolute, formatted with the same fields) finds the newest matching file, which is moved to the
output. A non-zero exit (or death by a signal) or a missing output raises :class:`CommandFailed`
carrying the tail of the program's output (stdout and stderr, the last 64 KiB), which the runner
keeps in the case's error record.

The adapter describes the program (argv template, cwd, env, output discovery, modes) and runs it;
it does not time it: the per-case limit is the worker's (``timeout_s`` of the model, or
``run.timeout_s``), which kills the program and everything it started. The adapter waits for the
program's exit (not for the end of its output, which a grandchild may hold open), drains the output
into a bounded tail on a thread (so capture costs no memory to speak of, and none is charged to the
model), and kills whatever the program leaves running. The program dies with the worker
(parent-death signal).
"""
from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..case import AUDIO_RATE, Case
from ..procs import is_subreaper, kill_tree, reap, set_child_death_signal
from .base import Adapter, AdapterError

TAIL_BYTES = 64 * 1024  # of the program's output kept for the error record (capture is bounded by it)


class CommandFailed(AdapterError):
    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output  # the tail of the program's output


class _Fields(dict):
    def __missing__(self, key: str) -> str:
        raise AdapterError(f"command template uses unknown field {{{key}}}; known: {', '.join(sorted(self))}")


class CommandAdapter(Adapter):
    name = "command"
    version = "1"

    def __init__(self, argv: list[str] | None = None, cwd: str | None = None, env: dict[str, str] | None = None,
                 output_glob: str | None = None, modes: list[str] | None = None,
                 python: str | None = None, vars: dict[str, Any] | None = None, silent_audio_for_missing: bool = True,
                 keep_workdir: bool = False, label: str | None = None, fingerprint_files: list[str] | None = None,
                 **config: Any):
        if "timeout_s" in config:
            raise AdapterError("the command adapter does not time the program: set the limit on the model "
                               "(model.timeout_s) or the run (run.timeout_s), not model.params.timeout_s")
        super().__init__(argv=argv, cwd=cwd, env=env, output_glob=output_glob, modes=modes,
                         python=python, vars=vars, label=label, **config)
        if not argv or not isinstance(argv, (list, tuple)) or not all(isinstance(a, (str, int, float)) for a in argv):
            raise AdapterError("the command adapter needs argv: a list of strings (an argument-list template, no shell)")
        self.argv = [str(a) for a in argv]
        self.cwd = cwd
        self.env = {str(k): str(v) for k, v in (env or {}).items()}
        self.output_glob = output_glob
        self.modes = list(modes) if modes else None
        self.python = python or sys.executable
        self.vars = dict(vars or {})
        self.silent_audio_for_missing = silent_audio_for_missing
        self.keep_workdir = keep_workdir
        self.fingerprint_files = fingerprint_files or []
        if label:
            self.name = f"command:{label}"

    def fingerprint(self) -> str:
        """sha256 of the given checkpoint files (if configured) and of the argv template."""
        import hashlib

        from ..media import file_sha256

        h = hashlib.sha256(" ".join(self.argv).encode())
        for f in self.fingerprint_files:
            p = Path(f).expanduser()
            h.update(file_sha256(p).encode() if p.is_file() else f"missing:{p}".encode())
        return h.hexdigest()[:16]

    def supports(self, case: Case) -> str | None:
        if self.modes and case.mode not in self.modes:
            return f"{self.name} cannot do mode {case.mode!r} (supports {', '.join(self.modes)})"
        return None

    def fields(self, case: Case, output: Path, workdir: Path) -> dict[str, str]:
        audio = str(case.agent_audio) if case.agent_audio else ""
        if not audio and self.silent_audio_for_missing:
            audio = str(_silent_wav(workdir / "silence.wav", case.duration))
        prompt = "; ".join(p.text or p.action or "" for p in case.prompts)
        f = _Fields(
            reference=str(case.reference), references=",".join(str(p) for p in case.character.references),
            audio=audio, partner_audio=str(case.partner_audio or ""), prompt=prompt, output=str(output),
            output_dir=str(output.parent), workdir=str(workdir), case_id=case.id, mode=case.mode,
            fps=f"{case.fps:g}", duration=f"{case.duration:g}", width=str(case.width), height=str(case.height),
            language=case.language or "", transcript=case.transcript or "", python=self.python,
        )
        f.update({k: str(v) for k, v in self.vars.items()})
        return f

    def command(self, case: Case, output: Path, workdir: Path) -> list[str]:
        f = self.fields(case, output, workdir)
        return [a.format_map(f) for a in self.argv]

    def generate(self, case: Case, output: Path) -> None:
        output.parent.mkdir(parents=True, exist_ok=True)
        workdir = Path(tempfile.mkdtemp(prefix=f"lpmbench-{case.id}-"))
        try:
            argv = self.command(case, output, workdir)
            out = self._run(argv, workdir)
            if self.output_glob:
                pattern = self.output_glob.format_map(self.fields(case, output, workdir))
                base = Path(pattern).parent if Path(pattern).is_absolute() else workdir
                rel = Path(pattern).name if Path(pattern).is_absolute() else pattern
                hits = sorted(base.glob(rel), key=lambda p: p.stat().st_mtime)
                if not hits:
                    raise CommandFailed(f"command finished but wrote no file matching {pattern!r} (in {base})", out)
                shutil.move(str(hits[-1]), output)
            if not output.is_file() or output.stat().st_size == 0:
                raise CommandFailed(f"command finished but did not write the output video {output}", out)
        finally:
            if not self.keep_workdir:
                shutil.rmtree(workdir, ignore_errors=True)

    def _run(self, argv: list[str], workdir: Path) -> str:
        """Run the program to its exit; the tail of its output. In the worker (a subreaper) whatever
        it leaves running (a daemon, a grandchild still holding its stdout) is killed then: each
        case starts clean."""
        before = _child_pids()
        try:
            proc = subprocess.Popen(argv, cwd=self.cwd or workdir, env={**os.environ, **self.env},
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    preexec_fn=set_child_death_signal)
        except FileNotFoundError:
            raise CommandFailed(f"command not found: {argv[0]!r}") from None
        assert proc.stdout is not None
        tail = _OutputTail(proc.stdout)
        try:
            code = proc.wait()  # the program's exit, not the end of its output (a grandchild may hold it)
        finally:
            if is_subreaper():  # in the worker: every new child is an orphan of the program
                leftovers = [pid for pid in _child_pids() - before if pid != proc.pid]
                reap([k for pid in leftovers for k in kill_tree(pid)])
            out = tail.close()
        if code < 0:
            raise CommandFailed(f"command was killed by signal {-code} ({_signal_name(-code)}): {' '.join(argv)[:300]}", out)
        if code != 0:
            raise CommandFailed(f"command exited with code {code}: {' '.join(argv)[:300]}", out)
        return out


class _OutputTail:
    """The last :data:`TAIL_BYTES` a program writes to its stdout/stderr pipe, drained on a thread
    so that the program never blocks on a full pipe and capture never grows with the output."""

    def __init__(self, pipe):
        self.pipe, self.total = pipe, 0
        self._buf = bytearray()
        self._deadline: float | None = None
        self._t = threading.Thread(target=self._drain, name="lpmbench-command-output", daemon=True)
        self._t.start()

    def _drain(self) -> None:
        fd = self.pipe.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while True:
            ready = poller.poll(100)
            if self._deadline is not None and (not ready or time.monotonic() > self._deadline):
                return  # closing: what is in the pipe now has been read
            if not ready:
                continue
            data = os.read(fd, 1 << 16)
            if not data:
                return
            self.total += len(data)
            self._buf += data
            if len(self._buf) > 2 * TAIL_BYTES:
                del self._buf[:-TAIL_BYTES]

    def close(self, grace_s: float = 1.0) -> str:
        """Stop draining (within ``grace_s`` even if something still writes); the tail as text."""
        self._deadline = time.monotonic() + grace_s
        self._t.join()
        self.pipe.close()
        text = bytes(self._buf[-TAIL_BYTES:]).decode(errors="replace")
        dropped = self.total - min(self.total, TAIL_BYTES)
        return f"[{dropped} earlier bytes of output not kept]\n{text}" if dropped else text


def _child_pids() -> set[int]:
    import psutil

    return {c.pid for c in psutil.Process().children()}


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "unknown signal"


def _silent_wav(path: Path, duration: float) -> Path:
    import soundfile as sf

    sf.write(str(path), np.zeros(int(round(duration * AUDIO_RATE)), np.float32), AUDIO_RATE)
    return path
