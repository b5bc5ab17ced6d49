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
output. A non-zero exit or a missing output raises :class:`CommandFailed` carrying the tail of the
program's stderr, which the runner keeps in the case's error record.

The adapter describes the program (argv template, cwd, env, output discovery, modes) and runs it;
it does not time it: the per-case limit is the worker's (``timeout_s`` of the model, or
``run.timeout_s``), which kills the program with the worker.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..case import AUDIO_RATE, Case
from .base import Adapter, AdapterError


class CommandFailed(AdapterError):
    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output  # the tail of what the program wrote


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
            env = {**os.environ, **self.env}
            try:
                proc = subprocess.run(argv, cwd=self.cwd or workdir, env=env, capture_output=True, text=True,
                                      stdin=subprocess.DEVNULL)
            except FileNotFoundError:
                raise CommandFailed(f"command not found: {argv[0]!r}") from None
            if proc.returncode != 0:
                raise CommandFailed(f"command exited with code {proc.returncode}: {' '.join(argv)[:300]}", proc.stderr[-4000:])
            if self.output_glob:
                pattern = self.output_glob.format_map(self.fields(case, output, workdir))
                base = Path(pattern).parent if Path(pattern).is_absolute() else workdir
                rel = Path(pattern).name if Path(pattern).is_absolute() else pattern
                hits = sorted(base.glob(rel), key=lambda p: p.stat().st_mtime)
                if not hits:
                    raise CommandFailed(f"command finished but wrote no file matching {pattern!r} (in {base})", proc.stderr[-4000:])
                shutil.move(str(hits[-1]), output)
            if not output.is_file() or output.stat().st_size == 0:
                raise CommandFailed(f"command finished but did not write the output video {output}", proc.stderr[-4000:])
        finally:
            if not self.keep_workdir:
                shutil.rmtree(workdir, ignore_errors=True)


def _silent_wav(path: Path, duration: float) -> Path:
    import soundfile as sf

    sf.write(str(path), np.zeros(int(round(duration * AUDIO_RATE)), np.float32), AUDIO_RATE)
    return path
