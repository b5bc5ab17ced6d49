"""SyncNet lip-sync metrics (LSE-C, LSE-D, offset) from the cached per-offset distances.

The distances come from the ``syncnet`` extractor of the analysis pass (syncnet_v2 weights,
syncnet_python's preprocessing, recorded in ``syncnet_params``). Without the weights the feature is
unavailable and so are these three values, with the extractor's reason (file, source, command).
"""
from __future__ import annotations

import numpy as np

from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

_VALIDITY = ("Tests run syncnet_python's own model class (random weights of the official architecture) "
             "through this port of its preprocessing; the offset sign is checked on features shifted by a "
             "known lag. Agreement with syncnet_python's pipeline on real weights is not measured in CI "
             "(the weights cannot be downloaded there).")
_LIMITS = ("Depends on the face crop: faces come from the analysis track (dlib), not upstream's S3FD, "
           "so values can differ slightly from syncnet_python's own pipeline on the same video.")


def enable_hint(ctx: MetricContext, metric: Metric, extractor: str, weights: str) -> MetricOutput | None:
    """Unavailable with a how-to when the extractor was not enabled (its features are simply absent)."""
    f = ctx.features
    absent = [r for r in metric.requires if not f.has(r) and r not in f.unavailable]
    if not absent:
        return None
    reason = (f"feature(s) {', '.join(absent)} not computed: enable the {extractor!r} extractor of the analysis "
              f"pass (analysis.extractors) and install its weights (`lpmbench weights fetch {weights}`)")
    return MetricOutput(unavailable={n: reason for n in metric.names})


def lse_from_dists(dists: np.ndarray, offsets: list[int] | None = None) -> dict[str, float]:
    """LSE-D = min distance, LSE-C = median - min, offset = the offset of the minimum (+ = video late)."""
    d = np.asarray(dists, dtype=np.float64)
    if d.ndim != 1 or d.size < 3 or not np.all(np.isfinite(d)):
        raise MetricUnavailable(f"syncnet_dists must be a finite 1-d array of per-offset distances, got shape {d.shape}")
    vshift = (d.size - 1) // 2
    offs = list(offsets) if offsets is not None else [vshift - j for j in range(d.size)]
    if len(offs) != d.size:
        raise MetricUnavailable(f"syncnet_params offsets ({len(offs)}) do not match syncnet_dists ({d.size})")
    j = int(np.argmin(d))
    return {
        "lipsync.lse_d": float(d[j]),
        "lipsync.lse_c": float(np.median(d) - d[j]),
        "lipsync.syncnet_offset": float(offs[j]),
    }


class SyncNetLSE(Metric):
    """LSE-C / LSE-D / offset of SyncNet (Prajwal et al. 2020's LSE on syncnet_v2)."""

    requires = ("syncnet_dists", "syncnet_params")
    specs = (
        MetricSpec("lipsync.lse_c", "lipsync", "higher", version=1, backend="syncnet_v2", anchors=(0.0, 8.0),
                   description="SyncNet confidence: median - min of the mean per-offset distance over +-15 frames",
                   validity=_VALIDITY, limits=_LIMITS),
        MetricSpec("lipsync.lse_d", "lipsync", "lower", version=1, backend="syncnet_v2", anchors=(11.0, 6.0),
                   description="SyncNet distance: min over offsets of the mean audio-visual feature distance",
                   validity=_VALIDITY, limits=_LIMITS),
        MetricSpec("lipsync.syncnet_offset", "lipsync", "target", version=1, target=0.0, backend="syncnet_v2",
                   unit="frames", aggregate="mean_abs", anchors=(8.0, 1.0), description="offset (25 fps frames) of SyncNet's minimum distance; positive = video late",
                   validity=_VALIDITY, limits=_LIMITS),
    )

    def __call__(self, ctx: MetricContext) -> MetricOutput:
        return enable_hint(ctx, self, "syncnet", "syncnet_v2") or super().__call__(ctx)

    def compute(self, ctx: MetricContext) -> MetricOutput:
        params = ctx.features.get("syncnet_params") or {}
        values = lse_from_dists(ctx.features.get("syncnet_dists"), params.get("offsets"))
        details = {"syncnet_dists": [round(float(v), 5) for v in ctx.features.get("syncnet_dists")],
                   "n_windows": params.get("n_windows")}
        return MetricOutput(values=values, details=details)


METRICS = [SyncNetLSE()]
