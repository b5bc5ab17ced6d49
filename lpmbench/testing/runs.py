"""Synthetic run folders for tests, benchmarks and a demo of the app. NOT benchmark results.

Every run written here is labelled as synthetic (model names ``synthetic-*``, adapter
``synthetic``) and its values are random draws around a per-model quality level. The folders are
written with the real :class:`lpmbench.results.RunWriter` in the real schema, the videos are real
H.264 files (:class:`lpmbench.media.VideoWriter`) and the suite is a real, loadable suite folder
(reference image + WAV audio), so the app is exercised on the same code paths as for real runs.

    python -m lpmbench.testing.runs OUT_DIR [--models 4] [--cases 8] [--videos]
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from ..metric_api import MetricSpec
from ..results import SCHEMA_VERSION, CaseRecord, RunManifest, RunWriter

FPS = 25.0

# The catalogue's first-wave metrics (METRICS.md), with the targets the metric modules declare.
CATALOGUE: tuple[MetricSpec, ...] = (
    MetricSpec("identity.csim", "identity", "higher", backend="dlib"),
    MetricSpec("identity.csim_worst_window", "identity", "higher", backend="dlib"),
    MetricSpec("identity.drift_per_min", "identity", "target", target=0.0, backend="dlib"),
    MetricSpec("identity.face_presence", "identity", "higher"),
    MetricSpec("identity.color_drift", "identity", "lower", backend="pixels", unit="dE"),
    MetricSpec("lipsync.av_offset_frames", "lipsync", "target", target=0.0, unit="frames"),
    MetricSpec("lipsync.av_confidence", "lipsync", "higher"),
    MetricSpec("lipsync.av_corr", "lipsync", "higher"),
    MetricSpec("lipsync.silent_lip_motion", "lipsync", "lower"),
    MetricSpec("lipsync.lse_c", "lipsync", "higher", backend="syncnet"),
    MetricSpec("expressiveness.face_motion", "expressiveness", "target", target=(0.01, 0.05)),
    MetricSpec("expressiveness.head_motion_deg", "expressiveness", "target", target=(1.0, 6.0), unit="deg"),
    MetricSpec("expressiveness.blink_rate_per_min", "expressiveness", "target", target=(8.0, 25.0)),
    MetricSpec("conversation.listen_lip_leak", "conversation", "lower"),
    MetricSpec("conversation.listen_av_corr", "conversation", "target", target=0.0),
    MetricSpec("conversation.backchannel_per_min", "conversation", "target", target=(2.0, 10.0)),
    MetricSpec("conversation.transition_jump", "conversation", "lower"),
    MetricSpec("quality.landmark_jitter", "quality", "lower"),
    MetricSpec("quality.flicker", "quality", "lower"),
    MetricSpec("quality.face_sharpness_ratio", "quality", "target", target=1.0),
    MetricSpec("realtime.rtf", "realtime", "lower"),
    MetricSpec("realtime.ttff_s", "realtime", "lower", unit="s"),
    MetricSpec("realtime.fps", "realtime", "higher"),
    MetricSpec("realtime.latency_p50_s", "realtime", "lower", unit="s"),
    MetricSpec("realtime.latency_p95_s", "realtime", "lower", unit="s"),
)

STREAMING_ONLY = {"realtime.latency_p50_s", "realtime.latency_p95_s"}
MODES = ("speak", "listen", "silence", "duplex")


def _value(name: str, q: float, rng: np.random.Generator) -> float:
    """A plausible value of metric ``name`` for a model of quality ``q`` in [0, 1]."""
    n = rng.normal
    table = {
        "identity.csim": 0.85 + 0.13 * q + n(0, 0.01),
        "identity.csim_worst_window": 0.82 + 0.14 * q + n(0, 0.015),
        "identity.drift_per_min": -0.02 * (1 - q) + n(0, 0.003),
        "identity.face_presence": min(1.0, 0.9 + 0.1 * q + n(0, 0.01)),
        "identity.color_drift": abs(6 * (1 - q) + n(0, 0.5)),
        "lipsync.av_offset_frames": float(round(4 * (1 - q) + n(0, 1))),
        "lipsync.av_confidence": 0.1 + 0.35 * q + n(0, 0.04),
        "lipsync.av_corr": 0.05 + 0.5 * q + n(0, 0.05),
        "lipsync.silent_lip_motion": abs(0.8 - 0.6 * q + n(0, 0.05)),
        "lipsync.lse_c": 2 + 6 * q + n(0, 0.4),
        "expressiveness.face_motion": abs(0.005 + 0.03 * q + n(0, 0.004)),
        "expressiveness.head_motion_deg": abs(0.5 + 3 * q + n(0, 0.4)),
        "expressiveness.blink_rate_per_min": abs(3 + 12 * q + n(0, 2)),
        "conversation.listen_lip_leak": abs(0.12 * (1 - q) + n(0, 0.01)),
        "conversation.listen_av_corr": 0.4 * (1 - q) + n(0, 0.05),
        "conversation.backchannel_per_min": abs(1 + 5 * q + n(0, 1)),
        "conversation.transition_jump": 1 + 3 * (1 - q) + abs(n(0, 0.3)),
        "quality.landmark_jitter": abs(0.04 * (1 - q) + 0.006 + n(0, 0.002)),
        "quality.flicker": abs(4 * (1 - q) + 0.6 + n(0, 0.2)),
        "quality.face_sharpness_ratio": 0.5 + 0.5 * q + n(0, 0.05),
        "realtime.rtf": abs(3.5 - 2.8 * q + n(0, 0.1)),
        "realtime.ttff_s": abs(3 - 2.5 * q + n(0, 0.1)),
        "realtime.fps": abs(8 + 20 * q + n(0, 1)),
        "realtime.latency_p50_s": abs(1.2 - q + n(0, 0.05)),
        "realtime.latency_p95_s": abs(1.8 - 1.3 * q + n(0, 0.08)),
    }
    return float(table[name])


def make_suite(root: Path, n_cases: int, *, size: int = 96) -> dict[str, Any]:
    """A small real suite (two characters, sine-speech-like WAVs) under ``root``; returns the
    manifest's suite dict. Loadable with :func:`lpmbench.case.load_suite`."""
    import soundfile as sf
    import yaml
    from PIL import Image

    from ..vision import astronaut_portrait

    root.mkdir(parents=True, exist_ok=True)
    (root / "characters").mkdir(exist_ok=True)
    (root / "audio").mkdir(exist_ok=True)
    face = astronaut_portrait(size)
    Image.fromarray(face).save(root / "characters" / "astronaut.png")
    Image.fromarray(255 - face).save(root / "characters" / "inverted.png")
    sr, dur = 16000, 2.0
    t = np.arange(int(sr * dur)) / sr
    env = 0.5 * (1 + np.sin(2 * np.pi * 3 * t))  # syllable-rate modulation
    sf.write(root / "audio" / "agent.wav", (0.3 * env * np.sin(2 * np.pi * 180 * t)).astype(np.float32), sr)
    sf.write(root / "audio" / "partner.wav", (0.3 * env[::-1] * np.sin(2 * np.pi * 120 * t)).astype(np.float32), sr)
    cases = []
    for i in range(n_cases):
        mode = MODES[i % len(MODES)]
        c: dict[str, Any] = {"id": f"{mode}_{i:02d}", "mode": mode, "character": "astronaut" if i % 3 else "toon",
                             "duration": dur, "fps": FPS, "resolution": [size, size]}
        if mode in ("speak", "duplex"):
            c["agent_audio"] = "audio/agent.wav"
            c["transcript"] = "synthetic tone speech"
        if mode in ("listen", "duplex"):
            c["partner_audio"] = "audio/partner.wav"
        if i % 4 == 0:
            c["prompts"] = [{"action": "nod", "start": 0.5, "end": 1.5}]
        cases.append(c)
    manifest = {
        "name": "synthetic", "version": 1, "description": "synthetic suite for leaderboard tests (not a benchmark)",
        "characters": {
            "astronaut": {"style": "photoreal", "references": ["characters/astronaut.png"],
                          "source": "scikit-image data.astronaut (NASA)", "license": "Public domain"},
            "toon": {"style": "stylized", "references": ["characters/inverted.png"],
                     "source": "inverted astronaut", "license": "Public domain"},
        },
        "cases": cases,
    }
    (root / "suite.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    h = hashlib.sha256((root / "suite.yaml").read_bytes()).hexdigest()
    return {"name": "synthetic", "version": 1, "hash": h, "n_cases": n_cases, "path": str(root)}


def _write_video(path: Path, n_frames: int, size: int, seed: int, face: np.ndarray) -> None:
    from ..media import VideoWriter

    rng = np.random.default_rng(seed)
    with VideoWriter(path, fps=FPS, width=size, height=size) as w:
        for i in range(n_frames):
            dx = int(3 * np.sin(i / 5 + seed))
            frame = np.roll(face, dx, axis=1).astype(np.int16) + rng.integers(-4, 5, size=face.shape)
            w.write(np.clip(frame, 0, 255).astype(np.uint8))


def _series(n: int, q: float, streaming: bool, rng: np.random.Generator) -> dict[str, dict[str, Any]]:
    t = np.arange(n) / FPS
    env = np.abs(np.sin(2 * np.pi * 1.5 * t)) + rng.normal(0, 0.05, n)
    s = {
        "identity.csim": {"t": t, "y": 0.9 + 0.08 * q - 0.01 * t * (1 - q) + rng.normal(0, 0.005, n)},
        "lipsync.mouth_vs_audio": {"t": t, "y": 0.3 * np.roll(env, int(3 * (1 - q))) + rng.normal(0, 0.02, n), "y2": env},
        "head_pose.yaw": {"t": t, "y": 4 * q * np.sin(t) + rng.normal(0, 0.3, n)},
        "head_pose.pitch": {"t": t, "y": 2 * q * np.sin(1.7 * t) + rng.normal(0, 0.3, n)},
        "head_pose.roll": {"t": t, "y": rng.normal(0, 0.5, n)},
    }
    if streaming:
        s["realtime.latency"] = {"t": t, "y": np.abs(rng.gamma(4.0, (1.2 - q) / 4.0, n))}
    return s


def make_results(out: str | Path, *, n_models: int = 4, n_cases: int = 8, seed: int = 0, videos: bool = False,
                 series: bool = True, size: int = 96, n_frames: int = 12, suite_dir: str | Path | None = None,
                 streaming_every: int = 2) -> Path:
    """Write ``n_models`` synthetic finished runs over one synthetic suite of ``n_cases`` cases.

    Every second model is a streaming model (latency metrics and series). Model ``i`` has quality
    ``(i + 1) / (n_models + 1)``. Returns the results folder.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    suite = make_suite(Path(suite_dir) if suite_dir else out.parent / f"{out.name}_suite", n_cases, size=size)
    import yaml

    suite_cases = yaml.safe_load((Path(suite["path"]) / "suite.yaml").read_text())["cases"]
    styles = {"astronaut": "photoreal", "toon": "stylized"}
    specs = {s.name: s.to_dict() for s in CATALOGUE}
    protocol = hashlib.sha256(f"{suite['hash']}|{sorted((k, v['version']) for k, v in specs.items())}".encode()).hexdigest()[:16]
    face = None
    if videos:
        from PIL import Image

        face = np.asarray(Image.open(Path(suite["path"]) / "characters" / "astronaut.png").convert("RGB"))
    rng = np.random.default_rng(seed)
    for i in range(n_models):
        q = (i + 1) / (n_models + 1)
        streaming = streaming_every > 0 and i % streaming_every == 1
        run_id = f"synthetic-{i:03d}"
        w = RunWriter(out / run_id)
        m = RunManifest(
            schema_version=SCHEMA_VERSION, run_id=run_id, harness={"version": "synthetic", "git_revision": None},
            suite=suite, model={"name": f"synthetic-{i:03d}", "adapter": "synthetic", "streaming": streaming,
                                "version": None, "fingerprint": f"fp{i}"},
            metrics=specs, backends={"dlib": {"version": "19.24", "weights_sha256": "synthetic", "available": True}},
            analysis={"version": "synthetic"}, hardware={"cpu": "synthetic", "gpu": None},
            started_at=f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z", protocol=protocol,
        )
        w.write_manifest(m)
        for c in suite_cases:
            values, unavailable = {}, {}
            for name in specs:
                if name in STREAMING_ONLY and not streaming:
                    unavailable[name] = "streaming only: the model ran offline"
                elif name == "lipsync.lse_c":
                    unavailable[name] = "SyncNet weights (syncnet_v2) not installed"
                elif name.startswith("lipsync.") and c["mode"] in ("listen", "silence"):
                    unavailable[name] = "no agent speech in this case"
                elif name.startswith("conversation.") and c["mode"] in ("speak", "silence"):
                    unavailable[name] = "no listening frames in this case"
                else:
                    values[name] = _value(name, q, rng)
            rec = CaseRecord(case_id=c["id"], status="ok", mode=c["mode"], style=styles[c["character"]],
                             character=c["character"], tags=[], input_hash="synthetic", values=values,
                             unavailable=unavailable, started_at=m.started_at, finished_at=m.started_at,
                             timing={"wall_s": 1.0, "streaming": streaming})
            if series:
                rec.series = w.write_series(c["id"], _series(n_frames, q, streaming, rng))
            if videos and face is not None:
                _write_video(w.dir / "videos" / f"{c['id']}.mp4", n_frames, size, i, face)
                rec.video = f"videos/{c['id']}.mp4"
            w.append(rec)
        m.status, m.finished_at = "finished", m.started_at
        w.write_manifest(m)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--models", type=int, default=4)
    ap.add_argument("--cases", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--videos", action="store_true")
    a = ap.parse_args(argv)
    print(make_results(a.out, n_models=a.models, n_cases=a.cases, seed=a.seed, videos=a.videos))


if __name__ == "__main__":
    main()
