"""Weight-backed feature extractors (SyncNet, ArcFace, open_clip, FID Inception).

Each one finds its weight file through :mod:`lpmbench.weights` (never downloads), loads its model
lazily, once, the first time :meth:`availability` is asked, and reports a missing or unloadable
file as its availability reason: the analysis pass then records every feature it provides as
unavailable with that reason, and the metrics that need them are absent, never 0.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from ... import weights as W
from ..extractors import Extractor, ExtractorContext


def pick_device(requested: str | None = None) -> str:
    """``"cuda"`` when a GPU is present (and not refused), else ``"cpu"``."""
    if requested and requested not in ("auto", ""):
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class WeightBackedExtractor(Extractor):
    """Base class: weights located/verified through :mod:`lpmbench.weights`, model loaded lazily once.

    Subclasses set ``weights_name`` and ``modules`` (import names that must be installed) and
    implement :meth:`load_model` (path -> model object). ``weights_dir`` comes from the constructor,
    else from ``ctx.config.weights_dir`` when the analysis config has that field, else from
    ``$LPMBENCH_WEIGHTS_DIR`` / ``~/.cache/lpmbench/weights``.
    """

    weights_name: str = ""
    modules: tuple[str, ...] = ("torch",)
    install_hint: str = ""

    def __init__(self, weights_dir: str | Path | None = None, device: str | None = None) -> None:
        self.weights_dir = weights_dir
        self.device = device
        self._reset()

    def _reset(self) -> None:
        self._checked = False
        self._reason: str | None = None
        self.model: Any = None
        self.weights_path: Path | None = None
        self.weights_sha256: str | None = None
        self.weights_status: str | None = None

    # -- lazy loading -----------------------------------------------------------------------------
    def availability(self) -> str | None:
        if not self._checked:
            self._checked = True
            self._reason = self._load()
        return self._reason

    def _load(self) -> str | None:
        missing = [m for m in self.modules if importlib.util.find_spec(m) is None]
        if missing:
            hint = f" ({self.install_hint})" if self.install_hint else ""
            return f"{self.name}: Python package(s) {', '.join(missing)} not installed{hint}"
        try:
            path, digest = W.require(self.weights_name, self.weights_dir)
        except W.WeightsError as e:
            return str(e)
        self.weights_path, self.weights_sha256 = path, digest
        self.weights_status = W.check_sha(W.get_spec(self.weights_name), digest)
        try:
            self.model = self.load_model(path)
        except Exception as e:  # a corrupt/truncated/wrong file: say which and how to replace it
            self.model = None
            spec = W.get_spec(self.weights_name)
            return (
                f"{self.name}: cannot load weights file {path} ({type(e).__name__}: {str(e)[:300]}). "
                f"It may be corrupt or not the expected model: delete it and run `lpmbench weights fetch {spec.name}` "
                f"(source: {spec.url})."
            )
        return None

    def load_model(self, path: Path) -> Any:  # pragma: no cover - interface
        raise NotImplementedError

    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx
        cfg_dir = getattr(ctx.config, "weights_dir", None)
        if cfg_dir and self.weights_dir is None:
            self.weights_dir = cfg_dir
            self._reset()
        reason = self.availability()
        if reason is not None:  # begin() raising is recorded by the analysis pass as unavailable
            raise W.WeightsMissing(reason)
        dev = pick_device(self.device or getattr(ctx, "device", None))
        self.on_device(dev)

    def on_device(self, device: str) -> None:
        """Move the model to ``device`` (torch models); called at each begin()."""
        self.device_used = device
        if hasattr(self.model, "to"):
            self.model.to(device)

    def backend_info(self) -> dict[str, Any]:
        info = {
            "name": self.name,
            "version": self.version,
            "weights": self.weights_name,
            "weights_file": str(self.weights_path) if self.weights_path else None,
            "weights_sha256": self.weights_sha256,
            "weights_checksum": self.weights_status,  # ok | unverified (no official sha256 known)
        }
        info.update(self.extra_info())
        return info

    def extra_info(self) -> dict[str, Any]:
        return {}
