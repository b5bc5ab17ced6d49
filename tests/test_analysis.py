"""The analysis pass on real (generated) media: a warped astronaut photo that opens its mouth and
rolls its head, a face-less clip with espeak-ng speech, videos at other rates, lengths and
rotations than their case asks for, soundtracks of their own, and broken files."""
from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from lpmbench import media
from lpmbench.analysis import ANALYZER_VERSION, AnalysisConfig, Analyzer, Extractor, Unavailable
from lpmbench.analysis import analyzer as analyzer_mod
from lpmbench.case import AUDIO_RATE, Case, Character
from lpmbench.features import STATE_IDLE, STATE_LISTEN, STATE_SPEAK, FeatureUnavailable
from lpmbench.media import MediaError
from lpmbench.registry import EXTRACTORS, Registry
from lpmbench.testing import audio, clips

FPS, SIZE = 25, 384  # at 256 px the IOD is ~45 px and 0.5 px landmark noise is ~1.5 deg of pitch
# Three phases of 1 s: neutral | mouth open (jaw 0.2 IOD down) | mouth closed, head (and frame) rolled +12 deg
PHASE = 1.0
SECONDS = 3 * PHASE


def _motion() -> dict:
    # ease in/out over 0.2 s so the tracker sees continuous motion
    def ramp(t, start):
        return np.clip((t - start) / 0.2, 0.0, 1.0)

    return dict(
        mouth=lambda t: 0.2 * ramp(t, PHASE) * (1.0 - ramp(t, 2 * PHASE)),
        body_roll=lambda t: 12.0 * ramp(t, 2 * PHASE),
    )


def _case(tmp: Path, refs: list[Path], seconds: float, *, fps: float = FPS, agent=None, partner=None, cid="c") -> Case:
    return Case(id=cid, mode="silence", character=Character("ch", "photoreal", tuple(refs)), duration=seconds,
                fps=fps, width=SIZE, height=SIZE, agent_audio=agent, partner_audio=partner)


def _save_png(path: Path, rgb: np.ndarray) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("analysis")


@pytest.fixture(scope="module")
def analyzer():
    an = Analyzer(AnalysisConfig(embed_workers=1))
    yield an
    an.close()


@pytest.fixture(scope="module")
def face_run(work, analyzer):
    ref = _save_png(work / "ref.png", clips.face_photo("astronaut_portrait", SIZE))
    video = clips.write_video(work / "face.mp4", SECONDS, FPS, person="astronaut_portrait", size=SIZE, **_motion())
    case = _case(work, [ref], SECONDS)
    cached = Analyzer(AnalysisConfig(embed_workers=1), cache_dir=work / "cache")
    cached._core, cached._extractors = analyzer._core, analyzer._extractors  # share loaded models
    feats = cached.run(video, case)
    return video, case, feats


def _phase_mask(feats, k: int, margin: float = 0.3) -> np.ndarray:
    t = feats.times()
    return (t >= k * PHASE + margin) & (t < (k + 1) * PHASE - 0.05)


def test_face_track_and_landmark_signals(face_run):
    _, case, f = face_run
    assert f.n_frames == case.n_frames and f.fps == FPS and (f["width"], f["height"]) == (SIZE, SIZE)
    assert f["face_present"].mean() > 0.95
    assert np.nanmin(f["iod_px"]) > 40  # ~67 px on this clip
    assert f["landmarks_px"].shape == (f.n_frames, 68, 2) and f["aligned"].shape == (f.n_frames, 68, 2)
    closed, opened = (np.nanmean(f["mouth_open"][_phase_mask(f, k)]) for k in (0, 1))
    assert opened > closed + 0.08, (closed, opened)
    assert 0.15 < np.nanmedian(f["ear"]) < 0.5
    # aligned shape is in reference-IOD units: the eye centres sit about 1 apart
    al = f["aligned"][_phase_mask(f, 0)]
    d = np.linalg.norm(al[:, 42:48].mean(1) - al[:, 36:42].mean(1), axis=1)
    assert np.allclose(d, 1.0, atol=0.1)
    # the open mouth shows up in the aligned (non-rigid) shape, the eyes do not move
    lip = np.nanmean(f["aligned"][_phase_mask(f, 1), 66, 1]) - np.nanmean(al[:, 66, 1])
    eye = np.nanmean(f["aligned"][_phase_mask(f, 1), 36:48, 1]) - np.nanmean(al[:, 36:48, 1])
    assert lip > 0.1 and abs(eye) < 0.05


