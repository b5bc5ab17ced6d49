"""The one registry mechanism for the four kinds of plug-in: model adapters, metrics, feature
extractors and suites.

Every kind is a :class:`Registry` with

- built-ins as lazy ``"module:attr"`` strings, so start-up imports nothing heavy;
- an entry-point group (``lpmbench.adapters``, ``lpmbench.metrics``, ``lpmbench.extractors``,
  ``lpmbench.suites``) scanned on first use, so a third party adds a plug-in without editing
  this repository;
- files passed with ``--include path.py`` (:func:`include_file`), whose module-level
  ``ADAPTERS.register(...)`` (etc.) calls take effect;
- a type check of what a name resolves to, an error when two sources claim one name, and
  "did you mean ...?" for unknown names.

Any registered name works where the configuration names a plug-in: ``model=NAME``,
``suite=NAME``, ``analysis.options.extractors=[NAME]``.
"""
from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Callable, Generic, Iterator, TypeVar

T = TypeVar("T")


class RegistryError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def _is_entry_point(obj: Any) -> bool:
    return hasattr(obj, "load") and hasattr(obj, "group")


class Registry(Generic[T]):
    """Names -> plug-ins of one kind.

    ``check(obj) -> str | None`` validates what a name resolves to (None = fine, else why not);
    ``convert(obj)`` may turn it into the stored form (e.g. an entry point naming a function that
    returns a suite folder). Entries resolve once and are then kept resolved.
    """

    def __init__(self, kind: str, group: str, builtins: dict[str, Any] | None = None, *,
                 check: Callable[[Any], str | None] | None = None, convert: Callable[[Any], Any] | None = None):
        self.kind, self.group = kind, group
        self._check, self._convert = check, convert
        self._entries: dict[str, Any] = dict(builtins or {})
        self._origin: dict[str, str] = {k: "built-in" for k in self._entries}
        # name -> why it is ambiguous (two sources claim it); raised when the name is used, so
        # one broken third-party package does not disable every other plug-in
        self._collisions: dict[str, str] = {}
        self._scanned = False

    # -- filling ----------------------------------------------------------------------------------
    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        for ep in entry_points(group=self.group):
            try:
                self._add(ep.name, ep, f"entry point {ep.name} ({ep.value})")
            except RegistryError as e:
                self._collisions[ep.name] = str(e)

    def _add(self, name: str, obj: Any, origin: str) -> None:
        if not isinstance(name, str) or not name.strip():
            raise RegistryError(f"{self.kind} names must be non-empty strings, got {name!r} from {origin}")
        old = self._entries.get(name)
        if _is_entry_point(old) and _is_entry_point(obj) and old.value == obj.value:
            return  # the same distribution seen twice on sys.path
        if name in self._entries and old is not obj:
            raise RegistryError(f"{self.kind} {name!r} is registered twice: by {self._origin[name]} and by {origin}")
        self._entries[name] = obj
        self._origin[name] = origin

    def register(self, name: str, obj: Any, origin: str | None = None) -> Any:
        """Register ``obj`` (or a lazy ``"module:attr"`` string) under ``name``; returns ``obj``.

        Registering a second, different object under a taken name is an error naming both.
        """
        self._scan()
        if not isinstance(obj, str):
            self._validate(name, obj, origin or "python")
        self._add(name, obj, origin or _caller_origin())
        return obj

    @contextlib.contextmanager
    def restored(self) -> Iterator[None]:
        """Undo every registration made inside the block (tests and notebooks that register
        throw-away plug-ins must not leak them into later runs of the same process)."""
        saved = (dict(self._entries), dict(self._origin), dict(self._collisions), self._scanned)
        try:
            yield
        finally:
            self._entries, self._origin, self._collisions, self._scanned = (
                saved[0], saved[1], saved[2], saved[3])

    # -- reading ----------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Registered names in registration order (built-ins first); sort them for display."""
        self._scan()
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        self._scan()
        return name in self._entries

    def origin(self, name: str) -> str:
        self._scan()
        return self._origin.get(name, "")

    def unknown(self, name: str) -> RegistryError:
        """The error for a name nobody registered (with the closest known names)."""
        self._scan()
        close = difflib.get_close_matches(str(name), list(self._entries), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return RegistryError(f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(sorted(self._entries)) or 'none'}")

    def get(self, name: str) -> T:
        self._scan()
        if name in self._collisions:
            raise RegistryError(self._collisions[name])
        if name not in self._entries:
            raise self.unknown(name)
        entry = self._entries[name]
        if isinstance(entry, str) or _is_entry_point(entry):
            try:
                entry = load_object(entry) if isinstance(entry, str) else entry.load()
            except RegistryError:
                raise
            except Exception as e:  # a broken plug-in: name it, never a bare traceback
                raise RegistryError(f"{self.kind} {name!r} ({self._origin[name]}) failed to load: "
                                    f"{type(e).__name__}: {e}") from e
            if self._convert is not None:
                entry = self._convert(entry)
            self._validate(name, entry, self._origin[name])
            self._entries[name] = entry
        return entry

    def resolve(self, name_or_target: str) -> T:
        """A registered name, or a ``"module:attr"`` / ``"file.py:attr"`` target, checked alike."""
        if ":" in name_or_target and name_or_target not in self:
            obj = load_object(name_or_target)
            if self._convert is not None:
                obj = self._convert(obj)
            self._validate(name_or_target, obj, name_or_target)
            return obj
        return self.get(name_or_target)

    def _validate(self, name: str, obj: Any, origin: str) -> None:
        problem = self._check(obj) if self._check is not None else None
        if problem:
            raise RegistryError(f"{self.kind} {name!r} ({origin}): {problem}")


def _caller_origin() -> str:
    """Where a ``register`` call came from (the calling module's name), for collision errors."""
    frame = sys._getframe(2)
    return f"python ({frame.f_globals.get('__name__', '?')})"


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
    if spec is None or spec.loader is None:
        raise RegistryError(f"--include: {path} is not an importable Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        del sys.modules[name]
        raise RegistryError(f"--include {path}: importing it failed: {type(e).__name__}: {e}") from e
    return module


# -- the four kinds ------------------------------------------------------------------------------
def _adapter_check(obj: Any) -> str | None:
    from .adapters.base import Adapter

    if isinstance(obj, type) and issubclass(obj, Adapter):
        return None
    return f"expected a subclass of lpmbench.adapters.base.Adapter, got {obj!r}"


def _extractor_check(obj: Any) -> str | None:
    from .analysis.extractors import Extractor

    if isinstance(obj, type) and issubclass(obj, Extractor):
        return None
    return f"expected a subclass of lpmbench.analysis.extractors.Extractor, got {obj!r}"


def _metric_check(obj: Any) -> str | None:
    from .plugins import metrics_from

    try:
        metrics_from(obj, "?")
    except Exception as e:
        return str(e)
    return None


def _suite_convert(obj: Any) -> Any:
    """A suite entry point names a folder (str/Path) or a function returning one."""
    if callable(obj) and not isinstance(obj, (str, Path)):
        obj = obj()
    return Path(obj) if isinstance(obj, (str, Path)) else obj


def _suite_check(obj: Any) -> str | None:
    if isinstance(obj, Path) and (obj / "suite.yaml").is_file():
        return None
    return f"expected a folder with a suite.yaml, got {obj!r}"


def _builtin_suites() -> dict[str, Path]:
    from .case import builtin_suites_dir

    return {m.parent.name: m.parent for m in sorted(builtin_suites_dir().glob("*/suite.yaml"))}


ADAPTERS: Registry[Any] = Registry(
    "model adapter", "lpmbench.adapters",
    {
        "static": "lpmbench.adapters.baselines:StaticAdapter",
        "puppet": "lpmbench.adapters.puppet:PuppetAdapter",
        "folder": "lpmbench.adapters.folder:FolderAdapter",
        "groundtruth": "lpmbench.adapters.groundtruth:GroundTruthAdapter",
        "command": "lpmbench.adapters.command:CommandAdapter",
        "python": "lpmbench.adapters.python:PythonAdapter",
        "remote": "lpmbench.streaming.remote:RemoteAdapter",
    },
    check=_adapter_check,
)

# Metric plug-ins: each entry is a module exposing METRICS, a Metric, a Metric subclass, a
# decorated function or a list of them. Built-ins: one module per dimension in metrics/
# (installed as lpmbench.metrics); weight-backed ones are unavailable, with the reason, until
# their weights are installed.
METRICS: Registry[Any] = Registry(
    "metric plug-in", "lpmbench.metrics",
    {name: f"lpmbench.metrics.{name}:METRICS" for name in (
        "identity", "lipsync", "expressiveness", "conversation", "text_control", "quality", "realtime", "realism", "paired",
        "syncnet", "clip_score", "distribution", "gaze")},
    check=_metric_check,
)

EXTRACTORS: Registry[Any] = Registry(
    "feature extractor", "lpmbench.extractors",
    {
        "dlib": "lpmbench.analysis.identity:DlibEmbeddingExtractor",
        "arcface": "lpmbench.analysis.backends.arcface:ArcFaceExtractor",
        "clip": "lpmbench.analysis.backends.clip:ClipEmbeddingExtractor",
        "clip_frames": "lpmbench.analysis.backends.clip:ClipFrameExtractor",
        "syncnet": "lpmbench.analysis.backends.syncnet:SyncNetExtractor",
        "fid_inception": "lpmbench.analysis.backends.inception:InceptionExtractor",
    },
    check=_extractor_check,
)


class _SuiteRegistry(Registry[Path]):
    """Suites: the bundled folders under prompts/ plus the ``lpmbench.suites`` entry points."""

    def _scan(self) -> None:
        if not self._scanned:
            for name, path in _builtin_suites().items():
                self._entries.setdefault(name, path)
                self._origin.setdefault(name, "bundled")
        super()._scan()


SUITES: Registry[Path] = _SuiteRegistry("suite", "lpmbench.suites", check=_suite_check, convert=_suite_convert)
