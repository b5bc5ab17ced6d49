"""Audio features from the CASE's audio files (never the video's soundtrack): RMS envelopes at the
video frame rate, silero-vad speech segments, and the agent state timeline."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .. import media
from ..case import AUDIO_RATE, Case
from ..features import STATE_IDLE, STATE_LISTEN, STATE_SPEAK


def load_case_audio(case: Case) -> dict[str, np.ndarray | None]:
    """{"agent": samples, "partner": samples}: mono float32 at 16 kHz, trimmed or padded to the case
    duration; None for a role without a track. A bad file is a MediaError naming the case field."""
    out: dict[str, np.ndarray | None] = {}
    for role in ("agent", "partner"):
        path = getattr(case, f"{role}_audio")
        try:
            out[role] = media.load_audio(path, AUDIO_RATE, duration=case.duration) if path else None
        except media.MediaError as e:
            raise media.MediaError(f"case {case.id!r}, field '{role}_audio': {e}") from None
    return out


def rms_envelope(samples: np.ndarray, fps: float, n_frames: int, sr: int = AUDIO_RATE) -> np.ndarray:
    """RMS of the samples in each frame's window [t/fps, (t+1)/fps), (n_frames,) float32; samples
    past the end of the audio count as silence. Works in chunks: no full-length temporaries."""
    edges = np.round(np.arange(n_frames + 1) * (sr / fps)).astype(np.int64)
    out = np.zeros(n_frames, dtype=np.float32)
    chunk = 4096  # frames per step (~2.6 MB of float64 at 25 fps)
    for f0 in range(0, n_frames, chunk):
        f1 = min(n_frames, f0 + chunk)
        a, b = edges[f0], min(edges[f1], len(samples))
        if b <= a:
            break
        x = np.asarray(samples[a:b], dtype=np.float64)
        csum = np.concatenate([[0.0], np.cumsum(x * x)])
        e = np.clip(edges[f0:f1 + 1] - a, 0, b - a)
        counts = np.maximum(np.diff(edges[f0:f1 + 1]), 1)
        out[f0:f1] = np.sqrt(np.maximum(np.diff(csum[e]), 0.0) / counts)
    return out


@lru_cache(maxsize=1)
def load_vad():
    """The silero-vad model (ships inside the pip package), loaded once per process."""
    from silero_vad import load_silero_vad

    return load_silero_vad()


def vad_segments(samples: np.ndarray, *, threshold: float = 0.5, min_speech_s: float = 0.3,
                 min_silence_s: float = 0.1, sr: int = AUDIO_RATE) -> np.ndarray:
    """Speech segments (N, 2) in seconds, each at least ``min_speech_s`` long."""
    import torch
    from silero_vad import get_speech_timestamps

    if len(samples) == 0 or not np.any(samples):
        return np.zeros((0, 2), dtype=np.float64)
    model = load_vad()
    # silero steps a small recurrent net over 32 ms windows: one intra-op thread is ~50x faster
    # than two on a busy machine (threads spin on tiny ops). Restored for other torch users.
    old_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            ts = get_speech_timestamps(
                torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)), model, threshold=threshold,
                sampling_rate=sr, min_speech_duration_ms=int(min_speech_s * 1000),
                min_silence_duration_ms=int(min_silence_s * 1000), return_seconds=False,
            )
    finally:
        torch.set_num_threads(old_threads)
        model.reset_states()
    seg = np.array([[t["start"] / sr, t["end"] / sr] for t in ts], dtype=np.float64).reshape(-1, 2)
    # speech padding can shorten nothing, but be explicit about the >= min_speech_s contract
    return seg[(seg[:, 1] - seg[:, 0]) >= min_speech_s - 1e-9]


def segments_to_frames(seg: np.ndarray, fps: float, n_frames: int) -> np.ndarray:
    """Per-frame bool: the frame's centre time lies inside a segment."""
    t = (np.arange(n_frames) + 0.5) / fps
    out = np.zeros(n_frames, dtype=bool)
    for s, e in seg:
        out |= (t >= s) & (t < e)
    return out


def state_timeline(agent_vad: np.ndarray, partner_vad: np.ndarray) -> np.ndarray:
    """speak where the agent is voiced; listen where only the partner is; else idle (int8)."""
    state = np.full(len(agent_vad), STATE_IDLE, dtype=np.int8)
    state[partner_vad & ~agent_vad] = STATE_LISTEN
    state[agent_vad] = STATE_SPEAK
    return state


# -- the video's own soundtrack against the case's audio ------------------------------------------
SOUNDTRACK_HOP_S = 0.01  # envelope resolution of the comparison
SOUNDTRACK_MAX_LAG_S = 1.0  # offsets searched, either way
SOUNDTRACK_MATCH_R = 0.6  # envelope correlation at the best offset from which it is the same audio
SOUNDTRACK_ALIGNED_S = 0.02  # |offset| up to this is in sync (two envelope hops)
SOUNDTRACK_SILENT_RMS = 1e-4  # a soundtrack whose RMS stays below this everywhere is silent


