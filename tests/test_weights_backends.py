"""Weight-backed extractors and their metrics, on weight files of the right architecture made here.

No real weights can be downloaded in CI, so each test writes a file with the official format and
architecture but random values (a SyncNet state dict, an ArcFace-signature ONNX graph, an open_clip
checkpoint, an FID Inception state dict) and loads it through the real loaders. The values are
therefore meaningless; the tests check shapes, normalisation, conventions and the unavailable paths.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from lpmbench import weights as W
from lpmbench.analysis.extractors import ExtractorContext, FaceObs, Unavailable
from lpmbench.case import Case, Character, PromptEvent
from lpmbench.features import Features
from lpmbench.metric_api import MetricContext

FPS = 25
SIZE = 256


class _Cfg:
    """The analysis config fields the extractors read (the real AnalysisConfig has them)."""

    face_dilate = 1.6


@pytest.fixture(scope="module")
def face():
    """The astronaut at 256x256 with its dlib face box and 68 landmarks (one detection, reused)."""
    import cv2
    import dlib
    from skimage import data

    img = cv2.resize(data.astronaut(), (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    rect = dlib.get_frontal_face_detector()(img, 1)[0]
    models = Path(importlib.util.find_spec("face_recognition_models").submodule_search_locations[0]) / "models"
    shape = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))(img, rect)
    lm = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
    box = np.array([rect.left(), rect.top(), rect.right(), rect.bottom()], dtype=np.float64)
    return img, box, lm


def talking_frames(img, lm, n):
    """Frames whose mouth opens and closes with a 4 Hz syllable rhythm, plus the matching audio."""
    import cv2

    t = np.arange(int(n / FPS * 16000)) / 16000
    env = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t)
    audio = (0.3 * env * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 540 * t))).astype(np.float32)
    mouth = lm[48:68].mean(0)
    frames = []
    for i in range(n):
        f = img.copy()
        opening = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * i / FPS)
        cv2.ellipse(f, (int(mouth[0]), int(mouth[1])), (10, int(1 + 6 * opening)), 0, 0, 360, (60, 10, 10), -1)
        frames.append(f)
    return frames, audio


def make_case(tmp_path, img, prompts=()):
    from PIL import Image

    ref = tmp_path / "ref.png"
    Image.fromarray(img).save(ref)
    char = Character("astronaut", "photoreal", (ref,))
    return Case(id="c1", mode="speak", character=char, duration=2.0, fps=FPS, width=SIZE, height=SIZE,
                prompts=tuple(prompts))


def make_ctx(case, img, lm, n, audio=None, embed_stride=5):
    return ExtractorContext(case=case, fps=FPS, width=SIZE, height=SIZE, n_frames_expected=n,
                            reference_images=[img], reference_landmarks=[lm], agent_audio=audio,
                            partner_audio=None, config=_Cfg(), embed_stride=embed_stride)


def run_extractor(ex, ctx, frames, obs):
    ex.begin(ctx)
    for i, f in enumerate(frames):
        ex.frame(i, f, obs(i))
    return ex.end()


def as_features(values, n):
    feats = Features(values={"fps": float(FPS), "n_frames": n})
    for k, v in values.items():
        if isinstance(v, Unavailable):
            feats.unavailable[k] = v.reason
        else:
            feats.values[k] = v
    return feats


# -- SyncNet ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def syncnet_dir(tmp_path_factory):
    import torch
    from syncnet_python.SyncNetModel import S

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("w_sync")
    (d / "syncnet").mkdir()
    torch.save(S().state_dict(), d / "syncnet" / "syncnet_v2.model")
    return d


def test_calc_pdist_offset_sign_convention():
    """Video features equal to the audio features 3 frames earlier = video late by 3 -> offset +3."""
    from lpmbench.analysis.backends.syncnet import calc_pdist
    from lpmbench.metrics.syncnet import lse_from_dists

    rng = np.random.default_rng(0)
    aud = rng.normal(size=(60, 16))
    vid = np.concatenate([rng.normal(size=(3, 16)), aud[:-3]])  # vid[i] = aud[i - 3]
    d = calc_pdist(vid, aud)
    assert d.shape == (60, 31)
    out = lse_from_dists(d[3:].mean(0))
    assert out["lipsync.syncnet_offset"] == 3.0
    assert out["lipsync.lse_d"] == pytest.approx(d[3:].mean(0).min())
    assert out["lipsync.lse_c"] > 0


@pytest.mark.parametrize("fps", [25.0, 30.0, 20.0, 29.97])
def test_syncnet_frame_rate_mapping(fps):
    """Every 25-fps slot gets exactly one source frame: the nearest one."""
    from lpmbench.analysis.backends.syncnet import slots_for_frame

    n = int(4 * fps)
    slots = [k for i in range(n) for k in slots_for_frame(i, fps)]
    assert slots == list(range(len(slots))) and abs(len(slots) - 100) <= 1
    for i in range(n):
        for k in slots_for_frame(i, fps):
            assert abs(k * fps / 25 - i) <= 0.5 + 1e-9


def test_medfilt_matches_scipy():
    from scipy.signal import medfilt

    from lpmbench.analysis.backends.syncnet import medfilt_at

    v = list(np.random.default_rng(0).uniform(50, 60, 30))
    assert [medfilt_at(v, i) for i in range(30)] == pytest.approx(medfilt(v, 13).tolist())


def test_syncnet_extractor_and_metrics(face, syncnet_dir, tmp_path):
    from lpmbench.analysis.backends.syncnet import SyncNetExtractor
    from lpmbench.metrics.syncnet import METRICS

    img, box, lm = face
    n = 28
    frames, audio = talking_frames(img, lm, n)
    ex = SyncNetExtractor(weights_dir=syncnet_dir, min_track=20)
    assert ex.availability() is None
    # a 3-frame detection gap is interpolated, as upstream does
    out = run_extractor(ex, make_ctx(make_case(tmp_path, img), img, lm, n, audio), frames,
                        lambda i: None if i in (10, 11, 12) else FaceObs(box, lm, 1.0))
    d = out["syncnet_dists"]
    assert isinstance(d, np.ndarray) and d.shape == (31,) and np.all(np.isfinite(d)) and np.all(d > 0)
    params = out["syncnet_params"]
    assert params["tracks"] == [[0, n]] and params["n_windows"] == n - 5
    assert params["weights_sha256"] == W.sha256_file(syncnet_dir / "syncnet" / "syncnet_v2.model")
    assert params["vshift"] == 15 and params["offsets"][0] == 15 and params["offsets"][-1] == -15
    info = ex.backend_info()
    assert info["weights_sha256"] == params["weights_sha256"] and info["weights_checksum"] == "unverified"

    feats = as_features(out, n)
    tmp = tmp_path / "f.npz"
    feats.save(tmp)
    res = METRICS[0](MetricContext(Features.load(tmp), case=None))  # survives the cache round trip
    assert set(res.values) == {"lipsync.lse_c", "lipsync.lse_d", "lipsync.syncnet_offset"}, res.unavailable
    assert res.values["lipsync.lse_d"] == pytest.approx(d.min())
    assert res.values["lipsync.lse_c"] == pytest.approx(np.median(d) - d.min())
    assert res.values["lipsync.syncnet_offset"] == 15 - int(np.argmin(d))

    # the same crops and audio through syncnet_python's own SyncNetInstance.evaluate give the same numbers
    up_offset, up_conf, up_min = upstream_evaluate(ex.model, frames, box, audio, tmp_path / "upstream")
    assert res.values["lipsync.syncnet_offset"] == up_offset
    assert res.values["lipsync.lse_d"] == pytest.approx(up_min, rel=1e-4)
    assert res.values["lipsync.lse_c"] == pytest.approx(up_conf, rel=1e-3, abs=1e-4)


def upstream_evaluate(model, frames, box, audio, work):
    """syncnet_python's evaluation on our crops (lossless PNG data under its *.jpg names) and audio."""
    import cv2
    from scipy.io import wavfile
    from syncnet_python.SyncNetInstance import SyncNetInstance

    from lpmbench.analysis.backends.syncnet import syncnet_crop

    work.mkdir()
    s, x, y = max(box[3] - box[1], box[2] - box[0]) / 2, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    for i, f in enumerate(frames):  # a constant box: the 13-frame median filter leaves it unchanged
        ok, png = cv2.imencode(".png", syncnet_crop(np.ascontiguousarray(f[:, :, ::-1]), s, x, y))
        (work / f"{i + 1:06d}.jpg").write_bytes(png.tobytes())
    pcm = np.clip(np.round(audio.astype(np.float64) * 32768), -32768, 32767).astype(np.int16)
    wavfile.write(work / "audio.wav", 16000, pcm)

    class Opt:
        tmp_dir, batch_size, vshift = str(work), 20, 15

    return SyncNetInstance(model, device="cpu").evaluate(Opt())


