"""Leaderboard scoring: plain, tested functions that turn raw metric values into 0-100 scores.

How a model's row is scored (within one protocol, over the cases a filter keeps):

1. **Metric value** = mean over the model's cases of the metric's finite values (cases where the
   metric was unavailable are left out; the coverage is reported beside the score).
2. **Metric score** = the value mapped linearly onto 0-100 between two *anchors*, clipped:
   ``anchors = (a0, a100)``: the value that scores 0 and the value that scores 100.
   - ``higher`` metrics: usually ``a0 < a100``; ``lower`` metrics: ``a0 > a100``.
   - ``target`` metrics are scored by their *distance* ``d`` to the target (a number, or a
     ``(low, high)`` range with distance 0 inside it): the anchors are distances, ``(d0, d100)``:
     ``d >= d0`` scores 0 and ``d <= d100`` scores 100 (``d100`` is a tolerance, often 0).
     A range ``(low, high)`` with ``low > 0`` is a natural range of a non-negative amount
     (motion, blinks, nods): below it the score is ``100 * value / low``, so no motion at all
     scores 0; above it the distance anchors apply.
   The anchors come, in this order, from the metric's own spec (``MetricSpec.anchors``), from
   :data:`DEFAULT_ANCHORS` (documented values for the catalogue metrics; some depend on the
   feature backend), from a generic rule for target ranges (``d0`` = width of the range), and
   lastly from the values themselves (5th and 95th percentile of all per-case values pooled over
   the protocol, marked ``relative``: such a score changes when models are added, and says so).
3. **Dimension score** = mean of the scores of its metrics. If a metric that applies to the row
   (one that has a value for at least one model of the same protocol and the same generation
   kind, offline or streaming) has no value for this model, the dimension is *missing* (NaN),
   never zero-filled, and the row is incomplete.
4. **Overall** = mean of the dimensions of the protocol; missing when any of them is missing.
   Only rows with an overall score are ranked.

Spread: a paired, seeded bootstrap over cases (:func:`score_group`): ``n_boot`` resamples of the
protocol's case list with replacement (the same resample for every model, so differences are
paired), the whole pipeline above recomputed on each, percentile intervals reported for every
dimension and for the overall score, and a rank interval (the 2.5th-97.5th percentile of the
model's rank across resamples). Two models whose rank intervals overlap cannot be told apart by
this suite. The generator is ``numpy.random.default_rng(seed)`` with ``seed=0`` by default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .metric_api import DIMENSIONS

# (value scoring 0, value scoring 100); for target metrics (distance scoring 0, distance scoring
# 100). Provisional: chosen from the catalogue's definitions and typical values of real and
# failed generations; a metric's own spec.anchors always wins.
DEFAULT_ANCHORS: dict[str, tuple[float, float]] = {
    # cosine similarity to the reference; 0 = unrelated face, 1 = identical embedding
    "identity.csim": (0.0, 1.0),
    "identity.csim_worst_window": (0.0, 1.0),
    "identity.drift_per_min": (0.2, 0.01),  # cosine lost (or gained) per minute
    "identity.face_presence": (0.5, 1.0),  # half the frames without a face scores 0
    "identity.color_drift": (10.0, 0.0),  # CIELAB dE; ~2.3 is a just-noticeable difference
    "lipsync.av_offset_frames": (8.0, 1.0),  # one frame off is imperceptible
    "lipsync.av_confidence": (0.0, 0.5),
    "lipsync.av_corr": (0.0, 0.6),
    "lipsync.silent_lip_motion": (1.0, 0.1),  # 1 = the mouth moves as much in silence as in speech
    "lipsync.lse_c": (0.0, 8.0),  # real talking-head video scores about 7-8
    "lipsync.lse_d": (10.0, 6.0),
    "lipsync.syncnet_offset": (8.0, 1.0),
    "expressiveness.blink_rate_per_min": (10.0, 0.0),  # 10 blinks/min outside 8-25 scores 0
    "conversation.listen_lip_leak": (0.15, 0.01),  # IOD units; 0.15 is plainly visible mouthing
    "conversation.listen_av_corr": (0.5, 0.05),
    "conversation.reaction_corr": (0.0, 0.5),
    "conversation.transition_jump": (5.0, 1.0),  # ~1 smooth, > 3 a visible jump
    "conversation.turn_onset_s": (0.5, 0.04),  # one frame at 25 fps is on time
    "text_control.adherence": (0.0, 1.0),
    "quality.landmark_jitter": (0.05, 0.005),  # IOD units per frame^2
    "quality.flicker": (5.0, 0.5),  # luma levels (0-255) on static pixels
    "quality.face_sharpness_ratio": (0.8, 0.1),
    "realtime.rtf": (5.0, 1.0),  # real time is what an interactive character needs
    "realtime.ttff_s": (5.0, 0.2),
    "realtime.fps": (0.0, 25.0),
    "realtime.latency_p50_s": (2.0, 0.2),
    "realtime.latency_p95_s": (3.0, 0.3),
    "realtime.stall_ratio": (0.3, 0.0),
    "realtime.peak_rss_mb": (65536.0, 4096.0),
    "realtime.peak_gpu_mb": (81920.0, 8192.0),
}

# Embedding similarities live on different scales per backend: dlib descriptors of two different
# people still reach cosine ~0.7-0.85, the same face unchanged ~0.999, a face switched to another
# person halfway ~0.93 (metrics/identity.py validity notes) and the puppet baseline's warped
# reference ~0.84; ArcFace's different-person cosine is near 0. Provisional: recalibrate on real runs.
BACKEND_ANCHORS: dict[tuple[str, str], tuple[float, float]] = {
    ("identity.csim", "dlib"): (0.75, 1.0),
    ("identity.csim_worst_window", "dlib"): (0.75, 1.0),
    ("identity.drift_per_min", "dlib"): (0.1, 0.005),
    ("identity.csim", "arcface"): (0.2, 0.8),
    ("identity.csim_worst_window", "arcface"): (0.2, 0.8),
    ("identity.csim", "clip"): (0.6, 1.0),
    ("identity.csim_worst_window", "clip"): (0.6, 1.0),
}

RELATIVE_PERCENTILES = (5.0, 95.0)


class ScoringError(ValueError):
    """A metric spec cannot be scored (the message names the metric and field)."""


@dataclass(frozen=True)
class Anchors:
    """Value (or target distance) scoring 0 and scoring 100, and where they came from."""

    zero: float
    full: float
    source: str  # "spec" | "default" | "range" | "relative" | "none"

    @property
    def usable(self) -> bool:
        return np.isfinite(self.zero) and np.isfinite(self.full) and self.zero != self.full


def parse_target(target: Any, name: str = "?") -> tuple[float, float]:
    """A spec's target as a closed interval ``(low, high)``; a number is ``(t, t)``."""
    if target is None:
        raise ScoringError(f"metric {name!r}: direction 'target' without a target value")
    if isinstance(target, (list, tuple)):
        if len(target) != 2:
            raise ScoringError(f"metric {name!r}: target range must be [low, high], got {target!r}")
        lo, hi = float(target[0]), float(target[1])
    else:
        lo = hi = float(target)
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo > hi:
        raise ScoringError(f"metric {name!r}: invalid target {target!r}")
    return lo, hi


