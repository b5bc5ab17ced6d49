"""Gaze metrics: where the character looks, from the iris position in the eyes (``gaze``, see
lpmbench/analysis/gaze.py) and the head pose.

Gaze direction, horizontal, in degrees relative to the reference pose (a portrait reference faces
the camera)::

    gaze_yaw = pose yaw + asin(gaze_x / EYE_X_PER_SIN)

where the eye-in-head angle follows from an eyeball model: the iris centre turns on a 12 mm
radius about the eye's centre of rotation, and half the eye opening is ~15 mm, so the normalised
iris offset is x = 0.8 sin(angle). ``gaze_x`` is smoothed over 0.1 s (median). Vertically only the
head counts (pose pitch): the lids follow the eyes up and down, so the iris' vertical place between
them says little. The character looks at the camera (eye contact) when |gaze_yaw| <=
:data:`CONTACT_YAW_DEG` and |pitch| <= :data:`CONTACT_PITCH_DEG`.

- ``conversation.eye_contact_ratio``: fraction of listen frames with a measured gaze in eye
  contact (listeners look at the speaker most of the time).
- ``conversation.gaze_aversion_rate``: gaze aversions (at least 0.3 s out of contact, after
  contact) per minute of speaking (speakers look away while they plan what to say).
- ``expressiveness.gaze_shift_per_min``: shifts of the eyes in the head (the eye-in-head angle
  of the 0.1 s after a frame differs by >= 8 deg from the 0.1 s before it) per minute of measured
  gaze: 0 for frozen eyes.

Durations are seconds, converted at the video's own frame rate (:mod:`.signals`). The target
ranges are provisional. The eye-contact range is the literature's (listeners look at the speaker
60-90 % of the time: Argyle & Cook 1976); the other two span what 20 real recordings of people
(LivePortrait, SadTalker and V-Express example clips, people talking or acting into the camera,
4-34 s each; measured 2026-12-01) show, which starts at 0: people talking into a camera may not
look away or move their eyes for 8 s. A human reference built on conversational recordings
(``lpmbench reference build``) replaces these ranges per context.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from lpmbench.features import STATE_LISTEN, STATE_SPEAK, Features
from lpmbench.metric_api import Metric, MetricContext, MetricOutput, MetricSpec, MetricUnavailable

from .signals import fill_nan, frames, odd_frames, runs, series_t

EYE_X_PER_SIN = 0.8  # normalised iris offset per sin(eye-in-head angle): 12 mm eyeball radius / 15 mm
CONTACT_YAW_DEG = 10.0  # horizontal cone of eye contact (head + eyes)
CONTACT_PITCH_DEG = 15.0  # vertical cone (head pitch)
SMOOTH_S = 0.1  # median filter of the iris offset
AVERSION_MIN_S = 0.3  # shortest look-away that counts as an aversion
SHIFT_DEG = 8.0  # eye-in-head change that is a gaze shift ...
SHIFT_WITHIN_S = 0.1  # ... when it happens within this time
MIN_LISTEN_S = 1.0  # listening with a measured gaze needed for the contact ratio
MIN_SPEAK_S = 3.0  # speaking with a measured gaze needed for an aversion rate
MIN_GAZE_S = 3.0  # measured gaze needed for a shift rate


# -- pure helpers ------------------------------------------------------------------------------------
def eye_yaw_deg(x: np.ndarray) -> np.ndarray:
    """Eye-in-head horizontal angle (deg, > 0 toward image right) of normalised iris offsets."""
    return np.degrees(np.arcsin(np.clip(np.asarray(x, dtype=float) / EYE_X_PER_SIN, -1.0, 1.0)))


def smooth_gaze_x(f: Features) -> np.ndarray:
    """The iris offset x (T,) after a SMOOTH_S median filter; NaN where no eye was measured."""
    g = np.asarray(f.get("gaze"), dtype=float)
    ok = np.asarray(f.get("gaze_valid"), dtype=bool) & np.isfinite(g[:, 0])
    if not ok.any():
        raise MetricUnavailable("no eye measured in any frame (closed, too small or no face)")
    x = median_filter(fill_nan(g[:, 0]), size=odd_frames(SMOOTH_S, f.fps), mode="nearest")
    x[~ok] = np.nan
    return x


def gaze_direction(f: Features) -> tuple[np.ndarray, np.ndarray]:
    """(gaze yaw, pitch) in degrees per frame (module formula); NaN without an eye or a pose."""
    pose = np.asarray(f.get("pose_deg"), dtype=float)
    return pose[:, 0] + eye_yaw_deg(smooth_gaze_x(f)), pose[:, 1]


def eye_contact(yaw: np.ndarray, pitch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(measured, in contact) per frame."""
    ok = np.isfinite(yaw) & np.isfinite(pitch)
    with np.errstate(invalid="ignore"):
        return ok, ok & (np.abs(yaw) <= CONTACT_YAW_DEG) & (np.abs(pitch) <= CONTACT_PITCH_DEG)


