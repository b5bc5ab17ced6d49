"""text_control.clip_score: CLIP text-frame similarity of free-form prompts inside their time spans.

Reads the ``clip_frames`` extractor's features (open_clip weights from a local checkpoint). Without
the weights, or for cases without a free-form prompt, the value is absent with the reason.
"""
from __future__ import annotations

import numpy as np

from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

from .syncnet import enable_hint


def prompt_similarities(frames: np.ndarray, emb: np.ndarray, texts: dict, prompts, fps: float) -> dict[str, float]:
    """Mean cosine similarity between each free-form prompt's text and the frames inside its span.

    Returns ``{"text@start-end": similarity}`` for the prompts whose span holds a sampled frame.
    """
    t = np.asarray(frames, dtype=np.float64) / fps
    emb = np.asarray(emb, dtype=np.float64)
    out: dict[str, float] = {}
    for p in prompts:
        if p.action is not None or not p.text:
            continue
        if p.text not in texts:
            raise MetricUnavailable(f"no text embedding for prompt {p.text!r} in clip_text_embeddings")
        inside = (t >= p.start) & (t < p.end)
        if not inside.any():
            continue
        v = np.asarray(texts[p.text], dtype=np.float64)
        out[f"{p.text}@{p.start:g}-{p.end:g}"] = float((emb[inside] @ v).mean())
    return out


class ClipScore(Metric):
    requires = ("clip_frames", "clip_embeddings", "clip_text_embeddings")
    specs = (
        MetricSpec("text_control.clip_score", "text_control", "higher", version=1, backend="open_clip",
                   unit="cosine", anchors=(0.15, 0.35),
                   description="mean over free-form prompts of the mean CLIP cosine similarity between the "
                               "prompt text and the whole frames (~2 Hz) inside its time span",
                   validity="Tests check the value equals the mean text-frame cosine over each prompt's span, "
                            "with the open_clip loader reading a local checkpoint (random weights in CI).",
                   limits="CLIP similarities depend on the checkpoint (recorded by its sha256); values "
                          "from different checkpoints are not comparable."),
    )

    def __call__(self, ctx: MetricContext) -> MetricOutput:
        return enable_hint(ctx, self, "clip_frames", "open_clip") or super().__call__(ctx)

    def compute(self, ctx: MetricContext) -> MetricOutput:
        if ctx.case is None:
            raise MetricUnavailable("no case: the prompts and their time spans are unknown")
        f = ctx.features
        sims = prompt_similarities(f.get("clip_frames"), f.get("clip_embeddings"), f.get("clip_text_embeddings"),
                                   ctx.case.prompts, f.fps)
        if not sims:
            raise MetricUnavailable("no free-form prompt span holds a sampled frame (spans shorter than 0.5 s?)")
        return MetricOutput(values={"text_control.clip_score": float(np.mean(list(sims.values())))},
                            details={"per_prompt": sims})


METRICS = [ClipScore()]
