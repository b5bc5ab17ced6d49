"""Signal helpers shared by the metric modules: correlations, runs of a mask, and durations in
seconds turned into frames, so that every metric means the same at 24, 25 and 30 fps.

Conventions: a duration is a constant in seconds, converted here at the video's own frame rate;
a statistic of frame-to-frame differences (an acceleration, a jump) is computed on the signal
resampled to :data:`RATE_HZ` (:func:`resample`), because a per-frame difference of the same motion
shrinks as the frame rate grows.
"""
from __future__ import annotations

import numpy as np

from lpmbench.features import Features

RATE_HZ = 25.0  # the common grid of frame-difference statistics (the benchmark's usual frame rate)


def frames(seconds: float, fps: float, *, minimum: int = 1) -> int:
    """A duration in frames at ``fps`` (rounded), at least ``minimum``."""
    return max(minimum, int(round(seconds * fps)))


def odd_frames(seconds: float, fps: float) -> int:
    """The odd number of frames closest to ``seconds`` (at least 1): a centred filter window."""
    k = max(1, int(round(seconds * fps)))
    return k if k % 2 else k + 1


def resample(x: np.ndarray, fps: float, rate: float = RATE_HZ) -> np.ndarray:
    """A per-frame signal (T, ...) sampled at t = i / fps, interpolated at t = j / rate over the
    same span by a cubic spline (a linear one attenuates 3 Hz motion by ~8 % between 24 fps frames);
    NaN where a neighbouring frame is NaN (no face). Unchanged at fps == rate."""
    from scipy.interpolate import CubicSpline

    x = np.asarray(x, dtype=float)
    if abs(fps - rate) < 1e-6 * rate or len(x) < 2:
        return x.copy()
    pos = np.arange(int(np.floor((len(x) - 1) / fps * rate + 1e-9)) + 1) * (fps / rate)
    flat = x.reshape(len(x), -1)
    ok = np.isfinite(flat).all(axis=1)
    idx = np.arange(len(x))
    if ok.sum() < 4:  # too few frames for a spline: no value anywhere
        return np.full((len(pos), *x.shape[1:]), np.nan)
    filled = np.stack([np.interp(idx, idx[ok], flat[ok, k]) for k in range(flat.shape[1])], axis=1)
    y = CubicSpline(idx, filled, axis=0)(pos)
    i0 = np.minimum(np.floor(pos + 1e-6).astype(int), len(x) - 1)
    i1 = np.minimum(i0 + 1, len(x) - 1)
    on_frame = pos - i0 < 1e-6  # exactly on a source frame: only that frame matters
    y[~ok[i0] | (~on_frame & ~ok[i1])] = np.nan
    return y.reshape((len(pos), *x.shape[1:]))


def pearson(x: np.ndarray, y: np.ndarray, *, min_n: int = 3) -> float | None:
    """Pearson r of two equal-length arrays, ignoring pairs with a NaN.

    Returns None when fewer than ``min_n`` pairs remain or either signal is constant (r undefined).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < min_n:
        return None
    x, y = x[ok] - x[ok].mean(), y[ok] - y[ok].mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    if den <= 1e-12 * max(1.0, len(x)):
        return None
    return float((x * y).sum() / den)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs, end exclusive, of the runs of True in a 1-D boolean mask."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def dilate(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` grown by ``k`` frames on both sides."""
    m = np.asarray(mask, dtype=bool)
    out = m.copy()
    for s in range(1, min(k, len(m)) + 1):
        out[s:] |= m[:-s]
        out[:-s] |= m[s:]
    return out


def fill_nan(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps (edges held), so filters can run; callers re-mask."""
    x = np.asarray(x, dtype=float).copy()
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    idx = np.arange(len(x))
    x[~ok] = np.interp(idx[~ok], idx[ok], x[ok])
    return x


def series_t(features: Features) -> np.ndarray:
    return features.times().astype(np.float32)
