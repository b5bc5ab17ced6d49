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