def test_syncnet_short_track_and_no_audio_are_unavailable(face, syncnet_dir, tmp_path):
    from lpmbench.analysis.backends.syncnet import SyncNetExtractor

    img, box, lm = face
    frames, audio = talking_frames(img, lm, 12)
    ex = SyncNetExtractor(weights_dir=syncnet_dir)  # protocol default: tracks longer than 50 frames
    out = run_extractor(ex, make_ctx(make_case(tmp_path, img), img, lm, 12, audio), frames,
                        lambda i: FaceObs(box, lm, 1.0))
    assert isinstance(out["syncnet_dists"], Unavailable) and "50 frames" in out["syncnet_dists"].reason
    out = run_extractor(ex, make_ctx(make_case(tmp_path, img), img, lm, 12, None), frames, lambda i: None)
    assert "no agent audio" in out["syncnet_dists"].reason


def test_missing_and_corrupt_weights_make_metrics_unavailable(tmp_path):
    from lpmbench.analysis.backends.syncnet import SyncNetExtractor
    from lpmbench.metrics.syncnet import METRICS

    ex = SyncNetExtractor(weights_dir=tmp_path)
    reason = ex.availability()
    assert reason and "syncnet_v2.model" in reason and "lpmbench weights fetch syncnet_v2" in reason
    assert W.WEIGHTS["syncnet_v2"].url in reason and str(tmp_path) in reason
    # the analysis pass records the reason for every provided feature; the metric passes it on
    feats = Features(values={"fps": 25.0, "n_frames": 10}, unavailable={k: reason for k in ex.provides})
    res = METRICS[0](MetricContext(feats, case=None))
    assert not res.values and set(res.unavailable) == set(METRICS[0].names)
    assert all("lpmbench weights fetch syncnet_v2" in r for r in res.unavailable.values())

    # extractor not enabled at all: say how to enable it, still no number
    res = METRICS[0](MetricContext(Features(values={"fps": 25.0, "n_frames": 10}), case=None))
    assert not res.values and "enable the 'syncnet' extractor" in res.unavailable["lipsync.lse_d"]

    (tmp_path / "syncnet_v2.model").write_bytes(b"truncated download")
    reason = SyncNetExtractor(weights_dir=tmp_path).availability()
    assert "cannot load weights file" in reason and str(tmp_path / "syncnet_v2.model") in reason


