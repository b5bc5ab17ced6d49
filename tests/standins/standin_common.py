"""Shared by the stand-in scripts: render a real talking-head-like video and log the parsed args.

A stand-in has the command-line interface of the tool it stands for and writes a real video where
that tool would, so the presets' argument mapping and output discovery are tested for real."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np


def log_args(tool: str, args) -> None:
    """Append the parsed arguments to $STANDIN_LOG (JSON lines) for the test to check."""
    path = os.environ.get("STANDIN_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"tool": tool, "cwd": os.getcwd(), "argv": sys.argv[1:], **vars(args)}, default=str) + "\n")


def require_file(path: str, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        sys.exit(f"{what} not found: {path}")  # the real tools fail too (with their own message)
    return p


def render(reference: str, audio: str | None, out: Path, fps: float = 25.0, size: int = 64,
           n_frames: int | None = None) -> Path:
    """The reference image with a mouth that opens with the audio level, audio muxed in."""
    from lpmbench.media import VideoWriter, load_audio, load_image
    from lpmbench.streaming.synthetic_session import SyntheticSession
    from lpmbench.adapters.base import AudioChunk

    img = load_image(require_file(reference, "source image"))
    samples = load_audio(require_file(audio, "audio")) if audio else None
    if n_frames is None:
        n_frames = int(round(len(samples) / 16000 * fps)) if samples is not None else int(fps)
    if samples is None:
        samples = np.zeros(int(round(n_frames / fps * 16000)), np.float32)
    s = SyntheticSession(img, fps, size, size, n_frames)
    frames = s.feed(AudioChunk(0.0, samples, np.zeros_like(samples))) + s.finish()
    out.parent.mkdir(parents=True, exist_ok=True)
    with VideoWriter(out, fps, size, size, audio=samples if audio else None) as w:
        for f in frames:
            w.write(f)
    return out
