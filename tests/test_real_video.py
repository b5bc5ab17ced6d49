"""The analysis pass accepts what real generators and cameras produce: recordings of people and a
published generator's outputs (VASA-1), at their own frame rates, sizes and lengths, read from
``../shared/real`` beside the repository (never copied into it; skipped when absent).

A recording is scored as ``lpmbench reference build`` measures one: its first frame is the
reference image and its own soundtrack the agent audio; the case asks for 25 fps.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lpmbench.case import AUDIO_RATE, Case, Character
from lpmbench.testing.scoring import analyse, score

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real"


def _require(rel: str) -> Path:
    p = REAL / rel
    if not p.exists():
        pytest.skip(f"real clip {rel} not found under {REAL} (real videos are not part of the repository)")
    return p


def recording_case(video: Path, tmp: Path) -> Case:
    """A case for a recording: its first frame as the reference, its soundtrack as the agent audio."""
    import soundfile as sf
    from PIL import Image

    from lpmbench import media

    info = media.probe(video)
    ref = tmp / f"{video.stem}.png"
    Image.fromarray(next(media.iter_frames(video))).save(ref)
    wav = tmp / f"{video.stem}.wav"
    sf.write(wav, media.load_audio(video, duration=info.duration), AUDIO_RATE)
    return Case(id=video.stem, mode="speak", character=Character("person", "photoreal", (ref,)),
                duration=info.duration, fps=25.0, width=info.width, height=info.height, agent_audio=wav)


def vasa_case(n: str) -> tuple[Path, Case]:
    d = _require(f"vasa1/{n}")
    from lpmbench import media

    info = media.probe(d / "output.mp4")
    case = Case(id=f"vasa1_{n}", mode="speak", character=Character("vasa", "photoreal", (d / "reference.jpg",)),
                duration=info.duration, fps=25.0, width=512, height=512, agent_audio=d / "audio.mp3")
    return d / "output.mp4", case


def test_a_29_97_fps_recording_is_analysed_at_its_own_rate(tmp_path):
    video = _require("human/vexpress_short_AOC.mp4")
    case = recording_case(video, tmp_path)
    f = analyse(video, case)
    assert f.fps == pytest.approx(30000 / 1001) and f.n_frames == 137 and f.meta["requested_fps"] == 25.0
    assert f.meta["warnings"] == ["video is 29.97 fps, the case asked for 25 fps: analysed at the video's rate"]
    assert f["face_present"].mean() > 0.95 and f["gaze_valid"].mean() > 0.9
    assert f.meta["soundtrack"]["verdict"] == "in_sync" and f.meta["soundtrack"]["r"] > 0.95
    assert f["agent_env"].shape == (137,) and len(f["agent_segments"]) > 0


def test_a_portrait_recording_with_an_odd_size(tmp_path):
    video = _require("human/liveportrait_s29.mp4")  # 720x1364, 30 fps
    f = analyse(video, recording_case(video, tmp_path))
    assert (f["width"], f["height"], f.fps, f.n_frames) == (720, 1364, 30.0, 160)
    assert f["face_present"].mean() > 0.95
    assert (f["face_box_px"][f["face_present"]][:, 3] < 1364 / 2).all()  # the face is in the upper half: upright


def test_a_published_generators_output(tmp_path):
    video, case = vasa_case("3")
    f = analyse(video, case)
    assert f.n_frames == 375 and f.fps == 25.0 and f["face_present"].mean() > 0.95
    assert f.meta["soundtrack"]["verdict"] == "in_sync" and f.meta["warnings"] == []
    assert float((f["embeddings"] @ f["ref_embedding"]).mean()) > 0.85


def test_gaze_on_people_talking_into_the_camera(tmp_path):
    """People talking into the camera: their irises sit near the middle of the eye, and move (these
    three do; some people stare for the whole of a short clip, 0 shifts)."""
    from lpmbench.metrics import gaze as gm

    for name in ("sadtalker_wda_aoc", "vexpress_short_AOC", "vexpress_short_tys"):
        video = _require(f"human/{name}.mp4")
        case = recording_case(video, tmp_path)
        f = analyse(video, case)
        x = f["gaze"][f["gaze_valid"], 0]
        assert f["gaze_valid"].mean() > 0.8 and abs(float(np.median(x))) < 0.15, name  # blinks are not measured
        out = score(gm.METRICS, f, case)
        assert out.values["expressiveness.gaze_shift_per_min"] > 0, name
        assert np.isfinite(out.values["conversation.gaze_aversion_rate"]), name


@pytest.mark.slow
def test_every_real_clip_is_analysed(tmp_path):
    if not REAL.is_dir():
        pytest.skip(f"no real clips under {REAL}")
    jobs = [(v, recording_case(v, tmp_path)) for v in sorted((REAL / "human").glob("*.mp4"))]
    jobs += [vasa_case(d.name) for d in sorted((REAL / "vasa1").iterdir()) if (d / "output.mp4").is_file()]
    assert len(jobs) >= 20
    for video, case in jobs:
        f = analyse(video, case)
        assert f.n_frames >= 0.95 * case.duration * f.fps, video
        assert f["face_present"].mean() > 0.9, video
