"""The bundled baselines on real media: ``static`` (letterboxed reference, no motion) and ``puppet``
(procedural warp: lips follow the audio, prompted nods and looks register as head rotations on a
PnP pose estimate, streaming, deterministic, never fails for lack of a face).

Media are made here: the astronaut portrait (scikit-image, NASA, public domain), the cat photo for
a non-humanoid reference, and speech from espeak-ng (or, where it is not installed, a synthetic
syllable-rhythm signal). Face measurements use dlib's 68 landmarks.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from lpmbench import vision
from lpmbench.adapters.base import AudioChunk, iter_chunks
from lpmbench.adapters.baselines import StaticAdapter
from lpmbench.adapters.puppet import PuppetAdapter, PuppetDriver
from lpmbench.analysis.face import MODEL_3D, RIGID
from lpmbench.case import AUDIO_RATE, Case, Character, PromptEvent
from lpmbench.media import iter_frames, load_audio, load_image, probe
from lpmbench.testing import audio as test_audio
from lpmbench.vision import fit_to_frame

SIZE, FPS = 256, 25.0
SPEECH = ("Hello there. I am an astronaut, and today we are going to talk about the space shuttle, "
          "the launch and the long journey to orbit.")


# -- media ------------------------------------------------------------------------------------------
def _write_png(path: Path, rgb: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(rgb).save(path)
    return path


def _speech_wav(path: Path, seconds: float) -> Path:
    import soundfile as sf

    if test_audio.have_espeak():
        audio = test_audio.place(seconds, [(0.0, test_audio.espeak(SPEECH, speed=150))])
    else:
        audio = test_audio.voiced_syllables(seconds)
    sf.write(path, audio, AUDIO_RATE)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    from skimage import data

    d = tmp_path_factory.mktemp("baselines")
    return {
        # head and shoulders, so the face is a fair size at 256 px (IOD ~44 px)
        "astronaut": _write_png(d / "astronaut.png", vision.astronaut_portrait(256)),
        "cat": _write_png(d / "cat.png", data.chelsea()),
        "speech": _speech_wav(d / "speech.wav", 6.0),
        "dir": d,
    }


def make_case(media, case_id="speak_01", *, duration=4.6, prompts=(), character="astronaut", style="photoreal",
              agent=True, partner=None, width=SIZE, height=SIZE) -> Case:
    return Case(id=case_id, mode="speak" if agent else "silence", duration=duration, fps=FPS, width=width,
                height=height, character=Character(character, style, (media[character],)),
                agent_audio=media["speech"] if agent else None, partner_audio=partner, prompts=tuple(prompts))


def stream(adapter, case, chunk_s=0.04):
    """Feed a case chunk by chunk; the frames and how many came back after each chunk."""
    session = adapter.open_stream(case)
    frames, counts = [], []
    for chunk in iter_chunks(case, chunk_s):
        out = session.feed(chunk)
        counts.append(len(out))
        frames += out
    frames += session.finish()
    return frames, counts


# -- measuring faces: dlib landmarks, mouth opening, a PnP head pose -------------------------------
@pytest.fixture(scope="module")
def dlib_models():
    return vision.face_models()


def landmarks(frames, dlib_models, upscale: int = 2) -> np.ndarray:
    """(T, 68, 2): detect on the first frame, then follow the face with a box moved by the landmarks.

    Frames are upscaled first: dlib's landmarks are whole pixels, too coarse for a ~37 px IOD.
    """
    import cv2
    import dlib

    detector, predictor = dlib_models
    frames = [cv2.resize(f, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_CUBIC) for f in frames]
    rects = detector(frames[0], 0)
    assert len(rects), "no face found in the first frame"
    box0 = max(rects, key=lambda r: r.area())
    out: list[np.ndarray] = []
    for f in frames:
        s = (out[-1].mean(0) - out[0].mean(0)).round().astype(int) if out else np.zeros(2, int)
        box = dlib.rectangle(box0.left() + s[0], box0.top() + s[1], box0.right() + s[0], box0.bottom() + s[1])
        out.append(np.array([[p.x, p.y] for p in predictor(f, box).parts()], np.float64))
    return np.array(out) / upscale


def mouth_opening(L: np.ndarray) -> np.ndarray:
    """Inner-lip gap / IOD per frame (METRICS.md)."""
    iod = np.linalg.norm(L[:, 36:42].mean(1) - L[:, 42:48].mean(1), axis=1)
    gap = np.mean([np.linalg.norm(L[:, a] - L[:, b], axis=1) for a, b in ((61, 67), (62, 66), (63, 65))], axis=0)
    return gap / iod


def head_pose(L: np.ndarray, width: int, height: int) -> np.ndarray:
    """(T, 2) yaw, pitch in degrees from cv2.solvePnP of the rigid landmarks on the analysis pass's
    generic 3D face: yaw > 0 nose toward image right, pitch > 0 nose up."""
    import cv2

    cam = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], np.float64)
    out = []
    for lm in L:
        ok, rvec, _ = cv2.solvePnP(MODEL_3D, lm[RIGID].astype(np.float64), cam, np.zeros(4))
        assert ok
        nose = cv2.Rodrigues(rvec)[0] @ np.array([0.0, 0.0, -1.0])  # the face's forward direction
        out.append([np.degrees(np.arctan2(nose[0], -nose[2])), np.degrees(np.arctan2(-nose[1], -nose[2]))])
    return np.array(out)


def frame_envelope(audio: np.ndarray, n: int) -> np.ndarray:
    spf = AUDIO_RATE / FPS
    return np.array([np.sqrt(np.mean(audio[int(round(k * spf)) : int(round((k + 1) * spf))] ** 2)) for k in range(n)])


# -- static -------------------------------------------------------------------------------------------
def test_fit_to_frame_letterboxes_without_cropping():
    img = np.full((100, 200, 3), 200, np.uint8)
    out = fit_to_frame(img, 64, 64)
    assert out.shape == (64, 64, 3)
    assert (out[:16] == 0).all() and (out[48:] == 0).all()  # bars above and below
    assert (out[16:48] == 200).all()  # the whole picture, scaled to 64 x 32


def test_static_video_has_the_case_length_and_no_motion(media, tmp_path):
    case = make_case(media, duration=2.0)
    out = tmp_path / "static.mp4"
    StaticAdapter().generate(case, out)
    info = probe(out)
    assert (info.width, info.height) == (SIZE, SIZE)
    assert info.n_frames == case.n_frames == 50
    assert info.duration == pytest.approx(case.duration, abs=1.5 / FPS)
    assert info.has_audio
    frames = list(iter_frames(out))
    assert len(frames) == 50
    diffs = [np.abs(f.astype(np.int16) - frames[0]).mean() for f in frames[1:]]
    assert max(diffs) < 0.5  # only encoder noise
    ref = fit_to_frame(load_image(media["astronaut"]), SIZE, SIZE)
    assert np.abs(frames[0].astype(np.int16) - ref).mean() < 4.0  # it is the reference


def test_static_streams_one_frame_per_frame_of_audio(media):
    case = make_case(media, duration=1.0)
    frames, counts = stream(StaticAdapter(), case)
    assert len(frames) == case.n_frames
    assert counts[0] == 1 and sum(counts[: len(counts) // 2]) == pytest.approx(case.n_frames / 2, abs=1)


def test_static_rejects_parameters():
    with pytest.raises(TypeError, match="no parameters"):
        StaticAdapter(fps=30)


# -- puppet: one speaking case with prompts, measured once ---------------------------------------------
PROMPTS = (PromptEvent(1.0, 2.4, "nod"), PromptEvent(2.8, 3.6, "look_left"), PromptEvent(3.8, 4.6, "look_right"))


@pytest.fixture(scope="module")
def puppet_video(media, tmp_path_factory, dlib_models):
    case = make_case(media, prompts=PROMPTS)
    out = tmp_path_factory.mktemp("puppet") / "puppet.mp4"
    PuppetAdapter(blink_rate_per_min=0, listen_nods=False).generate(case, out)
    frames = list(iter_frames(out))
    L = landmarks(frames, dlib_models)
    return {"case": case, "path": out, "frames": frames, "L": L, "pose": head_pose(L, SIZE, SIZE)}


def test_puppet_video_has_the_case_length(puppet_video):
    info, case = probe(puppet_video["path"]), puppet_video["case"]
    assert info.n_frames == len(puppet_video["frames"]) == case.n_frames
    assert (info.width, info.height) == (SIZE, SIZE) and info.has_audio


def test_puppet_mouth_follows_the_speech_envelope(puppet_video, media):
    case = puppet_video["case"]
    m = mouth_opening(puppet_video["L"])
    env = frame_envelope(load_audio(media["speech"], duration=case.duration), len(m))
    r = np.corrcoef(m, env)[0, 1]
    assert r > 0.5, f"mouth opening vs audio envelope: Pearson r = {r:.2f}"
    shifted = np.corrcoef(m[6:], env[:-6])[0, 1]  # the same lips 6 frames off the audio
    assert r > shifted + 0.2


def test_puppet_nod_prompt_is_a_pitch_excursion(puppet_video):
    from scipy.ndimage import median_filter

    pitch = median_filter(puppet_video["pose"][:, 1], size=5, mode="nearest")  # as the nod metrics do
    t = np.arange(len(pitch)) / FPS
    base = np.median(pitch[t < 0.9])
    during = np.abs(pitch[(t >= 1.0) & (t < 2.4)] - base)
    assert during.max() > 6.0, f"nod: largest pitch excursion {during.max():.1f} deg"
    before = np.abs(pitch[t < 0.9] - base)
    assert before.max() < 4.0, f"pitch moves {before.max():.1f} deg before the nod"  # sway + speech: no nod


def test_puppet_looks_turn_the_head_both_ways(puppet_video):
    pose, t = puppet_video["pose"], np.arange(len(puppet_video["pose"])) / FPS
    base = np.median(pose[t < 0.9, 0])
    left = np.median(pose[(t >= 3.0) & (t < 3.4), 0]) - base
    right = np.median(pose[(t >= 4.0) & (t < 4.4), 0]) - base
    # look_left is the character's own left: the nose turns toward image right (yaw > 0)
    assert left > 6.0 and right < -6.0, f"yaw look_left {left:.1f} deg, look_right {right:.1f} deg"


# -- puppet: streaming, determinism, fallback ---------------------------------------------------------
@pytest.fixture(scope="module")
def streamed(media):
    case = make_case(media, "stream_01", duration=2.0, prompts=(PromptEvent(0.5, 1.5, "smile"),))
    adapter = PuppetAdapter()
    return case, adapter, stream(adapter, case)


def test_puppet_streams_frames_as_audio_arrives(streamed):
    case, _, (frames, counts) = streamed
    assert len(frames) == case.n_frames
    assert counts[0] >= 1  # the first frame comes with the first 40 ms of audio
    assert sum(counts[: len(counts) // 2]) == pytest.approx(case.n_frames / 2, abs=1)  # not all at the end
    assert all(f.shape == (SIZE, SIZE, 3) and f.dtype == np.uint8 for f in frames)


def test_puppet_is_deterministic_and_chunking_does_not_matter(streamed):
    case, adapter, (frames, _) = streamed
    again, _ = stream(adapter, case, chunk_s=0.013)  # odd chunks, smaller than a frame
    assert len(again) == len(frames)
    assert all(np.array_equal(a, b) for a, b in zip(frames, again))
    other, _ = stream(adapter, dataclasses.replace(case, id="stream_02"))
    assert any(not np.array_equal(a, b) for a, b in zip(frames, other))  # another case, another sway


def test_puppet_moves_and_warps_only_the_picture(streamed):
    _, _, (frames, _) = streamed
    motion = [np.abs(f.astype(np.int16) - frames[0]).mean() for f in frames[1:]]
    assert max(motion) > 1.0  # it is not a still image


def test_puppet_without_a_face_animates_the_central_region(media):
    case = make_case(media, "cat_01", duration=1.0, character="cat", style="non_humanoid",
                     prompts=(PromptEvent(0.2, 0.9, "nod"),))
    adapter = PuppetAdapter()
    frames, _ = stream(adapter, case)
    assert len(frames) == case.n_frames
    assert not adapter.rig(case).geom.has_face
    assert max(np.abs(f.astype(np.int16) - frames[0]).mean() for f in frames) > 0.5
    # the letterbox bars (the photo is 451 x 300) are left alone
    assert all((f[:30] == 0).all() and (f[-30:] == 0).all() for f in frames)


def test_puppet_finds_no_face_in_a_cat_called_photoreal(media):
    case = make_case(media, "cat_02", duration=0.4, character="cat", style="photoreal", agent=False)
    frames, _ = stream(PuppetAdapter(), case)
    assert len(frames) == case.n_frames  # whether or not dlib fires, it never fails


# -- puppet driver: audio, listening, blinks, lag (no rendering) ---------------------------------------
def _drive(case, levels_agent, levels_partner, **kw):
    driver = PuppetDriver(case, np.random.default_rng(0), **kw)
    return [driver.step(k, a, p, list(case.prompts)) for k, (a, p) in enumerate(zip(levels_agent, levels_partner))]


def test_driver_lag_frames_delays_the_mouth(media):
    case = make_case(media, duration=4.0)
    rng = np.random.default_rng(3)
    agent = rng.choice([-90.0, -30.0, -20.0], size=100)
    silent = np.full(100, -90.0)
    m0 = np.array([c.mouth for c in _drive(case, agent, silent)])
    m3 = np.array([c.mouth for c in _drive(case, agent, silent, lag_frames=3)])
    assert m0.max() > 0.5
    np.testing.assert_allclose(m3[3:], m0[:-3])


def test_driver_listening_nods_follow_the_partner_with_a_lag(media):
    case = make_case(media, duration=40.0, agent=False)
    n = int(40 * FPS)
    partner = np.full(n, -90.0)
    talk = slice(int(2 * FPS), int(32 * FPS))  # the partner talks from 2 s to 32 s ...
    partner[talk] = np.where(np.arange(talk.stop - talk.start) % 10 < 3, -22.0, -32.0)  # ... stressing every 0.4 s
    ctl = _drive(case, np.full(n, -90.0), partner, sway_deg=0.0, blink_rate_per_min=0)
    pitch = np.array([c.pitch for c in ctl])
    assert max(c.mouth for c in ctl) == 0.0  # hearing is not speaking
    nod = pitch > 3.0
    onsets = np.nonzero(nod[1:] & ~nod[:-1])[0] + 1
    assert 3 <= len(onsets) <= 8, f"{len(onsets)} nods in 30 s of partner speech"  # 6-16 per minute
    first = onsets[0] / FPS - 2.0
    assert 0.6 + 0.3 <= first <= 0.6 + 0.4 + 0.8 + 0.3, f"first nod {first:.2f} s after the partner started"
    assert pitch.max() > 8.0
    assert not nod[int(34 * FPS) :].any()  # no nods once the partner is silent
    quiet = _drive(case, np.full(n, -90.0), partner, sway_deg=0.0, blink_rate_per_min=0, listen_nods=False)
    assert max(c.pitch for c in quiet) < 3.0


def test_driver_blinks_10_to_20_per_minute(media):
    case = make_case(media, duration=120.0, agent=False)
    for seed in range(3):
        driver = PuppetDriver(case, np.random.default_rng(seed))
        assert 10 * 2 <= len(driver.blinks) <= 20 * 2
        assert all(3 <= d * FPS <= 5.5 for _, d in driver.blinks)


def test_fingerprint_follows_the_configuration():
    a, b = PuppetAdapter(), PuppetAdapter(nod_deg=5.0)
    assert a.fingerprint() == PuppetAdapter().fingerprint() != b.fingerprint()
    assert a.describe()["config"]["nod_deg"] == 10.0
    with pytest.raises(ValueError, match="lag_frames"):
        PuppetAdapter(lag_frames=-1)


def test_chunk_of_odd_length_partner_track_is_accepted(media):
    case = make_case(media, duration=0.2)
    session = StaticAdapter().open_stream(case)
    chunk = AudioChunk(0.0, np.zeros(int(0.2 * AUDIO_RATE), np.float32), np.zeros(10, np.float32), last=True)
    assert len(session.feed(chunk)) == case.n_frames
