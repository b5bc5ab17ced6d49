"""The one analysis pass: decode a generated video once, compute every shared feature, cache it.

>>> from lpmbench.analysis import Analyzer, AnalysisConfig
>>> an = Analyzer(AnalysisConfig(), cache_dir=".lpmbench_cache")
>>> feats = an.run("video.mp4", case)          # lpmbench.features.Features

Heavy models (dlib, silero-vad, extractors) load lazily, once per Analyzer. See ``analyzer.py``
for the pass, ``stages.py`` for its core stages, ``extractors.py`` for the stage life cycle shared
with the weight-backed feature extractors and :func:`extractors_for` (which extractors a set of
required features needs; registered in :data:`lpmbench.registry.EXTRACTORS`).
"""
from .config import AnalysisConfig
from .extractors import Extractor, ExtractorContext, FaceObs, Unavailable, extractors_for

ANALYZER_VERSION = "1.3.0"  # bump whenever a feature's values change or features are added: it invalidates the cache


def __getattr__(name: str):
    # The Analyzer pulls in dlib/cv2; import it on first use so `import lpmbench.analysis` is light.
    if name in ("Analyzer", "VideoMismatchError"):
        from . import analyzer

        return getattr(analyzer, name)
    raise AttributeError(f"module 'lpmbench.analysis' has no attribute {name!r}")


__all__ = [
    "ANALYZER_VERSION", "AnalysisConfig", "Analyzer", "VideoMismatchError", "Extractor", "ExtractorContext",
    "FaceObs", "Unavailable", "extractors_for",
]
