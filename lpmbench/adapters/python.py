"""``python``: any adapter class given as ``module:Class`` (or a name registered in the
``lpmbench.adapters`` entry-point group), with its keyword arguments."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..case import Case
from .base import Adapter, AdapterError, StreamSession


class PythonAdapter(Adapter):
    name = "python"
    version = "1"

    def __init__(self, target: str | None = None, params: dict[str, Any] | None = None, **config: Any):
        super().__init__(target=target, params=params or {}, **config)
        if not target:
            raise AdapterError("the python adapter needs target='package.module:Class' or an entry-point name")
        from ..registry import ADAPTERS

        self.inner = ADAPTERS.resolve(target)(**(params or {}))
        self.streaming = self.inner.streaming
        self.name = f"python:{getattr(self.inner, 'name', target)}"
        self.version = getattr(self.inner, "version", "0")
        self.timed = getattr(self.inner, "timed", True)

    def setup(self) -> None:
        self.inner.setup()

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def supports(self, case: Case) -> str | None:
        return self.inner.supports(case)

    def reported_memory(self) -> dict[str, Any] | None:
        return self.inner.reported_memory()

    def generate(self, case: Case, output: Path) -> None:
        self.inner.generate(case, output)

    def open_stream(self, case: Case) -> StreamSession:
        return self.inner.open_stream(case)

    def close(self) -> None:
        self.inner.close()
