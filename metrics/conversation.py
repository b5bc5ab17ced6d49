"""Conversation metrics (METRICS.md, dimension ``conversation``): how the character listens, reacts
and takes turns, from the cached landmark/pose/audio features and the case's speak/listen timeline.

- ``conversation.listen_lip_leak`` / ``listen_av_corr``: does the listener lip-sync to what it hears?
- ``conversation.listen_motion_deg_s``: is the listener alive (not frozen, not shaking)?
- ``conversation.backchannel_per_min``: nods per minute of listening.
- ``conversation.reaction_lag_s`` / ``reaction_corr``: does head motion follow the partner's voice?
- ``conversation.transition_jump``: is there a visible jump when the turn changes?
- ``conversation.turn_onset_s``: how late does the mouth open when the agent starts to speak?

This module also publishes the ``head_pose.yaw`` / ``head_pose.pitch`` / ``head_pose.roll`` curves.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from lpmbench.features import STATE_LISTEN, STATE_SPEAK, Features
from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

from .lipsync import mouth_rest, pearson, runs, series_t

MEDIAN_FRAMES = 5  # pose median filter (METRICS.md backchannel definition; also used for speeds)
NOD_MIN_DEG = 4.0  # peak pitch excursion of a nod
NOD_EDGE_DEG = 2.0  # an excursion starts/ends where |pitch - baseline| crosses this
NOD_MIN_S, NOD_MAX_S = 0.2, 1.2  # a nod leaves and returns within this time
BASELINE_S = 4.0  # window of the running-median pitch baseline
MIN_LISTEN_S = 1.0  # listening needed for listen_* statistics
MIN_RATE_LISTEN_S = 2.0  # listening needed for a per-minute nod rate
MAX_REACTION_S = 2.0
MIN_REACTION_LISTEN_S = 3.0  # with less, the peak over 51 lags of noise alone reaches r ~ 0.4
SWITCH_HALF = 2  # frames either side of a turn boundary
JUMP_FLOOR = 0.005  # IOD per frame: median displacement floor (below dlib's landmark noise)
ONSET_FRACTION = 0.3  # mouth above rest + 30 % of its speaking range
ONSET_BACK_S, ONSET_FWD_S = 0.5, 1.0  # search window around each speech onset


# -- helpers ------------------------------------------------------------------------------------------
def _fill_nan(x: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps (edges held), so filters can run; callers re-mask."""
    x = np.asarray(x, dtype=float).copy()
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return x
    idx = np.arange(len(x))
    x[~ok] = np.interp(idx[~ok], idx[ok], x[ok])
    return x


def smooth_pose(pose: np.ndarray) -> np.ndarray:
    """Pose (T, 3) after a MEDIAN_FRAMES median filter per axis; frames without a pose stay NaN."""
    pose = np.asarray(pose, dtype=float)
    ok = np.isfinite(pose).all(axis=1)
    if not ok.any():
        raise MetricUnavailable("no head pose in any frame (no face found)")
    out = np.stack([median_filter(_fill_nan(pose[:, i]), size=MEDIAN_FRAMES, mode="nearest") for i in range(3)], 1)
    out[~ok] = np.nan
    return out


def head_speed(pose: np.ndarray, fps: float) -> np.ndarray:
    """Head angular speed (deg/s) per frame from the smoothed pose; [0] and frames after a gap are NaN."""
    p = smooth_pose(pose)
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
    p = median_filter(_fill_nan(pitch), size=MEDIAN_FRAMES, mode="nearest")
    win = max(MEDIAN_FRAMES, int(round(BASELINE_S * fps)) | 1)
    base = median_filter(p, size=win, mode="nearest")
    d = np.where(ok, p - base, 0.0)
    events = []
    for sign in (1.0, -1.0):
        for a, b in runs(sign * d > NOD_EDGE_DEG):
            dur = (b - a) / fps
            peak = a + int(np.argmax(sign * d[a:b]))
            if sign * d[peak] >= NOD_MIN_DEG and NOD_MIN_S <= dur <= NOD_MAX_S and a > 0 and b < len(d):
                events.append({"start": a, "peak": peak, "end": b, "deg": round(float(d[peak]), 2)})
    return sorted(events, key=lambda e: e["peak"])


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


def turn_windows(state: np.ndarray, half: int = SWITCH_HALF) -> list[tuple[int, int, str]]:
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


