"""Conversation metrics (METRICS.md, dimension ``conversation``): how the character listens, reacts
and takes turns, from the cached landmark/pose/audio features and the case's speak/listen timeline.

- ``conversation.listen_lip_leak`` / ``listen_av_corr``: does the listener lip-sync to what it hears?
- ``conversation.listen_motion_deg_s``: is the listener alive (not frozen, not shaking)?
- ``conversation.backchannel_per_min``: nods per minute of listening (a nod near the agent's own
  speech, or while the listener's mouth articulates, is speech-driven head motion, not a nod).
- ``conversation.reaction_lag_s`` / ``reaction_corr``: does head motion follow the partner's voice?
- ``conversation.transition_jump``: is there a visible jump when the turn changes?
- ``conversation.turn_onset_s``: how late does the mouth open when the agent starts to speak?

This module also publishes the ``head_pose.yaw`` / ``head_pose.pitch`` / ``head_pose.roll`` curves.
Every window, guard and filter is a duration in seconds (:mod:`.signals`), so 24, 25 and 30 fps
videos are comparable; the metrics of listening behaviour are natural (scored against the human
reference where it has them).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from lpmbench.features import STATE_LISTEN, STATE_SPEAK, Features
from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

from .lipsync import articulation_series, mouth_rest
from .signals import RATE_HZ, dilate, fill_nan, frames, odd_frames, pearson, runs, series_t

MEDIAN_S = 0.2  # pose median filter (5 frames at 25 fps; METRICS.md backchannel definition, also for speeds)
NOD_MIN_DEG = 4.0  # peak pitch excursion of a nod
NOD_EDGE_DEG = 2.0  # an excursion starts/ends where |pitch - baseline| crosses this
NOD_MIN_S, NOD_MAX_S = 0.2, 1.2  # a nod leaves and returns within this time
BASELINE_S = 4.0  # window of the running-median pitch baseline
# A nod is a listener's: none of its frames within this of the agent's own speech (a talker's head
# keeps moving with its speech for a moment after the voice stops) ...
NOD_SPEECH_GUARD_S = 0.5
# ... and the listener's mouth does not articulate meanwhile: mean speech-band mouth speed (IOD/s)
# below this (R9: natural silent people 0.035-0.235, talkers 0.47-0.89)
NOD_MAX_ARTICULATION = 0.3
MIN_LISTEN_S = 1.0  # listening needed for listen_* statistics
MIN_RATE_LISTEN_S = 2.0  # listening needed for a per-minute nod rate
MAX_REACTION_S = 2.0
MIN_REACTION_LISTEN_S = 3.0  # with less, the peak over 51 lags of noise alone reaches r ~ 0.4
SWITCH_HALF_S = 0.08  # either side of a turn boundary (2 frames at 25 fps)
JUMP_FLOOR = 0.005  # IOD per 40 ms: floor of the typical displacement (below dlib's landmark noise)
ONSET_FRACTION = 0.3  # mouth above rest + 30 % of its speaking range ...
ONSET_NOISE_K = 5.0  # ... and above rest + this many times the mouth signal's frame-to-frame noise
MIN_ONSET_RANGE = 0.03  # IOD: a speaking range (p95 - rest) below this is no opening at all
ONSET_BACK_S, ONSET_FWD_S = 0.5, 1.0  # search window around each speech onset; censored at +ONSET_FWD_S
ONSET_MEDIAN_S = 0.12  # the mouth signal's median filter before thresholding (3 frames at 25 fps)
ONSET_MIN_GAP_S = 0.3  # a voice segment after a shorter silence continues the phrase: not an onset


# -- helpers ------------------------------------------------------------------------------------------
def smooth_pose(pose: np.ndarray, fps: float) -> np.ndarray:
    """Pose (T, 3) after a MEDIAN_S median filter per axis; frames without a pose stay NaN."""
    pose = np.asarray(pose, dtype=float)
    ok = np.isfinite(pose).all(axis=1)
    if not ok.any():
        raise MetricUnavailable("no head pose in any frame (no face found)")
    k = odd_frames(MEDIAN_S, fps)
    out = np.stack([median_filter(fill_nan(pose[:, i]), size=k, mode="nearest") for i in range(3)], 1)
    out[~ok] = np.nan
    return out


def head_speed(pose: np.ndarray, fps: float) -> np.ndarray:
    """Head angular speed (deg/s) per frame from the smoothed pose; [0] and frames after a gap are NaN."""
    p = smooth_pose(pose, fps)
    sp = np.full(len(p), np.nan)
    if len(p) > 1:
        sp[1:] = np.linalg.norm(np.diff(p, axis=0), axis=1) * fps
    return sp


def _states(f: Features) -> np.ndarray:
    return np.asarray(f.get("state"), dtype=np.int8)


def _listen(f: Features, *, min_s: float = MIN_LISTEN_S) -> np.ndarray:
    listen = _states(f) == STATE_LISTEN
    if not listen.any():
        raise MetricUnavailable("no listen frames (the partner never speaks while the agent is silent)")
    if listen.sum() < min_s * f.fps:
        raise MetricUnavailable(f"too little listening ({listen.sum() / f.fps:.2f} s < {min_s} s)")
    return listen


def lip_leak(m: np.ndarray, listen: np.ndarray, partner_vad: np.ndarray) -> float:
    """Mean mouth opening above rest (IOD) over listen frames with partner voice and a face."""
    m = np.asarray(m, dtype=float)
    rest = mouth_rest(m)
    sel = listen & np.asarray(partner_vad, dtype=bool) & np.isfinite(m)
    if not sel.any():
        raise MetricUnavailable("no listen frames with partner voice and a visible face")
    return float(np.maximum(m[sel] - rest, 0.0).mean())


def listen_corr(m: np.ndarray, partner_env: np.ndarray, listen: np.ndarray) -> float:
    """Pearson r of mouth opening and partner envelope over listen frames; 0 for a still mouth."""
    m = np.asarray(m, dtype=float)
    sel = listen & np.isfinite(m)
    if sel.sum() < 3:
        raise MetricUnavailable("fewer than 3 listen frames with a visible face")
    if np.std(m[sel]) <= 1e-9:
        return 0.0  # a mouth that does not move does not co-vary with anything
    r = pearson(m[sel], np.asarray(partner_env, dtype=float)[sel])
    if r is None:
        raise MetricUnavailable("the partner envelope is constant over the listen frames")
    return r


def nod_events(pitch: np.ndarray, fps: float) -> list[dict]:
    """Nods: pitch excursions from a running-median baseline that peak at >= NOD_MIN_DEG and leave
    and return (|deviation| crossing NOD_EDGE_DEG) within NOD_MIN_S..NOD_MAX_S. Either sign counts.

    Returns dicts with start/peak/end frame and the signed peak deviation in degrees.
    """
    pitch = np.asarray(pitch, dtype=float)
    ok = np.isfinite(pitch)
    p = median_filter(fill_nan(pitch), size=odd_frames(MEDIAN_S, fps), mode="nearest")
    base = median_filter(p, size=odd_frames(BASELINE_S, fps), mode="nearest")
    d = np.where(ok, p - base, 0.0)
    events = []
    for sign in (1.0, -1.0):
        for a, b in runs(sign * d > NOD_EDGE_DEG):
            dur = (b - a) / fps
            peak = a + int(np.argmax(sign * d[a:b]))
            if sign * d[peak] >= NOD_MIN_DEG and NOD_MIN_S <= dur <= NOD_MAX_S and a > 0 and b < len(d):
                events.append({"start": a, "peak": peak, "end": b, "deg": round(float(d[peak]), 2)})
    return sorted(events, key=lambda e: e["peak"])


def listener_nods(events: list[dict], listen: np.ndarray, agent_vad: np.ndarray,
                  articulation: np.ndarray | None, fps: float) -> tuple[list[dict], dict[str, int]]:
    """The nods of :func:`nod_events` that are a listener's: peaking in a listen frame, no frame
    within NOD_SPEECH_GUARD_S of agent speech, and (where the mouth is measured) a mean speech-band
    mouth speed below NOD_MAX_ARTICULATION over the nod. Returns (kept, {reason: count dropped})."""
    near_speech = dilate(np.asarray(agent_vad, dtype=bool), frames(NOD_SPEECH_GUARD_S, fps, minimum=0))
    kept, dropped = [], {"not listening": 0, "near agent speech": 0, "mouth articulating": 0}
    for e in events:
        a, b = e["start"], e["end"]
        if not listen[e["peak"]]:
            dropped["not listening"] += 1
        elif near_speech[a:b].any():
            dropped["near agent speech"] += 1
        elif articulation is not None and np.isfinite(articulation[a:b]).any() \
                and np.nanmean(articulation[a:b]) >= NOD_MAX_ARTICULATION:
            dropped["mouth articulating"] += 1
        else:
            kept.append(e)
    return kept, dropped


def reaction(partner_env: np.ndarray, speed: np.ndarray, listen: np.ndarray, fps: float,
             max_s: float = MAX_REACTION_S) -> tuple[float, float, np.ndarray]:
    """Peak of r_L = Pearson(env[t], speed[t + L]) over listen frames t, L in [0, max_s]."""
    env = np.asarray(partner_env, dtype=float)
    lags = np.arange(0, int(round(max_s * fps)) + 1)
    t = np.flatnonzero(listen)
    r = np.full(len(lags), np.nan)
    for i, k in enumerate(lags):
        tt = t[t + k < len(speed)]
        v = pearson(speed[tt + k], env[tt], min_n=max(3, int(0.5 * fps)))
        if v is not None:
            r[i] = v
    if not np.isfinite(r).any():
        raise MetricUnavailable("head speed or partner envelope constant over the listen frames")
    best = int(np.nanargmax(r))
    return float(lags[best] / fps), float(r[best]), r


def turn_windows(state: np.ndarray, half: int) -> list[tuple[int, int, str]]:
    """Frame windows around each speak<->listen switch (idle gaps in between are bridged): +-half
    frames around the end of one turn and around the start of the next. Returns (lo, hi, kind),
    hi exclusive."""
    state = np.asarray(state)
    turns = [(a, b, int(state[a])) for a, b in _state_runs(state) if state[a] in (STATE_SPEAK, STATE_LISTEN)]
    out = []
    for (a0, b0, s0), (a1, b1, s1) in zip(turns, turns[1:]):
        if s0 != s1:
            kind = "speak->listen" if s0 == STATE_SPEAK else "listen->speak"
            for edge in sorted({b0, a1}):
                out.append((max(0, edge - half), min(len(state), edge + half + 1), kind))
    return out


def _state_runs(state: np.ndarray) -> list[tuple[int, int]]:
    change = np.flatnonzero(np.diff(state) != 0) + 1
    bounds = np.concatenate([[0], change, [len(state)]])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def frame_displacement(aligned: np.ndarray) -> np.ndarray:
    """Mean landmark displacement (reference IOD) from the previous frame; [0] is NaN."""
    a = np.asarray(aligned, dtype=float)
    d = np.full(len(a), np.nan)
    if len(a) > 1:
        d[1:] = np.linalg.norm(np.diff(a, axis=0), axis=2).mean(axis=1)
    return d


def transition_jump(aligned: np.ndarray, state: np.ndarray, fps: float) -> tuple[float, list[dict]]:
    """Max frame-to-frame displacement within the switch windows (+-SWITCH_HALF_S) / the video's
    median displacement per 40 ms (floored at JUMP_FLOOR). A cut is one frame's displacement at any
    frame rate; the yardstick is the typical motion in a fixed time, so the ratio is the same at
    24, 25 and 30 fps."""
    wins = turn_windows(state, frames(SWITCH_HALF_S, fps))
    if not wins:
        raise MetricUnavailable("no speak<->listen switch in the case timeline")
    d = frame_displacement(aligned)
    if not np.isfinite(d).any():
        raise MetricUnavailable("no two consecutive frames with a face")
    typical = max(float(np.nanmedian(d)) * fps / RATE_HZ, JUMP_FLOOR)
    per = []
    for lo, hi, kind in wins:
        w = d[lo:hi]
        if np.isfinite(w).any():
            per.append({"frame": lo + int(np.nanargmax(w)), "kind": kind, "ratio": float(np.nanmax(w)) / typical})
    if not per:
        raise MetricUnavailable("the face is missing around every speak<->listen switch")
    return max(e["ratio"] for e in per), per


def mouth_noise(m: np.ndarray) -> float:
    """Frame-to-frame noise of the mouth opening (IOD): 1.4826 x the median |difference| of
    consecutive frames with a face, / sqrt(2) (a robust std of white noise on a still mouth)."""
    d = np.diff(np.asarray(m, dtype=float))
    d = np.abs(d[np.isfinite(d)])
    return float(1.4826 * np.median(d) / np.sqrt(2.0)) if d.size else 0.0


def turn_onsets(m: np.ndarray, segments: np.ndarray, speaking: np.ndarray, fps: float) -> tuple[list[float], bool]:
    """Per agent speech onset (a voice segment after >= ONSET_MIN_GAP_S of silence; shorter gaps
    continue the phrase): seconds from the onset to the mouth's opening nearest to it within
    -ONSET_BACK_S..+ONSET_FWD_S (and after the previous segment's end), an opening being an upward
    crossing of the mouth (ONSET_MEDIAN_S median filter) over rest + max(30 % of its speaking range,
    ONSET_NOISE_K x its frame-to-frame noise) (rest = 10th percentile of m; range top = 95th
    percentile during speech). Negative when the mouth opens first (anticipation); censored at
    +ONSET_FWD_S when it does not open. A mouth whose speaking range stays within its own noise (or
    below MIN_ONSET_RANGE) never opens: every onset is censored. Returns (delays, opens)."""
    m = np.asarray(m, dtype=float)
    rest = mouth_rest(m)
    sp = speaking & np.isfinite(m)
    if not sp.any():
        raise MetricUnavailable("no agent speech with a visible face")
    top = float(np.percentile(m[sp], 95))
    noise = ONSET_NOISE_K * mouth_noise(m)
    opens = top - rest >= max(noise, MIN_ONSET_RANGE)
    thr = rest + max(ONSET_FRACTION * (top - rest), noise)
    smooth = median_filter(fill_nan(m), size=odd_frames(ONSET_MEDIAN_S, fps), mode="nearest")
    above = np.isfinite(m) & (smooth > thr) if opens else np.zeros(len(m), dtype=bool)
    n, back, fwd = len(m), frames(ONSET_BACK_S, fps, minimum=0), frames(ONSET_FWD_S, fps, minimum=0)
    delays = []
    prev_end, prev_end_s = 0, -np.inf
    for s, e in np.asarray(segments, dtype=float).reshape(-1, 2):
        t0 = int(round(s * fps))
        gap, prev_end_s = s - prev_end_s, e
        if t0 >= n or gap < ONSET_MIN_GAP_S:
            prev_end = int(round(e * fps))
            continue
        lo, hi = max(prev_end, t0 - back, 0), min(n, t0 + fwd + 1)
        win = above[lo:hi]
        # the mouth's openings in the window: upward crossings (an opening under way at the window's
        # start counts from there); the one nearest the voice onset is its onset, so a mouth hovering
        # at the threshold reads the same whichever side of it the onset frame falls
        ups = np.flatnonzero(win & ~np.concatenate([[False], win[:-1]])) + lo
        t = int(ups[np.argmin(np.abs(ups - t0))]) if len(ups) else t0 + fwd
        delays.append((t - t0) / fps)
        prev_end = int(round(e * fps))
    if not delays:
        raise MetricUnavailable("no agent speech onset inside the video")
    return delays, bool(opens)


def head_pose_series(f: Features) -> dict[str, dict]:
    pose = np.asarray(f.get("pose_deg"), dtype=float)
    t = series_t(f)
    return {f"head_pose.{ax}": {"t": t, "y": pose[:, i].astype(np.float32), "label": f"head {ax} (deg, vs reference)"}
            for i, ax in enumerate(("yaw", "pitch", "roll"))}


# -- specs --------------------------------------------------------------------------------------------
def _spec(name: str, direction: str, version: int = 2, **kw) -> MetricSpec:
    # version 2: durations in seconds, natural targets (R9), listener-only nods, onset noise floor
    return MetricSpec(name=f"conversation.{name}", dimension="conversation", direction=direction, version=version,
                      backend="landmarks", **kw)


SPEC_LEAK = _spec(
    "listen_lip_leak", "lower", unit="IOD", natural=True,
    description="Mean mouth opening above rest (10th percentile of m), in IOD units, over listen frames while "
                "the partner is voiced: false lip-sync to heard audio.",
    anchors=(0.15, 0.01),  # 0.15 IOD is plainly visible mouthing
    validity=("Still listener 0.001 IOD vs 0.103 for a mouth driven by the partner's voice (6 s clip, 5 s "
              "of listening). Real silent people's mouths sit 0.004-0.076 above rest (R9, median 0.013)."),
    limits="Absolute opening: a listener who smiles with parted lips also scores above 0.",
)
SPEC_LCORR = _spec(
    "listen_av_corr", "target", version=1, target=0.0, unit="r",
    description="Pearson r between the mouth opening and the partner envelope over listen frames "
                "(0 for a still mouth).",
    anchors=(0.5, 0.05),
    validity="Still listener 0.02 vs 0.87 for a mouth driven by the partner's voice.",
    limits="Lag 0 only: a leak delayed by several frames is partly missed (listen_lip_leak still sees it).",
)
SPEC_MOTION = _spec(
    "listen_motion_deg_s", "target", target=(8.0, 35.0), unit="deg/s", natural=True,
    description="Mean head angular speed (norm of yaw/pitch/roll rates after a 0.2 s median filter) over "
                "listen frames. Natural range 8-35 deg/s: below is a frozen listener, above a shaking one.",
    anchors=(20.0, 0.0),  # 20 deg/s above the range scores 0; below it the score falls to 0 at 0 deg/s
    validity=("Still listener 0.0 deg/s; three 10-degree nods 17.3; voice-driven head sway 10.9; lip leak "
              "alone 6.9 (jaw motion leaks into the landmark pose at 256 px). Real heads (R9, same pipeline): "
              "silent people 12.3-32.8 deg/s (median 22.8), talkers 8.7-74.6 (median 26), VASA-1 16.8-27.4; "
              "still photos 0.2-3.9: the old 2-20 failed real people."),
    limits="Landmark jitter adds a floor of a few degrees per second; no recording of a real listener has been "
           "measured yet (the range comes from silent and talking people).",
)
SPEC_BACKCHANNEL = _spec(
    "backchannel_per_min", "target", target=(3.0, 15.0), unit="1/min", natural=True,
    description="Nods per minute of listening: pitch excursions of >= 4 deg from a 4 s running-median baseline "
                "(after a 0.2 s median filter) that leave and return (|deviation| > 2 deg) within 0.2-1.2 s, peak "
                "in a listen frame, lie 0.5 s or more from any agent speech, and during which the mouth does not "
                "articulate (speech-band mouth speed < 0.3 IOD/s). Natural range 3-15 per minute.",
    anchors=(5.0, 0.0),
    validity=("Three injected 10-degree nods (0.6 s each) in 5.0 s of listening counted as exactly 3; 0 for "
              "a still listener, a lip-syncing one and a head-swaying one; nods while babbling, and a talker's "
              "speech-driven nodding carried into the partner's turn, are not counted."),
    limits="Needs >= 2 s of listening. Nods closer than ~1 s merge; slow head tilts are not nods; the range is "
           "a documented choice (no real listener measured yet).",
)
SPEC_LAG = _spec(
    "reaction_lag_s", "target", target=(0.2, 1.0), unit="s", natural=True,
    description="Lag L in [0, 2] s of the peak Pearson correlation between the partner envelope e[t] and the "
                "listener's head angular speed at t + L, over listen frames. Natural range 0.2-1.0 s.",
    anchors=(1.0, 0.0),
    validity=("Head roll whose speed follows the partner envelope 12 frames (0.48 s) late: recovered "
              "0.48 s exactly."),
    limits="Meaningless when reaction_corr is near 0 (no reaction): read the two together.",
)
SPEC_RCORR = _spec(
    "reaction_corr", "higher", unit="r",
    description="Peak value of the partner-envelope / head-speed lagged correlation of reaction_lag_s.",
    anchors=(0.25, 0.6),  # 0.25: what a real head that does not react reaches (below)
    validity="0.63 for voice-driven head sway vs 0.07 for a still listener and 0.27-0.32 for unrelated motion. "
             "Real silent people 'listening' to another clip's speech (they do not react to it): 0.12-0.26 "
             "(H9m, 7 clips), so 0.25 scores 0.",
    limits="Rewards voice-driven motion of any kind, including a shaking head.",
)
SPEC_JUMP = _spec(
    "transition_jump", "lower", unit="ratio",
    description="Max mean aligned-landmark displacement between consecutive frames within +-0.08 s of each "
                "speak<->listen switch (idle gaps bridged: both ends of the gap), divided by the video's median "
                "displacement per 40 ms (floored at 0.005 IOD). ~1 smooth, > 3 a visible jump.",
    anchors=(5.0, 1.0),
    validity=("Expression change (jaw +0.12, smile +0.12, brows +0.1 IOD) in one frame at the switch: 4.6; "
              "the same change over 1 s inside the listening turn: 1.5."),
    limits="Aligned landmarks remove in-plane head motion: a cut that only moves the head is partly missed.",
)
SPEC_ONSET = _spec(
    "turn_onset_s", "target", target=0.0, unit="s", natural=True,
    description="Mean delay from each agent speech onset (after >= 0.3 s of silence) to the nearest opening (within -0.5..+1 s) of the mouth "
                "(0.12 s median filter) above rest + max(30 % of its speaking range (95th percentile during "
                "speech), 5 x its frame-to-frame noise); negative when the mouth opens first, censored at 1 s when "
                "it does not open; a mouth whose speaking range stays within its noise (or under 0.03 IOD) never "
                "opens: 1 s.",
    anchors=(0.5, 0.04),  # one frame at 25 fps is on time
    validity=("Mouth following the agent voice: 0.013 s; the same 5 frames late: 0.213 s (delay recovered to "
              "the frame, tolerance 2 frames); a still photo: 1.0 (censored; before the noise floor its landmark "
              "noise read as an on-time onset). Real talkers (H9m, this definition) -0.16 to +0.16 s (median -0.06), "
              "VASA-1 -0.20 to +0.58."),
    limits="Voice-activity onsets can lag the acoustic onset by a frame or two.",
)


# -- metrics ------------------------------------------------------------------------------------------
class ListenLipLeak(Metric):
    """Does the listener's mouth follow what it hears?"""

    specs = (SPEC_LEAK, SPEC_LCORR)
    requires = ("mouth_open", "state", "partner_env", "partner_vad", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        listen = _listen(f)
        m = f.get("mouth_open")
        out = MetricOutput()
        for spec, fn in ((SPEC_LEAK, lambda: lip_leak(m, listen, f.get("partner_vad"))),
                         (SPEC_LCORR, lambda: listen_corr(m, f.get("partner_env"), listen))):
            try:
                out.values[spec.name] = fn()
            except MetricUnavailable as e:
                out.unavailable[spec.name] = str(e)
        return out


class ListenMotion(Metric):
    """Head motion while listening; also publishes the head-pose curves."""

    specs = (SPEC_MOTION,)
    requires = ("pose_deg", "state", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        out = MetricOutput(series=head_pose_series(f))
        try:
            sp = head_speed(f.get("pose_deg"), f.fps)
            sel = _listen(f) & np.isfinite(sp)
            if sel.sum() < MIN_LISTEN_S * f.fps:
                raise MetricUnavailable("too few listen frames with a head pose")
            out.values[SPEC_MOTION.name] = float(sp[sel].mean())
        except MetricUnavailable as e:
            out.unavailable[SPEC_MOTION.name] = str(e)
        return out


class Backchannel(Metric):
    """Nods per minute of listening."""

    specs = (SPEC_BACKCHANNEL,)
    requires = ("pose_deg", "state", "agent_vad", "landmarks_px", "face_present", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        listen = _listen(f, min_s=MIN_RATE_LISTEN_S)
        pitch = np.asarray(f.get("pose_deg"), dtype=float)[:, 1]
        if not np.isfinite(pitch).any():
            raise MetricUnavailable("no head pose in any frame (no face found)")
        try:
            artic = articulation_series(f.get("landmarks_px"), f.get("face_present"), f.fps)
        except MetricUnavailable:
            artic = None  # too little face to band-pass the mouth: nods are judged on timing alone
        events, dropped = listener_nods(nod_events(pitch, f.fps), listen, f.get("agent_vad"), artic, f.fps)
        minutes = listen.sum() / f.fps / 60.0
        return MetricOutput(values={SPEC_BACKCHANNEL.name: len(events) / minutes},
                            details={"nods": [{"t": round(e["peak"] / f.fps, 3), "deg": e["deg"]} for e in events],
                                     "nods_dropped": dropped})


class Reaction(Metric):
    """Timing and strength of head motion following the partner's voice."""

    specs = (SPEC_LAG, SPEC_RCORR)
    requires = ("pose_deg", "state", "partner_env", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        listen = _listen(f, min_s=MIN_REACTION_LISTEN_S)
        sp = head_speed(f.get("pose_deg"), f.fps)
        lag, r, _ = reaction(f.get("partner_env"), sp, listen, f.fps)
        return MetricOutput(values={SPEC_LAG.name: lag, SPEC_RCORR.name: r})


class TransitionJump(Metric):
    """Visible jumps when the turn changes."""

    specs = (SPEC_JUMP,)
    requires = ("aligned", "state", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        ratio, per = transition_jump(f.get("aligned"), _states(f), f.fps)
        return MetricOutput(values={SPEC_JUMP.name: ratio},
                            details={"switches": [{**e, "ratio": round(e["ratio"], 3)} for e in per]})


class TurnOnset(Metric):
    """Mouth onset delay at each agent speech onset."""

    specs = (SPEC_ONSET,)
    requires = ("mouth_open", "agent_segments", "agent_vad", "has_agent_audio", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        if not bool(f.get("has_agent_audio")):
            raise MetricUnavailable("the case has no agent audio (no speech onsets)")
        vad = np.asarray(f.get("agent_vad"), dtype=bool)
        segs = np.asarray(f.get("agent_segments"), dtype=float).reshape(-1, 2)
        if not vad.any() or not len(segs):
            raise MetricUnavailable("no agent speech found in the agent audio")
        delays, opens = turn_onsets(f.get("mouth_open"), segs, vad, f.fps)
        return MetricOutput(values={SPEC_ONSET.name: float(np.mean(delays))},
                            details={"onset_delays_s": [round(d, 3) for d in delays], "mouth_opens": opens})


METRICS: list[Metric] = [ListenLipLeak(), ListenMotion(), Backchannel(), Reaction(), TransitionJump(), TurnOnset()]
