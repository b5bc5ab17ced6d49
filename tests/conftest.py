"""Shared fixtures: real media only (a face photo that scikit-image ships, espeak-ng speech).

Controlled media for the validity tests come from :mod:`lpmbench.testing`.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests' own helper modules


@pytest.fixture(autouse=True)
def _registries_left_as_found():
    """Plug-ins a test registers (examples, --include files, fake distributions) end with it, so no
    later test depends on the order the tests ran in."""
    import contextlib

    from lpmbench.registry import ADAPTERS, EXTRACTORS, METRICS, SUITES

    with contextlib.ExitStack() as undo:
        for registry in (ADAPTERS, METRICS, EXTRACTORS, SUITES):
            registry.names()  # entry points scanned once, before the snapshot (not again per test)
            undo.enter_context(registry.restored())
        yield


def speech(text: str, path: Path, duration: float, *, offset: float = 0.0, voice: str = "en") -> Path:
    """espeak-ng speech resampled to 16 kHz, placed at ``offset`` s in a ``duration`` s WAV, peak 0.8."""
    import soundfile as sf

    from lpmbench.testing import audio

    if not audio.have_espeak():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    out = audio.place(duration, [(offset, audio.espeak(text, voice, speed=150))])  # cut at the end
    out = 0.8 * out / (np.abs(out).max() + 1e-9)
    sf.write(str(path), out, 16000)
    return path


def write_suite(root: Path, cases_yaml: str, *, name: str = "tiny") -> Path:
    """A suite folder with the astronaut as the only character; ``cases_yaml`` is the cases list."""
    from PIL import Image

    from lpmbench.vision import astronaut_portrait

    (root / "characters").mkdir(parents=True, exist_ok=True)
    # head and shoulders: a face large enough in 256 px that landmark noise stays small
    Image.fromarray(astronaut_portrait(256)).save(root / "characters" / "astronaut.png")
    (root / "suite.yaml").write_text(
        f"name: {name}\nversion: 1\ndescription: test suite\n"
        "characters:\n  astronaut:\n    style: photoreal\n    references: [characters/astronaut.png]\n"
        "    source: scikit-image astronaut (NASA)\n    license: public domain\n"
        "defaults: {fps: 25, resolution: [256, 256]}\n"
        f"cases:\n{cases_yaml}"
    )
    return root


@pytest.fixture(scope="session")
def tiny_suite(tmp_path_factory) -> Path:
    """Three 3-second cases at 256x256: speak, listen (with partner speech), silence with a nod."""
    root = tmp_path_factory.mktemp("tiny_suite")
    (root / "audio").mkdir()
    speech("Hello there, I am an astronaut and I like to talk about space.", root / "audio" / "agent.wav", 3.0, offset=0.2)
    speech("Tell me more about your trip to orbit, please.", root / "audio" / "partner.wav", 3.0, offset=0.2)
    return write_suite(root, (
        "  - {id: speak_a, mode: speak, character: astronaut, agent_audio: audio/agent.wav, duration: 3.0}\n"
        "  - {id: listen_a, mode: listen, character: astronaut, partner_audio: audio/partner.wav, duration: 3.0}\n"
        "  - id: silence_nod\n    mode: silence\n    character: astronaut\n    duration: 3.0\n"
        "    prompts: [{action: nod, start: 1.0, end: 2.5}]\n"
    ))