def target_distance(values: np.ndarray | float, target: Any, name: str = "?") -> np.ndarray:
    """Distance of each value to the target number or range (0 inside the range); NaN stays NaN."""
    lo, hi = parse_target(target, name)
    v = np.asarray(values, dtype=float)
    return np.maximum(0.0, np.maximum(lo - v, v - hi))


def check_spec(spec: Mapping[str, Any]) -> None:
    """Raise :class:`ScoringError` unless ``spec`` (a MetricSpec.to_dict()) can be scored."""
    name = spec.get("name", "?")
    if spec.get("direction") not in ("higher", "lower", "target"):
        raise ScoringError(f"metric {name!r}: direction must be higher, lower or target, got {spec.get('direction')!r}")
    if spec.get("dimension") not in DIMENSIONS:
        raise ScoringError(f"metric {name!r}: unknown dimension {spec.get('dimension')!r}")
    if spec.get("direction") == "target":
        parse_target(spec.get("target"), name)
    a = spec.get("anchors")
    if a is not None:
        _anchor_pair(a, name)


def _anchor_pair(a: Any, name: str) -> tuple[float, float]:
    if isinstance(a, (int, float)):  # a single number for a target metric: d0, tolerance 0
        a = (float(a), 0.0)
    if not isinstance(a, (list, tuple)) or len(a) != 2:
        raise ScoringError(f"metric {name!r}: anchors must be [value scoring 0, value scoring 100], got {a!r}")
    z, f = float(a[0]), float(a[1])
    if not (np.isfinite(z) and np.isfinite(f)) or z == f:
        raise ScoringError(f"metric {name!r}: anchors must be two different finite numbers, got {a!r}")
    return z, f


