"""Pure building blocks of the analysis pass: pose conventions on projected 3D faces, Procrustes,
landmark signals, audio envelopes and the state timeline. Fast: no video decoding."""
from __future__ import annotations

import numpy as np
import pytest

from lpmbench.analysis.audio import rms_envelope, segments_to_frames, state_timeline
from lpmbench.analysis.config import AnalysisConfig
from lpmbench.analysis.face import MODEL_3D, RIGID, PoseEstimator, align_to, face_signals, relative_euler, similarity_transform
from lpmbench.features import STATE_IDLE, STATE_LISTEN, STATE_SPEAK

W = H = 512


def _rot(yaw=0.0, pitch=0.0, roll=0.0) -> np.ndarray:
    """Head rotation in camera axes (x right, y down, z away) for the module's viewer conventions."""
    a, b, c = np.radians([-yaw, -pitch, -roll])
    ry = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return ry @ rx @ rz


def _project(r: np.ndarray, dist_mm: float = 600.0) -> np.ndarray:
    """68 landmarks with the rigid ones from the projected 3D model (the others unused here)."""
    pts = MODEL_3D @ r.T + np.array([0, 0, dist_mm])
    f = float(max(W, H))
    lm = np.zeros((68, 2))
    lm[RIGID] = np.c_[f * pts[:, 0] / pts[:, 2] + W / 2, f * pts[:, 1] / pts[:, 2] + H / 2]
    return lm


def _pose(yaw=0.0, pitch=0.0, roll=0.0) -> np.ndarray:
    pe = PoseEstimator(W, H)
    r_ref = pe.rotation(_project(np.eye(3)))[0]
    return relative_euler(pe.rotation(_project(_rot(yaw, pitch, roll)))[0], r_ref)


@pytest.mark.parametrize("angles", [(15, 0, 0), (-20, 0, 0), (0, 12, 0), (0, -10, 0), (0, 0, 25), (10, -8, 5)])
def test_pose_recovers_projected_rotation(angles):
    np.testing.assert_allclose(_pose(*angles), angles, atol=0.5)


def test_pose_sign_conventions_on_screen():
    # yaw > 0: the nose tip (landmark 30) moves toward image right relative to the eye midpoint
    lm = _project(_rot(yaw=15))
    assert lm[30, 0] > (lm[36, 0] + lm[45, 0]) / 2
    # pitch > 0: the head tilts up, the nose tip rises toward the eyes
    up, flat = _project(_rot(pitch=12)), _project(np.eye(3))
    assert (up[30, 1] - up[36, 1]) < (flat[30, 1] - flat[36, 1])


def test_similarity_transform_and_alignment():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(68, 2)) * 30 + 200
    th = np.radians(17)
    r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    dst = 1.7 * src @ r.T + np.array([5.0, -9.0])
    s, rr, t = similarity_transform(src, dst)
    assert s == pytest.approx(1.7) and np.allclose(rr, r) and np.allclose(t, [5.0, -9.0])
    origin, iod = dst[36:48].mean(0), 40.0
    np.testing.assert_allclose(align_to(src, dst, origin, iod), (dst - origin) / iod, atol=1e-9)


def _neutral_face() -> np.ndarray:
    """A plausible frontal 68-point face (eyes 60 px apart) built from simple shapes."""
    lm = np.zeros((68, 2))
    lm[0:17] = np.c_[np.linspace(140, 260, 17), 200 + 60 * np.sin(np.linspace(0, np.pi, 17))]
    lm[17:22] = np.c_[np.linspace(150, 190, 5), np.full(5, 150.0)]
    lm[22:27] = np.c_[np.linspace(210, 250, 5), np.full(5, 150.0)]
    lm[27:31] = np.c_[[200] * 4, np.linspace(170, 210, 4)]
    lm[31:36] = np.c_[np.linspace(185, 215, 5), np.full(5, 215.0)]
    for c, sl in ((170, slice(36, 42)), (230, slice(42, 48))):
        ang = np.radians([180, 120, 60, 0, -60, -120])
        lm[sl] = np.c_[c + 12 * np.cos(ang), 170 - 5 * np.sin(ang)]
    ang = np.linspace(np.pi, -np.pi, 13)[:12]
    lm[48:60] = np.c_[200 + 25 * np.cos(ang), 240 - 8 * np.sin(ang)]
    lm[60:68] = np.c_[[180, 190, 200, 210, 220, 210, 200, 190], [240, 238, 238, 238, 240, 242, 242, 242]]
    return lm


def test_face_signals_follow_the_mouth_eyes_and_brows():
    base = _neutral_face()
    iod, m0, w0, ear0, b0 = face_signals(base)
    assert iod == pytest.approx(60.0)
    opened = base.copy()
    opened[65:68, 1] += 12  # lower inner lip drops 12 px
    assert face_signals(opened)[1] == pytest.approx(m0 + 12 / 60, abs=1e-6)
    closed = base.copy()
    closed[[37, 38, 43, 44], 1] += 5
    closed[[40, 41, 46, 47], 1] -= 5
    assert face_signals(closed)[3] < 0.3 * ear0
    raised = base.copy()
    raised[17:27, 1] -= 6
    assert face_signals(raised)[4] == pytest.approx(b0 + 6 / 60, abs=1e-6)
    # scale invariance: the same face twice as big gives the same signals
    np.testing.assert_allclose(face_signals(base * 2)[1:], (m0, w0, ear0, b0), rtol=1e-6)


