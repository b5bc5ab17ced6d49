"""WORLD vocoder (pyworld) transforms of synthesised speech: new speakers and singing.

* :func:`reshape_voice` scales the pitch contour (level and range) and shifts the spectral
  envelope (formants). From one neural speaker this makes clearly different voices (a male
  voice at F0 x1.7 and formants x1.15 reads as a woman's), and carries emotional prosody
  (a wider or narrower pitch range).
* :func:`sing` imposes a melody on speech: voiced stretches (roughly, syllable nuclei) are
  matched to the notes in order, time-stretched to the notes' lengths, and given the notes'
  pitches with a glide and vibrato; consonants keep their length. No singing synthesiser
  ships in a package; this is speech-to-singing conversion, and it sounds like it.

Everything is deterministic (no random state).
"""
from __future__ import annotations

import numpy as np

FRAME_MS = 5.0
F0_FLOOR, F0_CEIL = 60.0, 800.0


def world_version() -> str:
    from importlib.metadata import version

    return f"pyworld {version('pyworld')}"


def analyse(x: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(f0 Hz per 5 ms frame, 0 where unvoiced; spectral envelope; aperiodicity)."""
    import pyworld as pw

    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pw.dio(x, rate, f0_floor=F0_FLOOR, f0_ceil=F0_CEIL, frame_period=FRAME_MS)
    f0 = pw.stonemask(x, f0, t, rate)
    return f0, pw.cheaptrick(x, f0, t, rate), pw.d4c(x, f0, t, rate)


def synthesize(f0: np.ndarray, sp: np.ndarray, ap: np.ndarray, rate: int) -> np.ndarray:
    import pyworld as pw

    y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp), np.ascontiguousarray(ap), rate, FRAME_MS)
    return y.astype(np.float32)


def warp_envelope(env: np.ndarray, factor: float) -> np.ndarray:
    """Move every spectral feature up in frequency by ``factor`` (formant shift)."""
    bins = np.arange(env.shape[1], dtype=np.float64)
    src = np.clip(bins / factor, 0, env.shape[1] - 1)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, env.shape[1] - 1)
    w = src - lo
    return env[:, lo] * (1 - w) + env[:, hi] * w


def reshape_voice(x: np.ndarray, rate: int, *, f0: float = 1.0, f0_range: float = 1.0, formant: float = 1.0) -> np.ndarray:
    """Pitch x ``f0`` and pitch range x ``f0_range`` (around the median, in log frequency),
    spectral envelope shifted by ``formant``; timing untouched."""
    track, sp, ap = analyse(x, rate)
    v = track > 0
    if v.any():
        lf = np.log(track[v])
        mid = float(np.median(lf))
        track[v] = np.exp(mid + f0_range * (lf - mid)) * f0
    if formant != 1.0:
        sp, ap = warp_envelope(sp, formant), np.clip(warp_envelope(ap, formant), 0.0, 1.0)
    return synthesize(track, sp, ap, rate)


# ---------------------------------------------------------------------------------- singing
def voiced_runs(f0: np.ndarray, min_frames: int = 4, bridge: int = 3) -> list[tuple[int, int]]:
    """[start, end) frame ranges where f0 > 0, bridging gaps of < ``bridge`` frames."""
    runs: list[list[int]] = []
    for i in np.flatnonzero(f0 > 0):
        if runs and i - runs[-1][1] < bridge:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])
    return [(a, b) for a, b in runs if b - a >= min_frames]


def _fit_runs(runs: list[tuple[int, int]], n: int, energy: np.ndarray) -> list[tuple[int, int]]:
    """Exactly ``n`` runs: merge the closest neighbours or split the longest at an energy dip."""
    runs = list(runs)
    while len(runs) > n:
        gaps = [runs[i + 1][0] - runs[i][1] for i in range(len(runs) - 1)]
        i = int(np.argmin(gaps))
        runs[i : i + 2] = [(runs[i][0], runs[i + 1][1])]
    while len(runs) < n:
        i = int(np.argmax([b - a for a, b in runs]))
        a, b = runs[i]
        if b - a < 8:
            raise ValueError(f"sing: cannot split {len(runs)} voiced stretches into {n} notes")
        lo, hi = a + (b - a) // 4, b - (b - a) // 4
        cut = lo + int(np.argmin(energy[lo:hi]))
        runs[i : i + 1] = [(a, cut), (cut, b)]
    return runs


def _stretch(frames: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation of spectral frames (log domain) to ``n`` frames."""
    if n <= 0:
        return frames[:0]
    pos = np.linspace(0, len(frames) - 1, n)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(frames) - 1)
    w = (pos - lo)[:, None]
    lf = np.log(np.maximum(frames, 1e-16))
    return np.exp(lf[lo] * (1 - w) + lf[hi] * w)


def midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def sing(x: np.ndarray, rate: int, notes: tuple[tuple[int | None, float], ...], bpm: float) -> np.ndarray:
    """Sing speech ``x`` to ``notes`` ((MIDI note or None for a rest, beats), ...) at ``bpm``.

    The melody is transposed by whole semitones so that its median sits at the speaker's median
    pitch. The number of sung notes must be close to the number of syllables of the text."""
    f0, sp, ap = analyse(x, rate)
    energy = np.log(np.maximum(sp.sum(axis=1), 1e-16))
    sung = [n for n, _ in notes if n is not None]
    voiced = f0[f0 > 0]
    if not sung or voiced.size == 0:
        raise ValueError("sing: no notes or no voiced speech")
    shift = round(12 * np.log2(float(np.median(voiced)) / midi_hz(float(np.median(sung)))))
    runs = _fit_runs(voiced_runs(f0), len(sung), energy)
    frame_s = FRAME_MS / 1000.0
    silent_sp = np.full((1, sp.shape[1]), 1e-12)
    out_f0, out_sp, out_ap = [], [], []
    prev_hz = None
    prev_end = 0
    k = 0
    for note, beats in notes:
        n_frames = max(2, int(round(beats * 60.0 / bpm / frame_s)))
        if note is None:
            out_f0.append(np.zeros(n_frames))
            out_sp.append(np.repeat(silent_sp, n_frames, axis=0))
            out_ap.append(np.ones((n_frames, ap.shape[1])))
            prev_hz = None
            continue
        a, b = runs[k]
        k += 1
        gap = min(a - prev_end, 24, n_frames // 2)  # the consonant before the vowel, at most 120 ms
        prev_end = b
        if gap > 0:
            out_f0.append(np.zeros(gap))
            out_sp.append(sp[a - gap : a])
            out_ap.append(ap[a - gap : a])
        m = n_frames - gap
        hz = midi_hz(note + shift)
        t = np.arange(m) * frame_s
        contour = np.full(m, hz)
        if prev_hz is not None:  # a 40 ms glide from the previous note
            g = min(m, 8)
            contour[:g] = np.geomspace(prev_hz, hz, g)
        vib = 0.35 * np.sin(2 * np.pi * 5.5 * t) * np.clip((t - 0.15) / 0.2, 0, 1)  # semitones, fading in
        out_f0.append(contour * 2.0 ** (vib / 12.0))
        out_sp.append(_stretch(sp[a:b], m))
        out_ap.append(np.clip(_stretch(np.maximum(ap[a:b], 1e-6), m), 0.0, 1.0))
        prev_hz = hz
    return synthesize(np.concatenate(out_f0), np.vstack(out_sp), np.vstack(out_ap), rate)