# -- ArcFace ------------------------------------------------------------------------------------

def write_arcface_onnx(path: Path, fixed_batch: bool = False) -> None:
    """An ONNX graph with ArcFace's signature: (N, 3, 112, 112) float -> (N, 512)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    w_conv = numpy_helper.from_array(rng.normal(0, 0.1, (8, 3, 8, 8)).astype(np.float32), "w_conv")
    w_fc = numpy_helper.from_array(rng.normal(0, 0.05, (8 * 14 * 14, 512)).astype(np.float32), "w_fc")
    batch = 1 if fixed_batch else "N"
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input.1", "w_conv"], ["c"], strides=[8, 8], name="conv0"),
         helper.make_node("Relu", ["c"], ["r"], name="relu0"),
         helper.make_node("Flatten", ["r"], ["f"], axis=1, name="flat0"),
         helper.make_node("MatMul", ["f", "w_fc"], ["683"], name="fc0")],
        "arcface_signature",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [batch, 3, 112, 112])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, [batch, 512])],
        initializer=[w_conv, w_fc],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


@pytest.mark.parametrize("fixed_batch", [False, True])
def test_arcface_extractor(face, tmp_path, fixed_batch):
    from lpmbench.analysis.backends.arcface import ArcFaceExtractor, align_face, five_points

    img, box, lm = face
    write_arcface_onnx(tmp_path / "buffalo_l" / "w600k_r50.onnx", fixed_batch)
    ex = ArcFaceExtractor(weights_dir=tmp_path)
    assert ex.availability() is None
    assert ex.backend_info()["normalisation"] == [127.5, 127.5]
    aligned = align_face(img, five_points(lm))
    assert aligned.shape == (112, 112, 3) and aligned.mean() > 20  # the face, not the black border
    other = np.ascontiguousarray(img[:, ::-1])  # mirrored frame: same person, different pixels
    lm_other = lm.copy()
    lm_other[:, 0] = SIZE - 1 - lm[:, 0]
    frames = [img] * 6 + [other] * 5
    out = run_extractor(ex, make_ctx(None, img, lm, 11, embed_stride=2), frames,
                        lambda i: None if i == 4 else FaceObs(box, lm if i < 6 else lm_other, 1.0))
    assert out["emb_backend"] == "arcface"
    assert out["emb_frames"].tolist() == [0, 2, 6, 8, 10]  # embed schedule, frame 4 has no face
    e = out["embeddings"]
    assert e.shape == (5, 512) and np.allclose(np.linalg.norm(e, axis=1), 1)
    assert np.linalg.norm(out["ref_embedding"]) == pytest.approx(1)
    assert e[0] @ out["ref_embedding"] == pytest.approx(1, abs=1e-6)  # same image, same landmarks
    assert e[2] @ out["ref_embedding"] < 0.999


def test_arcface_preprocessing_matches_insightface(face, tmp_path):
    """Alignment and normalisation equal insightface's own norm_crop + ArcFaceONNX.get_feat."""
    pytest.importorskip("insightface")
    from insightface.model_zoo.arcface_onnx import ArcFaceONNX
    from insightface.utils.face_align import norm_crop

    from lpmbench.analysis.backends.arcface import ArcFaceModel, align_face, five_points

    img, box, lm = face
    kps = five_points(lm)
    ours = align_face(img, kps)
    theirs = norm_crop(img, kps)
    assert np.abs(ours.astype(int) - theirs.astype(int)).max() <= 1
    path = tmp_path / "w600k_r50.onnx"
    write_arcface_onnx(path)
    e_ours = ArcFaceModel(path).embed([ours])[0]
    e_theirs = ArcFaceONNX(model_file=str(path)).get_feat([np.ascontiguousarray(ours[:, :, ::-1])])[0]  # it takes BGR
    assert e_ours == pytest.approx(e_theirs / np.linalg.norm(e_theirs), abs=1e-5)


