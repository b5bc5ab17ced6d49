"""Motion realism: how far a model's facial dynamics are from real people's, as a distribution.

``expressiveness.motion_realism_fd`` (corpus level, lower is better) is a Fréchet distance, as in
Learning2Listen and the FVD family, between two Gaussians fitted to *windowed dynamics*: every
1 s window (hop 0.5 s) of a video becomes one vector of motion statistics, all per second so that
24, 25 and 30 fps videos are comparable, log-compressed so that a still face and a shaking one are
both far from a person:

- non-rigid face motion: mean and std of the aligned-landmark speed (reference IOD / s);
- mouth: mean and std of the mouth-opening speed (IOD / s) and the opening's range;
- head: mean and std of the angular speed (deg / s) and the range of yaw, pitch, roll (deg);
- eyes: the range of the eye aspect ratio (blinks).

Each case contributes an additive state (window count, sum, sum of outer products); a model's
cases are pooled and compared with the human reference's mean and covariance of the same windows
(``lpmbench reference build`` measures them). With few windows the covariance is noisy, so the
distance is biased upward for small suites: compare models on the same suite only.
"""
from __future__ import annotations

import numpy as np

from lpmbench.features import Features
from lpmbench.metric_api import CorpusContext, Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

WINDOW_S, HOP_S = 1.0, 0.5
MIN_WINDOW_FACE = 0.8  # a window counts when the face is found in this fraction of its frames
FEATURE_NAMES = ("face_speed_mean", "face_speed_std", "mouth_speed_mean", "mouth_speed_std", "mouth_range",
                 "head_speed_mean", "head_speed_std", "yaw_range", "pitch_range", "roll_range", "ear_range")
MIN_WINDOWS = 2 * len(FEATURE_NAMES)  # pooled windows needed for a covariance worth a distance


def _speed(x: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame speed (units per second) of a (T,), (T, K) or (T, P, 2) signal (for landmarks the
    mean over points of each point's speed); NaN at [0] and next to frames without a face."""
    x = np.asarray(x, dtype=float)
    d = np.full(len(x), np.nan)
    if len(x) > 1:
        step = np.diff(x, axis=0)
        if x.ndim == 1:
            step = np.abs(step)
        elif x.ndim == 2:
            step = np.linalg.norm(step, axis=1)
        else:
            step = np.linalg.norm(step, axis=2).mean(axis=1)
        d[1:] = step
    return d * fps


def window_dynamics(f: Features) -> np.ndarray:
    """(N, len(FEATURE_NAMES)) log-compressed motion statistics of the video's 1 s windows."""
    fps, n = f.fps, f.n_frames
    present = np.asarray(f["face_present"], dtype=bool)
    face = _speed(f["aligned"], fps)
    mouth_open = np.asarray(f["mouth_open"], dtype=float)
    mouth = _speed(mouth_open, fps)
    pose = np.asarray(f["pose_deg"], dtype=float)
    head = _speed(pose, fps)
    ear = np.asarray(f["ear"], dtype=float)
    w, h = int(round(WINDOW_S * fps)), max(1, int(round(HOP_S * fps)))
    rows = []
    for a in range(0, max(0, n - w) + 1, h):
        sl = slice(a, a + w)
        if present[sl].mean() < MIN_WINDOW_FACE:
            continue
        with np.errstate(invalid="ignore"):
            vals = [np.nanmean(face[sl]), np.nanstd(face[sl]), np.nanmean(mouth[sl]), np.nanstd(mouth[sl]),
                    np.nanmax(mouth_open[sl]) - np.nanmin(mouth_open[sl]), np.nanmean(head[sl]), np.nanstd(head[sl]),
                    *(np.nanmax(pose[sl, i]) - np.nanmin(pose[sl, i]) for i in range(3)),
                    np.nanmax(ear[sl]) - np.nanmin(ear[sl])]
        v = np.asarray(vals, dtype=float)
        if np.all(np.isfinite(v)):
            rows.append(np.log1p(np.maximum(v, 0.0) * 10.0))
    return np.asarray(rows, dtype=float).reshape(-1, len(FEATURE_NAMES))


def frechet(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """Fréchet distance between two Gaussians: |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2))."""
    from scipy.linalg import sqrtm

    covmean = sqrtm(s1 @ s2)
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2.0 * covmean))


class MotionRealism(Metric):
    requires = ("aligned", "mouth_open", "pose_deg", "ear", "face_present", "fps")
    specs = (MetricSpec(
        name="expressiveness.motion_realism_fd", dimension="expressiveness", direction="lower", version=1,
        backend="landmarks", unit="FD", level="corpus", anchors=(4.0, 0.5),
        description="Fréchet distance between Gaussians fitted to a model's windowed facial dynamics (1 s windows: "
                    "face, mouth and head speeds, pose and eye ranges, log-compressed) pooled over its cases and to "
                    "the human reference's; corpus level.",
        validity="See docs/reference.md: real people vs the human reference, a still photo and a jittery copy.",
        limits="Biased upward with few windows (short suites); only comparable within one suite.",
    ),)

    def compute(self, ctx: MetricContext) -> MetricOutput:
        x = window_dynamics(ctx.features)
        if not len(x):
            raise MetricUnavailable("no 1 s window with the face found in 80 % of its frames")
        return MetricOutput(states={self.specs[0].name: {"n": float(len(x)), "sum": x.sum(0), "outer": x.T @ x}},
                            details={self.specs[0].name: {"n_windows": int(len(x))}})

    def reduce(self, name: str, state: dict[str, np.ndarray], ctx: CorpusContext) -> float:
        ref = ctx.reference.dynamics() if ctx.reference is not None else None
        if ref is None:
            raise MetricUnavailable("the human reference has no windowed dynamics (rebuild it with lpmbench reference build)")
        n = float(state["n"])
        if n < MIN_WINDOWS:
            raise MetricUnavailable(f"{n:.0f} windows pooled, {MIN_WINDOWS} needed for a covariance")
        mu = state["sum"] / n
        cov = (state["outer"] - n * np.outer(mu, mu)) / (n - 1)
        return frechet(mu, cov, *ref)


METRICS = [MotionRealism()]
