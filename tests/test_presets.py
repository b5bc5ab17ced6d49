"""Config presets of open generators (lpmbench/conf/model/*.yaml), each run through the real
``command`` adapter against a stand-in script with the tool's command-line interface that writes
a real video where the tool would (tests/standins/)."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from lpmbench.adapters.command import CommandAdapter
from lpmbench.media import VideoWriter, probe
from standins.stream_cases import make_case

STANDINS = Path(__file__).resolve().parent / "standins"


def _write(path: Path, text: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _layout_sadtalker(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "sadtalker.py", repo / "inference.py")
    (repo / "checkpoints").mkdir()


def _layout_hallo2(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "hallo2.py", repo / "scripts" / "inference_long.py")
    _write(repo / "configs/inference/long.yaml", "source_image: ./examples/ref.jpg\ndriving_audio: ./examples/a.wav\n"
           "save_path: ./output_long/debug/\n")
    # a stale result of an earlier run under the same image stem: must not be collected
    _write(repo / "output_long/debug/old/merge_video.mp4", "stale")


def _layout_echomimic(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "echomimic.py", repo / "infer_audio2vid.py")
    _write(repo / "configs/prompts/animation.yaml", "denoising_unet_path: ./pretrained_weights/denoising_unet.pth\n"
           "weight_dtype: fp16\ntest_cases:\n  ./assets/test_imgs/a.png:\n    - ./assets/test_audios/echomimic_en.wav\n")


def _layout_sonic(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "sonic.py", repo / "demo.py")


def _layout_musetalk(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "musetalk.py", repo / "scripts" / "realtime_inference.py")
    _write(repo / "models/musetalkV15/unet.pth", "weights")
    _write(repo / "models/musetalkV15/musetalk.json", "{}")
    # an avatar left by an earlier case: the tool would ask on stdin; the preset removes it first
    _write(repo / "results/realtime/v15/avatars/lpmbench/vid_output/clip.mp4", "stale")


def _layout_wav2lip(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "wav2lip.py", repo / "inference.py")
    _write(repo / "checkpoints/wav2lip_gan.pth", "weights")


def _layout_liveportrait(repo: Path, env: dict) -> None:
    shutil.copy(STANDINS / "liveportrait.py", repo / "inference.py")
    driving = repo / "assets" / "d0.mp4"
    driving.parent.mkdir()
    with VideoWriter(driving, 25, 64, 64) as w:
        for i in range(30):
            w.write(np.full((64, 64, 3), 8 * i, np.uint8))
    env["LIVEPORTRAIT_DRIVING"] = str(driving)


PRESETS = {  # preset -> (env prefix, repo layout, case mode, expected log checks)
    "sadtalker": ("SADTALKER", _layout_sadtalker, "speak"),
    "hallo2": ("HALLO2", _layout_hallo2, "speak"),
    "echomimic": ("ECHOMIMIC", _layout_echomimic, "speak"),
    "sonic": ("SONIC", _layout_sonic, "speak"),
    "musetalk": ("MUSETALK", _layout_musetalk, "speak"),
    "wav2lip": ("WAV2LIP", _layout_wav2lip, "speak"),
    "liveportrait": ("LIVEPORTRAIT", _layout_liveportrait, "silence"),
}


def load_preset(name: str) -> dict:
    """The preset as the CLI composes it (Hydra, model=<name>), resolved."""
    from omegaconf import OmegaConf

    from lpmbench.config import compose

    return OmegaConf.to_container(compose([f"model={name}"]).model, resolve=True)


@pytest.fixture
def tool_env(tmp_path, monkeypatch):
    def setup(name: str) -> tuple[Path, Path]:
        prefix, layout, _ = PRESETS[name]
        repo = tmp_path / f"{name}_repo"
        (repo / "scripts").mkdir(parents=True)
        env = {f"{prefix}_REPO": str(repo), f"{prefix}_PYTHON": sys.executable}
        layout(repo, env)
        log = tmp_path / f"{name}.jsonl"
        env.update(STANDIN_LOG=str(log), PYTHONPATH=str(STANDINS))
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        return repo, log

    return setup


def _log(log: Path) -> dict:
    lines = log.read_text().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_runs_its_standin_and_finds_the_video(name, tmp_path, tool_env):
    repo, log = tool_env(name)
    preset = load_preset(name)
    assert preset["adapter"] == "command" and preset["params"]["cwd"] == str(repo)
    adapter = CommandAdapter(**preset["params"])
    case = make_case(tmp_path / "case", f"{PRESETS[name][2]}_1", 1.0, size=64, mode=PRESETS[name][2])
    assert adapter.supports(case) is None
    out = tmp_path / "out" / f"{name}.mp4"
    adapter.generate(case, out)
    info = probe(out)
    rec = _log(log)
    assert rec["cwd"] == str(repo)
    if name == "liveportrait":
        assert (info.n_frames, info.has_audio) == (30, False)  # as long as the driving video
        assert rec["source"] == str(case.reference)
        assert not any(Path(p).exists() for p in Path(rec["output_dir"]).glob("*"))  # workdir cleaned
        return
    assert info.has_audio and abs(info.n_frames - 25) <= 1, info  # 1 s of the case's audio at 25 fps
    audio, ref = str(case.agent_audio), str(case.reference)
    mapped = {
        "sadtalker": lambda r: (r["driven_audio"], r["source_image"]),
        "hallo2": lambda r: (r["driving_audio"], r["source_image"]),
        "echomimic": lambda r: (r["test_cases"][ref][0], next(iter(r["test_cases"]))),
        "sonic": lambda r: (r["audio_path"], r["image_path"]),
        "musetalk": lambda r: (r["avatars"]["lpmbench"]["audio_clips"]["clip"], r["avatars"]["lpmbench"]["video_path"]),
        "wav2lip": lambda r: (r["audio"], r["face"]),
    }[name](rec)
    assert mapped == (audio, ref)
    if name == "echomimic":
        assert rec["fps"] == 25 and len(rec["test_cases"]) == 1  # the template's own test case replaced
        assert rec["unet"] == "./pretrained_weights/denoising_unet.pth"  # the rest of the template kept
    if name == "hallo2":
        assert (repo / "output_long/debug/old/merge_video.mp4").read_text() == "stale"


def test_listening_cases_get_silent_agent_audio_and_unsupported_modes_are_skipped(tmp_path, tool_env):
    repo, log = tool_env("sonic")
    adapter = CommandAdapter(**load_preset("sonic")["params"])
    case = make_case(tmp_path / "case", "listen_1", 1.0, size=64, mode="listen")
    out = tmp_path / "listen.mp4"
    adapter.generate(case, out)
    rec = _log(log)
    assert rec["audio_path"].endswith(".wav") and rec["audio_path"] != str(case.partner_audio)
    assert abs(probe(out).n_frames - 25) <= 1
    tool_env("liveportrait")
    lp = CommandAdapter(**load_preset("liveportrait")["params"])
    assert "cannot do mode 'speak'" in lp.supports(make_case(tmp_path / "case", "speak_2", 1.0, size=64))


def test_a_tool_that_writes_nothing_fails_with_the_glob_in_the_message(tmp_path, tool_env):
    from lpmbench.adapters.base import AdapterError

    repo, _ = tool_env("hallo2")
    (repo / "scripts" / "inference_long.py").write_text("print('pretending to work')\n")
    adapter = CommandAdapter(**load_preset("hallo2")["params"])
    with pytest.raises(AdapterError) as e:
        adapter.generate(make_case(tmp_path / "case", "speak_3", 1.0, size=64), tmp_path / "none.mp4")
    assert "merge_video.mp4" in str(e.value) + getattr(e.value, "stderr", "")
