"""Paired metrics: a generated video against the real recording of the same case.

Defined only where the case has a ground truth (suites made by ``lpmbench suite import``): the
analysis pass analyses the recording too (cached like any video) and hands its features to the
metric as ``ctx.ground_truth``.

- ``lipsync.lmd``: landmark distance (LMD, as talking-head papers report it) of the mouth: mean
  over time-matched frames of the mean distance between the 20 mouth landmarks (48-67) of the
  generated and the real face, both Procrustes-aligned onto the case's reference image (reference
  IOD units), so head pose and framing do not count, only the mouth's shape. Frames are matched by
  time, so a 24 fps video compares with a 30 fps recording.
"""
from __future__ import annotations

import numpy as np

from lpmbench.features import Features
from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

MOUTH = slice(48, 68)
MIN_MATCHED_S = 1.0  # time-matched frames with both faces needed


def time_matched(gen: Features, real: Features) -> tuple[np.ndarray, np.ndarray]:
    """Indices (i into ``gen``, j into ``real``) of frames at the same time, both inside both videos."""
    t = np.arange(gen.n_frames) / gen.fps
    j = np.round(t * real.fps).astype(int)
    ok = j < real.n_frames
    return np.flatnonzero(ok), j[ok]


def landmark_distance(gen: Features, real: Features, points: slice = MOUTH) -> tuple[float, np.ndarray]:
    """(mean distance, per-frame distance with NaN where unmatched) of aligned landmarks."""
    a, b = np.asarray(gen["aligned"], float), np.asarray(real["aligned"], float)
    i, j = time_matched(gen, real)
    d = np.full(gen.n_frames, np.nan)
    d[i] = np.linalg.norm(a[i][:, points] - b[j][:, points], axis=2).mean(axis=1)
    ok = np.isfinite(d)
    if ok.sum() < MIN_MATCHED_S * gen.fps:
        raise MetricUnavailable(f"{ok.sum() / gen.fps:.2f} s of time-matched frames with a face in both videos "
                                f"(< {MIN_MATCHED_S:g} s)")
    return float(d[ok].mean()), d


class LandmarkDistance(Metric):
    requires = ("aligned", "fps", "n_frames")
    specs = (MetricSpec(
        name="lipsync.lmd", dimension="lipsync", direction="lower", version=1, backend="landmarks", unit="IOD",
        anchors=(0.15, 0.02), aggregate="mean",
        description="Mouth landmark distance to the case's ground-truth recording: mean over time-matched frames of "
                    "the mean distance between the 20 mouth landmarks of the generated and the real face, both "
                    "Procrustes-aligned onto the reference image (reference IOD units). Only for cases with a "
                    "ground truth (lpmbench suite import).",
        validity="The recording itself scores 0; see docs/reference.md for real recordings against a frozen mouth, "
                 "a delayed copy and another recording's audio.",
        limits="A different but equally natural mouth movement also counts as distance; dlib landmark noise "
               "(~0.01 IOD) is a floor.",
    ),)

    def compute(self, ctx: MetricContext) -> MetricOutput:
        if ctx.ground_truth is None:
            why = "the case has no ground-truth recording" if ctx.case is None or ctx.case.ground_truth is None \
                else "its ground-truth recording could not be analysed"
            raise MetricUnavailable(why)
        real = ctx.ground_truth
        if not real.has("aligned"):
            raise MetricUnavailable(f"no face in the ground-truth recording ({real.unavailable.get('aligned', '')})")
        value, d = landmark_distance(ctx.features, real)
        return MetricOutput(values={"lipsync.lmd": value},
                            series={"lipsync.lmd": {"t": ctx.features.times().astype(np.float32),
                                                    "y": d.astype(np.float32), "label": "mouth landmark distance (IOD)"}})


METRICS = [LandmarkDistance()]