def resolve_anchors(spec: Mapping[str, Any], pooled: np.ndarray | None = None) -> Anchors:
    """The anchors used for ``spec`` (see the module docstring for the order of precedence).

    ``pooled``: all per-case values of the metric in the protocol, for the relative fallback.
    """
    name = str(spec.get("name", "?"))
    direction = spec.get("direction")
    if spec.get("anchors") is not None:
        z, f = _anchor_pair(spec["anchors"], name)
        return Anchors(z, f, "spec")
    backend = str(spec.get("backend") or "")
    if (name, backend) in BACKEND_ANCHORS:
        z, f = BACKEND_ANCHORS[(name, backend)]
        return Anchors(z, f, "default")
    if name in DEFAULT_ANCHORS:
        z, f = DEFAULT_ANCHORS[name]
        return Anchors(z, f, "default")
    if direction == "target":
        lo, hi = parse_target(spec.get("target"), name)
        if hi > lo:
            return Anchors(hi - lo, 0.0, "range")
    if pooled is None:
        return Anchors(np.nan, np.nan, "none")
    x = np.asarray(pooled, dtype=float)
    if direction == "target":
        x = target_distance(x, spec.get("target"), name)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return Anchors(np.nan, np.nan, "none")
    p_lo, p_hi = np.percentile(x, RELATIVE_PERCENTILES)
    if p_hi <= p_lo:
        return Anchors(np.nan, np.nan, "none")
    if direction == "higher":
        return Anchors(p_lo, p_hi, "relative")
    if direction == "lower":
        return Anchors(p_hi, p_lo, "relative")
    return Anchors(p_hi, p_lo, "relative")  # distances: the closest 5 % score 100


def normalise(values: np.ndarray | float, spec: Mapping[str, Any], anchors: Anchors) -> np.ndarray:
    """Raw values -> 0-100 scores (NaN where the value is NaN or the anchors are unusable)."""
    raw = np.asarray(values, dtype=float)
    if not anchors.usable:
        return np.full(raw.shape, np.nan)
    v = raw
    if spec.get("direction") == "target":
        v = target_distance(raw, spec.get("target"), str(spec.get("name", "?")))
    with np.errstate(invalid="ignore"):
        s = 100.0 * (v - anchors.zero) / (anchors.full - anchors.zero)
    s = np.clip(s, 0.0, 100.0)
    if spec.get("direction") == "target":
        lo, hi = parse_target(spec.get("target"), str(spec.get("name", "?")))
        if hi > lo > 0:
            # A natural range of a non-negative amount (motion, blinks, nods): below it the score
            # falls linearly to 0 at 0, so a frozen face is the worst, not "close to the range".
            with np.errstate(invalid="ignore"):
                s = np.where(raw < lo, np.clip(100.0 * raw / lo, 0.0, 100.0), s)
    return s


def dimension_scores(metric_scores: np.ndarray, metric_dims: Sequence[str], applicable: np.ndarray,
                     dims: Sequence[str]) -> np.ndarray:
    """Mean metric score per dimension; NaN when an applicable metric of it has no score.

    ``metric_scores``: (..., K); ``applicable``: (K,) or broadcastable to ``metric_scores``.
    Returns (..., D) for ``dims``. A dimension without any applicable metric is NaN as well.
    """
    s = np.asarray(metric_scores, dtype=float)
    app = np.broadcast_to(np.asarray(applicable, dtype=bool), s.shape)
    md = np.asarray(metric_dims)
    out = np.full(s.shape[:-1] + (len(dims),), np.nan)
    for j, d in enumerate(dims):
        sel = md == d
        if not sel.any():
            continue
        sd, ad = s[..., sel], app[..., sel]
        n_app = ad.sum(axis=-1)
        missing = (ad & ~np.isfinite(sd)).any(axis=-1)
        total = np.where(ad & np.isfinite(sd), sd, 0.0).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[..., j] = np.where((n_app > 0) & ~missing, total / np.maximum(n_app, 1), np.nan)
    return out


