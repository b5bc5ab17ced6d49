"""``folder``: pre-generated videos, one per case id, from any model run elsewhere."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from ..case import Case
from .base import Adapter, AdapterError

VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".webm", ".avi")


class FolderAdapter(Adapter):
    """Looks up ``<root>/<pattern>`` for each case (default pattern ``{case_id}.*``).

    Wall time measured around this adapter is a file copy, not generation: realtime metrics of a
    folder run describe nothing and are reported unavailable by ``timed = False``.
    """

    name = "folder"
    version = "1"
    timed = False

    def __init__(self, root: str | None = None, pattern: str = "{case_id}", **config: Any):
        super().__init__(root=root, pattern=pattern, **config)
        if not root:
            raise AdapterError("the folder adapter needs root=<folder with one video per case id>")
        self.root = Path(root).expanduser().resolve()
        self.pattern = pattern
        if not self.root.is_dir():
            raise AdapterError(f"folder adapter: {self.root} is not a folder")

    def fingerprint(self) -> str:
        return f"folder:{self.root}"

    def find(self, case: Case) -> Path:
        stem = self.pattern.format(case_id=case.id, suite=case.suite, mode=case.mode, character=case.character.id)
        direct = self.root / stem
        if direct.suffix.lower() in VIDEO_EXTS and direct.is_file():
            return direct
        hits = [p for p in sorted(self.root.glob(stem + ".*")) if p.suffix.lower() in VIDEO_EXTS]
        if not hits:
            raise AdapterError(f"no video for case {case.id!r} in {self.root} (looked for {stem}{{{','.join(VIDEO_EXTS)}}})")
        return hits[0]

    def generate(self, case: Case, output: Path) -> None:
        deliver(self.find(case), output)


def deliver(src: Path, output: Path) -> None:
    """Put an existing video at ``output``: a hard link on the same file system, else a copy."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.unlink()
    try:
        os.link(src, output)
    except OSError:
        shutil.copyfile(src, output)
