"""Every metric of the catalogue (the benchmark's public contract) is installed, with the
dimension and direction the catalogue gives it."""
import pytest

from lpmbench.plugins import load_metrics

# name: (dimension, direction) as in the metric catalogue
CATALOGUE = {
    "identity.csim": ("identity", "higher"),
    "identity.csim_worst_window": ("identity", "higher"),
    "identity.drift_per_min": ("identity", "target"),
    "identity.face_presence": ("identity", "higher"),
    "identity.color_drift": ("identity", "lower"),
    "lipsync.av_offset_frames": ("lipsync", "target"),
    "lipsync.av_confidence": ("lipsync", "higher"),
    "lipsync.av_corr": ("lipsync", "higher"),
    "lipsync.av_offset_s": ("lipsync", "target"),
    "lipsync.silent_lip_motion": ("lipsync", "lower"),
    "lipsync.silent_articulation": ("lipsync", "lower"),
    "lipsync.lse_c": ("lipsync", "higher"),
    "lipsync.lse_d": ("lipsync", "lower"),
    "lipsync.syncnet_offset": ("lipsync", "target"),
    "expressiveness.face_motion": ("expressiveness", "target"),
    "expressiveness.head_motion_deg": ("expressiveness", "target"),
    "expressiveness.body_motion": ("expressiveness", "target"),
    "expressiveness.blink_rate_per_min": ("expressiveness", "target"),
    "conversation.listen_lip_leak": ("conversation", "lower"),
    "conversation.listen_av_corr": ("conversation", "target"),
    "conversation.listen_motion_deg_s": ("conversation", "target"),
    "conversation.backchannel_per_min": ("conversation", "target"),
    "conversation.reaction_lag_s": ("conversation", "target"),
    "conversation.reaction_corr": ("conversation", "higher"),
    "conversation.transition_jump": ("conversation", "lower"),
    "conversation.turn_onset_s": ("conversation", "target"),
    "text_control.adherence": ("text_control", "higher"),
    "text_control.clip_score": ("text_control", "higher"),
    "quality.landmark_jitter": ("quality", "lower"),
    "quality.flicker": ("quality", "lower"),
    "quality.face_sharpness_ratio": ("quality", "target"),
    "quality.mouth_sharpness_ratio": ("quality", "target"),
    "realtime.rtf": ("realtime", "lower"),
    "realtime.ttff_s": ("realtime", "lower"),
    "realtime.fps": ("realtime", "higher"),
    "realtime.latency_p50_s": ("realtime", "lower"),
    "realtime.latency_p95_s": ("realtime", "lower"),
    "realtime.stall_ratio": ("realtime", "lower"),
    "realtime.peak_rss_mb": ("realtime", "lower"),
    "realtime.peak_gpu_mb": ("realtime", "lower"),
}


@pytest.fixture(scope="module")
def specs():
    return load_metrics(scan_entry_points=False).specs


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_catalogue_metric_installed(specs, name):
    assert name in specs, f"{name} is in the catalogue but no plugin provides it"
    dim, direction = CATALOGUE[name]
    assert specs[name].dimension == dim
    assert specs[name].direction == direction
    assert specs[name].version >= 1