def test_pose_sign_and_jaw_is_not_a_nod(face_run):
    _, _, f = face_run
    yaw, pitch, roll = (f["pose_deg"][:, i] for i in range(3))
    neutral, mouth, rolled = (_phase_mask(f, k) for k in range(3))
    assert abs(np.nanmedian(roll[neutral])) < 2.0
    assert 9.0 < np.nanmedian(roll[rolled]) < 15.0  # counter-clockwise in the image is positive
    assert abs(np.nanmedian(pitch[mouth]) - np.nanmedian(pitch[neutral])) < 2.0  # jaw opening, no nod
    assert np.nanmax(np.abs(yaw[neutral | mouth])) < 5.0


def test_identity_embeddings(face_run, work):
    from lpmbench.analysis.face import FaceTracker, reference_landmarks
    from lpmbench.analysis.identity import embed_chips
    from lpmbench.vision import face_chip

    _, _, f = face_run
    e, ref = f["embeddings"], f["ref_embedding"]
    assert f["emb_backend"] == "dlib" and e.shape[1] == 128
    assert np.allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-4)
    # >= 5 Hz: one embedding every 5 frames at 25 fps
    assert len(f["emb_frames"]) >= f["duration"] * 5 - 1 and np.all(np.diff(f["emb_frames"]) <= 5)
    same = e @ ref
    assert same.min() > 0.9
    # another person (insightface's sample photo, padded and upscaled): clearly less similar
    pkg = Path(importlib.util.find_spec("insightface").submodule_search_locations[0])
    other = media.load_image(pkg / "data" / "images" / "Tom_Hanks_54745.png")
    other = cv2.resize(cv2.copyMakeBorder(other, 40, 40, 40, 40, cv2.BORDER_REPLICATE), (384, 384))
    box, lm = reference_landmarks(other, FaceTracker())
    assert lm is not None, "no face found in Tom_Hanks_54745.png"
    other_emb = embed_chips(face_chip(other, box, lm)[None])[0]
    assert (e @ other_emb).mean() < same.mean() - 0.05


def test_image_features(face_run):
    _, _, f = face_run
    assert np.isnan(f["luma_flicker"][0]) and np.isnan(f["body_flow"][0])
    assert 0 <= np.nanmean(f["luma_flicker"]) < 5
    # the head rolls (and the frame with it) between 2.4 and 2.6 s: flow there, none when still
    t = f.times()
    moving = np.nanmean(f["body_flow"][(t >= 2 * PHASE) & (t < 2 * PHASE + 0.22)])
    assert moving > 1e-3 and moving > 20 * np.nanmean(f["body_flow"][_phase_mask(f, 0)])
    lab = f["region_lab"]
    assert lab.shape == (f.n_frames, 3) and 20 < np.nanmean(lab[:, 0]) < 90
    ratio = np.nanmedian(f["face_sharpness"]) / f["ref_sharpness"]
    assert 0.3 < ratio < 1.5  # H.264 softens the video a little


def test_cache_hit_does_not_decode(face_run, work, monkeypatch):
    video, case, first = face_run

    def no_decoding(*a, **k):
        raise AssertionError("the video was decoded again")

    monkeypatch.setattr(media, "decode", no_decoding)  # the one frame decoder
    an = Analyzer(AnalysisConfig(embed_workers=1), cache_dir=work / "cache")
    key = an.cache_key(video, case)
    assert key == first.meta["cache_key"]
    again = an.run(video, case)
    assert again.meta["cache_hit"] is True and again.meta["analyzer_version"] == ANALYZER_VERSION
    np.testing.assert_array_equal(again["mouth_open"], first["mouth_open"])
    # a change of protocol config or of the case inputs is a different entry
    assert Analyzer(AnalysisConfig(embed_hz=10), cache_dir=work / "cache").cache_key(video, case) != key
    assert an.cache_key(video, _case(work, [case.reference], SECONDS - 0.04)) != key