def transition_jump(aligned: np.ndarray, state: np.ndarray) -> tuple[float, list[dict]]:
    """Max displacement within the switch windows / median displacement of the video (floored)."""
    wins = turn_windows(state)
    if not wins:
        raise MetricUnavailable("no speak<->listen switch in the case timeline")
    d = frame_displacement(aligned)
    if not np.isfinite(d).any():
        raise MetricUnavailable("no two consecutive frames with a face")
    typical = max(float(np.nanmedian(d)), JUMP_FLOOR)
    per = []
    for lo, hi, kind in wins:
        w = d[lo:hi]
        if np.isfinite(w).any():
            per.append({"frame": lo + int(np.nanargmax(w)), "kind": kind, "ratio": float(np.nanmax(w)) / typical})
    if not per:
        raise MetricUnavailable("the face is missing around every speak<->listen switch")
    return max(e["ratio"] for e in per), per


def turn_onsets(m: np.ndarray, segments: np.ndarray, speaking: np.ndarray, fps: float) -> list[float]:
    """Per agent speech onset: seconds until the mouth opens above rest + 30 % of its speaking range
    (rest = 10th percentile of m; range top = 95th percentile during speech). Negative when the
    mouth was already opening (anticipation, up to 0.5 s); censored at +1 s when it never opens."""
    m = np.asarray(m, dtype=float)
    rest = mouth_rest(m)
    sp = speaking & np.isfinite(m)
    if not sp.any():
        raise MetricUnavailable("no agent speech with a visible face")
    top = float(np.percentile(m[sp], 95))
    if top - rest <= 1e-6:
        raise MetricUnavailable("the mouth does not open during agent speech")
    thr = rest + ONSET_FRACTION * (top - rest)
    above = np.where(np.isfinite(m), m > thr, False)
    n, back, fwd = len(m), int(round(ONSET_BACK_S * fps)), int(round(ONSET_FWD_S * fps))
    delays = []
    prev_end = 0
    for s, e in np.asarray(segments, dtype=float).reshape(-1, 2):
        t0 = int(round(s * fps))
        if t0 >= n:
            continue
        if above[t0]:  # already open: walk back to where the opening began
            t = t0
            while t > max(prev_end, t0 - back) and above[t - 1]:
                t -= 1
        else:
            ahead = np.flatnonzero(above[t0:min(n, t0 + fwd + 1)])
            t = t0 + int(ahead[0]) if len(ahead) else t0 + fwd
        delays.append((t - t0) / fps)
        prev_end = int(round(e * fps))
    if not delays:
        raise MetricUnavailable("no agent speech onset inside the video")
    return delays


def head_pose_series(f: Features) -> dict[str, dict]:
    pose = np.asarray(f.get("pose_deg"), dtype=float)
    t = series_t(f)
    return {f"head_pose.{ax}": {"t": t, "y": pose[:, i].astype(np.float32), "label": f"head {ax} (deg, vs reference)"}
            for i, ax in enumerate(("yaw", "pitch", "roll"))}


# -- specs --------------------------------------------------------------------------------------------
def _spec(name: str, direction: str, **kw) -> MetricSpec:
    return MetricSpec(name=f"conversation.{name}", dimension="conversation", direction=direction, version=1,
                      backend="landmarks", **kw)


