"""The puppet's behaviour driver: audio levels, schedules and prompt events -> :class:`Controls`,
one frame at a time (see :mod:`lpmbench.adapters.puppet` for what drives what)."""
from __future__ import annotations

import math

import numpy as np

from ...case import ACTIONS, Case, PromptEvent
from .rig import Controls

# Audio level (dBFS) mapping of the mouth: below the gate the mouth rests, at FULL it is open.
MOUTH_GATE_DB, MOUTH_FULL_DB = -45.0, -18.0
MOUTH_ATTACK_S, MOUTH_RELEASE_S = 0.04, 0.06  # time constants of the mouth following the level
VOICED_DB = -45.0  # a track is "voiced" above this level (with a hangover, see PuppetDriver)


def _alpha(dt: float, tau: float) -> float:
    """One-pole smoothing coefficient for time step ``dt`` and time constant ``tau`` (s)."""
    return 1.0 - math.exp(-dt / max(tau, 1e-6))


def _ramp(t: float, start: float, end: float, rise: float) -> float:
    """0 outside [start, end], easing to 1 over ``rise`` seconds at both ends."""
    if t < start or t >= end:
        return 0.0
    rise = max(min(rise, 0.5 * (end - start)), 1e-6)
    u = min((t - start) / rise, (end - t) / rise, 1.0)
    return 0.5 * (1.0 - math.cos(math.pi * u))


def _cycles(t: float, start: float, end: float, period: float) -> tuple[float, float] | None:
    """Phase in [0, 1) and period of a whole number of cycles fitted into [start, end]; None outside."""
    span = end - start
    period = min(period, span)
    n = max(1, int(span / period))
    if not (start <= t < start + n * period):
        return None
    return ((t - start) / period) % 1.0, period


