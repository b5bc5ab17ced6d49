"""Validity of the landmark/envelope lip-sync metrics (metrics/lipsync.py) on controlled media.

One astronaut video whose mouth follows the envelope of espeak-ng speech (two phrases with a
pause) is rendered once; the *audio* is then shifted by k frames, shuffled, or kept, and every
variant goes through the real analysis pass. A second video keeps the mouth moving in the pauses.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lpmbench.features import Features
from lpmbench.metrics import lipsync as LS
from lpmbench.testing import audio as A
from lpmbench.testing import clips as MF
from lpmbench.testing.scoring import analyse, scores

pytestmark = pytest.mark.skipif(not A.have_espeak(), reason="espeak-ng is not installed")

DURATION = 4.0
N = int(DURATION * A.FPS)
MOUTH_AMP = 0.25  # IOD of jaw drop at the envelope's 95th percentile
DEFAULT_SHIFTS = (-8, -3, 2, 8)  # k = 0 is the reference fixture; the full sweep is marked slow


@pytest.fixture(scope="module")
def agent() -> np.ndarray:
    """Two phrases with a 0.5 s+ pause: speech, silence, speech."""
    return A.two_phrase_agent(DURATION)


@pytest.fixture(scope="module")
def synced(agent):
    """(clip, features) of the video whose mouth follows the agent envelope, scored in sync."""
    clip = MF.lip_synced_clip(agent, amp=MOUTH_AMP)
    return clip, analyse(clip.video, clip.case, embed_hz=0.5)


def shifted_scores(synced, agent, k: int) -> dict[str, float]:
    clip, _ = synced
    case = MF.with_audio(clip.case, MF.media_dir(), f"ls_shift{k:+d}", agent=A.advance_audio(agent, k))
    values, unavailable, _ = scores(LS.METRICS, analyse(clip.video, case, embed_hz=0.5), case)
    assert "lipsync.av_offset_frames" in values, unavailable
    return values


def test_in_sync_video_is_recognised(synced):
    clip, f = synced
    values, unavailable, series = scores(LS.METRICS, f, clip.case)
    assert not unavailable, unavailable
    assert values["lipsync.av_offset_frames"] == 0
    assert values["lipsync.av_corr"] > 0.6
    assert values["lipsync.av_confidence"] > 0.5
    s = series["lipsync.mouth_vs_audio"]
    assert len(s["t"]) == len(s["y"]) == len(s["y2"]) == f.n_frames
    assert np.nanmax(s["y2"]) == pytest.approx(np.nanpercentile(s["y"], 99), rel=1e-4)


@pytest.mark.parametrize("k", DEFAULT_SHIFTS)
def test_audio_shift_is_recovered_as_offset(synced, agent, k):
    # audio advanced by k frames against the same video = video k frames late: offset +k
    values = shifted_scores(synced, agent, k)
    assert abs(values["lipsync.av_offset_frames"] - k) <= 1, values
    assert values["lipsync.av_corr"] < 0.6  # r_0 drops once the mouth is off the voice


@pytest.mark.slow
@pytest.mark.parametrize("k", [k for k in range(-8, 9) if k not in DEFAULT_SHIFTS and k != 0])
def test_audio_shift_is_recovered_full_sweep(synced, agent, k):
    values = shifted_scores(synced, agent, k)
    assert abs(values["lipsync.av_offset_frames"] - k) <= 1, values


def shuffle_blocks(audio: np.ndarray, block_s: float, seed: int) -> np.ndarray:
    """The same samples in a random order of ``block_s`` blocks: still speech, wrong timing."""
    n = int(block_s * A.AUDIO_RATE)
    blocks = [audio[i:i + n] for i in range(0, len(audio), n)]
    order = np.random.default_rng(seed).permutation(len(blocks))
    return np.concatenate([blocks[i] for i in order])


def test_in_sync_is_more_confident_than_shuffled_audio(synced, agent):
    clip, f = synced
    sync_vals, _, _ = scores(LS.METRICS, f, clip.case)
    case = MF.with_audio(clip.case, MF.media_dir(), "ls_shuffled", agent=shuffle_blocks(agent, 0.2, seed=3))
    shuf_vals, unavailable, _ = scores(LS.METRICS, analyse(clip.video, case, embed_hz=0.5), case)
    assert "lipsync.av_confidence" in shuf_vals, unavailable
    assert sync_vals["lipsync.av_confidence"] > shuf_vals["lipsync.av_confidence"] + 0.3, (sync_vals, shuf_vals)
    assert sync_vals["lipsync.av_corr"] > shuf_vals["lipsync.av_corr"] + 0.5


def test_mouth_moving_in_silence_raises_silent_lip_motion(synced, agent):
    clip, f = synced
    quiet, _, _ = scores(LS.METRICS, f, clip.case)
    vad = np.asarray(f.get("agent_vad"), bool)
    silences = [(a / A.FPS, b / A.FPS) for a, b in LS.runs(~vad)]
    babble = MF.speech_mouth(amp=MOUTH_AMP, rate_hz=4.0, seed=1, spans=silences)(np.arange(N) / A.FPS)
    busy_clip = MF.lip_synced_clip(agent, "ls_babble", amp=MOUTH_AMP, mouth=babble)
    busy, unavailable, _ = scores(LS.METRICS, analyse(busy_clip.video, busy_clip.case, embed_hz=0.5), busy_clip.case)
    assert "lipsync.silent_lip_motion" in busy, unavailable
    assert quiet["lipsync.silent_lip_motion"] < 0.15, quiet
    assert busy["lipsync.silent_lip_motion"] > 0.4, busy
    assert busy["lipsync.silent_lip_motion"] > 4 * quiet["lipsync.silent_lip_motion"]


def test_no_agent_speech_is_unavailable_not_zero(synced):
    clip, f = synced
    # the same analysed video with the agent track silenced: nothing to lip-sync to
    silent = Features({**f.values, "has_agent_audio": False, "agent_vad": np.zeros(f.n_frames, bool),
                       "agent_env": np.zeros(f.n_frames, np.float32)}, f.unavailable, f.backends, f.meta)
    values, unavailable, series = scores(LS.METRICS, silent, dataclasses.replace(clip.case, agent_audio=None))
    assert not values
    assert set(unavailable) == {s.name for m in LS.METRICS for s in m.specs}
    assert "no agent audio" in unavailable["lipsync.av_offset_frames"]
    assert "y2" not in series["lipsync.mouth_vs_audio"]  # the mouth curve is still drawn


def test_still_mouth_has_zero_correlation_and_no_offset():
    # pure math on the contract: a mouth that never moves has no co-variation with the voice
    env = np.abs(np.sin(np.arange(100) / 3.0))
    s = LS.av_sync(np.full(100, 0.2), env, env > 0.3, 25.0)
    assert s["corr"] == 0.0 and s["confidence"] == 0.0 and np.isnan(s["offset"])
