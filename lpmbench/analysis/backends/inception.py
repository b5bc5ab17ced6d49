"""FID Inception v3 pool features (torch-fidelity's 2015-12-05 weights via torchmetrics).

Whole frames sampled at :data:`FRAME_HZ` go through torchmetrics' ``NoTrainInceptionV3`` (the FID
feature extractor of torch-fidelity, loaded from the local ``weights-inception-2015-12-05-6726825d.pth``;
frames resized to 299x299 inside it), giving ``inception_frames`` (K,) and ``inception_feats``
(K, 2048) float32. ``metrics/distribution.py`` turns them into Fréchet distances.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..extractors import ExtractorContext, FaceObs, Unavailable
from . import WeightBackedExtractor

FRAME_HZ = 4.0
FEATURE = "2048"


def load_inception(path: str | Path):
    """torchmetrics' FID Inception (torch-fidelity architecture) with the weights in ``path``."""
    from torchmetrics.image.fid import NoTrainInceptionV3

    return NoTrainInceptionV3(name="inception-v3-compat", features_list=[FEATURE],
                              feature_extractor_weights_path=str(path))


class InceptionExtractor(WeightBackedExtractor):
    name = "fid_inception"
    version = "1"
    provides = ("inception_frames", "inception_feats")
    weights_name = "fid_inception"
    modules = ("torch", "torchmetrics", "torch_fidelity")
    install_hint = "pip install torch-fidelity"
    batch = 16

    def load_model(self, path: Path):
        return load_inception(path)

    def begin(self, ctx: ExtractorContext) -> None:
        super().begin(ctx)
        self.stride = max(1, int(round(float(ctx.fps) / FRAME_HZ)))
        self.frames: list[int] = []
        self.feats: list[np.ndarray] = []
        self._pending: list[tuple[int, np.ndarray]] = []

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if idx % self.stride:
            return
        self._pending.append((idx, rgb.copy()))
        if len(self._pending) >= self.batch:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        import torch

        x = torch.from_numpy(np.stack([f for _, f in self._pending])).permute(0, 3, 1, 2).contiguous()
        with torch.no_grad():
            out = self.model(x.to(self.device_used))
        feats = out[0] if isinstance(out, (tuple, list)) else out
        self.frames += [i for i, _ in self._pending]
        self.feats.append(feats.reshape(len(self._pending), -1).float().cpu().numpy())
        self._pending = []

    def end(self) -> dict[str, Any]:
        self._flush()
        if not self.feats:
            why = Unavailable("no frame sampled (empty video)")
            return {"inception_frames": why, "inception_feats": why}
        return {"inception_frames": np.asarray(self.frames, dtype=np.int64),
                "inception_feats": np.concatenate(self.feats).astype(np.float32)}

    def extra_info(self) -> dict[str, Any]:
        return {"frame_hz": FRAME_HZ, "feature": FEATURE}
