"""Small real cases for the streaming tests: the astronaut photo and synthetic amplitude-modulated
audio (numpy), written to a folder, as :class:`lpmbench.case.Case` objects."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lpmbench.case import AUDIO_RATE, Case, Character, PromptEvent


def syllables(duration: float, seed: int = 0) -> np.ndarray:
    """Speech-like audio: a 180 Hz buzz gated into 4 Hz syllables with pauses (float32, 16 kHz)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration * AUDIO_RATE))) / AUDIO_RATE
    gate = np.clip(np.sin(2 * np.pi * 4 * t), 0, None) * (np.sin(2 * np.pi * 0.5 * t) > -0.3)
    x = (np.sin(2 * np.pi * 180 * t) + 0.2 * rng.standard_normal(t.size)) * gate
    return (0.5 * x / (np.abs(x).max() + 1e-9)).astype(np.float32)


def make_case(root: Path, case_id: str = "speak_s", duration: float = 2.0, size: int = 96, mode: str = "speak",
              prompts: tuple[PromptEvent, ...] = ()) -> Case:
    """A case with the astronaut as reference and synthetic agent (and partner) audio."""
    import soundfile as sf
    from PIL import Image
    from skimage.data import astronaut

    root.mkdir(parents=True, exist_ok=True)
    ref = root / "astronaut.png"
    if not ref.exists():
        Image.fromarray(astronaut()).resize((size, size)).save(ref)
    agent = partner = None
    if mode in ("speak", "duplex"):
        agent = root / f"{case_id}_agent.wav"
        sf.write(str(agent), syllables(duration, 1), AUDIO_RATE)
    if mode in ("listen", "duplex"):
        partner = root / f"{case_id}_partner.wav"
        sf.write(str(partner), syllables(duration, 2), AUDIO_RATE)
    char = Character("astronaut", "photoreal", (ref,))
    return Case(case_id, mode, char, duration, 25.0, size, size, agent_audio=agent, partner_audio=partner,
                prompts=tuple(prompts))
