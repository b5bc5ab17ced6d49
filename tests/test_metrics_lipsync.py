"""Validity of the lip-sync metrics (metrics/lipsync.py) on controlled media.

One astronaut video whose mouth follows the envelope of espeak-ng speech (three phrases with
pauses, 8 s: the projection measure's z needs a few seconds of speech and a null of >= 1 s
shifts) is rendered once; the *audio* is then shifted by k frames, shuffled, or kept, and every
variant goes through the real analysis pass. A second video keeps the mouth moving in the pauses,
a third is the still photo with the same speech. Version 2 of the sync metrics replaced the
mouth/envelope correlation: the expectations below are those of the projection measure (offsets
are censored at 0.6 s when no lag stands out; a still mouth has confidence and corr 0).
"""
from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pytest

from lpmbench.analysis.audio import SPECTRAL_HOP_S, SPECTRAL_MELS, spectral_frames
from lpmbench.features import Features
from lpmbench.metrics import lipsync as LS
from lpmbench.plugins import MetricSet
from lpmbench.results import protocol_hash
from lpmbench.testing import audio as A
from lpmbench.testing import clips as MF
from lpmbench.testing.scoring import analyse, score, scores

pytestmark = pytest.mark.skipif(not A.have_espeak(), reason="espeak-ng is not installed")

DURATION = 8.0
N = int(DURATION * A.FPS)
MOUTH_AMP = 0.25  # IOD of jaw drop at the envelope's 95th percentile
DEFAULT_SHIFTS = (-8, -3, 2, 8)  # k = 0 is the reference fixture; the full sweep is marked slow
OFFSET, OFFSET_S, CONF, CORR = LS.SPEC_OFFSET.name, LS.SPEC_OFFSET_S.name, LS.SPEC_CONF.name, LS.SPEC_CORR.name
SILENT, RATIO = LS.SPEC_SILENT.name, LS.SPEC_SILENT_RATIO.name


@pytest.fixture(scope="module")
def agent() -> np.ndarray:
    """Three phrases with 1 s pauses: speech, silence, speech, silence, speech, silence."""
    return A.place(DURATION, [(0.3, A.fit_speech("Hello there, how are you doing today", 1.4)),
                              (2.7, A.fit_speech("I am fine, thank you very much", 1.4)),
                              (5.1, A.fit_speech("The weather is lovely in the park", 1.4))])


@pytest.fixture(scope="module")
def synced(agent):
    """(clip, features) of the video whose mouth follows the agent envelope, scored in sync."""
    clip = MF.lip_synced_clip(agent, "ls8_sync", amp=MOUTH_AMP)
    return clip, analyse(clip.video, clip.case, embed_hz=0.5)


def shifted_scores(synced, agent, k: int) -> dict[str, float]:
    clip, _ = synced
    case = MF.with_audio(clip.case, MF.media_dir(), f"ls8_shift{k:+d}", agent=A.advance_audio(agent, k))
    values, unavailable, _ = scores(LS.METRICS, analyse(clip.video, case, embed_hz=0.5), case)
    assert OFFSET in values, unavailable
    return values


def test_in_sync_video_is_recognised(synced):
    clip, f = synced
    out = score(LS.METRICS, f, clip.case)
    assert not out.unavailable, out.unavailable
    assert out.values[OFFSET] == 0 and out.values[OFFSET_S] == 0.0
    assert out.values[CONF] > LS.MIN_Z_FOR_OFFSET
    assert out.values[CORR] > 0.3
    d = out.details[OFFSET_S]
    assert not d["censored"] and not d["still"] and len(d["curve"]) == len(d["lags_frames"]) == 2 * 15 + 1
    s = out.series["lipsync.mouth_vs_audio"]
    assert len(s["t"]) == len(s["y"]) == len(s["y2"]) == f.n_frames
    assert np.nanmax(s["y2"]) == pytest.approx(np.nanpercentile(s["y"], 99), rel=1e-4)


