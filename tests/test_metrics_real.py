"""The metrics on real video (``../shared/real`` beside the repository; skipped where it is absent).

Real clips go through the real analysis pass with their own soundtrack as the agent audio and
their first frame as the reference (as ``lpmbench reference build`` measures a recording). Audio
controls (shuffled speech, another person's speech, shifted speech) are the same pass's audio
features of the control track (``spectral_frames``, silero-vad), swapped into the clip's features:
the video is analysed once. The still photo and the re-timed copies are rendered and analysed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lpmbench.analysis.audio import rms_envelope, segments_to_frames, spectral_frames, vad_segments
from lpmbench.features import Features
from lpmbench.media import VideoWriter, iter_frames, load_audio, probe
from lpmbench.metrics import lipsync as LS
from lpmbench.plugins import load_metrics
from lpmbench.runner import adhoc_case
from lpmbench.testing.scoring import score

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="real clips not present (../shared/real beside the repository)")

TALKER = "human/vexpress_short_10.mp4"  # 4.4 s at 25 fps, speech throughout; its recording is in sync
OTHER = "human/vexpress_short_tys.mp4"  # another person's speech
SR = 16000
CONF, CORR, OFFSET = LS.SPEC_CONF.name, LS.SPEC_CORR.name, LS.SPEC_OFFSET.name


class RealClips:
    """One Analyzer (cache in a temporary folder) for the real clips of this module."""

    def __init__(self, tmp: Path):
        from lpmbench.analysis import AnalysisConfig, Analyzer

        self.tmp = tmp
        self.analyzer = Analyzer(AnalysisConfig(embed_hz=0.5), cache_dir=tmp / "cache")
        self.metrics = load_metrics(scan_entry_points=False)

    def soundtrack(self, video: Path) -> np.ndarray:
        return load_audio(video, SR, duration=probe(video).duration)

    def analyse(self, video: Path, *, audio: np.ndarray | None, reference: Path | None = None, name: str = "clip"):
        """(features, case) of ``video`` with ``audio`` as the agent track (None: a silent case)."""
        info = probe(video)
        ref = reference or self.first_frame(video, self.tmp / f"{name}_ref.png")
        wav = None
        if audio is not None:
            wav = self.tmp / f"{name}.wav"
            sf.write(str(wav), audio, SR)
        case = adhoc_case([ref], video_fps=info.fps, duration=info.duration, width=info.width, height=info.height,
                          audio=wav, case_id=name)
        return self.analyzer.run(video, case), case

    @staticmethod
    def first_frame(video: Path, out: Path) -> Path:
        from PIL import Image

        Image.fromarray(np.ascontiguousarray(next(iter(iter_frames(video))))).save(out)
        return out

    def values(self, features, case) -> dict[str, float]:
        return score(self.metrics.metrics, features, case).values


def with_audio(f: Features, x: np.ndarray) -> Features:
    """``f`` with the agent-audio features the pass computes for the track ``x``."""
    n, fps = f.n_frames, f.fps
    v = dict(f.values)
    v.update(agent_spectral=spectral_frames(x, n / fps).astype(np.float16), agent_env=rms_envelope(x, fps, n),
             agent_vad=segments_to_frames(vad_segments(x), fps, n))
    return Features(v, dict(f.unavailable), f.backends, f.meta)


def advance(x: np.ndarray, k: int, fps: float) -> np.ndarray:
    """Audio k frames earlier: against the same video, the video is k frames late."""
    s = int(round(k / fps * SR))
    return np.concatenate([x[s:], np.zeros(s, x.dtype)]) if s >= 0 else np.concatenate([np.zeros(-s, x.dtype), x[:s]])


def shuffle_blocks(x: np.ndarray, block_s: float = 0.2, seed: int = 7) -> np.ndarray:
    b = int(block_s * SR)
    nb = int(np.ceil(len(x) / b))
    xs = np.pad(x, (0, nb * b - len(x))).reshape(nb, b)
    return xs[np.random.default_rng(seed).permutation(nb)].ravel()[:len(x)]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    return RealClips(tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="module")
def talker(real):
    video = REAL / TALKER
    x = real.soundtrack(video)
    f, case = real.analyse(video, audio=x, name="talker")
    return f, case, x


def test_real_talker_in_sync_beats_shuffled_and_other_audio(real, talker):
    f, case, x = talker
    true = real.values(f, case)
    other_x = real.soundtrack(REAL / OTHER)
    other_x = np.tile(other_x, int(np.ceil(len(x) / len(other_x))))[:len(x)]
    controls = {"shuffled": real.values(with_audio(f, shuffle_blocks(x)), case),
                "other": real.values(with_audio(f, other_x), case)}
    assert true[CONF] > LS.MIN_Z_FOR_OFFSET and true[OFFSET] == 0, true
    for name, c in controls.items():
        assert c[CONF] < LS.MIN_Z_FOR_OFFSET < true[CONF] - 1.0, (name, c[CONF], true[CONF])
        assert c[CORR] < true[CORR] - 0.3, (name, c[CORR], true[CORR])


@pytest.mark.parametrize("k", [-5, 5])
def test_real_offset_is_recovered(real, talker, k):
    f, case, x = talker
    v = real.values(with_audio(f, advance(x, k, f.fps)), case)
    assert abs(v[OFFSET] - k) <= 1, v  # the recording itself is at 0
    assert v[LS.SPEC_OFFSET_S.name] == pytest.approx(v[OFFSET] / f.fps)


@pytest.mark.slow
def test_real_still_photo_has_no_sync(real, talker):
    f, _, x = talker
    first = next(iter(iter_frames(REAL / TALKER)))
    video = real.tmp / "still.mp4"
    with VideoWriter(video, f.fps, first.shape[1], first.shape[0], crf=18) as w:
        for _ in range(f.n_frames):
            w.write(np.ascontiguousarray(first))
    v = real.values(*real.analyse(video, audio=x, reference=real.tmp / "talker_ref.png", name="still"))
    assert v[CONF] == 0.0 and v[CORR] == 0.0 and v[LS.SPEC_OFFSET_S.name] == LS.MAX_LAG_S, v
    assert v["conversation.turn_onset_s"] == 1.0  # the still mouth never opens: censored


@pytest.mark.slow
def test_silent_person_is_quiet_and_a_generator_babbling_through_silence_is_not(real):
    # a real face that stays silent vs VASA-1's talking output scored as a silent case
    quiet = real.values(*real.analyse(REAL / "human/liveportrait_d14.mp4", audio=None, name="d14"))
    vasa = REAL / "vasa1/3"
    babble = real.values(*real.analyse(vasa / "output.mp4", audio=None, reference=vasa / "reference.jpg", name="v3s"))
    s = LS.SPEC_SILENT.name
    assert quiet[s] < 0.25 < babble[s], (quiet[s], babble[s])  # R9: silent people <= 0.235, VASA-1 >= 0.33


def retime(video: Path, out: Path, fps: float) -> Path:
    """``video`` at another frame rate, each output frame the source frame nearest its time (what
    ffmpeg's fps filter does: frames repeated or dropped, none interpolated)."""
    src = list(iter_frames(video))
    src_fps = probe(video).fps
    n = int(round(len(src) / src_fps * fps))
    h, w = src[0].shape[:2]
    with VideoWriter(out, fps, w, h, crf=18) as wr:
        for j in range(n):
            wr.write(np.ascontiguousarray(src[min(len(src) - 1, int(round(j / fps * src_fps)))]))
    return out


# Tolerances between the 25 fps clip and its 24 / 30 fps copies, from the two VASA-1 clips re-timed
# by ffmpeg (H9m): re-timing repeats or drops frames, which blurs accelerations (jitter) and moves
# blink runs across the EAR threshold; durations and per-second rates stay put. Sharpness depends on
# the re-encoding (x264 crf 18 here), not on time: the mouth ratio moved <= 1 % with ffmpeg, 5 % allowed.
# A case has few speech onsets (2 here), and one onset's mouth crossing moved by up to 0.1 s.
RETIME_TOLERANCE = {  # name: (absolute, relative)
    "lipsync.av_confidence": (0.0, 0.08), "lipsync.av_corr": (0.04, 0.0), "lipsync.av_offset_s": (0.0, 0.0),
    "expressiveness.face_motion": (0.0, 0.03), "expressiveness.head_motion_deg": (0.0, 0.03),
    "expressiveness.body_motion": (0.0, 0.08), "quality.landmark_jitter": (0.0, 0.2),
    "quality.mouth_sharpness_ratio": (0.0, 0.05),
    "conversation.turn_onset_s": (0.1, 0.0), "expressiveness.blink_rate_per_min": (12.0, 0.0),
}


@pytest.mark.slow
@pytest.mark.parametrize("fps", [24.0, 30.0])
def test_real_clip_retimed_scores_the_same(real, fps):
    vasa = REAL / "vasa1/3"  # 15 s at 25 fps
    x = load_audio(vasa / "audio.mp3", SR, duration=probe(vasa / "output.mp4").duration)
    ref = vasa / "reference.jpg"
    base = real.values(*real.analyse(vasa / "output.mp4", audio=x, reference=ref, name="v3"))
    copy = retime(vasa / "output.mp4", real.tmp / f"v3_{fps:g}.mp4", fps)
    f, case = real.analyse(copy, audio=x, reference=ref, name=f"v3_{fps:g}")
    assert f.fps == pytest.approx(fps)
    other = real.values(f, case)
    for name, (tol_abs, tol_rel) in RETIME_TOLERANCE.items():
        a, b = base[name], other[name]
        assert abs(a - b) <= tol_abs + tol_rel * abs(a), (name, a, b)
