"""open_clip image/text embeddings from a local checkpoint (never the network).

Two extractors share one loaded model per (architecture, checkpoint):

- :class:`ClipEmbeddingExtractor` (identity backend ``clip``): the character region of each
  embedding frame: the face box scaled by ``config.face_dilate`` (default 1.6) and made square where
  the face is tracked, else the whole frame; always the whole frame for ``non_humanoid``
  characters; the same rule on the reference images. Provides ``emb_frames``, ``embeddings``, ``ref_embedding``, ``emb_backend``.
- :class:`ClipFrameExtractor`: whole frames at ~2 Hz plus the case's free-form prompt texts
  (prompts without a vocabulary action). Provides ``clip_frames``, ``clip_embeddings``,
  ``clip_text_embeddings`` ({text: (D,)}), all L2-normalised.

The architecture defaults to the registry's (ViT-B-32); set ``clip_model`` in the analysis config,
``LPMBENCH_CLIP_MODEL`` or the constructor argument for another checkpoint's architecture.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ... import weights as W
from ...vision import landmark_box, square_region
from ..extractors import ExtractorContext, FaceObs, Unavailable
from . import WeightBackedExtractor

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a named tag must fail fast, not hang on the hub

FRAME_HZ = 2.0
_MODELS: dict[tuple[str, str], Any] = {}  # (architecture, sha256) -> ClipModel, shared by the extractors


def default_model_name() -> str:
    return os.environ.get("LPMBENCH_CLIP_MODEL") or W.get_spec("open_clip").options["model"]


class ClipModel:
    """An open_clip model with its eval transform and tokenizer, loaded from a local checkpoint."""

    def __init__(self, model_name: str, path: str | Path, device: str = "cpu"):
        import open_clip

        if model_name not in open_clip.list_models():
            raise ValueError(f"unknown open_clip architecture {model_name!r} (see open_clip.list_models())")
        self.model_name, self.path, self.device = model_name, Path(path), device
        self.model, _, self.preprocess = open_clip.create_model_and_transforms(
            model_name, pretrained=str(path), device=device)
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(model_name)

    def to(self, device: str) -> "ClipModel":
        if device != self.device:
            self.model.to(device)
            self.device = device
        return self

    def embed_images(self, images_rgb: list[np.ndarray]) -> np.ndarray:
        """(N, D) L2-normalised image embeddings of RGB uint8 arrays."""
        import torch
        from PIL import Image

        x = torch.stack([self.preprocess(Image.fromarray(im)) for im in images_rgb]).to(self.device)
        with torch.no_grad():
            e = self.model.encode_image(x).float()
        return torch.nn.functional.normalize(e, dim=-1).cpu().numpy().astype(np.float64)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """(N, D) L2-normalised text embeddings."""
        import torch

        with torch.no_grad():
            e = self.model.encode_text(self.tokenizer(texts).to(self.device)).float()
        return torch.nn.functional.normalize(e, dim=-1).cpu().numpy().astype(np.float64)


def character_region(rgb: np.ndarray, box: np.ndarray | None, scale: float) -> np.ndarray:
    """The character region: the dilated square face box where a face is known, else the whole frame."""
    if box is None:
        return rgb
    a, b, c, d = square_region(box, scale, rgb.shape[1], rgb.shape[0])
    return np.ascontiguousarray(rgb[b:d, a:c])


class _ClipBase(WeightBackedExtractor):
    weights_name = "open_clip"
    modules = ("torch", "open_clip")
    install_hint = "pip install open_clip_torch"
    batch = 16

    def __init__(self, weights_dir: str | Path | None = None, device: str | None = None,
                 model_name: str | None = None) -> None:
        super().__init__(weights_dir, device)
        self.model_name = model_name

    def _arch(self) -> str:
        return self.model_name or default_model_name()

    def begin(self, ctx: ExtractorContext) -> None:
        cfg_model = getattr(ctx.config, "clip_model", None)
        if cfg_model and self.model_name is None:
            self.model_name = cfg_model
            self._reset()
        super().begin(ctx)

    def _flush(self) -> None:
        """Embed the frames queued by ``frame`` (subclasses keep frames, embs and _pending)."""
        if self._pending:
            self.frames += [i for i, _ in self._pending]
            self.embs.append(self.model.embed_images([r for _, r in self._pending]))
            self._pending = []

    def load_model(self, path: Path) -> ClipModel:
        key = (self._arch(), self.weights_sha256 or str(path))
        if key not in _MODELS:
            _MODELS[key] = ClipModel(self._arch(), path)
        return _MODELS[key]

    def extra_info(self) -> dict[str, Any]:
        return {"model": self._arch()}


class ClipEmbeddingExtractor(_ClipBase):
    """Identity backend ``clip``: character-region embeddings on the shared >= 5 Hz schedule."""

    name = "clip"
    version = "1"
    provides = ("emb_frames", "embeddings", "ref_embedding", "emb_backend")

    def begin(self, ctx: ExtractorContext) -> None:
        super().begin(ctx)
        self.scale = float(getattr(ctx.config, "face_dilate", 1.6))
        # a non-humanoid character is always the whole frame: a stray face detection must not switch crops
        self.whole_frame = getattr(getattr(ctx.case, "character", None), "style", "") == "non_humanoid"
        self.frames: list[int] = []
        self.embs: list[np.ndarray] = []
        self._pending: list[tuple[int, np.ndarray]] = []

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if not self.ctx.is_embed_frame(idx):
            return
        box = None if face is None or self.whole_frame else face.box_px
        region = character_region(rgb, box, self.scale)
        self._pending.append((idx, region.copy()))
        if len(self._pending) >= self.batch:
            self._flush()

    def end(self) -> dict[str, Any]:
        self._flush()
        refs = [character_region(img, None if lm is None or self.whole_frame else landmark_box(np.asarray(lm)), self.scale)
                for img, lm in zip(self.ctx.reference_images, self.ctx.reference_landmarks)]
        out: dict[str, Any] = {"emb_backend": "clip"}
        if refs:
            r = self.model.embed_images(refs).mean(axis=0)
            out["ref_embedding"] = r / max(np.linalg.norm(r), 1e-12)
        else:
            out["ref_embedding"] = Unavailable("the case has no reference image")
        if self.embs:
            out["emb_frames"] = np.asarray(self.frames, dtype=np.int64)
            out["embeddings"] = np.concatenate(self.embs)
        else:
            why = Unavailable("no frame to embed (empty video)")
            out["emb_frames"], out["embeddings"] = why, why
        return out


def free_form_texts(case: Any) -> list[str]:
    """Texts of the case's free-form prompts (no vocabulary action), in order, without repeats."""
    seen: list[str] = []
    for p in getattr(case, "prompts", ()) or ():
        if p.action is None and p.text and p.text not in seen:
            seen.append(p.text)
    return seen