@pytest.mark.parametrize("k", DEFAULT_SHIFTS)
def test_audio_shift_is_recovered_as_offset(synced, agent, k):
    # audio advanced by k frames against the same video = video k frames late: offset +k
    values = shifted_scores(synced, agent, k)
    assert abs(values[OFFSET] - k) <= 1, values
    assert values[OFFSET_S] == pytest.approx(values[OFFSET] / A.FPS)
    assert values[CONF] > LS.MIN_Z_FOR_OFFSET  # the peak stands out wherever it is
    assert values[CORR] < 0.2  # the score at lag 0 drops once the mouth is off the voice


@pytest.mark.slow
@pytest.mark.parametrize("k", [k for k in range(-10, 11) if k not in DEFAULT_SHIFTS and k != 0])
def test_audio_shift_is_recovered_full_sweep(synced, agent, k):
    values = shifted_scores(synced, agent, k)
    assert abs(values[OFFSET] - k) <= 1, values


def shuffle_blocks(audio: np.ndarray, block_s: float, seed: int) -> np.ndarray:
    """The same samples in a random order of ``block_s`` blocks: still speech, wrong timing."""
    n = int(block_s * A.AUDIO_RATE)
    blocks = [audio[i:i + n] for i in range(0, len(audio), n)]
    order = np.random.default_rng(seed).permutation(len(blocks))
    return np.concatenate([blocks[i] for i in order])


def test_in_sync_is_more_confident_than_shuffled_audio(synced, agent):
    clip, f = synced
    sync_vals, _, _ = scores(LS.METRICS, f, clip.case)
    case = MF.with_audio(clip.case, MF.media_dir(), "ls8_shuffled", agent=shuffle_blocks(agent, 0.2, seed=3))
    shuf_vals, unavailable, _ = scores(LS.METRICS, analyse(clip.video, case, embed_hz=0.5), case)
    assert CONF in shuf_vals, unavailable
    assert sync_vals[CONF] > shuf_vals[CONF] + 2.0, (sync_vals, shuf_vals)
    assert sync_vals[CORR] > shuf_vals[CORR] + 0.3


def test_still_photo_has_no_sync_and_a_censored_offset(agent):
    still = MF.make_clip(MF.media_dir(), "ls8_still", duration=DURATION, agent_audio=agent)
    out = score(LS.METRICS, analyse(still.video, still.case, embed_hz=0.5), still.case)
    assert out.values[CONF] == 0.0 and out.values[CORR] == 0.0, out.values
    assert out.values[OFFSET_S] == LS.MAX_LAG_S and out.values[OFFSET] == 15  # censored: scores 0
    assert out.details[OFFSET_S]["still"] and out.details[OFFSET_S]["censored"]
    assert out.details[OFFSET_S]["speech_articulation"] < LS.MIN_SPEECH_ARTIC


def test_mouth_moving_in_silence_raises_silent_articulation(synced, agent):
    clip, f = synced
    quiet, _, _ = scores(LS.METRICS, f, clip.case)
    vad = np.asarray(f.get("agent_vad"), bool)
    silences = [(a / A.FPS, b / A.FPS) for a, b in LS.runs(~vad)]
    babble = MF.speech_mouth(amp=MOUTH_AMP, rate_hz=4.0, seed=1, spans=silences)(np.arange(N) / A.FPS)
    busy_clip = MF.lip_synced_clip(agent, "ls8_babble", amp=MOUTH_AMP, mouth=babble)
    busy, unavailable, _ = scores(LS.METRICS, analyse(busy_clip.video, busy_clip.case, embed_hz=0.5), busy_clip.case)
    assert SILENT in busy, unavailable
    assert quiet[SILENT] < 0.15, quiet  # R9: natural silent people 0.035-0.235
    assert busy[SILENT] > 0.4, busy
    assert busy[SILENT] > 4 * quiet[SILENT]
    # relative to the mouth's own speech articulation (version 2 of silent_lip_motion)
    assert quiet[RATIO] < 0.2 and busy[RATIO] > 0.8, (quiet, busy)