def test_arcface_rejects_a_model_with_the_wrong_signature(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from lpmbench.analysis.backends.arcface import ArcFaceExtractor

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 64, 64])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "w600k_r50.onnx"))
    reason = ArcFaceExtractor(weights_dir=tmp_path).availability()
    assert "cannot load weights file" in reason and "not an ArcFace" in reason


# -- open_clip ----------------------------------------------------------------------------------

CLIP_ARCH = "ViT-S-32-alt"  # the smallest architecture open_clip lists


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory):
    import open_clip
    import torch

    torch.manual_seed(0)
    d = tmp_path_factory.mktemp("w_clip")
    model = open_clip.create_model(CLIP_ARCH, pretrained=None)
    (d / "open_clip").mkdir()
    torch.save(model.state_dict(), d / "open_clip" / "open_clip_pytorch_model.bin")
    return d


def test_clip_extractors_and_clip_score(face, clip_dir, tmp_path):
    import torch

    from lpmbench.analysis.backends.clip import ClipEmbeddingExtractor, ClipFrameExtractor
    from lpmbench.metrics.clip_score import METRICS

    img, box, lm = face
    n = 26
    case = make_case(tmp_path, img, [PromptEvent(0.0, 0.6, text="an astronaut smiling"),
                                     PromptEvent(0.5, 1.0, action="nod"),
                                     PromptEvent(0.5, 1.04, text="a person in a white suit")])
    ident = ClipEmbeddingExtractor(weights_dir=clip_dir, model_name=CLIP_ARCH)
    assert ident.availability() is None
    saved = torch.load(clip_dir / "open_clip" / "open_clip_pytorch_model.bin")
    key = "visual.proj"
    assert torch.equal(ident.model.model.state_dict()[key].cpu(), saved[key])  # the file was really loaded
    frames = [img] * n
    out = run_extractor(ident, make_ctx(case, img, lm, n), frames,
                        lambda i: None if i == 10 else FaceObs(box, lm, 1.0))
    assert out["emb_backend"] == "clip" and out["emb_frames"].tolist() == [0, 5, 10, 15, 20, 25]
    e = out["embeddings"]
    assert e.shape == (6, 256) and np.allclose(np.linalg.norm(e, axis=1), 1)
    assert e[0] @ e[1] == pytest.approx(1, abs=1e-6)  # identical face regions
    assert e[2] @ e[0] < 0.9999  # frame 10 has no face: the whole frame is embedded
    assert ident.backend_info()["model"] == CLIP_ARCH

    frames_ex = ClipFrameExtractor(weights_dir=clip_dir, model_name=CLIP_ARCH)
    assert frames_ex.availability() is None and frames_ex.model is ident.model  # loaded once, shared
    out = run_extractor(frames_ex, make_ctx(case, img, lm, n), frames, lambda i: FaceObs(box, lm, 1.0))
    assert out["clip_frames"].tolist() == [0, 12, 24]  # ~2 Hz
    texts = out["clip_text_embeddings"]
    assert set(texts) == {"an astronaut smiling", "a person in a white suit"}  # free-form prompts only
    feats = as_features(out, n)
    feats.save(tmp_path / "c.npz")
    res = METRICS[0](MetricContext(Features.load(tmp_path / "c.npz"), case=case))
    v = res.values["text_control.clip_score"]
    emb = out["clip_embeddings"]
    expected = np.mean([emb[0] @ texts["an astronaut smiling"], emb[1] @ texts["a person in a white suit"]])
    assert v == pytest.approx(expected)

    no_prompt = run_extractor(frames_ex, make_ctx(make_case(tmp_path, img), img, lm, n), frames, lambda i: None)
    assert "no free-form text prompt" in no_prompt["clip_frames"].reason


