"""Place utterances of the agent and its partner on a two-track timeline and render the tracks.

A case's script is a list of :class:`Say` and :class:`Pause` events, played in order: each
utterance starts after the previous one ends plus a small random gap (seeded), or overlaps it
by ``overlap`` seconds (an interruption). Both tracks cover the whole case (silence where that
side does not speak), as lpmbench's case format requires.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence, Union

import numpy as np

RATE = 16000


@dataclass(frozen=True)
class Say:
    who: str  # "agent" (the character speaks) or "partner" (the character hears)
    text: str
    overlap: float = 0.0  # seconds this utterance starts before the previous one ends
    prosody: dict | None = None  # optional Voice overrides (speed, pitch, amplitude) for emotion
    voice: object = None  # this utterance's own voice (an emotional or sung variant), else the case's


@dataclass(frozen=True)
class Pause:
    seconds: float  # extra silence on both tracks (the character idles)


Event = Union[Say, Pause]


@dataclass(frozen=True)
class Segment:
    who: str
    start: float
    end: float
    text: str
    voice: str  # the synthesis parameters that produced it (the voice's describe())

    def to_dict(self) -> dict:
        return {"who": self.who, "start": round(self.start, 3), "end": round(self.end, 3), "text": self.text, "voice": self.voice}


def place(
    events: Sequence[Event],
    speak: Callable[[Say], tuple[np.ndarray, str]],
    *,
    rng: np.random.Generator,
    lead_in: float = 0.5,
    gap: tuple[float, float] = (0.35, 0.9),
    until: float | None = None,
) -> tuple[list[Segment], dict[str, list[tuple[int, np.ndarray]]], float]:
    """Lay ``events`` out in time. ``speak(say)`` returns (16 kHz samples, voice description).
    With ``until``, the script stops at the first event that would end after ``until`` seconds
    (a long case filled to its length; the events after it are never synthesised).

    Returns the segments, per side the (start sample, samples) pieces to mix, and the time at
    which the script ends (after any trailing pause)."""
    t = lead_in
    prev_end: float | None = None
    segments: list[Segment] = []
    pieces: dict[str, list[tuple[int, np.ndarray]]] = {"agent": [], "partner": []}
    for ev in events:
        if isinstance(ev, Pause):
            if ev.seconds <= 0:
                raise ValueError(f"Pause must be positive, got {ev.seconds}")
            if until is not None and t + ev.seconds > until:
                break
            t += ev.seconds
            continue
        if ev.who not in pieces:
            raise ValueError(f"Say.who must be 'agent' or 'partner', got {ev.who!r}")
        samples, voice = speak(ev)
        if prev_end is not None:
            if ev.overlap > 0:
                t = max(prev_end - ev.overlap, 0.0)  # an interruption: start before the previous end
            else:
                t += float(rng.uniform(*gap))
        start = round(t * RATE)  # whole samples, so segment times match the audio exactly
        end_t = (start + len(samples)) / RATE
        if until is not None and end_t > until:
            break
        segments.append(Segment(ev.who, start / RATE, end_t, ev.text, voice))
        pieces[ev.who].append((start, samples))
        t = prev_end = end_t
    return segments, pieces, t


def auto_duration(script_end: float, *, tail: float = 0.6, minimum: float = 0.0) -> float:
    """Whole seconds covering the script plus ``tail`` (whole seconds keep frame counts integral)."""
    return float(max(math.ceil(script_end + tail - 1e-9), math.ceil(minimum)))


def render(pieces: list[tuple[int, np.ndarray]], duration: float) -> np.ndarray:
    """Mix pieces into one track of exactly ``duration`` seconds at 16 kHz."""
    n = int(round(duration * RATE))
    out = np.zeros(n, np.float32)
    for start, x in pieces:
        if start + len(x) > n:
            raise ValueError(f"utterance ending at {(start + len(x)) / RATE:.2f} s does not fit in {duration:.2f} s")
        out[start : start + len(x)] += x
    np.clip(out, -1.0, 1.0, out=out)
    return out