def test_no_agent_audio_has_no_sync_but_a_babbling_mouth_is_caught(synced):
    clip, f = synced
    # the same analysed video as a silent case: nothing to lip-sync to, but the talking mouth now
    # articulates through a silence (version 1's silent_lip_motion was unavailable here)
    silent = Features({**f.values, "has_agent_audio": False, "agent_vad": np.zeros(f.n_frames, bool),
                       "agent_env": np.zeros(f.n_frames, np.float32)}, f.unavailable, f.backends, f.meta)
    values, unavailable, series = scores(LS.METRICS, silent, dataclasses.replace(clip.case, agent_audio=None))
    assert set(unavailable) == {s.name for s in LS.AVSync.specs} | {RATIO}
    assert "no agent audio" in unavailable[OFFSET_S] and "agent speech" in unavailable[RATIO]
    assert values[SILENT] > 0.3, values
    assert "y2" not in series["lipsync.mouth_vs_audio"]  # the mouth curve is still drawn


def test_short_or_speechless_input_is_unavailable_not_zero(synced):
    _, f = synced
    lm, fp, spec = f["landmarks_px"], f["face_present"], f["agent_spectral"]
    n = int(2.5 * A.FPS)
    with pytest.raises(LS.MetricUnavailable, match="too short"):
        LS.av_sync(lm[:n], fp[:n], A.FPS, spec, SPECTRAL_HOP_S, f["agent_vad"][:n])
    with pytest.raises(LS.MetricUnavailable, match="too little agent speech"):
        LS.av_sync(lm, fp, A.FPS, spec, SPECTRAL_HOP_S, np.zeros(f.n_frames, bool))
    with pytest.raises(LS.MetricUnavailable, match="no face"):
        LS.av_sync(lm, np.zeros_like(fp), A.FPS, spec, SPECTRAL_HOP_S, f["agent_vad"])


def test_pass_caches_spectral_frames_of_the_agent_audio(synced):
    _, f = synced
    s = f["agent_spectral"]
    assert f["spectral_hop_s"] == SPECTRAL_HOP_S
    assert s.dtype == np.float16 and s.shape == (int(np.floor(f.n_frames / f.fps / SPECTRAL_HOP_S + 1e-9)) + 1, 26)
    # a 1 kHz tone from 1 to 2 s: its mel band is loudest there, and only there
    sr = A.AUDIO_RATE
    t = np.arange(3 * sr) / sr
    tone = np.where((t >= 1) & (t < 2), 0.5 * np.sin(2 * np.pi * 1000 * t), 0.0)
    x = spectral_frames(tone, 3.0)
    on, off = x[110:190], x[10:90]
    band = int(np.argmax(on[:, :SPECTRAL_MELS].mean(0)))
    assert 6 <= band <= 9  # 1 kHz on a 24-band 80-7600 Hz mel scale (centre of band 7: 1.0 kHz)
    assert on[:, band].mean() > off[:, band].mean() + 10  # log power: > 40 dB above silence
    assert x[:, SPECTRAL_MELS + 1][[100, 101]].max() > 10 * np.median(x[:, SPECTRAL_MELS + 1])  # flux at the onset


def test_projection_hash_is_part_of_the_protocol():
    raw = LS.PROJECTION_FILE.read_bytes()
    proj = LS.load_projection()
    assert proj["U"].shape == (52 * len(LS.CONTEXT_S), 3) and proj["V"].shape == (18, 3)
    backends = MetricSet([LS.AVSync()]).backends()
    assert backends[LS.SYNC_BACKEND]["weights_sha256"] == hashlib.sha256(raw).hexdigest()
    changed = {LS.SYNC_BACKEND: {**backends[LS.SYNC_BACKEND], "weights_sha256": "0" * 64}}
    specs = {s.name: s.to_dict() for s in LS.AVSync.specs}
    assert protocol_hash("suite", specs, backends) != protocol_hash("suite", specs, changed)
