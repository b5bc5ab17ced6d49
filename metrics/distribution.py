"""Fréchet Inception Distance, defined where a distribution exists.

FID compares two *distributions* of Inception features. A case has one generated video and one or a
few reference images: "generated frames vs the reference image" is a distance to a point (its
covariance term then rewards a frozen video), and augmenting the reference does not make a
distribution. So lpmbench defines:

- ``quality.fid_drift`` (per case, ↓): FID between the frames of the first third and of the last
  third of the video (whole frames sampled at 4 Hz). It measures how far the video's appearance
  distribution moves over time: long-horizon degradation (colour shift, texture loss, identity
  melt), the failure mode this benchmark tracks. It needs >= :data:`MIN_SAMPLES` frames in each
  third (>= 12 s of video); shorter cases are unavailable. With few samples FID is biased upward:
  values are comparable between models on the same suite (same durations, same sampling), not with
  published FIDs.
- :func:`run_fid` (run level, a Python call): FID between the pooled generated frames of a run and
  a set of *real* frames the user supplies (Inception features of a real talking-video set), the
  classic definition. It needs a real set, which suites do not ship.

Both use torchmetrics' FID formula on the features of the ``fid_inception`` extractor
(torch-fidelity's Inception weights, a local file).
"""
from __future__ import annotations

from typing import Iterable

import numpy as np

from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

from .syncnet import enable_hint

MIN_SAMPLES = 16


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID between two feature sets (N, D) and (M, D): torchmetrics' formula in float64."""
    import torch
    from torchmetrics.image.fid import _compute_fid

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets must be (N, D) with equal D, got {a.shape} and {b.shape}")
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"need at least 2 samples per set for a covariance, got {len(a)} and {len(b)}")
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    mu1, mu2 = ta.mean(0), tb.mean(0)
    s1, s2 = torch.cov(ta.T), torch.cov(tb.T)
    return float(_compute_fid(mu1, s1, mu2, s2))


def run_fid(generated: Iterable[np.ndarray], real: np.ndarray) -> float:
    """Run-level FID: the pooled per-case ``inception_feats`` of a run against real-frame features."""
    gen = np.concatenate([np.asarray(g, dtype=np.float64) for g in generated])
    return frechet_distance(gen, real)


def thirds(frames: np.ndarray, n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the sampled frames in the first and in the last third of the video."""
    f = np.asarray(frames)
    return f < n_frames / 3.0, f >= 2.0 * n_frames / 3.0


class FidDrift(Metric):
    requires = ("inception_frames", "inception_feats")
    specs = (
        MetricSpec("quality.fid_drift", "quality", "lower", version=1, backend="fid_inception",
                   description="FID between Inception features of the first and the last third of the video "
                               "(whole frames at 4 Hz): appearance drift over time",
                   validity="Tests: 0 for identical feature sets, the squared mean shift for shifted ones, "
                            "large when the last third's features move (torchmetrics' FID formula).",
                   limits=f"needs >= {MIN_SAMPLES} sampled frames per third (>= 12 s); biased upward with few "
                          "samples, so only comparable across models on the same suite"),
    )

    def __call__(self, ctx: MetricContext) -> MetricOutput:
        return enable_hint(ctx, self, "fid_inception", "fid_inception") or super().__call__(ctx)

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        frames, feats = np.asarray(f.get("inception_frames")), np.asarray(f.get("inception_feats"))
        first, last = thirds(frames, f.n_frames)
        if first.sum() < MIN_SAMPLES or last.sum() < MIN_SAMPLES:
            raise MetricUnavailable(
                f"video too short for a distribution: {int(first.sum())} and {int(last.sum())} sampled frames in "
                f"the first and last thirds, {MIN_SAMPLES} needed in each (>= 12 s of video)")
        value = frechet_distance(feats[first], feats[last])
        return MetricOutput(values={"quality.fid_drift": value},
                            details={"n_first": int(first.sum()), "n_last": int(last.sum())})


METRICS = [FidDrift()]
