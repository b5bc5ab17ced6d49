"""Configuration of the analysis pass. The defaults are the offline protocol of the benchmark.

Every field that changes a feature value is part of the cache key and of the run's protocol
(:meth:`AnalysisConfig.protocol_dict`); fields that only change speed (worker counts, decoder
threads) or which videos are accepted (the length tolerance) are not.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

# Fields that change speed or acceptance only, never values: left out of the cache key.
_NOT_VALUES = ("length_tolerance_s", "embed_workers", "decode_threads", "cv2_threads", "device")


@dataclass
class AnalysisConfig:
    # -- face detection and tracking -------------------------------------------------------------
    # Run the HOG detector every N frames (and whenever the track is lost); landmarks are
    # tracked in between from the previous frame's landmark box.
    detect_every: int = 8
    # Downscale the frame so its longer side is at most this before HOG detection (speed): faces
    # narrower than ~80/320 of the frame are found by a second look at twice this size, made
    # every detect_every frames while no face is tracked.
    detect_max_side: int = 320
    # HOG pyramid upsampling: 0 is fast; 1 finds faces half as big but can fire on non-faces.
    detect_upsample: int = 0
    # Minimum HOG score to accept a detection.
    detect_min_score: float = -0.2
    # A tracked landmark box whose IoU with the previous one drops below this is lost (re-detect).
    track_min_iou: float = 0.5
    # -- identity embeddings ---------------------------------------------------------------------
    identity_backend: str = "dlib"  # "dlib" | "arcface" | "clip" (names in lpmbench.registry.EXTRACTORS)
    embed_hz: float = 5.0  # embeddings per second of video (at least; stride = floor(fps / hz))
    # Extra extractors by registered name or "module:Class" (e.g. ["syncnet", "clip_frames"]); see
    # lpmbench.registry.EXTRACTORS. lpmbench.analysis.extractors_for names those metrics need.
    extractors: list[str] = field(default_factory=list)
    # Folder of weight files for weight-backed extractors (arcface, clip, syncnet, ...); None =
    # $LPMBENCH_WEIGHTS_DIR or ~/.cache/lpmbench/weights (see lpmbench.weights).
    weights_dir: str | None = None
    clip_model: str | None = None  # open_clip architecture for the clip extractors; None = their default
    # -- image features --------------------------------------------------------------------------
    flow_size: int = 128  # longer side (px) of the frames used for Farneback flow and flicker
    face_dilate: float = 1.6  # face box scale for the character region / body-flow exclusion
    static_flow_px: float = 0.25  # flow magnitude (at flow_size) under which a pixel is "static"
    sharp_crop: int = 128  # face crop side (px) for the Laplacian sharpness
    # -- audio -----------------------------------------------------------------------------------
    vad_threshold: float = 0.5  # silero-vad speech probability threshold
    vad_min_speech_s: float = 0.3  # keep speech segments at least this long
    vad_min_silence_s: float = 0.1  # merge segments separated by shorter silences
    # -- input checks (not part of the cache key) ----------------------------------------------
    # Seconds a video may last longer or shorter than its case. A longer one is analysed up to the
    # case's duration; a shorter one as it is, with the case audio's features cut to match. Any
    # frame rate is accepted: features are computed at the video's own rate.
    length_tolerance_s: float = 0.5
    # -- speed only (not part of the cache key) --------------------------------------------------
    embed_workers: int = 0  # processes computing embeddings; 0 = auto (2 on 2 cores, up to 4 on more)
    decode_threads: int = 0  # PyAV decoder threads; 0 = FFmpeg's choice
    cv2_threads: int = 1  # OpenCV threads in the analysis process (workers use the other cores)
    device: str = "auto"  # "auto" | "cpu" | "cuda" for torch-based extractors

    def protocol_dict(self) -> dict[str, Any]:
        """The fields that change feature values (cache key, run manifest)."""
        d = asdict(self)
        for k in _NOT_VALUES:
            d.pop(k, None)
        d["extractors"] = sorted(d["extractors"])
        return d

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "AnalysisConfig":
        """Build from a (Hydra/JSON) mapping; unknown keys are an error naming them."""
        d = dict(d or {})
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown analysis config field(s) {sorted(unknown)}; known: {sorted(known)}")
        if "extractors" in d and d["extractors"] is not None:
            d["extractors"] = list(d["extractors"])
        return cls(**d)