def overall_score(dim_scores: np.ndarray, in_protocol: np.ndarray | None = None) -> np.ndarray:
    """Mean over the protocol's dimensions (``in_protocol`` mask, default all); NaN if any is missing."""
    d = np.asarray(dim_scores, dtype=float)
    if in_protocol is not None:
        d = d[..., np.asarray(in_protocol, dtype=bool)]
    if d.shape[-1] == 0:
        return np.full(d.shape[:-1], np.nan)
    return d.mean(axis=-1)  # NaN propagates: an incomplete row has no overall score


def rank_desc(scores: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = best; ties share the better rank) of the finite scores along the last
    axis; NaN for non-finite scores."""
    s = np.asarray(scores, dtype=float)
    ok = np.isfinite(s)
    # rank = 1 + number of finite scores strictly greater
    greater = (s[..., None, :] > s[..., :, None]) & ok[..., None, :]
    r = 1.0 + greater.sum(axis=-1)
    return np.where(ok, r, np.nan)


@dataclass
class GroupScores:
    """Scores of the M models of one protocol over K metrics and D dimensions."""

    metrics: list[str]
    dims: list[str]  # dimensions of the protocol (those with at least one applicable metric)
    anchors: list[Anchors]
    metric_mean: np.ndarray  # (M, K) raw mean over cases
    metric_n: np.ndarray  # (M, K) number of cases with a value
    metric_score: np.ndarray  # (M, K)
    applicable: np.ndarray  # (M, K) bool
    dim_score: np.ndarray  # (M, D)
    dim_lo: np.ndarray  # (M, D) bootstrap interval
    dim_hi: np.ndarray
    overall: np.ndarray  # (M,)
    overall_lo: np.ndarray
    overall_hi: np.ndarray
    rank: np.ndarray  # (M,) NaN when unranked
    rank_lo: np.ndarray
    rank_hi: np.ndarray
    n_boot: int = 0
    seed: int = 0
    ci: float = 0.95
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> np.ndarray:
        return np.isfinite(self.overall)


def _means(weights: np.ndarray, v0: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means over cases. weights (B, C); v0, mask (M, C, K) -> (B, M, K) means, counts."""
    num = np.einsum("bc,mck->bmk", weights, v0)
    den = np.einsum("bc,mck->bmk", weights, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan), den


