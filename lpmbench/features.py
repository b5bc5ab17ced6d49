"""Shared per-video features: the output of the one analysis pass, the input of every metric.

Per-frame arrays have length ``n_frames`` (T) at the video's own frame rate ``fps`` (which may
differ from the case's: ``meta["requested_fps"]``; a variable-rate video is read on a uniform
grid at its mean rate, ``meta["timeline"]``); frame t is at t / fps s from the video's start.
Missing values are NaN (floats) and ``face_present`` is False there. Lengths are in units of the inter-ocular
distance (IOD) as METRICS.md defines, unless a name says ``_px``. Feature names below are the
strings that metrics list in ``requires``; the analysis pass fills them, and :meth:`Features.get`
raises :class:`FeatureUnavailable` (with the reason) for any feature a backend could not compute.

Names (shape, meaning):

video     fps, n_frames, width, height, duration (scalars)
face      face_present (T,) bool; face_box_px (T,4) x0,y0,x1,y1; det_score (T,)
          landmarks_px (T,68,2); iod_px (T,)
signals   mouth_open (T,) inner-lip gap / IOD; mouth_width (T,); ear (T,) eye aspect ratio;
          brow (T,) brow height / IOD
pose      pose_deg (T,3) yaw, pitch, roll relative to the reference pose, unwrapped, rigid landmarks
gaze      gaze (T,2) iris position in the eyes, mean of the open eyes: x -1..1 between the eye corners
               (> 0 toward image right), y -1..1 between the lids (> 0 up); NaN where not measured
          gaze_valid (T,) bool, an open eye was measured; ref_gaze (2,) the same on the reference
          (lpmbench/analysis/gaze.py)
shape     aligned (T,68,2) landmarks Procrustes-aligned onto the reference, in reference-IOD units
identity  emb_frames (K,) frame indices embedded (>= 5 Hz); embeddings (K,D) L2-normalised;
          ref_embedding (D,) L2-normalised mean of the reference images; emb_backend (str)
image     luma_flicker (T,) mean |dY| to the previous frame over static pixels (0..255; [0] = NaN)
          body_flow (T,) mean optical-flow magnitude outside the dilated face box / frame diagonal,
                         per frame (multiply by fps for per-second); [0] = NaN
          region_lab (T,3) mean CIELAB colour of the character region
          face_sharpness (T,) variance of the Laplacian of the fixed-size face crop
          ref_sharpness (scalar) the same on the (first) reference image
          mouth_sharpness (T,) variance of the Laplacian of a fixed mouth box (1.2 x 0.8 IOD);
          ref_mouth_sharpness (scalar) the same on the (first) reference image
audio     agent_env, partner_env (T,) RMS envelopes at frame rate (zeros without a track)
          agent_vad, partner_vad (T,) bool, voice activity (segments >= 300 ms)
          agent_segments, partner_segments (N,2) seconds
          has_agent_audio, has_partner_audio (bool)
          agent_spectral (H,26) float16 every spectral_hop_s (scalar, 0.01 s) over the video: 24 log-mel
                         bands (80-7600 Hz), log energy, spectral flux of the agent audio (lip sync)
timeline  state (T,) int8: 0 idle, 1 speak, 2 listen  (STATE_* constants)
optional  clip_frames (K2,), clip_embeddings (K2,D2) and clip_text_embeddings {text: (D2,)} (open_clip)
          syncnet_dists (2*15+1,) mean distance per offset, syncnet_params (dict) (SyncNet)
          inception_frames (K3,), inception_feats (K3,2048) (FID Inception, for quality.fid_drift)
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

STATE_IDLE, STATE_SPEAK, STATE_LISTEN = 0, 1, 2


class FeatureUnavailable(KeyError):
    """A feature a metric needs was not computed; ``reason`` says why (no face, no weights, ...)."""

    def __init__(self, name: str, reason: str):
        super().__init__(name)
        self.name = name
        self.reason = reason

    def __str__(self) -> str:
        return f"feature {self.name!r} unavailable: {self.reason}"


@dataclass
class Features:
    """Named feature arrays plus provenance. Store with :meth:`save`, reload with :meth:`load`."""

    values: dict[str, Any] = field(default_factory=dict)
    # feature name -> reason it is missing (e.g. "no face found in any frame")
    unavailable: dict[str, str] = field(default_factory=dict)
    # backend name -> {"name":..., "version":..., "weights_sha256":..., "available": bool, "reason": ...}
    backends: dict[str, dict[str, Any]] = field(default_factory=dict)
    # provenance of the pass, cached or not: cache_key, cache_hit, video, video_sha256, fps, n_frames,
    # duration, width, height, analyzer version, config, timings_s, ... (lpmbench.analysis.analyzer)
    meta: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        if name in self.values:
            return self.values[name]
        raise FeatureUnavailable(name, self.unavailable.get(name, "not computed by the analysis pass"))

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def has(self, name: str) -> bool:
        return name in self.values

    @property
    def fps(self) -> float:
        return float(self.values["fps"])

    @property
    def n_frames(self) -> int:
        return int(self.values["n_frames"])

    def times(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps

    # -- persistence: arrays in one .npz, everything else as JSON inside it -------------------
    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        scalars: dict[str, Any] = {}
        for k, v in self.values.items():
            if isinstance(v, np.ndarray):
                arrays["a__" + k] = v
            else:
                scalars[k] = v
        header = {"scalars": scalars, "unavailable": self.unavailable, "backends": self.backends, "meta": self.meta}
        arrays["__header__"] = np.frombuffer(json.dumps(header, default=_json_default).encode(), dtype=np.uint8)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        tmp.replace(path)  # atomic: a crash never leaves a half-written cache entry

    @classmethod
    def load(cls, path: str | Path) -> "Features":
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(bytes(z["__header__"]).decode())
            values: dict[str, Any] = dict(header["scalars"])
            for k in z.files:
                if k.startswith("a__"):
                    values[k[3:]] = z[k]
        return cls(values, header["unavailable"], header["backends"], header["meta"])


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")