def aversions(ok: np.ndarray, contact: np.ndarray, starting: np.ndarray, fps: float) -> list[tuple[int, int]]:
    """Runs of measured frames out of contact, at least AVERSION_MIN_S long, starting right after a
    frame in contact, at a frame where ``starting`` is true (a pause in the speech may follow)."""
    n_min = frames(AVERSION_MIN_S, fps)
    return [(a, b) for a, b in runs(ok & ~contact) if b - a >= n_min and a > 0 and contact[a - 1] and starting[a]]


def gaze_shifts(x: np.ndarray, fps: float) -> list[int]:
    """Frames t where the mean eye-in-head angle over the SHIFT_WITHIN_S after t differs by >=
    SHIFT_DEG from the mean over the SHIFT_WITHIN_S before it, both windows fully measured (so a
    one-frame outlier or a blink's edge is no shift); one per run of such frames."""
    ang = eye_yaw_deg(x)
    w = frames(SHIFT_WITHIN_S, fps)
    big = np.zeros(len(ang), dtype=bool)
    if len(ang) >= 2 * w:
        c = np.concatenate([[0.0], np.cumsum(np.nan_to_num(ang))])
        k = np.concatenate([[0], np.cumsum(np.isfinite(ang))])
        t = np.arange(w, len(ang) - w + 1)
        full = (k[t] - k[t - w] == w) & (k[t + w] - k[t] == w)
        big[t] = full & (np.abs((c[t + w] - c[t]) - (c[t] - c[t - w])) >= SHIFT_DEG * w)
    return [a for a, _ in runs(big)]


def _spec(name: str, dimension: str, target: tuple[float, float], unit: str, description: str, validity: str,
          limits: str) -> MetricSpec:
    return MetricSpec(name=name, dimension=dimension, direction="target", target=target, version=1,
                      backend="landmarks", unit=unit, description=description, validity=validity, limits=limits,
                      natural=True)


