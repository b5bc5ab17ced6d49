"""Controlled audio for the lip-sync and conversation tests, on top of ``media_factory`` (videos).

Everything is generated, nothing is downloaded: speech comes from Debian's espeak-ng, resampled to
16 kHz; the face videos come from ``media_factory.make_clip`` (astronaut photo, warps driven by
tracks we choose). This module adds what the audio-visual tests need beyond it: speech placed on a
timeline, its RMS envelope at the video frame rate (the analysis pass's framing), a mouth track
derived from an envelope, audio shifted by whole frames, one video re-scored against other
soundtracks, nod pitch tracks, and the analysis pass itself with a shared cache.

So a test knows the truth: by how many frames the video lags the audio, when the mouth opens, how
many nods there are.
"""
from __future__ import annotations

import dataclasses
import functools
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from lpmbench.case import AUDIO_RATE, Case
from lpmbench.media import load_audio

FPS = 25
HOP = AUDIO_RATE // FPS  # audio samples per video frame


# -- audio ------------------------------------------------------------------------------------------
def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


@functools.lru_cache(maxsize=None)
def speech(text: str, voice: str = "en", speed: int = 160, pitch: int = 50) -> np.ndarray:
    """espeak-ng speech as float32 mono at 16 kHz, trimmed of leading/trailing near-silence."""
    if not have_espeak():
        raise RuntimeError("espeak-ng is not installed (apt install espeak-ng)")
    with tempfile.TemporaryDirectory() as d:
        wav = Path(d) / "s.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav), text],
                       check=True, capture_output=True)
        a = load_audio(wav)
    loud = np.flatnonzero(np.abs(a) > 0.02 * np.abs(a).max())
    a = a[loud[0]: loud[-1] + 1]
    return (0.5 * a / np.abs(a).max()).astype(np.float32)


def place(duration: float, parts: list[tuple[float, np.ndarray]]) -> np.ndarray:
    """A track of ``duration`` s with each (t0, samples) part placed at t0 (cut at the end)."""
    out = np.zeros(int(round(duration * AUDIO_RATE)), np.float32)
    for t0, x in parts:
        i = int(round(t0 * AUDIO_RATE))
        n = max(0, min(len(x), len(out) - i))
        out[i:i + n] += x[:n]
    return out


def fit_speech(text: str, seconds: float, **kw) -> np.ndarray:
    """Speech of ``text`` cut to at most ``seconds``."""
    return speech(text, **kw)[: int(seconds * AUDIO_RATE)]


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


def write_wav(path: Path, audio: np.ndarray) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, AUDIO_RATE, subtype="PCM_16")
    return path


# -- video (rendered by media_factory) and analysis -------------------------------------------------
def with_audio(case: Case, folder: Path, case_id: str, *, agent: np.ndarray | None = None,
               partner: np.ndarray | None = None) -> Case:
    """A copy of ``case`` (same video) with new audio tracks written as WAV files in ``folder``:
    one rendered video can be scored against many soundtracks (offset sweeps, shuffles)."""
    changes: dict = {"id": case_id}
    if agent is not None:
        changes["agent_audio"] = write_wav(Path(folder) / f"{case_id}_agent.wav", agent)
    if partner is not None:
        changes["partner_audio"] = write_wav(Path(folder) / f"{case_id}_partner.wav", partner)
    return dataclasses.replace(case, **changes)


_ANALYZER = None


@functools.lru_cache(maxsize=1)
def media_dir() -> Path:
    """One scratch folder per test process for clips, WAVs and the analysis cache, so identical
    media requested by both test modules is rendered and analysed once (never across runs); it is
    removed when the process exits."""
    import atexit

    d = Path(tempfile.mkdtemp(prefix="lpmbench_av_media_"))
    atexit.register(shutil.rmtree, d, ignore_errors=True)
    return d


def analyse(video: Path, case: Case):
    """Features of ``video`` from the real analysis pass (one Analyzer per test process).

    Identity embeddings are sampled at 0.5 Hz instead of 5 Hz: no metric tested with this module
    reads them, and they dominate the analysis time of these short clips.
    """
    global _ANALYZER
    from lpmbench.analysis import AnalysisConfig, Analyzer

    if _ANALYZER is None:
        _ANALYZER = Analyzer(AnalysisConfig(embed_hz=0.5), cache_dir=media_dir() / "cache")
    return _ANALYZER.run(video, case)


def scores(metrics, features, case) -> tuple[dict[str, float], dict[str, str], dict]:
    """Run metric objects the way the runner does (``Metric.__call__``); merged values,
    unavailable reasons and series."""
    from lpmbench.metric_api import MetricContext

    values, unavailable, series = {}, {}, {}
    for m in metrics:
        out = m(MetricContext(features, case))
        values.update(out.values)
        unavailable.update(out.unavailable)
        series.update(out.series)
    return values, unavailable, series


def two_phrase_agent(duration: float = 4.0) -> np.ndarray:
    """Agent speech: a phrase at 0.4 s, a pause, a phrase at 2.3 s (each at most 1.4 s)."""
    return place(duration, [(0.4, fit_speech("Hello there, how are you doing today", 1.4)),
                            (2.3, fit_speech("I am fine, thank you very much", 1.4))])


def lip_synced_clip(agent: np.ndarray, name: str = "av_sync", delay_frames: int = 0, amp: float = 0.25, **tracks):
    """A media_factory clip whose mouth (jaw drop, IOD) follows the agent envelope, optionally
    ``delay_frames`` late, plus any other tracks."""
    import media_factory as MF

    n = int(round(len(agent) / HOP))
    mouth = amp * mouth_drive(shift_frames(envelope(agent, n), delay_frames))
    return MF.make_clip(media_dir(), name, duration=n / FPS, agent_audio=agent,
                        mouth=mouth + tracks.pop("mouth", 0.0), **tracks)


def nod_track(n_frames: int, centers_s: list[float], deg: float, dur_s: float = 0.6) -> np.ndarray:
    """Pitch (deg) made of one-sided raised-cosine dips, one nod of ``dur_s`` s at each centre."""
    t = np.arange(n_frames) / FPS
    x = np.zeros(n_frames)
    for c in centers_s:
        u = (t - c) / dur_s
        x += np.where(np.abs(u) < 0.5, -deg * 0.5 * (1 + np.cos(2 * np.pi * u)), 0.0)
    return x