def test_meta_carries_the_video_facts(face_run, work):
    video, case, first = face_run
    info, m = media.probe(video), first.meta
    assert m["cache_hit"] is False and m["video"] == str(video)
    assert m["video_sha256"] == media.file_sha256(video)
    assert (m["fps"], m["n_frames"], m["width"], m["height"]) == (info.fps, case.n_frames, SIZE, SIZE)
    assert m["duration"] == first["duration"] == case.n_frames / FPS
    assert len(m["cache_key"]) == len(m["case_inputs_sha256"]) == 64
    timings = m["timings_s"]
    for stage in ("track", "geometry", "image", "audio", "dlib"):
        assert f"begin.{stage}" in timings and f"frames.{stage}" in timings and f"end.{stage}" in timings
    assert timings["frames.track"] > 0 and timings["total"] >= timings["frames"]
    # a cache hit (here of the same content at another path) carries the same keys, for this call
    copy = work / "face_copy.mp4"
    shutil.copyfile(video, copy)
    hit = Analyzer(AnalysisConfig(embed_workers=1), cache_dir=work / "cache").run(copy, case)
    assert hit.meta["cache_hit"] is True and set(hit.meta) == set(m)
    assert hit.meta["video"] == str(copy) and hit.meta["cache_key"] == m["cache_key"]
    for k in ("video_sha256", "case_inputs_sha256", "fps", "n_frames", "duration", "width", "height"):
        assert hit.meta[k] == m[k], k
    # what the video is against what the case asked for: here the same, nothing to warn about
    assert m["requested_fps"] == FPS and m["rotation"] == 0 and m["length_mismatch_s"] == 0
    assert m["timeline"] == {"kind": "constant", "source_frames": case.n_frames, "decoded": case.n_frames,
                             "duplicated": 0, "dropped": 0, "start_s": 0.0, "container_fps": FPS}
    assert m["warnings"] == [] and m["soundtrack"] == {"verdict": "none"} and m["faces_max"] == 1


def test_track_drops_at_a_cut_and_comes_back(work, analyzer):
    # 0.8 s face | 0.8 s textured wall (no face) | 0.8 s face: no landmarks may survive the cut
    rng = np.random.default_rng(3)
    wall = cv2.GaussianBlur(rng.integers(60, 200, (SIZE, SIZE, 3), dtype=np.uint8), (0, 0), 4)
    with media.VideoWriter(work / "cut.mp4", FPS, SIZE, SIZE) as w:
        faces = clips.frames(60, FPS, person="astronaut_portrait", size=SIZE, **clips.talking_tracks(seed=1))
        for i, face in enumerate(faces):
            w.write(wall if 20 <= i < 40 else face)
    case = _case(work, [_save_png(work / "ref_cut.png", clips.face_photo("astronaut_portrait", SIZE))], 2.4)
    f = analyzer.run(work / "cut.mp4", case)
    present = f["face_present"]
    assert not present[20:40].any()
    assert present[:20].all() and present[41:].all()  # re-acquired within a frame of the cut back
    assert np.isnan(f["mouth_open"][20:40]).all() and np.isfinite(f["mouth_open"][:20]).all()


def test_describe_names_backends(analyzer):
    d = analyzer.describe()
    assert d["analyzer_version"] == ANALYZER_VERSION and d["config"]["identity_backend"] == "dlib"
    assert len(d["backends"]["dlib"]["weights_sha256"]) == 64 and d["backends"]["dlib"]["available"]


# -- broken or mismatched videos ------------------------------------------------------------------
def _noise_clip(path: Path, seconds: float, fps: float, size: int = 64) -> Path:
    rng = np.random.default_rng(0)
    with media.VideoWriter(path, fps, size, size) as w:
        for _ in range(int(round(seconds * fps))):
            w.write(rng.integers(0, 255, (size, size, 3), dtype=np.uint8))
    return path