def score_group(values: np.ndarray, specs: Sequence[Mapping[str, Any]], *, kinds: Sequence[Any] | None = None,
                n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> GroupScores:
    """Score M models on C shared cases and K metrics of one protocol.

    ``values``: (M, C, K) raw per-case values, NaN where missing (a case a model did not run is all
    NaN). ``specs``: K metric specs (MetricSpec.to_dict()). ``kinds``: per model a group label
    (e.g. streaming or offline) deciding which metrics apply to it: a metric applies to a model when
    some model of the same kind has a value for it. ``n_boot=0`` skips the bootstrap.
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 3 or v.shape[2] != len(specs):
        raise ScoringError(f"values must be (models, cases, {len(specs)} metrics), got shape {v.shape}")
    if not 0 < ci < 1:
        raise ScoringError(f"ci must be in (0, 1), got {ci}")
    for s in specs:
        check_spec(s)
    M, C, K = v.shape
    names = [str(s.get("name")) for s in specs]
    mdims = [str(s.get("dimension")) for s in specs]
    mask = np.isfinite(v)
    v0 = np.where(mask, v, 0.0)
    anchors = [resolve_anchors(specs[k], v[:, :, k].ravel()) for k in range(K)]
    notes = [f"{names[k]}: no anchors and too few values to score it" for k in range(K) if not anchors[k].usable]
    notes += [f"{names[k]}: scored relative to this protocol's values (no documented anchors)"
              for k in range(K) if anchors[k].source == "relative"]

    has_value = mask.any(axis=1)  # (M, K)
    kinds = list(kinds) if kinds is not None else [0] * M
    applicable = np.zeros((M, K), dtype=bool)
    for kind in set(kinds):
        rows = np.array([k == kind for k in kinds])
        applicable[rows] = has_value[rows].any(axis=0)
    scorable = np.array([a.usable for a in anchors])
    applicable &= scorable[None, :]
    notes += [f"{names[k]}: no model has a value: left out of {mdims[k]}" for k in range(K)
              if scorable[k] and not has_value[:, k].any()]
    dims = [d for d in DIMENSIONS if any(applicable[:, k].any() for k in range(K) if mdims[k] == d)]

    def pipeline(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        mean, n = _means(weights, v0, mask)
        score = np.stack([normalise(mean[..., k], specs[k], anchors[k]) for k in range(K)], axis=-1) if K else mean
        ds = dimension_scores(score, mdims, applicable, dims)
        return mean, n, score, ds

    mean, n, score, ds = pipeline(np.ones((1, C)))
    mean, n, score, ds = mean[0], n[0], score[0], ds[0]
    ov = overall_score(ds)
    rk = rank_desc(ov)

    D = len(dims)
    nan_md, nan_m = np.full((M, D), np.nan), np.full(M, np.nan)
    dim_lo, dim_hi, ov_lo, ov_hi, rk_lo, rk_hi = nan_md, nan_md.copy(), nan_m, nan_m.copy(), nan_m.copy(), nan_m.copy()
    if n_boot > 0 and C > 0 and M > 0:
        rng = np.random.default_rng(seed)
        q = (100 * (1 - ci) / 2, 100 * (1 + ci) / 2)
        ds_b, ov_b = [], []
        for start in range(0, n_boot, 250):  # chunks keep memory flat for large groups
            b = min(250, n_boot - start)
            idx = rng.integers(0, C, size=(b, C))
            w = np.zeros((b, C))
            np.add.at(w, (np.arange(b)[:, None], idx), 1.0)
            _, _, _, d_b = pipeline(w)
            ds_b.append(d_b)
            ov_b.append(overall_score(d_b))
        dsb, ovb = np.concatenate(ds_b), np.concatenate(ov_b)
        with np.errstate(invalid="ignore"), _quiet_nan():
            dim_lo, dim_hi = np.nanpercentile(dsb, q[0], axis=0), np.nanpercentile(dsb, q[1], axis=0)
            ov_lo, ov_hi = np.nanpercentile(ovb, q[0], axis=0), np.nanpercentile(ovb, q[1], axis=0)
            rb = rank_desc(ovb)  # (B, M)
            rk_lo, rk_hi = np.nanpercentile(rb, q[0], axis=0), np.nanpercentile(rb, q[1], axis=0)
        # an unranked (incomplete) row has no interval either
        dim_lo = np.where(np.isfinite(ds), dim_lo, np.nan)
        dim_hi = np.where(np.isfinite(ds), dim_hi, np.nan)
        ov_lo, ov_hi = np.where(np.isfinite(ov), ov_lo, np.nan), np.where(np.isfinite(ov), ov_hi, np.nan)
        rk_lo, rk_hi = np.where(np.isfinite(rk), np.floor(rk_lo), np.nan), np.where(np.isfinite(rk), np.ceil(rk_hi), np.nan)
    return GroupScores(
        metrics=names, dims=dims, anchors=anchors, metric_mean=mean, metric_n=n.astype(int), metric_score=score,
        applicable=applicable, dim_score=ds, dim_lo=dim_lo, dim_hi=dim_hi, overall=ov, overall_lo=ov_lo,
        overall_hi=ov_hi, rank=rk, rank_lo=rk_lo, rank_hi=rk_hi, n_boot=int(n_boot), seed=int(seed), ci=float(ci),
        notes=notes,
    )


class _quiet_nan:
    """Silence numpy's 'All-NaN slice' warnings for rows that are legitimately all missing."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._w.__exit__(*exc)
