"""Lip-sync metrics on landmark/envelope signals (METRICS.md, dimension ``lipsync``).

``lipsync.av_offset_frames``, ``lipsync.av_confidence`` and ``lipsync.av_corr`` come from one
lagged correlation between the mouth opening ``m_t`` and the agent's RMS envelope ``e_t`` over the
agent's speaking frames; ``lipsync.silent_lip_motion`` compares the mouth's activity in the agent's
silences with its activity in speech. All read the cached features of the analysis pass only.

The small signal helpers below (Pearson r, lagged correlation, runs of a mask, rest level) are
shared with :mod:`lpmbench.metrics.conversation`.
"""
from __future__ import annotations

import numpy as np

from lpmbench.features import Features
from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

MAX_LAG = 15  # frames searched either side (METRICS.md)
MIN_SPEECH_S = 1.0  # speaking time needed for a lagged correlation to mean anything
MIN_SILENCE_S = 0.3  # silences shorter than this are part of speech (METRICS.md)
EDGE_GUARD_S = 0.08  # frames this close to a speech boundary count as neither speech nor silence
MIN_SPEECH_OPENING = 0.01  # IOD: below this the mouth "does not open" in speech: ratio undefined


# -- shared signal helpers ------------------------------------------------------------------------
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


def lagged_corr(video: np.ndarray, audio: np.ndarray, frames: np.ndarray, lags: np.ndarray,
                *, min_n: int = 3) -> np.ndarray:
    """r_k = Pearson(video[t + k], audio[t]) over the frames t in ``frames`` with t + k inside.

    Positive k pairs the audio with *later* video, so the argmax is positive when the video is
    late. Lags whose r is undefined give NaN.
    """
    n = len(video)
    t = np.flatnonzero(frames)
    out = np.full(len(lags), np.nan)
    for i, k in enumerate(lags):
        tt = t[(t + k >= 0) & (t + k < n)]
        r = pearson(video[tt + k], audio[tt], min_n=min_n)
        if r is not None:
            out[i] = r
    return out


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs, end exclusive, of the runs of True in a 1-D boolean mask."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def mouth_rest(m: np.ndarray) -> float:
    """Rest opening: the 10th percentile of the mouth opening over frames with a face."""
    ok = np.isfinite(m)
    if not ok.any():
        raise MetricUnavailable("no face found in any frame: mouth opening undefined")
    return float(np.percentile(m[ok], 10))


def series_t(features: Features) -> np.ndarray:
    return features.times().astype(np.float32)


def _as_float(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=float)


# -- lagged mouth/envelope correlation ----------------------------------------------------------
def av_sync(m: np.ndarray, env: np.ndarray, speaking: np.ndarray, fps: float,
            max_lag: int = MAX_LAG) -> dict[str, float]:
    """Offset, confidence and r_0 of the mouth opening against the agent envelope.

    ``speaking``: frames where the agent speaks. Raises :class:`MetricUnavailable` when there is too
    little speech with a visible face. A mouth that never moves gives r_k = 0 at every lag (no
    co-variation): av_corr = av_confidence = 0 and the offset is unavailable.
    """
    m, env = _as_float(m), _as_float(env)
    speaking = np.asarray(speaking, dtype=bool)
    usable = speaking & np.isfinite(m) & np.isfinite(env)
    if usable.sum() < MIN_SPEECH_S * fps:
        raise MetricUnavailable(
            f"too little agent speech with a visible face ({usable.sum() / fps:.2f} s < {MIN_SPEECH_S} s)"
        )
    if np.nanstd(env[usable]) <= 1e-9:
        raise MetricUnavailable("agent envelope is constant over the speaking frames")
    if np.nanstd(m[usable]) <= 1e-9:
        return {"corr": 0.0, "confidence": 0.0, "offset": float("nan"), "still": 1.0}
    lags = np.arange(-max_lag, max_lag + 1)
    r = lagged_corr(m, env, speaking, lags, min_n=max(3, int(0.5 * fps)))
    if not np.isfinite(r).any():
        raise MetricUnavailable("mouth/envelope correlation undefined at every lag")
    r = np.where(np.isfinite(r), r, 0.0)  # an undefined lag (constant mouth there) has no co-variation
    best = int(np.argmax(r))
    return {
        "corr": float(r[max_lag]),
        "confidence": float(r[best] - np.median(r)),
        "offset": float(lags[best]),
        "still": 0.0,
        "r": r,
    }


