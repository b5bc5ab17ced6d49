"""Leaderboard scoring: plain, tested functions that turn raw metric values into 0-100 scores.

How a model's row is scored (within one protocol, over the cases a filter keeps):

1. **Case score**: every case's value of a metric is mapped onto 0-100 by the metric's *scale*
   (:class:`Scale`), so a model 8 frames late on one case and 8 early on another scores badly on
   both, and a range metric counts the cases that are out of range. Scales come, in this order:
   - for a metric of natural behaviour (``spec["natural"]``) from the **human reference**
     (:class:`lpmbench.reference.HumanReference`) for the case's context (speak, listen, idle,
     duplex): the human range ``[low, high]`` scores 100, and the score falls linearly to 0 one
     range width outside it (for an amount that cannot be negative, below the range it falls
     linearly to 0 at 0, so a frozen face scores 0, not "close to the range");
   - from the metric's own spec: ``anchors = (a0, a100)``, the value scoring 0 and the value
     scoring 100 (``higher`` metrics usually ``a0 < a100``, ``lower`` ones ``a0 > a100``); for a
     ``target`` metric the anchors are *distances* to the target number or range (``d >= a0``
     scores 0, ``d <= a100`` scores 100), so signed quantities (offsets, drift) score on their
     magnitude; a target range without anchors uses its own width as ``a0``;
   - lastly from the values themselves (5th and 95th percentile of all per-case values pooled
     over the protocol, marked ``relative``: such a score changes when models are added).
2. **Metric score** = mean of the case scores over the cases with a value (coverage is reported
   beside it); the **raw value** shown beside it pools the values as the spec's ``aggregate`` says
   (mean, mean of magnitudes, median).
3. **Dimension score** = mean of the scores of its metrics. If a metric that applies to the row
   (one that has a value for at least one model of the same protocol and the same generation
   kind, offline or streaming) has no value for this model, the dimension is *missing* (NaN),
   never zero-filled.
4. **Overall** = mean over the dimensions that apply to every model of the protocol (the *shared*
   dimensions): a run of pre-generated videos has no generation to time, so it has no real-time
   dimension; it is compared with the others on the dimensions they share, and its row says which
   are missing. A model that has no value for a metric that applies to it (no face found, say) has
   that dimension missing: it is incomplete and not ranked.

Spread: a paired, seeded bootstrap over cases (:func:`score_group`): ``n_boot`` resamples of the
protocol's case list with replacement (the same resample for every model, so differences are
paired), metric/dimension/overall scores recomputed on each, percentile intervals reported, and a
rank interval (the 2.5th-97.5th percentile of the model's rank across resamples). Two models whose
rank intervals overlap cannot be told apart by this suite. The generator is
``numpy.random.default_rng(seed)`` with ``seed=0`` by default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from .metric_api import DIMENSIONS, MetricSpec

RELATIVE_PERCENTILES = (5.0, 95.0)


class ScoringError(ValueError):
    """A metric spec cannot be scored (the message names the metric and field)."""


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
    try:
        MetricSpec.from_dict(dict(spec))
    except (ValueError, TypeError) as e:
        raise ScoringError(str(e)) from None


@dataclass(frozen=True)
class Scale:
    """How values of one metric (in one context) map onto 0-100, and where that came from.

    ``kind`` "linear": ``100 * (v - zero) / (full - zero)``, clipped. ``kind`` "target": the
    distance ``d`` to ``[low, high]`` scores ``100 * (d - zero) / (full - zero)`` clipped (``zero``
    = the distance scoring 0, ``full`` = the distance scoring 100), and with ``floor_at_zero``
    a value below ``low`` scores ``100 * v / low`` (an amount, where 0 is the worst).
    """

    kind: str  # "linear" | "target" | "none"
    zero: float = np.nan
    full: float = np.nan
    low: float = np.nan
    high: float = np.nan
    floor_at_zero: bool = False
    source: str = "none"  # "spec" | "range" | "reference" | "relative" | "none"

    @property
    def usable(self) -> bool:
        return self.kind != "none" and np.isfinite(self.zero) and np.isfinite(self.full) and self.zero != self.full

    def score(self, values: np.ndarray | float) -> np.ndarray:
        """Raw values -> 0-100 scores (NaN where the value is NaN or the scale is unusable)."""
        v = np.asarray(values, dtype=float)
        if not self.usable:
            return np.full(v.shape, np.nan)
        x = v
        if self.kind == "target":
            x = np.maximum(0.0, np.maximum(self.low - v, v - self.high))
        with np.errstate(invalid="ignore"):
            s = np.clip(100.0 * (x - self.zero) / (self.full - self.zero), 0.0, 100.0)
            if self.kind == "target" and self.floor_at_zero and self.low > 0:
                s = np.where(v < self.low, np.clip(100.0 * v / self.low, 0.0, 100.0), s)
        return s


def spec_scale(spec: Mapping[str, Any], pooled: np.ndarray | None = None) -> Scale:
    """The scale of ``spec`` from its own anchors/target, else relative to ``pooled`` values."""
    name = str(spec.get("name", "?"))
    direction = spec.get("direction")
    anchors = spec.get("anchors")
    if direction == "target":
        lo, hi = parse_target(spec.get("target"), name)
        floor = hi > lo > 0  # a natural range of a non-negative amount (motion, blinks, nods)
        if anchors is not None:
            return Scale("target", float(anchors[0]), float(anchors[1]), lo, hi, floor, "spec")
        if hi > lo:
            return Scale("target", hi - lo, 0.0, lo, hi, floor, "range")
    elif anchors is not None:
        return Scale("linear", float(anchors[0]), float(anchors[1]), source="spec")
    if pooled is None:
        return Scale("none")
    x = np.asarray(pooled, dtype=float)
    if direction == "target":
        x = target_distance(x, spec.get("target"), name)
    x = x[np.isfinite(x)]
    if x.size < 2:
        return Scale("none")
    p_lo, p_hi = np.percentile(x, RELATIVE_PERCENTILES)
    if p_hi <= p_lo:
        return Scale("none")
    if direction == "higher":
        return Scale("linear", p_lo, p_hi, source="relative")
    if direction == "lower":
        return Scale("linear", p_hi, p_lo, source="relative")
    lo, hi = parse_target(spec.get("target"), name)
    return Scale("target", p_hi, p_lo, lo, hi, source="relative")  # distances: the closest 5 % score 100


def reference_scale(spec: Mapping[str, Any], human_range: tuple[float, float], width: float | None = None) -> Scale:
    """The scale of a natural-behaviour metric from a human range ``(low, high)`` (either end may
    be infinite): 100 inside it, 0 ``width`` outside it (default: the range's own width, or its
    finite end's magnitude for a half-open range); for an amount (``low > 0``), below the range
    the score falls linearly to 0 at 0."""
    lo, hi = float(human_range[0]), float(human_range[1])
    if width is None:
        width = hi - lo if np.isfinite(hi - lo) else abs(lo if np.isfinite(lo) else hi)
    if not (np.isfinite(width) and width > 0) or np.isnan(lo) or np.isnan(hi) or lo > hi:
        return Scale("none")
    return Scale("target", float(width), 0.0, lo, hi, floor_at_zero=bool(np.isfinite(lo) and lo > 0), source="reference")


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
    return d.mean(axis=-1)  # NaN propagates: a row missing a counted dimension has no overall score


def rank_desc(scores: np.ndarray) -> np.ndarray:
    """Competition ranks (1 = best; ties share the better rank) of the finite scores along the last
    axis; NaN for non-finite scores."""
    s = np.asarray(scores, dtype=float)
    ok = np.isfinite(s)
    greater = (s[..., None, :] > s[..., :, None]) & ok[..., None, :]
    r = 1.0 + greater.sum(axis=-1)
    return np.where(ok, r, np.nan)


def aggregate(values: np.ndarray, how: str, axis: int = 1) -> np.ndarray:
    """Pool per-case values along ``axis`` as a spec's ``aggregate`` says (NaN = no value)."""
    v = np.asarray(values, dtype=float)
    if how == "mean_abs":
        v = np.abs(v)
    with np.errstate(invalid="ignore"), _quiet_nan():
        return np.nanmedian(v, axis=axis) if how == "median" else np.nanmean(v, axis=axis)


@dataclass
class GroupScores:
    """Scores of the M models of one protocol over K metrics and D dimensions."""

    metrics: list[str]
    dims: list[str]  # dimensions of the protocol (those with at least one applicable metric)
    shared_dims: list[str]  # dimensions every model has: the overall score is their mean
    scales: list[dict[str, Scale]]  # per metric: context -> scale ("*" = every context)
    metric_mean: np.ndarray  # (M, K) raw values pooled by each spec's aggregate
    metric_n: np.ndarray  # (M, K) number of cases with a value
    metric_score: np.ndarray  # (M, K) mean case score
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
    case_scores: np.ndarray | None = None  # (M, C, K) per-case scores
    n_boot: int = 0
    seed: int = 0
    ci: float = 0.95
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> np.ndarray:
        return np.all(np.isfinite(self.dim_score), axis=1) if self.dim_score.size else np.isfinite(self.overall)


def _means(weights: np.ndarray, v0: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted means over cases. weights (B, C); v0, mask (M, C, K) -> (B, M, K) means, counts."""
    num = np.einsum("bc,mck->bmk", weights, v0)
    den = np.einsum("bc,mck->bmk", weights, mask)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan), den


def case_scales(spec: Mapping[str, Any], pooled: np.ndarray, contexts: Sequence[str], reference: Any) -> dict[str, Scale]:
    """Scale per context for one metric (``"*"`` = the same for every context)."""
    name = str(spec.get("name"))
    if spec.get("natural") and reference is not None:
        out = {}
        for ctx in sorted(set(contexts)):
            rng = reference.range(spec, ctx)
            if rng is not None:
                out[ctx] = reference_scale(spec, rng, reference.width(spec, ctx))
        if out:
            fallback = spec_scale(spec, pooled)
            for ctx in set(contexts) - set(out):
                out[ctx] = fallback
            return out
    return {"*": spec_scale(spec, pooled)}


def pool_corpus(weights: np.ndarray, states: Mapping[str, np.ndarray], reduce: Any) -> np.ndarray:
    """Values (B, M) of a corpus-level metric: its per-case states (each (M, C, ...), zeros where a
    case has none) summed with case weights (B, C) and reduced; NaN where reduce refuses."""
    pooled = {k: np.tensordot(weights, np.moveaxis(a, 1, 0), axes=(1, 0)) for k, a in states.items()}  # (B, M, ...)
    first = next(iter(pooled.values()))
    out = np.full(first.shape[:2], np.nan)
    for b in range(out.shape[0]):
        for m in range(out.shape[1]):
            try:
                out[b, m] = reduce({k: v[b, m] for k, v in pooled.items()})
            except Exception:  # MetricUnavailable (too few windows, no reference): no value
                out[b, m] = np.nan
    return out


def score_group(values: np.ndarray, specs: Sequence[Mapping[str, Any]], *, kinds: Sequence[Any] | None = None,
                contexts: Sequence[str] | None = None, reference: Any = None,
                corpus: Mapping[int, tuple[Mapping[str, np.ndarray], Any]] | None = None,
                n_boot: int = 1000, seed: int = 0, ci: float = 0.95) -> GroupScores:
    """Score M models on C shared cases and K metrics of one protocol.

    ``values``: (M, C, K) raw per-case values, NaN where missing (a case a model did not run is all
    NaN). ``specs``: K metric specs (MetricSpec.to_dict()). ``kinds``: per model a group label
    (e.g. streaming or offline) deciding which metrics apply to it: a metric applies to a model when
    some model of the same kind has a value for it. ``contexts``: per case the context the human
    reference is looked up in (the case's mode); ``reference``: a HumanReference or None.
    ``corpus``: for corpus-level metric k, ``(states, reduce)``: its per-case states as arrays
    ``{key: (M, C, ...)}`` and ``reduce(pooled state) -> value``; its value for a model is reduced
    from the pooled states of the model's cases (and of each bootstrap resample). ``n_boot=0``
    skips the bootstrap.
    """
    v = np.array(values, dtype=float)  # a copy: corpus columns are overwritten below
    if v.ndim != 3 or v.shape[2] != len(specs):
        raise ScoringError(f"values must be (models, cases, {len(specs)} metrics), got shape {v.shape}")
    if not 0 < ci < 1:
        raise ScoringError(f"ci must be in (0, 1), got {ci}")
    for s in specs:
        check_spec(s)
    M, C, K = v.shape
    corpus = dict(corpus or {})
    contexts = list(contexts) if contexts is not None else ["*"] * C
    if len(contexts) != C:
        raise ScoringError(f"contexts must have one entry per case ({C}), got {len(contexts)}")
    names = [str(s.get("name")) for s in specs]
    mdims = [str(s.get("dimension")) for s in specs]
    corpus_full = {k: pool_corpus(np.ones((1, C)), st, red)[0] for k, (st, red) in corpus.items()}  # (M,)
    for k, st in ((k, st) for k, (st, _) in corpus.items()):
        has = next(iter(st.values())).reshape(M, C, -1).any(axis=2)  # cases that contributed a state
        v[:, :, k] = np.where(has, 0.0, np.nan)  # coverage only; the value is the pooled one
    mask = np.isfinite(v)
    scales = [case_scales(specs[k], corpus_full[k] if k in corpus else v[:, :, k].ravel(), contexts, reference)
              for k in range(K)]
    cs = np.full_like(v, np.nan)  # per-case scores
    for k in range(K):
        if k in corpus:
            continue  # scored on the pooled value in pipeline()
        sc = scales[k]
        if "*" in sc:
            cs[:, :, k] = sc["*"].score(v[:, :, k])
        else:
            for ctx, scale in sc.items():
                cols = np.array([c == ctx for c in contexts])
                cs[:, cols, k] = scale.score(v[:, cols, k])
    usable = np.array([all(s.usable for s in scales[k].values()) and specs[k].get("scored", True) is not False
                       for k in range(K)], dtype=bool)
    notes = [f"{names[k]}: no anchors and too few values to score it" for k in range(K)
             if not usable[k] and specs[k].get("scored", True) is not False]
    notes += [f"{names[k]}: scored relative to this protocol's values (no documented anchors)"
              for k in range(K) if any(s.source == "relative" for s in scales[k].values())]

    has_value = mask.any(axis=1)  # (M, K)
    kinds = list(kinds) if kinds is not None else [0] * M
    applicable = np.zeros((M, K), dtype=bool)
    for kind in set(kinds):
        rows = np.array([k == kind for k in kinds])
        applicable[rows] = has_value[rows].any(axis=0)
    applicable &= usable[None, :]
    notes += [f"{names[k]}: no model has a value: left out of {mdims[k]}" for k in range(K)
              if usable[k] and not has_value[:, k].any()]
    dims = [d for d in DIMENSIONS if any(applicable[:, k].any() for k in range(K) if mdims[k] == d)]
    smask = np.isfinite(cs)
    s0 = np.where(smask, cs, 0.0)

    corpus_scored = {k for k in corpus if usable[k]}

    def pipeline(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        score, n = _means(weights, s0, smask)
        for k in corpus_scored:
            st, red = corpus[k]
            _, n_k = _means(weights, mask[:, :, k:k + 1].astype(float), mask[:, :, k:k + 1])
            n[..., k] = n_k[..., 0]
            score[..., k] = next(iter(scales[k].values())).score(pool_corpus(weights, st, red))
        return score, n, dimension_scores(score, mdims, applicable, dims)

    score, n, ds = (x[0] for x in pipeline(np.ones((1, C))))
    # a dimension is shared when it applies to every model (by kind: pre-generated videos have no
    # generation to time); a model that fails an applicable metric is incomplete, not exempted
    row_has = np.array([[applicable[i, [k for k in range(K) if mdims[k] == d]].any() for d in dims]
                        for i in range(M)], dtype=bool).reshape(M, len(dims))
    shared = row_has.all(axis=0) if M else np.zeros(len(dims), bool)
    shared_dims = [d for d, s in zip(dims, shared) if s]
    for j, d in enumerate(dims):
        if not shared[j]:
            lacking = int((~row_has[:, j]).sum())
            notes.append(f"{d}: does not apply to {lacking} of {M} model(s) (their kind of run has no such values): "
                         f"the overall score is over the shared dimensions ({', '.join(shared_dims) or 'none'})")
    ov = overall_score(ds, shared) if shared.any() else np.full(M, np.nan)
    rk = rank_desc(ov)
    raw = np.stack([corpus_full[k] if k in corpus else aggregate(v[:, :, k], str(specs[k].get("aggregate") or "mean"))
                    for k in range(K)], axis=-1) if K else np.zeros((M, 0))

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
            _, _, d_b = pipeline(w)
            ds_b.append(d_b)
            ov_b.append(overall_score(d_b, shared) if shared.any() else np.full(d_b.shape[:-1], np.nan))
        dsb, ovb = np.concatenate(ds_b), np.concatenate(ov_b)
        with np.errstate(invalid="ignore"), _quiet_nan():
            dim_lo, dim_hi = np.nanpercentile(dsb, q[0], axis=0), np.nanpercentile(dsb, q[1], axis=0)
            ov_lo, ov_hi = np.nanpercentile(ovb, q[0], axis=0), np.nanpercentile(ovb, q[1], axis=0)
            rb = rank_desc(ovb)  # (B, M)
            rk_lo, rk_hi = np.nanpercentile(rb, q[0], axis=0), np.nanpercentile(rb, q[1], axis=0)
        dim_lo = np.where(np.isfinite(ds), dim_lo, np.nan)
        dim_hi = np.where(np.isfinite(ds), dim_hi, np.nan)
        ov_lo, ov_hi = np.where(np.isfinite(ov), ov_lo, np.nan), np.where(np.isfinite(ov), ov_hi, np.nan)
        rk_lo, rk_hi = np.where(np.isfinite(rk), np.floor(rk_lo), np.nan), np.where(np.isfinite(rk), np.ceil(rk_hi), np.nan)
    return GroupScores(
        metrics=names, dims=dims, shared_dims=shared_dims, scales=scales, metric_mean=raw, metric_n=n.astype(int),
        metric_score=score, applicable=applicable, dim_score=ds, dim_lo=dim_lo, dim_hi=dim_hi, overall=ov,
        overall_lo=ov_lo, overall_hi=ov_hi, rank=rk, rank_lo=rk_lo, rank_hi=rk_hi, case_scores=cs,
        n_boot=int(n_boot), seed=int(seed), ci=float(ci), notes=notes,
    )


class _quiet_nan:
    """Silence numpy's 'All-NaN slice' / 'Mean of empty slice' warnings for legitimately empty rows."""

    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: Any) -> None:
        self._w.__exit__(*exc)
