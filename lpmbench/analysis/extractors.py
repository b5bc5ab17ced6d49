"""The extractor life cycle of the analysis pass, and which extractors a set of features needs.

The analysis pass decodes a video once and runs, on every frame and in order, its core stages
(face track, geometry, image, audio: see ``stages.py``) and then every enabled extractor, each with
the frame's face observation from the face track (or ``None`` where the face is missing). Heavy
models (dlib ResNet, ArcFace, SyncNet, open_clip) live behind this interface, so they are loaded
lazily, once per :class:`~lpmbench.analysis.Analyzer`, and shared across videos.

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
frames. :meth:`Extractor.frame` is called on the analysis thread (frames are decoded one ahead in
another); an extractor may hand work to its own thread or process pool as long as
:meth:`Extractor.end` returns the complete result.

Extractors are constructed once per Analyzer, with the keyword arguments their ``__init__`` accepts
among ``weights_dir`` (``AnalysisConfig.weights_dir``) and ``model_name`` (``AnalysisConfig.clip_model``,
for CLIP classes), when those are set. They are found by name in the
:data:`lpmbench.registry.EXTRACTORS` registry (built-ins as lazy ``"module:Class"`` strings, the
``lpmbench.extractors`` entry-point group, ``--include`` files), or as a ``"module:Class"`` target.
``provides`` must be a class attribute: :func:`extractors_for` reads it without constructing the
class (the built-in backends import torch, open_clip and onnxruntime only when they load a model).

``AnalysisConfig.identity_backend`` picks the identity extractor ("dlib" | "arcface" | "clip"),
which always runs; ``AnalysisConfig.extractors`` lists extra ones ("syncnet", "clip_frames", ...).
Identity extractors provide ``emb_frames`` (K,), ``embeddings`` (K, D) L2-normalised,
``ref_embedding`` (D,) L2-normalised mean over all reference images and ``emb_backend`` (str);
frames to embed are those where ``ctx.is_embed_frame(idx)`` is true.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from ..case import Case
    from .config import AnalysisConfig

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
    fps: float  # the video's own frame rate (the grid the pass reads it on), not the case's
    width: int  # upright frame size
    height: int
    n_frames_expected: int  # frames the pass will analyse
    reference_images: list[np.ndarray]  # RGB uint8, one per reference image of the character
    # 68 landmarks (68, 2) per reference image, or None where no face was found in it
    reference_landmarks: list[np.ndarray | None]
    # mono float32 at 16 kHz, trimmed/padded to the case duration, or to the video's when it is shorter
    agent_audio: np.ndarray | None
    partner_audio: np.ndarray | None
    config: "AnalysisConfig"
    device: str = "cpu"  # "cuda" when a GPU is present and the config allows it
    embed_stride: int = 5  # embed frames idx % embed_stride == 0 (>= config.embed_hz)
    # face box (4,) of each reference image, None where no face was found in it
    reference_boxes: list[np.ndarray | None] = field(default_factory=list)
    n_frames: int = 0  # frames analysed: set by the pass before it calls end()
    video: "Path | None" = None  # the video file (read its own soundtrack, never its frames)
    video_has_audio: bool = False  # whether the video carries a soundtrack of its own
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


def extractors_for(features: Iterable[str]) -> list[str]:
    """Names of the registered extractors needed to compute ``features`` (e.g. ``MetricSet.requires()``).

    The core stages' features and the identity features (computed by
    ``AnalysisConfig.identity_backend``, which always runs) need none. Every other feature is
    served by the first registered extractor that provides it (built-ins first); the names come in
    registration order. A feature nobody provides is left out: the metric that needs it reports it
    unavailable. Imports extractor modules only while features remain uncovered, never a model.
    Raises :class:`~lpmbench.registry.RegistryError` when features remain uncovered and an
    extractor failed to load (it may be the one that provides them).
    """
    from ..registry import EXTRACTORS, RegistryError
    from .stages import CORE_FEATURES

    wanted = set(features) - CORE_FEATURES
    names: list[str] = []
    broken: list[str] = []
    for name in EXTRACTORS.names():
        if not wanted:
            break
        try:
            got = wanted.intersection(EXTRACTORS.get(name).provides)
        except RegistryError as e:
            broken.append(str(e))
            continue
        if got:
            names.append(name)
            wanted -= got
    if wanted and broken:
        raise RegistryError(f"no extractor provides {', '.join(sorted(wanted))}; {'; '.join(broken)}")
    return names