def test_clip_unavailable_without_weights(tmp_path):
    from lpmbench.analysis.backends.clip import ClipFrameExtractor

    reason = ClipFrameExtractor(weights_dir=tmp_path).availability()
    assert "open_clip_pytorch_model.bin" in reason and "lpmbench weights fetch open_clip" in reason


# -- FID Inception ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def inception_dir(tmp_path_factory):
    """Random weights of the FID Inception architecture, in the file the registry expects.

    torch-fidelity's constructor always loads weights (from the network when given no path), so the
    random architecture is built with that one download step replaced; the extractor under test then
    loads the saved file through the real code path.
    """
    import torch
    from torch_fidelity import feature_extractor_inceptionv3 as fi

    torch.manual_seed(0)
    mp = pytest.MonkeyPatch()
    mp.setattr(fi, "load_state_dict_from_url", lambda *a, **k: None)
    mp.setattr(fi.FeatureExtractorInceptionV3, "load_state_dict", lambda self, sd, *a, **k: None)
    try:
        net = fi.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    finally:
        mp.undo()
    d = tmp_path_factory.mktemp("w_fid")
    # a name with a wrong hash prefix would be refused, so register the file under a test entry
    d.joinpath("fid").mkdir()
    torch.save(net.state_dict(), d / "fid" / "inception_random.pth")
    return d