def test_broken_videos_raise_media_error(work, analyzer):
    case = _case(work, [_save_png(work / "ref_b.png", clips.face_photo("astronaut_portrait", 64))], 1.0)
    empty = work / "empty.mp4"
    empty.write_bytes(b"")
    junk = work / "junk.mp4"
    junk.write_bytes(np.random.default_rng(1).integers(0, 255, 5000, dtype=np.uint8).tobytes())
    good = _noise_clip(work / "noise.mp4", 1.0, FPS)
    cut = work / "truncated.mp4"
    cut.write_bytes(good.read_bytes()[:1500])
    # a photo renamed .mp4 was once scored as a perfect one-frame video (identity 1.0)
    still = work / "photo.mp4"
    shutil.copyfile(case.reference, still)
    one = _noise_clip(work / "one_frame.mp4", 1 / FPS, FPS)
    for bad, match in ((empty, "empty"), (junk, "unreadable"), (cut, "unreadable"), (work / "missing.mp4", "not found"),
                       (still, "still image"), (one, "has 1 video frame")):
        with pytest.raises(MediaError, match=match) as e:
            analyzer.run(bad, case)
        assert "\n" not in str(e.value)


def test_any_frame_rate_is_analysed_at_its_own_rate(work, analyzer):
    case = _case(work, [_save_png(work / "ref_m.png", clips.face_photo("astronaut_portrait", 64))], 1.0)
    for fps in (24.0, 30000 / 1001, 60.0):
        f = analyzer.run(_noise_clip(work / f"fps{fps:.2f}.mp4", 1.0, fps), case)
        assert f.fps == pytest.approx(fps) and f.n_frames == round(fps) and f.meta["requested_fps"] == FPS
        assert f["agent_env"].shape == f["state"].shape == (f.n_frames,)
        assert f.meta["warnings"] == [f"video is {fps:.4g} fps, the case asked for 25 fps: analysed at the video's rate"]


def test_length_tolerance(work, analyzer, tmp_path):
    from conftest import speech

    from lpmbench.analysis import VideoMismatchError

    ref = _save_png(work / "ref_l.png", clips.face_photo("astronaut_portrait", 64))
    agent = speech("one two three four five", tmp_path / "agent.wav", 1.6, offset=0.1)
    case = _case(work, [ref], 1.6, agent=agent)
    # longer by 0.36 s: analysed up to the case's end
    f = analyzer.run(_noise_clip(work / "long.mp4", 1.96, FPS), case)
    assert f.n_frames == 40 and f.meta["frames_not_analysed"] == 9 and f.meta["length_mismatch_s"] == pytest.approx(0.36)
    assert f.meta["warnings"] == ["video is 0.36 s longer than the case: its last 9 frame(s) are not analysed"]
    # shorter by 0.4 s: analysed as it is, the case audio's features end with the video
    g = analyzer.run(_noise_clip(work / "short.mp4", 1.2, FPS), case)
    assert g.n_frames == 30 and g["agent_env"].shape == (30,) and g["duration"] == pytest.approx(1.2)
    assert len(g["agent_segments"]) and g["agent_segments"].max() <= 1.2 + 1e-9
    assert g.meta["length_mismatch_s"] == pytest.approx(-0.4) and "0.40 s shorter" in g.meta["warnings"][0]
    np.testing.assert_allclose(g["agent_env"], f["agent_env"][:30], rtol=1e-6)  # the same audio, cut
    # beyond the tolerance: one line naming the case, the video and both lengths
    with pytest.raises(VideoMismatchError, match=r"case 'c': video short.mp4 lasts 1.20 s \(30 frames at 25 fps\), "
                                                 r"case asks 2.2 s \(tolerance 0.5 s\)"):
        analyzer.run(work / "short.mp4", _case(work, [ref], 2.2))
    assert Analyzer(AnalysisConfig(length_tolerance_s=1.0)).cache_key(work / "short.mp4", case) == \
        analyzer.cache_key(work / "short.mp4", case)  # a tolerance accepts videos, it changes no value


def test_rotated_and_variable_rate_face_video(work, analyzer):
    from test_media import encode

    # 2.4 s of the talking astronaut, stored turned a quarter clockwise with a display matrix that
    # turns it back (as phones record portrait video), at jittered timestamps around 25 fps
    n = 60
    faces = [np.rot90(im, -1) for im in clips.frames(n, FPS, person="astronaut_portrait", size=SIZE,
                                                    **clips.talking_tracks(seed=2))]
    times = np.arange(n) / FPS + np.random.default_rng(4).uniform(-0.012, 0.012, n) * (np.arange(n) > 0)
    video = encode(work / "rot_vfr.mp4", faces, times, rotation=90)
    case = _case(work, [_save_png(work / "ref_rot.png", clips.face_photo("astronaut_portrait", SIZE))], 2.4)
    f = analyzer.run(video, case)
    tl = f.meta["timeline"]
    assert tl["kind"] == "variable" and f.n_frames == n and f.fps == pytest.approx((n - 1) / (times[-1] - times[0]), rel=1e-4)
    assert f.meta["rotation"] == 90 and (f["width"], f["height"]) == (SIZE, SIZE)
    assert f["face_present"].mean() > 0.95
    assert abs(np.nanmedian(f["pose_deg"][:, 2])) < 3.0  # upright: no 90 deg roll
    assert any("variable frame rate" in w for w in f.meta["warnings"])
    assert any("90 deg rotation" in w for w in f.meta["warnings"])