class ClipFrameExtractor(_ClipBase):
    """Whole-frame embeddings at ~2 Hz and the case's free-form prompt text embeddings."""

    name = "clip_frames"
    version = "1"
    provides = ("clip_frames", "clip_embeddings", "clip_text_embeddings")

    def begin(self, ctx: ExtractorContext) -> None:
        super().begin(ctx)
        self.stride = max(1, int(round(float(ctx.fps) / FRAME_HZ)))
        self.texts = free_form_texts(ctx.case)
        self.frames: list[int] = []
        self.embs: list[np.ndarray] = []
        self._pending: list[tuple[int, np.ndarray]] = []

    def frame(self, idx: int, rgb: np.ndarray, face: FaceObs | None) -> None:
        if not self.texts or idx % self.stride:
            return  # without free-form prompts no metric reads these features: save the compute
        self._pending.append((idx, rgb.copy()))
        if len(self._pending) >= self.batch:
            self._flush()

    def end(self) -> dict[str, Any]:
        self._flush()
        if not self.texts:
            why = Unavailable("the case has no free-form text prompt")
            return {k: why for k in self.provides}
        if not self.embs:
            why = Unavailable("no frame to embed (empty video)")
            return {k: why for k in self.provides}
        t = self.model.embed_texts(self.texts)
        return {
            "clip_frames": np.asarray(self.frames, dtype=np.int64),
            "clip_embeddings": np.concatenate(self.embs),
            "clip_text_embeddings": {text: t[i] for i, text in enumerate(self.texts)},
        }

    def extra_info(self) -> dict[str, Any]:
        return {"model": self._arch(), "frame_hz": FRAME_HZ}
