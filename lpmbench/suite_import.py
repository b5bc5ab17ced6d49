"""``lpmbench suite import DIR``: a folder of real recordings becomes a suite with ground truth.

Each recording becomes one case: its reference image is one of its own frames (the first in which
a face is found), its agent audio is its own soundtrack, and the recording itself is kept as the
case's ground truth (hard-linked or copied into the suite folder, which must hold every file it
names). A recording voiced for at least 30 % of its length is a ``speak`` case, else ``silence``.
So users run the standard datasets they own (HDTF, VFHQ, CelebV-HQ, a studio's recordings) and
``model=groundtruth`` scores the recordings themselves: the human row.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

import numpy as np

VIDEO_EXTS = (".mp4", ".mov", ".mkv", ".webm", ".avi")
SPEAK_FRACTION = 0.3


def _case_id(stem: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-") or "clip"
    base = base[:100] if base[0].isalnum() or base[0] == "_" else f"c_{base}"[:100]
    cid, i = base, 2
    while cid in taken:
        cid, i = f"{base}_{i}", i + 1
    taken.add(cid)
    return cid


def _reference_frame(video: Path) -> np.ndarray:
    """The first of the first ~5 s of frames with a detectable face (else the first frame)."""
    from .media import MediaError, iter_frames, probe
    from .vision import reference_face

    fps = probe(video).fps or 25.0
    first = None
    for i, rgb in enumerate(iter_frames(video)):
        rgb = np.ascontiguousarray(rgb)
        if first is None:
            first = rgb
        if i % max(1, int(round(fps / 2))) == 0 and reference_face(rgb)[1] is not None:
            return rgb
        if i > 5 * fps:
            break
    if first is None:
        raise MediaError(f"{video}: no decodable frame")
    return first


def import_suite(src: str | Path, out: str | Path, *, name: str | None = None, source: str = "",
                 license: str = "", progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Write a suite for every video in ``src`` into ``out``; returns the suite folder."""
    import shutil

    import soundfile as sf
    import yaml
    from PIL import Image

    from .adapters.folder import deliver
    from .analysis.audio import vad_segments
    from .case import AUDIO_RATE, SuiteError, load_suite, valid_id
    from .media import MediaError, load_audio, probe, timeline

    src, out = Path(src), Path(out)
    videos = sorted(p for p in src.iterdir() if p.suffix.lower() in VIDEO_EXTS and p.is_file()) if src.is_dir() else []
    if not videos:
        raise SuiteError(f"suite import: no videos ({', '.join(VIDEO_EXTS)}) in {src}")
    name = name or out.name
    if not valid_id(name):
        raise SuiteError(f"suite import: {name!r} is not a valid suite name (letters, digits, '_', '.', '-')")
    if (out / "suite.yaml").exists():
        raise SuiteError(f"suite import: {out} already holds a suite; choose another --out")
    for sub in ("characters", "audio", "ground_truth"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    characters: dict[str, Any] = {}
    cases: list[dict[str, Any]] = []
    assets: list[dict[str, str]] = []
    skipped: list[str] = []
    provenance = source or f"recordings imported from {src.name}/ by lpmbench suite import"
    terms = license or "as the recordings' own licence (not stated at import)"
    for i, video in enumerate(videos):
        if progress:
            progress(i, len(videos), video.name)
        try:
            info = probe(video)
            fps = timeline(video).fps  # from the frame timestamps (a container's average rate can be off)
            cid = _case_id(video.stem, taken)
            ref = out / "characters" / f"{cid}.png"
            Image.fromarray(_reference_frame(video)).save(ref)
            gt = out / "ground_truth" / f"{cid}{video.suffix.lower()}"
            deliver(video, gt)
            audio_rel, mode = None, "silence"
            duration = float(info.duration)
            if info.has_audio:
                samples = load_audio(video, duration=duration)
                if np.any(samples):
                    path = out / "audio" / f"{cid}.wav"
                    sf.write(str(path), samples, AUDIO_RATE)
                    audio_rel = f"audio/{cid}.wav"
                    voiced = sum(e - s for s, e in vad_segments(samples))
                    mode = "speak" if voiced >= SPEAK_FRACTION * duration else "silence"
                    assets.append({"path": audio_rel, "source": f"soundtrack of {video.name}; {provenance}", "license": terms})
        except (MediaError, OSError, ValueError) as e:
            skipped.append(f"{video.name}: {e}")
            continue
        characters[cid] = {"style": "photoreal", "references": [f"characters/{cid}.png"],
                           "source": f"a frame of {video.name}; {provenance}", "license": terms}
        assets += [{"path": f"characters/{cid}.png", "source": f"a frame of {video.name}; {provenance}", "license": terms},
                   {"path": f"ground_truth/{gt.name}", "source": f"{video.name}; {provenance}", "license": terms}]
        case: dict[str, Any] = {"id": cid, "mode": mode, "character": cid, "duration": round(duration - 0.5 / fps, 3),
                                "fps": round(float(fps), 3), "resolution": [int(info.width), int(info.height)],
                                "ground_truth": f"ground_truth/{gt.name}", "tags": ["category:real", f"mode:{mode}"]}
        if audio_rel:
            case["agent_audio"] = audio_rel
        cases.append(case)
    if not cases:
        shutil.rmtree(out, ignore_errors=True)
        raise SuiteError(f"suite import: no usable recording in {src}: {'; '.join(skipped)}")
    doc = {"name": name, "version": 1,
           "description": f"{len(cases)} real recordings imported from {src.name}/ (reference = a frame, agent audio = "
                          "the recording's audio, the recording kept as ground truth)",
           "characters": characters, "cases": cases, "assets": assets}
    (out / "suite.yaml").write_text("# Made by `lpmbench suite import`; see lpmbench/suite_import.py.\n"
                                    + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    if skipped:
        (out / "IMPORT_SKIPPED.txt").write_text("\n".join(skipped) + "\n")
    load_suite(out)  # what was written must load
    return out