SPEC_LEAK = _spec(
    "listen_lip_leak", "lower", unit="IOD",
    description="Mean mouth opening above rest (10th percentile of m), in IOD units, over listen frames while "
                "the partner is voiced: false lip-sync to heard audio.",
    anchors=(0.15, 0.01),  # 0.15 IOD is plainly visible mouthing
    validity=("Still listener 0.001 IOD vs 0.103 for a mouth driven by the partner's voice (6 s clip, 5 s "
              "of listening)."),
    limits="Absolute opening: a listener who smiles with parted lips also scores above 0.",
)
SPEC_LCORR = _spec(
    "listen_av_corr", "target", target=0.0, unit="r",
    description="Pearson r between the mouth opening and the partner envelope over listen frames "
                "(0 for a still mouth).",
    anchors=(0.5, 0.05),
    validity="Still listener 0.02 vs 0.87 for a mouth driven by the partner's voice.",
    limits="Lag 0 only: a leak delayed by several frames is partly missed (listen_lip_leak still sees it).",
)
SPEC_MOTION = _spec(
    "listen_motion_deg_s", "target", target=(2.0, 20.0), unit="deg/s",
    description="Mean head angular speed (norm of yaw/pitch/roll rates after a 5-frame median filter) over "
                "listen frames. Natural range 2-20 deg/s: below is a frozen listener, above a shaking one.",
    anchors=(2.0, 0.0),  # a frozen listener (0 deg/s) scores 0
    validity=("Still listener 0.0 deg/s; three 10-degree nods 17.3; voice-driven head sway 10.9; lip leak "
              "alone 6.9 (jaw motion leaks into the landmark pose at 256 px)."),
    limits="Landmark jitter adds a floor of about a degree per second; the natural range is a documented "
           "choice, not a fitted norm.",
)
SPEC_BACKCHANNEL = _spec(
    "backchannel_per_min", "target", target=(3.0, 15.0), unit="1/min",
    description="Nods per minute of listening: pitch excursions of >= 4 deg from a 4 s running-median baseline "
                "(after a 5-frame median filter) that leave and return (|deviation| > 2 deg) within 0.2-1.2 s. "
                "Natural range 3-15 per minute.",
    anchors=(5.0, 0.0),
    validity=("Three injected 10-degree nods (0.6 s each) in 5.0 s of listening counted as exactly 3; 0 for "
              "a still listener, a lip-syncing one and a head-swaying one."),
    limits="Needs >= 2 s of listening. Nods closer than ~1 s merge; slow head tilts are not nods.",
)
SPEC_LAG = _spec(
    "reaction_lag_s", "target", target=(0.2, 1.0), unit="s",
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
    anchors=(0.0, 0.5),
    validity="0.63 for voice-driven head sway vs 0.07 for a still listener and 0.27-0.32 for unrelated motion.",
    limits="Rewards voice-driven motion of any kind, including a shaking head.",
)
SPEC_JUMP = _spec(
    "transition_jump", "lower", unit="ratio",
    description="Max mean aligned-landmark displacement between consecutive frames within +-2 frames of each "
                "speak<->listen switch (idle gaps bridged: both ends of the gap), divided by the video's median "
                "frame-to-frame displacement (floored at 0.005 IOD). ~1 smooth, > 3 a visible jump.",
    anchors=(5.0, 1.0),
    validity=("Expression change (jaw +0.12, smile +0.12, brows +0.1 IOD) in one frame at the switch: 4.6; "
              "the same change over 1 s inside the listening turn: 1.5."),
    limits="Aligned landmarks remove in-plane head motion: a cut that only moves the head is partly missed.",
)
SPEC_ONSET = _spec(
    "turn_onset_s", "target", target=0.0, unit="s",
    description="Mean delay from each agent speech onset to the mouth opening above rest + 30 % of its speaking "
                "range (95th percentile during speech); negative when the mouth opens first (up to 0.5 s), "
                "censored at 1 s when it does not open.",
    anchors=(0.5, 0.04),  # one frame at 25 fps is on time
    validity=("Mouth following the agent voice: 0.013 s; the same 5 frames late: 0.213 s (delay recovered to "
              "the frame, tolerance 2 frames)."),
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
    requires = ("pose_deg", "state", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        listen = _listen(f, min_s=MIN_RATE_LISTEN_S)
        pitch = np.asarray(f.get("pose_deg"), dtype=float)[:, 1]
        if not np.isfinite(pitch).any():
            raise MetricUnavailable("no head pose in any frame (no face found)")
        events = [e for e in nod_events(pitch, f.fps) if listen[e["peak"]]]
        minutes = listen.sum() / f.fps / 60.0
        return MetricOutput(values={SPEC_BACKCHANNEL.name: len(events) / minutes},
                            details={"nods": [{"t": round(e["peak"] / f.fps, 3), "deg": e["deg"]} for e in events]})


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
    requires = ("aligned", "state")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        ratio, per = transition_jump(f.get("aligned"), _states(f))
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
        delays = turn_onsets(f.get("mouth_open"), segs, vad, f.fps)
        return MetricOutput(values={SPEC_ONSET.name: float(np.mean(delays))},
                            details={"onset_delays_s": [round(d, 3) for d in delays]})


METRICS: list[Metric] = [ListenLipLeak(), ListenMotion(), Backchannel(), Reaction(), TransitionJump(), TurnOnset()]