class PuppetDriver:
    """Turns the frame-by-frame audio levels and prompt events of a case into :class:`Controls`.

    Deterministic: everything random is drawn from ``rng`` (seeded from the case id), and
    schedules (blinks, sway) are drawn up front; listening nods draw their lag when triggered.
    """

    def __init__(self, case: Case, rng: np.random.Generator, *, blink_rate_per_min: float = 15.0,
                 sway_deg: float = 2.0, nod_deg: float = 10.0, listen_nods: bool = True, lag_frames: int = 0,
                 look_deg: float = 18.0, shake_deg: float = 15.0, idle_expression: float = 1.0,
                 blinks: bool = True):
        self.fps = float(case.fps)
        self.dt = 1.0 / self.fps
        self.rng = rng
        self.sway_deg, self.nod_deg = float(sway_deg), float(nod_deg)
        self.look_deg, self.shake_deg = float(look_deg), float(shake_deg)
        self.expression = float(idle_expression)
        self.listen_nods, self.lag_frames = bool(listen_nods), max(0, int(lag_frames))
        self.blinks = self._blink_schedule(case.duration, blink_rate_per_min) if blinks else []
        # Sway: three slow sinusoids per channel (yaw, pitch, roll, tx, ty, smile, brows), random
        # phase and weight; each channel stays within [-1, 1].
        self._sway_f = rng.uniform(0.05, 0.35, size=(7, 3))
        self._sway_f[5:] *= 2.0  # expressions change faster than the head sways
        self._sway_ph = rng.uniform(0, 2 * np.pi, size=(7, 3))
        w = rng.uniform(0.5, 1.0, size=(7, 3))
        self._sway_w = w / w.sum(axis=1, keepdims=True)
        self._tilt = float(rng.choice([-1.0, 1.0]))  # which way the listener tilts the head
        # state
        self._levels: list[float] = []  # agent dB history for lag_frames
        self.mouth = 0.0
        self._speech_slow = 0.0
        self._agent_hold = 0.0  # seconds of hangover left
        self._partner_hold = 0.0
        self.listen = 0.0  # smoothed listening weight
        self._next_nod_ok = 0.0
        self._turn = 0.0  # seconds the agent has been listening in this turn
        self._partner_avg: float | None = None  # running level (dB) of the partner's voiced frames
        self.nods: list[tuple[float, float, float]] = []  # (start, duration, amplitude deg)

    def _blink_schedule(self, duration: float, rate: float) -> list[tuple[float, float]]:
        """(start, duration) of each blink: gamma-distributed intervals around 60/rate seconds."""
        if rate <= 0:
            return []
        mean = 60.0 / rate
        out, t = [], float(self.rng.uniform(0.3, min(2.0, mean)))
        while t < duration:
            d = max(float(self.rng.uniform(0.14, 0.2)), 3.5 / self.fps)  # ~3-5 frames at 25 fps
            out.append((t, d))
            t += d + float(np.clip(self.rng.gamma(4.0, mean / 4.0), 0.8, 3 * mean))
        return out

    def _blink(self, t: float) -> float:
        for t0, d in self.blinks:
            if t0 <= t < t0 + d:
                return math.sin(math.pi * (t - t0) / d) ** 0.5
            if t0 > t:
                break
        return 0.0

    def _sway(self, t: float) -> np.ndarray:
        return (self._sway_w * np.sin(2 * np.pi * self._sway_f * t + self._sway_ph)).sum(axis=1)

    def step(self, k: int, agent_db: float, partner_db: float, events: list[PromptEvent]) -> Controls:
        t, dt = k * self.dt, self.dt
        # -- mouth from the agent level, delayed by lag_frames ---------------------------------
        self._levels.append(agent_db)
        lvl = self._levels[-1 - self.lag_frames] if len(self._levels) > self.lag_frames else -90.0
        del self._levels[: max(0, len(self._levels) - self.lag_frames - 1)]
        target = float(np.clip((lvl - MOUTH_GATE_DB) / (MOUTH_FULL_DB - MOUTH_GATE_DB), 0.0, 1.0))
        tau = MOUTH_ATTACK_S if target > self.mouth else MOUTH_RELEASE_S  # open fast, close slower
        self.mouth += (target - self.mouth) * _alpha(dt, tau)
        self._speech_slow += (self.mouth - self._speech_slow) * _alpha(dt, 0.3)
        # -- who is speaking -------------------------------------------------------------------
        self._agent_hold = 0.4 if agent_db > VOICED_DB else max(0.0, self._agent_hold - dt)
        partner_voiced = partner_db > VOICED_DB
        self._partner_hold = 0.4 if partner_voiced else max(0.0, self._partner_hold - dt)
        listening = self._partner_hold > 0 and self._agent_hold <= 0
        self.listen += (float(listening) - self.listen) * _alpha(dt, 0.35)
        self._turn = self._turn + dt if listening else 0.0
        stressed = False
        if partner_voiced:
            if self._partner_avg is None:
                self._partner_avg = partner_db
            stressed = partner_db > self._partner_avg + 3.0  # a stressed syllable of the partner
            self._partner_avg += (partner_db - self._partner_avg) * _alpha(dt, 2.0)
        # Backchannel: nod at a stressed syllable once the partner has talked a while (or after a
        # long stretch without one), 0.3-0.8 s later, then rest 3-5.5 s (~6-12 nods a minute).
        if (self.listen_nods and listening and partner_voiced and self._turn >= 0.6
                and t >= self._next_nod_ok and (stressed or t >= self._next_nod_ok + 2.0)):
            lag = float(self.rng.uniform(0.3, 0.8))  # human backchannel reaction time
            dur = float(self.rng.uniform(0.5, 0.75))
            amp = self.nod_deg * float(self.rng.uniform(0.85, 1.15))
            self.nods.append((t + lag, dur, amp))
            self._next_nod_ok = t + lag + dur + float(self.rng.uniform(3.0, 5.5))
        # -- pose ------------------------------------------------------------------------------
        sway = self._sway(t)
        yaw = self.sway_deg * sway[0]
        pitch = self.sway_deg * 0.7 * sway[1] + 1.0 * self._speech_slow  # a slight bob with speech
        roll = self.sway_deg * 0.6 * sway[2] + 2.5 * self._tilt * self.listen
        tx, ty = 0.015 * self.sway_deg * sway[3], 0.01 * self.sway_deg * sway[4]  # IOD units
        # A living face: slow small smile and brow changes; a listener smiles a little more.
        smile = self.expression * (0.15 + 0.15 * sway[5] + 0.3 * self.listen)
        brows = self.expression * 0.4 * max(0.0, sway[6])
        gate = min(1.0, 1.5 * self.listen)  # a nod in progress fades if the agent starts talking
        for t0, d, amp in self.nods:
            if t0 <= t < t0 + d:
                shape = 0.5 * (1.0 - math.cos(2 * math.pi * (t - t0) / d))
                pitch += gate * amp * shape
                brows = max(brows, self.expression * gate * shape)  # brows go up with the nod
        self.nods = [n for n in self.nods if n[0] + n[1] > t]
        eyes = self._blink(t)
        for ev in events:
            if ev.action is None or ev.action not in ACTIONS or not (ev.start <= t < ev.end):
                continue
            a, s, e = ev.action, ev.start, ev.end
            if a == "nod":
                cyc = _cycles(t, s, e, 0.7)
                if cyc:
                    pitch += self.nod_deg * 0.5 * (1.0 - math.cos(2 * math.pi * cyc[0]))
            elif a == "shake_head":
                cyc = _cycles(t, s, e, 0.8)
                if cyc:
                    yaw += self.shake_deg * math.sin(2 * math.pi * cyc[0])
            elif a in ("look_left", "look_right"):
                yaw += (1.0 if a == "look_left" else -1.0) * self.look_deg * _ramp(t, s, e, 0.3)
            elif a == "smile":
                smile = max(smile, _ramp(t, s, e, 0.25))
            elif a == "raise_eyebrows":
                brows = max(brows, _ramp(t, s, e, 0.2))
            elif a == "close_eyes":
                eyes = max(eyes, _ramp(t, s, e, 0.1))
        return Controls(yaw=yaw, pitch=pitch, roll=roll, tx=tx, ty=ty, mouth=self.mouth,
                        smile=smile, brows=brows, eyes_closed=eyes)