def test_the_videos_own_soundtrack_is_compared_with_the_case_audio(work, analyzer, tmp_path):
    from conftest import speech

    words = media.load_audio(speech("the quick brown fox jumps over the lazy dog", tmp_path / "a.wav", 3.0, offset=0.3))
    other = media.load_audio(speech("seven eight nine, ten eleven twelve", tmp_path / "b.wav", 3.0, offset=0.5))
    ref = _save_png(work / "ref_s.png", clips.face_photo("astronaut_portrait", 64))
    case = _case(work, [ref], 3.0, agent=tmp_path / "a.wav")
    noise = np.random.default_rng(5).integers(0, 255, (int(3.0 * FPS), 64, 64, 3), dtype=np.uint8)

    def muxed(name, samples):
        with media.VideoWriter(work / name, FPS, 64, 64, audio=samples) as w:
            for img in noise:
                w.write(img)
        return analyzer.run(work / name, case).meta["soundtrack"]

    same = muxed("same.mp4", words)
    assert same["verdict"] == "in_sync" and same["track"] == "agent" and same["r"] > 0.9
    late = muxed("late.mp4", np.r_[np.zeros(int(0.2 * AUDIO_RATE), np.float32), words][: len(words)])
    assert late["verdict"] == "offset" and late["offset_s"] == pytest.approx(0.2, abs=0.015)
    assert muxed("other.mp4", other)["verdict"] == "other"
    assert muxed("silent.mp4", np.zeros_like(words))["verdict"] == "silent"


# -- no face, speech audio, state timeline --------------------------------------------------------
def _espeak(text: str) -> np.ndarray:
    if not audio.have_espeak():
        pytest.skip("espeak-ng is not installed")
    return audio.espeak(text)


@pytest.fixture(scope="module")
def dialog_run(work, analyzer):
    import soundfile as sf

    seconds = 5.0
    n = int(seconds * AUDIO_RATE)
    partner_words = _espeak("could you tell me the way")[: int(1.6 * AUDIO_RATE)]
    agent_words = _espeak("yes of course, follow me")[: int(1.6 * AUDIO_RATE)]
    partner, agent = np.zeros(n, np.float32), np.zeros(n, np.float32)
    partner[int(0.3 * AUDIO_RATE):][: len(partner_words)] = partner_words  # partner speaks 0.3-1.9 s
    agent[int(2.8 * AUDIO_RATE):][: len(agent_words)] = agent_words  # agent answers 2.8-4.4 s
    sf.write(work / "partner.wav", partner, AUDIO_RATE)
    sf.write(work / "agent.wav", agent, AUDIO_RATE)
    # no face anywhere: a drifting colour gradient
    size = 96
    yy, xx = np.mgrid[0:size, 0:size]
    with media.VideoWriter(work / "noface.mp4", FPS, size, size) as w:
        for i in range(int(seconds * FPS)):
            img = np.stack([(xx * 2 + i) % 256, (yy * 2) % 256, np.full_like(xx, 90 + i % 40)], -1).astype(np.uint8)
            w.write(img)
    # the reference shows no face either (a non-humanoid character)
    ref = _save_png(work / "blob.png", np.full((size, size, 3), 200, np.uint8))
    case = Case(id="dialog", mode="duplex", character=Character("blob", "non_humanoid", (ref,)), duration=seconds,
                fps=FPS, width=size, height=size, agent_audio=work / "agent.wav", partner_audio=work / "partner.wav")
    return analyzer.run(work / "noface.mp4", case)