def test_inception_features_and_fid(face, inception_dir, tmp_path, monkeypatch):
    from dataclasses import replace

    from lpmbench.analysis.backends.inception import InceptionExtractor
    from lpmbench.metrics.distribution import METRICS, MIN_SAMPLES, frechet_distance

    spec = replace(W.WEIGHTS["fid_inception"], filename="inception_random.pth", sha256_prefix=None)
    monkeypatch.setitem(W.WEIGHTS, "fid_inception", spec)
    img, box, lm = face
    ex = InceptionExtractor(weights_dir=inception_dir)
    assert ex.availability() is None
    n = 13
    out = run_extractor(ex, make_ctx(None, img, lm, n), [img] * n, lambda i: None)
    assert out["inception_frames"].tolist() == [0, 6, 12]
    f = out["inception_feats"]
    assert f.shape == (3, 2048) and np.all(np.isfinite(f))
    res = METRICS[0](MetricContext(as_features(out, n), case=None))
    assert "too short" in res.unavailable["quality.fid_drift"]

    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 8))
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert frechet_distance(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-6)  # mean shift only
    frames = np.arange(0, 3 * MIN_SAMPLES * 6, 6)
    feats = np.concatenate([rng.normal(size=(len(frames) // 2, 8)), rng.normal(3.0, 1.0, (len(frames) - len(frames) // 2, 8))])
    fx = Features(values={"fps": 25.0, "n_frames": int(frames[-1] + 1), "inception_frames": frames,
                          "inception_feats": feats})
    res = METRICS[0](MetricContext(fx, case=None))
    assert res.values["quality.fid_drift"] > 8 * 9.0 * 0.5  # the last third moved by ~3 per dimension


# -- through the analysis pass ------------------------------------------------------------------

def _analysis_case(tmp_path, seconds):
    import soundfile as sf
    from PIL import Image

    from lpmbench.testing import audio as test_audio
    from lpmbench.testing import clips

    audio = test_audio.syllable_audio(seconds)
    video = clips.write_video(tmp_path / "clip.mp4", seconds, FPS, person="astronaut_portrait", size=SIZE, audio=audio,
                              **clips.talking_tracks())
    sf.write(tmp_path / "agent.wav", audio, 16000)
    Image.fromarray(clips.face_photo("astronaut_portrait", SIZE)).save(tmp_path / "ref.png")
    char = Character("astronaut", "photoreal", (tmp_path / "ref.png",))
    case = Case(id="e2e", mode="speak", character=char, duration=seconds, fps=FPS, width=SIZE, height=SIZE,
                agent_audio=tmp_path / "agent.wav",
                prompts=(PromptEvent(0.0, seconds, text="a woman talking"),))
    return video, case


def _score(feats, case):
    from lpmbench.metrics import clip_score, distribution, syncnet

    values, unavailable = {}, {}
    for m in syncnet.METRICS + clip_score.METRICS + distribution.METRICS:
        out = m(MetricContext(feats, case=case))
        values.update(out.values)
        unavailable.update(out.unavailable)
    return values, unavailable


def test_analysis_pass_with_missing_weights_never_crashes(tmp_path, monkeypatch):
    """All weight-backed extractors enabled, no weights installed: features and metrics are absent with why."""
    from lpmbench.analysis import AnalysisConfig, Analyzer

    monkeypatch.setenv(W.ENV_DIR, str(tmp_path / "no_weights"))
    video, case = _analysis_case(tmp_path, 1.0)
    cfg = AnalysisConfig(identity_backend="arcface", extractors=["syncnet", "clip_frames"])
    with Analyzer(cfg) as an:
        feats = an.run(video, case)
    assert "w600k_r50.onnx" in feats.unavailable["embeddings"]
    assert feats.backends["syncnet"]["available"] is False
    values, unavailable = _score(feats, case)
    assert not values
    assert "lpmbench weights fetch syncnet_v2" in unavailable["lipsync.lse_c"]
    assert "lpmbench weights fetch open_clip" in unavailable["text_control.clip_score"]
    assert "quality.fid_drift" in unavailable


@pytest.mark.slow
def test_analysis_pass_with_weights(tmp_path, monkeypatch, syncnet_dir, clip_dir):
    """SyncNet, ArcFace and CLIP features computed by the real analysis pass on an encoded clip."""
    import shutil

    from lpmbench.analysis import AnalysisConfig, Analyzer

    root = tmp_path / "weights"
    shutil.copytree(syncnet_dir / "syncnet", root / "syncnet")
    write_arcface_onnx(root / "buffalo_l" / "w600k_r50.onnx")
    (root / "open_clip").mkdir()
    (root / "open_clip" / "open_clip_pytorch_model.bin").symlink_to(clip_dir / "open_clip" / "open_clip_pytorch_model.bin")
    monkeypatch.setenv(W.ENV_DIR, str(root))
    monkeypatch.setenv("LPMBENCH_CLIP_MODEL", CLIP_ARCH)
    video, case = _analysis_case(tmp_path, 2.2)
    cfg = AnalysisConfig(identity_backend="arcface", extractors=["syncnet", "clip_frames"])
    with Analyzer(cfg) as an:
        feats = an.run(video, case)
    assert feats.get("emb_backend") == "arcface" and feats.get("embeddings").shape[1] == 512
    assert feats.backends["syncnet"]["weights_sha256"] == W.sha256_file(root / "syncnet" / "syncnet_v2.model")
    assert feats.get("syncnet_dists").shape == (31,)
    values, unavailable = _score(feats, case)
    assert {"lipsync.lse_c", "lipsync.lse_d", "lipsync.syncnet_offset", "text_control.clip_score"} <= set(values)
    assert "quality.fid_drift" in unavailable  # not enabled here: absent, not a number
