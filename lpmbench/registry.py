"""Registries of adapters and metrics: built-ins as lazy ``"module:attr"`` strings (start-up imports
nothing heavy), plus the ``lpmbench.adapters`` / ``lpmbench.metrics`` entry-point groups and
files passed with ``--include``. Unknown names fail with a "did you mean ...?" hint."""
from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str, builtins: dict[str, str]):
        self.kind, self.group = kind, group
        self._entries: dict[str, Any] = dict(builtins)  # name -> "module:attr" or object
        self._origin: dict[str, str] = {k: "built-in" for k in builtins}
        self._scanned = False

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        for ep in entry_points(group=self.group):
            if ep.name not in self._entries:
                self._entries[ep.name] = ep
                self._origin[ep.name] = f"entry point ({ep.value})"

    def register(self, name: str, obj: Any, origin: str = "python") -> None:
        self._entries[name] = obj
        self._origin[name] = origin

    def names(self) -> list[str]:
        self._scan()
        return sorted(self._entries)

    def origin(self, name: str) -> str:
        self._scan()
        return self._origin.get(name, "")

    def get(self, name: str) -> Any:
        self._scan()
        if name not in self._entries:
            close = difflib.get_close_matches(name, list(self._entries), n=3)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise RegistryError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(self._entries))}")
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = load_object(entry)
        elif hasattr(entry, "load") and hasattr(entry, "group"):  # an importlib EntryPoint
            entry = entry.load()
        self._entries[name] = entry
        return entry


def load_object(spec: str) -> Any:
    """Import ``"package.module:attr"`` (or ``"path/to/file.py:attr"``)."""
    if ":" not in spec:
        raise RegistryError(f"{spec!r} is not of the form 'module:attr'")
    mod_name, _, attr = spec.rpartition(":")
    if mod_name.endswith(".py"):
        module = include_file(mod_name)
    else:
        try:
            module = importlib.import_module(mod_name)
        except ModuleNotFoundError as e:
            raise RegistryError(f"cannot import {mod_name!r} for {spec!r}: {e}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise RegistryError(f"module {mod_name!r} has no attribute {attr!r}") from None
    return obj


def include_file(path: str | Path) -> Any:
    """Import a Python file by path (``--include``); its module-level registrations take effect."""
    path = Path(path).resolve()
    if not path.is_file():
        raise RegistryError(f"--include: file not found: {path}")
    name = f"lpmbench_include_{path.stem}_{abs(hash(str(path))) % 10**8}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ADAPTERS: Registry[Any] = Registry(
    "model adapter",
    "lpmbench.adapters",
    {
        "static": "lpmbench.adapters.baselines:StaticAdapter",
        "puppet": "lpmbench.adapters.puppet:PuppetAdapter",
        "folder": "lpmbench.adapters.folder:FolderAdapter",
        "command": "lpmbench.adapters.command:CommandAdapter",
        "python": "lpmbench.adapters.python:PythonAdapter",
    },
)

# Built-in metric plugins: one module per dimension in metrics/ (installed as lpmbench.metrics).
# Each module exposes METRICS, a list of Metric objects.
BUILTIN_METRIC_MODULES = (
    "lpmbench.metrics.identity",
    "lpmbench.metrics.lipsync",
    "lpmbench.metrics.expressiveness",
    "lpmbench.metrics.conversation",
    "lpmbench.metrics.text_control",
    "lpmbench.metrics.quality",
    "lpmbench.metrics.realtime",
    # weight-backed (unavailable, with the reason, until their weights are installed)
    "lpmbench.metrics.syncnet",
    "lpmbench.metrics.clip_score",
    "lpmbench.metrics.distribution",
)