def speech_silence_masks(vad: np.ndarray, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Speech and silence frames, each eroded by EDGE_GUARD_S at the boundaries; silences are runs
    of non-speech of at least MIN_SILENCE_S (shorter gaps are pauses inside speech)."""
    vad = np.asarray(vad, dtype=bool)
    guard = int(round(EDGE_GUARD_S * fps))
    speech = np.zeros_like(vad)
    silence = np.zeros_like(vad)
    for a, b in runs(vad):
        speech[a + guard: max(a + guard, b - guard)] = True
    for a, b in runs(~vad):
        if (b - a) >= MIN_SILENCE_S * fps:
            lo = a + guard if a > 0 else a  # the video's own edges are not speech boundaries
            hi = b - guard if b < len(vad) else b
            silence[lo:max(lo, hi)] = True
    return speech, silence


def silent_motion_ratio(m: np.ndarray, vad: np.ndarray, fps: float) -> float:
    """Mean opening above rest in agent silences / the same in agent speech (see METRICS.md)."""
    m = _as_float(m)
    rest = mouth_rest(m)
    above = np.maximum(m - rest, 0.0)
    speech, silence = speech_silence_masks(vad, fps)
    speech &= np.isfinite(m)
    silence &= np.isfinite(m)
    if not speech.any():
        raise MetricUnavailable("no agent speech with a visible face")
    if not silence.any():
        raise MetricUnavailable(f"no agent silence of at least {MIN_SILENCE_S * 1000:.0f} ms with a visible face")
    in_speech = float(above[speech].mean())
    if in_speech < MIN_SPEECH_OPENING:
        raise MetricUnavailable(
            f"the mouth does not open during agent speech (mean {in_speech:.4f} IOD above rest "
            f"< {MIN_SPEECH_OPENING}): the ratio is undefined; see lipsync.av_corr"
        )
    return float(above[silence].mean()) / in_speech


def _agent_speaking(f: Features) -> np.ndarray:
    if not bool(f.get("has_agent_audio")):
        raise MetricUnavailable("the case has no agent audio (nothing to lip-sync to)")
    vad = np.asarray(f.get("agent_vad"), dtype=bool)
    if not vad.any():
        raise MetricUnavailable("no agent speech found in the agent audio (voice activity is empty)")
    return vad


def mouth_vs_audio_series(f: Features) -> dict[str, dict]:
    """Leaderboard curve: mouth opening and the agent envelope scaled to the mouth's range."""
    m = _as_float(f.get("mouth_open"))
    s: dict = {"t": series_t(f), "y": m.astype(np.float32),
               "label": "mouth opening (IOD) vs agent envelope (scaled to the mouth's range)"}
    if f.has("agent_env") and bool(f.values.get("has_agent_audio", False)):
        env = _as_float(f.get("agent_env"))
        peak = float(np.nanmax(env)) if np.isfinite(env).any() else 0.0
        top = float(np.nanpercentile(m, 99)) if np.isfinite(m).any() else 1.0
        s["y2"] = (env / peak * top if peak > 0 else env * 0.0).astype(np.float32)
    return {"lipsync.mouth_vs_audio": s}


# -- specs ------------------------------------------------------------------------------------------
SPEC_OFFSET = MetricSpec(
    name="lipsync.av_offset_frames", dimension="lipsync", direction="target", target=0.0, version=1,
    backend="landmarks", unit="frames", aggregate="mean_abs",
    description="Lag k in [-15, 15] frames maximising Pearson r between the mouth opening m[t+k] and the agent "
                "RMS envelope e[t] over the agent's speaking frames (voice activity); positive = video late.",
    anchors=(8.0, 1.0),  # one frame off is imperceptible
    validity=("Astronaut clip (256 px, 25 fps) whose mouth follows espeak-ng speech; agent audio shifted by "
              "k = -8..8 frames: every k recovered exactly (error 0, tolerance 1 frame); in sync: 0."),
    limits="Needs >= 1 s of agent speech with a face; unavailable when the mouth never moves. Envelope and "
           "mouth opening are only loosely related for some phonemes (closed-mouth /m/, /b/): "
           "the peak is broad, so offsets under 1 frame are not resolved.",
)
SPEC_CONF = MetricSpec(
    name="lipsync.av_confidence", dimension="lipsync", direction="higher", version=1, backend="landmarks",
    unit="r",
    description="max_k r_k - median_k r_k over k in [-15, 15] of the mouth-opening/agent-envelope lagged "
                "correlation (the LSE-C idea on landmark signals); 0 for a mouth that never moves.",
    anchors=(0.0, 0.5),
    validity=("In sync 0.94 vs 0.26 for the same video with its audio shuffled in 0.2 s blocks; 0.91-1.02 at "
              "every shift of -8..8 frames (confidence is offset-independent)."),
    limits="Smooth, slowly varying speech envelopes lower the contrast between lags for every model alike.",
)
SPEC_CORR = MetricSpec(
    name="lipsync.av_corr", dimension="lipsync", direction="higher", version=1, backend="landmarks", unit="r",
    description="Pearson r at lag 0 between the mouth opening and the agent RMS envelope over the agent's "
                "speaking frames; 0 for a mouth that never moves.",
    anchors=(0.0, 0.6),
    validity=("0.89 in sync, 0.08 with shuffled audio; 0.74 / 0.69 at -1 / +1 frame and |r| <= 0.45 beyond "
              "+-2 frames."),
    limits="Penalises a correct but late mouth as much as a wrong one; read it with av_offset_frames. The "
           "validity clips drive the mouth with the envelope itself (an ideal case): real lips correlate less.",
)
SPEC_SILENT = MetricSpec(
    name="lipsync.silent_lip_motion", dimension="lipsync", direction="lower", version=1, backend="landmarks",
    unit="ratio",
    description="Mean mouth opening above rest (rest = 10th percentile of m) during agent silences >= 300 ms, "
                "divided by the same during agent speech; 80 ms at each speech boundary count as neither.",
    anchors=(1.0, 0.1),
    validity=("0.011 for a mouth that closes in the pauses vs 0.62 for one that keeps babbling through them "
              "(same speech, same clip otherwise)."),
    limits="Unavailable without agent speech, without silences >= 300 ms, or when the mouth does not open in "
           "speech (< 0.01 IOD above rest). Breathing or smiling in pauses also counts as motion.",
)


class AVSync(Metric):
    """Offset, confidence and zero-lag correlation of the mouth against the agent's voice."""

    specs = (SPEC_OFFSET, SPEC_CONF, SPEC_CORR)
    requires = ("mouth_open", "agent_env", "agent_vad", "has_agent_audio", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        out = MetricOutput(series=mouth_vs_audio_series(f))
        try:
            s = av_sync(f.get("mouth_open"), f.get("agent_env"), _agent_speaking(f), f.fps)
        except MetricUnavailable as e:
            out.unavailable = {n: str(e) for n in self.names}
            return out
        out.values = {SPEC_CONF.name: s["confidence"], SPEC_CORR.name: s["corr"]}
        if s["still"]:
            out.unavailable[SPEC_OFFSET.name] = "the mouth does not move during agent speech: no offset to find"
        else:
            out.values[SPEC_OFFSET.name] = s["offset"]
            out.details["r_by_lag"] = [round(float(v), 4) for v in s["r"]]
        return out


class SilentLipMotion(Metric):
    """Mouth activity in the agent's silences relative to its activity in speech."""

    specs = (SPEC_SILENT,)
    requires = ("mouth_open", "agent_vad", "has_agent_audio", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        ratio = silent_motion_ratio(f.get("mouth_open"), _agent_speaking(f), f.fps)
        return MetricOutput(values={SPEC_SILENT.name: ratio})


METRICS: list[Metric] = [AVSync(), SilentLipMotion()]