def test_no_face_is_not_an_error(dialog_run):
    f = dialog_run
    assert not f["face_present"].any()
    for name in ("landmarks_px", "mouth_open", "pose_deg", "aligned", "embeddings"):
        with pytest.raises(FeatureUnavailable, match=f"no face found in any of {f.n_frames} frames"):
            f.get(name)
    assert "reference" in f.unavailable["ref_embedding"]
    assert f["region_lab"].shape == (f.n_frames, 3) and np.isfinite(f["region_lab"]).all()
    assert np.isfinite(f["body_flow"][1:]).all() and np.nanmean(f["body_flow"]) > 0


def test_vad_segments_and_state_timeline(dialog_run):
    f = dialog_run
    assert f["has_agent_audio"] and f["has_partner_audio"]
    (ps, pe), = f["partner_segments"][:1]
    assert abs(ps - 0.3) < 0.25 and pe < 2.2
    assert len(f["agent_segments"]) >= 1
    assert abs(f["agent_segments"][0, 0] - 2.8) < 0.25 and f["agent_segments"][-1, 1] < 4.7
    assert np.all(np.diff(f["agent_segments"], axis=1) >= 0.3)
    t, state = f.times(), f["state"]
    assert np.all(state[(t > 0.8) & (t < 1.4)] == STATE_LISTEN)
    assert np.all(state[(t > 3.2) & (t < 4.0)] == STATE_SPEAK)
    assert np.all(state[(t > 2.3) & (t < 2.6)] == STATE_IDLE) and state[-1] == STATE_IDLE
    env = f["agent_env"]
    assert env.shape == (f.n_frames,) and env[state == STATE_SPEAK].mean() > 20 * env[t < 2.5].mean()


# -- the extractor hook ----------------------------------------------------------------------------
class _MeanLuma(Extractor):
    name, version, provides = "t_luma", "1", ("t_luma",)

    def begin(self, ctx):
        self.ctx, self.vals = ctx, []

    def frame(self, idx, rgb, face):
        self.vals.append(float(rgb.mean()))

    def end(self):
        return {"t_luma": np.asarray(self.vals)}


class _Broken(_MeanLuma):
    name, provides = "t_broken", ("t_broken",)

    def frame(self, idx, rgb, face):
        raise ValueError("boom")


class _NoWeights(_MeanLuma):
    name, provides = "t_noweights", ("t_noweights",)

    def availability(self):
        return "weights file t.pt not found; get it from example.org"


class _NoResult(_MeanLuma):
    name, provides = "t_none", ("t_none",)

    def end(self):
        return {"t_none": Unavailable("nothing to measure")}


def test_extractor_hook(work, monkeypatch):
    # a registry of the identity backend and the test extractors, in place of the global one
    reg = Registry("feature extractor", "lpmbench.test_extractors", {"dlib": EXTRACTORS.get("dlib")})
    for cls in (_MeanLuma, _Broken, _NoWeights, _NoResult):
        reg.register(cls.name, cls)
    monkeypatch.setattr(analyzer_mod, "EXTRACTORS", reg)
    cfg = AnalysisConfig(extractors=["t_luma", "t_broken", "t_noweights", "t_none"], embed_workers=1)
    case = _case(work, [_save_png(work / "ref_h.png", clips.face_photo("astronaut_portrait", 64))], 1.0)
    clip = _noise_clip(work / "hook.mp4", 1.0, FPS)
    with Analyzer(cfg) as an:
        f = an.run(clip, case)
    assert f["t_luma"].shape == (25,) and 100 < f["t_luma"].mean() < 155
    assert "boom" in f.unavailable["t_broken"] and "frame" in f.unavailable["t_broken"]
    assert f.unavailable["t_noweights"].startswith("weights file t.pt not found")
    assert f.unavailable["t_none"] == "nothing to measure"
    assert f.backends["t_noweights"]["available"] is False and f.backends["t_luma"]["available"] is True
    assert f.meta["timings_s"]["frames.t_luma"] > 0  # every stage is timed under its name
    with pytest.raises(KeyError, match="(?i)did you mean"):
        reg.get("t_lumma")
    # an unregistered "module:Class" target works too, named as given
    target = f"{__name__}:_MeanLuma"
    with Analyzer(AnalysisConfig(extractors=[target], embed_workers=1)) as an:
        g = an.run(clip, case)
    np.testing.assert_array_equal(g["t_luma"], f["t_luma"])
    assert g.backends[target]["available"] is True