SPEC_CONTACT = _spec(
    "conversation.eye_contact_ratio", "conversation", (0.6, 0.95), "fraction",
    "Fraction of listen frames with a measured gaze in which the character looks at the camera: |head yaw + "
    "eye-in-head yaw| <= 10 deg and |head pitch| <= 15 deg (eye-in-head yaw = asin(iris offset / 0.8), the iris "
    "offset median-filtered over 0.1 s). Listeners look at the speaker most of the time.",
    "Controlled clips (tests/test_gaze.py): a listener looking at the camera 1.0; the same with the irises "
    "turned by 0.45 half eye widths for 3 of its 6 s 0.39. Over all frames (no listening there) real recordings of "
    "people talking into the camera 0.54-1.0, VASA-1 outputs 0.47-0.99 (median 0.91).",
    "Vertical gaze is the head's pitch only; the cone assumes the reference image faces the camera; the iris "
    "offset is measured between the lids, so heavy squints read as closed eyes (no value).",
)
SPEC_AVERSION = _spec(
    "conversation.gaze_aversion_rate", "conversation", (0.0, 30.0), "1/min",
    "Gaze aversions per minute of speaking (speak frames with a measured gaze): runs of >= 0.3 s out of eye "
    "contact (see eye_contact_ratio) that start in a speak frame right after a frame in contact.",
    "Controlled clips: a speaker staring at the camera 0/min; the same looking away (irises turned 0.45 half eye "
    "widths) three times for 0.6 s in 5.7 s of speech: the three found, 31.5/min. Real recordings of people "
    "talking into the camera: 0-32/min (median 0, 8 clips); VASA-1 outputs 0-14/min.",
    "Needs >= 3 s of speaking with a measured gaze. Head turns count as aversions.",
)
SPEC_SHIFTS = _spec(
    "expressiveness.gaze_shift_per_min", "expressiveness", (0.0, 140.0), "1/min",
    "Gaze shifts per minute of measured gaze: the mean eye-in-head yaw (asin(iris offset / 0.8), median-filtered "
    "over 0.1 s) over the 0.1 s after a frame differs by >= 8 deg from the mean over the 0.1 s before it (both "
    "windows measured); one count per such run. Frozen eyes score 0.",
    "Controlled clips: still eyes 0/min; three iris jumps (0 -> +0.3 -> -0.3 -> 0 half eye widths; measured "
    "eye-in-head yaw +10.8 and -16.2 deg) in 4 s: exactly 3, 45/min. Real recordings: 0-147/min (median 42, 20 "
    "clips; people talking into the camera 0-58); VASA-1 outputs 0-116/min (median 18).",
    "Needs >= 3 s of measured gaze. Blinks leave the gaze unmeasured (NaN), not shifted; landmark jitter on "
    "small faces (IOD < 40 px) can add shifts.",
)


class EyeContact(Metric):
    """Eye contact while listening; also publishes the gaze-direction curve."""

    specs = (SPEC_CONTACT,)
    requires = ("gaze", "gaze_valid", "pose_deg", "state", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        yaw, pitch = gaze_direction(f)
        ok, contact = eye_contact(yaw, pitch)
        out = MetricOutput(series={"gaze.yaw_deg": {"t": series_t(f), "y": yaw.astype(np.float32),
                                                    "label": "gaze yaw (head + eyes, deg)"}})
        sel = ok & (np.asarray(f.get("state")) == STATE_LISTEN)
        if sel.sum() < MIN_LISTEN_S * f.fps:
            out.unavailable[SPEC_CONTACT.name] = (f"too little listening with a measured gaze ({sel.sum() / f.fps:.2f} s "
                                                  f"< {MIN_LISTEN_S} s)")
        else:
            out.values[SPEC_CONTACT.name] = float(contact[sel].mean())
        return out


class GazeAversion(Metric):
    """Looking away while speaking."""

    specs = (SPEC_AVERSION,)
    requires = ("gaze", "gaze_valid", "pose_deg", "state", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        ok, contact = eye_contact(*gaze_direction(f))
        speak = np.asarray(f.get("state")) == STATE_SPEAK
        seconds = float((ok & speak).sum()) / f.fps
        if seconds < MIN_SPEAK_S:
            raise MetricUnavailable(f"too little speaking with a measured gaze ({seconds:.2f} s < {MIN_SPEAK_S} s)")
        events = aversions(ok, contact, speak, f.fps)
        return MetricOutput(values={SPEC_AVERSION.name: len(events) / (seconds / 60.0)},
                            details={"aversions": [{"t": round(a / f.fps, 3), "s": round((b - a) / f.fps, 3)}
                                                   for a, b in events]})


class GazeShifts(Metric):
    """How often the eyes move in the head."""

    specs = (SPEC_SHIFTS,)
    requires = ("gaze", "gaze_valid", "fps")

    def compute(self, ctx: MetricContext) -> MetricOutput:
        f = ctx.features
        x = smooth_gaze_x(f)
        seconds = float(np.isfinite(x).sum()) / f.fps
        if seconds < MIN_GAZE_S:
            raise MetricUnavailable(f"too little measured gaze ({seconds:.2f} s < {MIN_GAZE_S} s)")
        at = gaze_shifts(x, f.fps)
        return MetricOutput(values={SPEC_SHIFTS.name: len(at) / (seconds / 60.0)},
                            details={"shifts_s": [round(a / f.fps, 3) for a in at]})


METRICS: list[Metric] = [EyeContact(), GazeAversion(), GazeShifts()]