def test_rms_envelope_per_frame():
    sr, fps = 16000, 25
    x = np.zeros(sr, np.float32)
    x[int(0.4 * sr):int(0.6 * sr)] = 0.5 * np.sign(np.sin(np.arange(int(0.2 * sr))))
    env = rms_envelope(x, fps, 25)
    assert env.shape == (25,)
    assert np.all(env[:10] == 0) and np.allclose(env[10:15], 0.5, atol=0.02) and np.all(env[15:] == 0)
    assert np.all(rms_envelope(x[: sr // 2], fps, 25)[13:] == 0)  # short audio: zero-padded


def test_segments_and_states():
    seg = np.array([[0.2, 0.6]])
    vad = segments_to_frames(seg, 10, 10)
    assert vad.tolist() == [False, False, True, True, True, True, False, False, False, False]
    agent = np.array([0, 1, 1, 0, 0], bool)
    partner = np.array([1, 1, 0, 0, 1], bool)
    assert state_timeline(agent, partner).tolist() == [STATE_LISTEN, STATE_SPEAK, STATE_SPEAK, STATE_IDLE, STATE_LISTEN]


def test_config_protocol_excludes_speed_only_fields():
    a, b = AnalysisConfig(embed_workers=1, decode_threads=4), AnalysisConfig()
    assert a.protocol_dict() == b.protocol_dict()
    assert AnalysisConfig(detect_every=3).protocol_dict() != b.protocol_dict()
    assert AnalysisConfig.from_dict({"extractors": ("syncnet",)}).extractors == ["syncnet"]
    with pytest.raises(ValueError, match="unknown analysis config field"):
        AnalysisConfig.from_dict({"detect_evry": 3})


# -- which extractors a set of required features needs ---------------------------------------------
def test_extractors_for_the_core_and_identity_features_is_none():
    from lpmbench.analysis import extractors_for
    from lpmbench.analysis.stages import CORE_FEATURES

    assert extractors_for(CORE_FEATURES) == [] and extractors_for(set()) == []
    assert extractors_for({"embeddings", "ref_embedding", "mouth_open", "state", "fps"}) == []
    assert extractors_for({"no_such_feature"}) == []  # left to the metric to report as unavailable


def test_extractors_for_weight_backed_features():
    from lpmbench.analysis import extractors_for

    assert extractors_for({"syncnet_dists", "mouth_open"}) == ["syncnet"]
    # registration order, one extractor per feature set
    assert extractors_for({"inception_feats", "clip_text_embeddings", "syncnet_params", "clip_frames"}) == [
        "clip_frames", "syncnet", "fid_inception"]


def test_every_feature_a_builtin_metric_requires_is_computed():
    from lpmbench.analysis.stages import CORE_FEATURES
    from lpmbench.plugins import load_metrics
    from lpmbench.registry import EXTRACTORS

    provided = set(CORE_FEATURES).union(*(EXTRACTORS.get(n).provides for n in EXTRACTORS.names()))
    assert load_metrics(scan_entry_points=False).requires() - provided == set()


def test_extractors_for_third_party_and_broken_extractors(monkeypatch):
    from lpmbench import registry
    from lpmbench.analysis import Extractor, extractors_for

    class Gaze(Extractor):
        name, provides = "gaze", ("gaze_deg",)

    reg = registry.Registry("feature extractor", "lpmbench.test_extractors", {
        "syncnet": "lpmbench.analysis.backends.syncnet:SyncNetExtractor", "gaze": Gaze,
        "broken": "no_such_module_here:Extractor"})
    monkeypatch.setattr(registry, "EXTRACTORS", reg)
    assert extractors_for({"gaze_deg", "syncnet_dists"}) == ["syncnet", "gaze"]
    # an uncovered feature with a plug-in that failed to load: the error names the plug-in
    with pytest.raises(registry.RegistryError, match="pupil_mm.*no_such_module_here"):
        extractors_for({"pupil_mm"})


def test_extractors_for_imports_no_model_code():
    import subprocess
    import sys

    code = ("import sys; from lpmbench.analysis import extractors_for; from lpmbench.registry import EXTRACTORS; "
            "every = {f for n in EXTRACTORS.names() for f in EXTRACTORS.get(n).provides}; "
            "assert extractors_for(every | {'unknown'}), 'nothing chosen'; "
            "print(sorted(m for m in ('torch', 'open_clip', 'onnxruntime', 'torchmetrics', 'dlib', 'cv2') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_core_stage_table():
    from lpmbench.analysis.stages import STAGE_CLASSES, core_stages

    stages = core_stages(AnalysisConfig())
    assert tuple(type(s) for s in stages) == STAGE_CLASSES and stages[0].name == "track"
    names = [f for s in stages for f in s.provides]
    assert len(names) == len(set(names))  # each feature has one stage
