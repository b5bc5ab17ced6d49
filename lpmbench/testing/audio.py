"""Controlled audio for tests and benchmarks: espeak-ng speech placed on a timeline, synthetic
syllable-rhythm signals, the RMS envelope at the video frame rate (the analysis pass's framing),
mouth tracks derived from it and audio shifted by whole frames.

Nothing is downloaded: speech comes from Debian's espeak-ng, resampled to 16 kHz. So a test knows
the truth: when the voice starts, by how many frames the video lags the audio.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..case import AUDIO_RATE
from ..media import load_audio

FPS = 25  # frame rate of the audio-visual fixture clips
HOP = AUDIO_RATE // FPS  # audio samples per video frame


# -- speech ---------------------------------------------------------------------------------------
def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak(text: str, voice: str | None = None, speed: int | None = None, pitch: int | None = None) -> np.ndarray:
    """espeak-ng's speech of ``text`` as float32 mono at 16 kHz, as it speaks it (espeak-ng's
    defaults where ``voice``, ``speed`` (words per minute) or ``pitch`` (0-99) are None)."""
    if not have_espeak():
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    opts = [(flag, v) for flag, v in (("-v", voice), ("-s", speed), ("-p", pitch)) if v is not None]
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", *[str(x) for o in opts for x in o], "-w", str(wav), text],
                       check=True, capture_output=True)
        return load_audio(wav)


@functools.lru_cache(maxsize=None)
def speech(text: str, voice: str = "en", speed: int = 160, pitch: int = 50) -> np.ndarray:
    """espeak-ng speech trimmed of leading/trailing near-silence, peak 0.5."""
    a = espeak(text, voice, speed, pitch)
    loud = np.flatnonzero(np.abs(a) > 0.02 * np.abs(a).max())
    a = a[loud[0]: loud[-1] + 1]
    return (0.5 * a / np.abs(a).max()).astype(np.float32)


def fit_speech(text: str, seconds: float, **kw) -> np.ndarray:
    """:func:`speech` of ``text`` cut to at most ``seconds``."""
    return speech(text, **kw)[: int(seconds * AUDIO_RATE)]


def place(duration: float, parts: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """A track of ``duration`` s with each (t0, samples) part placed at t0 (cut at the end)."""
    out = np.zeros(int(round(duration * AUDIO_RATE)), np.float32)
    for t0, x in parts:
        i = int(round(t0 * AUDIO_RATE))
        n = max(0, min(len(x), len(out) - i))
        out[i:i + n] += x[:n]
    return out


def two_phrase_agent(duration: float = 4.0) -> np.ndarray:
    """Agent speech: a phrase at 0.4 s, a pause, a phrase at 2.3 s (each at most 1.4 s)."""
    return place(duration, [(0.4, fit_speech("Hello there, how are you doing today", 1.4)),
                            (2.3, fit_speech("I am fine, thank you very much", 1.4))])


# -- synthetic speech-like signals (no espeak-ng needed) ------------------------------------------
def syllable_audio(seconds: float, sr: int = AUDIO_RATE, seed: int = 0) -> np.ndarray:
    """Speech-like test audio: band-limited noise with a 3.1 Hz syllable envelope (not real speech)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    env = np.maximum(0.0, np.sin(2 * np.pi * 3.1 * t)) ** 2
    carrier = np.sin(2 * np.pi * 160 * t) + 0.5 * np.sin(2 * np.pi * 320 * t) + 0.2 * rng.standard_normal(len(t))
    return (0.2 * env * carrier).astype(np.float32)


def voiced_syllables(seconds: float, seed: int = 1) -> np.ndarray:
    """Voiced 'syllables' (a 140 Hz harmonic tone, 120-250 ms each) separated by short pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * AUDIO_RATE)
    t = np.arange(n) / AUDIO_RATE
    carrier = sum(np.sin(2 * np.pi * 140 * h * t) / h for h in range(1, 8)).astype(np.float32)
    env = np.zeros(n, np.float32)
    pos = int(0.2 * AUDIO_RATE)
    while pos < n:
        d = int(rng.uniform(0.12, 0.25) * AUDIO_RATE)
        env[pos : pos + d] = np.sin(np.linspace(0, np.pi, len(env[pos : pos + d]))) * rng.uniform(0.3, 1.0)
        pos += d + int(rng.uniform(0.05, 0.35) * AUDIO_RATE)
    return 0.2 * carrier * env


# -- framing and shifts ---------------------------------------------------------------------------
def envelope(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """RMS per video frame (HOP samples), the same framing the analysis pass uses."""
    a = np.pad(audio, (0, max(0, n_frames * HOP - len(audio))))[: n_frames * HOP]
    return np.sqrt((a.reshape(n_frames, HOP).astype(float) ** 2).mean(axis=1))


def mouth_drive(env: np.ndarray, smooth: int = 3) -> np.ndarray:
    """Mouth opening in [0, 1] from an envelope: lightly smoothed, normalised to its 95th percentile."""
    e = np.convolve(env, np.ones(smooth) / smooth, mode="same") if smooth > 1 else env.copy()
    top = np.percentile(e[e > 0], 95) if (e > 0).any() else 1.0
    return np.clip(e / top, 0, 1)


def shift_frames(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` delayed by k frames (advanced when k < 0), edges held at 0."""
    out = np.zeros_like(x)
    if k >= 0:
        out[k:] = x[: len(x) - k]
    else:
        out[:k] = x[-k:]
    return out


def advance_audio(audio: np.ndarray, k: int) -> np.ndarray:
    """Audio moved k frames earlier (k < 0: later). Against an unchanged video the video is then
    k frames late: lipsync.av_offset_frames should read +k."""
    n = k * HOP
    out = np.zeros_like(audio)
    if n >= 0:
        out[: len(audio) - n] = audio[n:]
    else:
        out[-n:] = audio[: len(audio) + n]
    return out


def write_wav(path: str | Path, audio: np.ndarray) -> Path:
    """16 kHz 16-bit PCM WAV (folders created)."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(audio, dtype=np.float32), AUDIO_RATE, subtype="PCM_16")
    return path