def soundtrack_match(track: np.ndarray, case_tracks: dict[str, np.ndarray | None],
                     sr: int = AUDIO_RATE) -> dict[str, object]:
    """How a video's own soundtrack relates to the case's audio (which the analysis always uses).

    The RMS envelopes (10 ms hops) of ``track`` and of each case track (and of their mix, when
    there are two) are cross-correlated over +-1 s; the best-correlated one is reported:
    ``{"verdict", "track", "r", "offset_s"}``, where ``offset_s`` > 0 means the soundtrack is late
    against the case audio. Verdicts: ``in_sync`` (r >= 0.6, |offset| <= 20 ms), ``offset``
    (r >= 0.6, later or earlier), ``other`` (no case track correlates: another soundtrack),
    ``silent``, or ``no_case_audio``.
    """
    if not len(track) or float(np.max(np.abs(track))) < SOUNDTRACK_SILENT_RMS:
        return {"verdict": "silent"}
    cands = {k: v for k, v in case_tracks.items() if v is not None and np.any(v)}
    if len(cands) == 2:
        a, b = cands.values()
        n = min(len(a), len(b))
        cands["agent+partner"] = a[:n] + b[:n]
    if not cands:
        return {"verdict": "no_case_audio"}
    fps = 1.0 / SOUNDTRACK_HOP_S
    n = int(min(len(track), *(len(v) for v in cands.values())) / sr * fps)
    if n < 10:
        return {"verdict": "no_case_audio"}
    own = rms_envelope(track, fps, n, sr).astype(np.float64)
    if own.std() < 1e-9:
        return {"verdict": "silent"}
    best: dict[str, object] = {"verdict": "other", "track": None, "r": -1.0, "offset_s": 0.0}
    max_lag = min(int(SOUNDTRACK_MAX_LAG_S * fps), n // 2)
    for name, x in cands.items():
        ref = rms_envelope(x, fps, n, sr).astype(np.float64)
        for lag in range(-max_lag, max_lag + 1):
            a, b = (ref[: n - lag], own[lag:]) if lag >= 0 else (ref[-lag:], own[: n + lag])
            r = _pearson(a, b)
            if r > best["r"]:
                best.update(track=name, r=r, offset_s=lag / fps)
    best["r"] = round(float(best["r"]), 3)
    best["offset_s"] = round(float(best["offset_s"]), 3)
    if best["r"] >= SOUNDTRACK_MATCH_R:
        best["verdict"] = "in_sync" if abs(best["offset_s"]) <= SOUNDTRACK_ALIGNED_S else "offset"
    return best


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    d = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / d if d > 1e-12 else -1.0


# -- spectral frames of the agent audio (the lip-sync measure, metrics/lipsync.py) ----------------
SPECTRAL_HOP_S = 0.010  # hop h is centred at h * SPECTRAL_HOP_S seconds
SPECTRAL_WIN_S = 0.025  # Hann window
SPECTRAL_MELS, SPECTRAL_FMIN, SPECTRAL_FMAX = 24, 80.0, 7600.0
PRE_EMPHASIS = 0.97
SPECTRAL_FLOOR = 1e-8  # power floor relative to the loudest mel band (80 dB): silence stays finite
SPECTRAL_COLUMNS = tuple(f"logmel{i}" for i in range(SPECTRAL_MELS)) + ("log_energy", "flux")


@lru_cache(maxsize=4)
def _mel_filters(n_mels: int, nfft: int, fmin: float, fmax: float, sr: int) -> np.ndarray:
    """(n_mels, nfft // 2 + 1) triangular filters on the HTK mel scale."""
    hz2mel = lambda h: 2595.0 * np.log10(1.0 + h / 700.0)  # noqa: E731
    mel2hz = lambda m: 700.0 * (10 ** (m / 2595.0) - 1.0)  # noqa: E731
    pts = mel2hz(np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2))
    bins = np.fft.rfftfreq(nfft, 1.0 / sr)
    lo, c, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    return np.clip(np.minimum((bins - lo) / (c - lo), (hi - bins) / (hi - c)), 0.0, None)


def spectral_frames(samples: np.ndarray, duration: float, sr: int = AUDIO_RATE) -> np.ndarray:
    """(H, 26) float32 on a SPECTRAL_HOP_S grid covering [0, duration] (H = floor(duration / hop) + 1):
    24 log-mel bands (80-7600 Hz, 25 ms Hann, pre-emphasis 0.97), log energy, and the positive
    spectral flux of the log-mel bands (:data:`SPECTRAL_COLUMNS`). Audio past its end is silence.
    Computed in chunks of hops: no (hours x 512) temporaries for long audio."""
    from scipy.fft import rfft

    x = np.asarray(samples, dtype=np.float64).ravel()
    if len(x) > 1:
        x = np.concatenate([x[:1], x[1:] - PRE_EMPHASIS * x[:-1]])
    win, hop = int(round(SPECTRAL_WIN_S * sr)), int(round(SPECTRAL_HOP_S * sr))
    nfft = 1 << int(np.ceil(np.log2(win)))
    n_hops = int(np.floor(duration / SPECTRAL_HOP_S + 1e-9)) + 1
    need = (n_hops - 1) * hop + win
    x = np.pad(x, (win // 2, max(0, need - len(x) - win // 2)))[:need]
    fb = _mel_filters(SPECTRAL_MELS, nfft, SPECTRAL_FMIN, SPECTRAL_FMAX, sr)
    w = np.hanning(win)
    mel = np.empty((n_hops, SPECTRAL_MELS))
    energy = np.empty(n_hops)
    for a in range(0, n_hops, 2048):
        idx = np.arange(win)[None, :] + hop * np.arange(a, min(n_hops, a + 2048))[:, None]
        power = np.abs(rfft(x[idx] * w, nfft, axis=1)) ** 2
        mel[a:a + len(idx)] = power @ fb.T
        energy[a:a + len(idx)] = power.sum(1)
    floor = max(float(mel.max()), 1e-10) * SPECTRAL_FLOOR
    logmel = np.log(mel + floor)
    flux = np.concatenate([[0.0], np.maximum(np.diff(logmel, axis=0), 0.0).sum(1)])
    return np.column_stack([logmel, np.log(energy + floor), flux]).astype(np.float32)
