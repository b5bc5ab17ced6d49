"""The extractor hook of the analysis pass: pluggable per-frame feature extractors.

The analysis pass decodes a video once and calls every enabled extractor on each frame, in order,
with the frame's face observation (or ``None`` where the face track is missing). Heavy models
(dlib ResNet, ArcFace, SyncNet, open_clip) live behind this interface, so they are loaded lazily,
once per :class:`~lpmbench.analysis.Analyzer`, and shared across videos.

Life cycle, per video::

    ex.availability()            # None = ready, else a reason ("weights file ... not found; ...")
    ex.begin(ctx)                # once, before the first frame (ctx: ExtractorContext)
    ex.frame(idx, rgb, face)     # every frame, idx = 0..T-1, rgb (H, W, 3) uint8 (do not keep it)
    values = ex.end()            # feature name -> np.ndarray / scalar / str / dict, merged into
                                 # Features.values; names should be those in ``provides``

An extractor whose :meth:`Extractor.availability` is not ``None`` is skipped, and every feature in
its ``provides`` is recorded in ``Features.unavailable`` with that reason. An extractor that raises
in ``begin``/``frame``/``end`` is recorded the same way (with the exception text); the pass goes on.
To report a missing feature without raising (e.g. "no face found"), ``end`` may return a value of
:class:`Unavailable` for that name.

Extractors must keep memory flat in video length: keep per-frame results (small arrays), never
frames. :meth:`Extractor.frame` is called on the decoding thread; an extractor may hand work to its
own thread or process pool as long as :meth:`Extractor.end` returns the complete result.

Extractors are constructed once per Analyzer, with the keyword arguments their ``__init__`` accepts
among ``weights_dir`` (``AnalysisConfig.weights_dir``) and ``model_name`` (``AnalysisConfig.clip_model``,
for CLIP classes), when those are set. They are found by name in :data:`EXTRACTORS` (lazy ``"module:Class"`` strings; importing this
module imports nothing heavy). ``AnalysisConfig.identity_backend`` picks the identity extractor
("dlib" | "arcface" | "clip"); ``AnalysisConfig.extractors`` lists extra ones ("syncnet",
"clip_frames", ...). Identity extractors provide ``emb_frames`` (K,), ``embeddings`` (K, D)
L2-normalised, ``ref_embedding`` (D,) L2-normalised mean over all reference images and
``emb_backend`` (str); frames to embed are those where ``ctx.is_embed_frame(idx)`` is true.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from ..case import Case
    from .config import AnalysisConfig

# name -> "module:Class". The analysis pass instantiates each with no arguments.
EXTRACTORS: dict[str, str] = {
    "dlib": "lpmbench.analysis.identity:DlibEmbeddingExtractor",
    "arcface": "lpmbench.analysis.backends.arcface:ArcFaceExtractor",
    "clip": "lpmbench.analysis.backends.clip:ClipEmbeddingExtractor",
    "clip_frames": "lpmbench.analysis.backends.clip:ClipFrameExtractor",
    "syncnet": "lpmbench.analysis.backends.syncnet:SyncNetExtractor",
    "fid_inception": "lpmbench.analysis.backends.inception:InceptionExtractor",
}

IDENTITY_FEATURES = ("emb_frames", "embeddings", "ref_embedding", "emb_backend")


@dataclass(frozen=True)
class Unavailable:
    """Returned by :meth:`Extractor.end` as a value: this feature could not be computed, and why."""

    reason: str


@dataclass
class FaceObs:
    """The tracked face in one frame, in pixel coordinates of the decoded frame."""

    box_px: np.ndarray  # (4,) x0, y0, x1, y1
    landmarks_px: np.ndarray  # (68, 2) iBUG-68 order, float
    score: float  # detection score of the track's last detection (dlib HOG score)


@dataclass
class ExtractorContext:
    """What an extractor knows about the video and the case before the first frame."""

    case: "Case"
    fps: float
    width: int
    height: int
    n_frames_expected: int
    reference_images: list[np.ndarray]  # RGB uint8, one per reference image of the character
    # 68 landmarks (68, 2) per reference image, or None where no face was found in it
    reference_landmarks: list[np.ndarray | None]
    agent_audio: np.ndarray | None  # mono float32 at 16 kHz, trimmed/padded to the case duration
    partner_audio: np.ndarray | None
    config: "AnalysisConfig"
    device: str = "cpu"  # "cuda" when a GPU is present and the config allows it
    embed_stride: int = 5  # embed frames idx % embed_stride == 0 (>= config.embed_hz)
    extra: dict[str, Any] = field(default_factory=dict)

    def is_embed_frame(self, idx: int) -> bool:
        """Whether an identity extractor should embed frame ``idx`` (the shared >= 5 Hz schedule)."""
        return idx % self.embed_stride == 0


class Extractor:
    """Base class of feature extractors (see the module docstring for the life cycle)."""

    name: str = "extractor"
    version: str = "0"
    provides: tuple[str, ...] = ()

    def availability(self) -> str | None:
        """``None`` when the extractor can run; otherwise why not (missing weights, package, ...)."""
        return None

    def backend_info(self) -> dict[str, Any]:
        """Provenance recorded in ``Features.backends[name]``: name, version, weights_sha256, ..."""
        return {"name": self.name, "version": self.version}

    def begin(self, ctx: ExtractorContext) -> None:
        self.ctx = ctx

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        pass

    def end(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        """Release worker threads/processes (called when the Analyzer is closed)."""


def resolve_extractor(name: str) -> type[Extractor]:
    """The extractor class registered under ``name``; a clear error for unknown names."""
    if name not in EXTRACTORS:
        import difflib

        close = difflib.get_close_matches(name, list(EXTRACTORS), n=2)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise KeyError(f"unknown extractor {name!r}.{hint} Known: {', '.join(sorted(EXTRACTORS))}")
    target = EXTRACTORS[name]
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def register_extractor(name: str, target: str | type[Extractor]) -> None:
    """Register an extractor class (or a lazy ``"module:Class"`` string) under ``name``."""
    if isinstance(target, str):
        EXTRACTORS[name] = target
    else:
        EXTRACTORS[name] = f"{target.__module__}:{target.__qualname__}"
