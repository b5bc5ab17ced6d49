#!/usr/bin/env python
"""Check the benchmark against real people and a real generator: the tables of docs/reference.md.

    python scripts/real_validation.py --real ../shared/real --out /tmp/lpm-real [--jobs human,vasa]

Needs a folder laid out like the project's shared real material (never copied into the project):

    <real>/human/*.mp4               recordings of people, each with its own audio
    <real>/vasa1/<n>/reference.jpg   a generator's inputs ...
    <real>/vasa1/<n>/audio.mp3
    <real>/vasa1/<n>/output.mp4      ... and its published output

What it does, all through the harness's own commands:

1. ``lpmbench suite import <real>/human`` -> a suite of the recordings (ground truth kept).
2. Broken copies of the recordings as pre-generated videos: delayed by 5 and by 10 frames, and
   with the mouth frozen (the first frame's mouth pasted, following the head); and the
   recordings scored against each other's audio (swapped). ``model=groundtruth``, ``puppet`` and
   ``static`` beside them. Expected: groundtruth first (>= 85), every broken copy below it in
   lip sync, puppet below it wherever it is less human, static last.
3. A suite of the generator's inputs, its outputs as ``model=folder``, beside puppet and static.
   Expected: the generator close to the recordings, above the puppet.

It prints the leaderboard's dimension scores of every model (and writes them as Markdown into
``<out>/tables.md``).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

LPMBENCH = [sys.executable, "-m", "lpmbench.cli"]


def sh(args: list[str]) -> None:
    print("+ lpmbench", " ".join(str(a) for a in args[3:]), flush=True)
    subprocess.run([str(a) for a in args], check=True)


def evaluate(out: Path, suite: Path, model: str, run_id: str, *extra: str) -> None:
    run = out / "results" / run_id
    resume = ["--resume"] if (run / "manifest.json").exists() else []  # the script goes on where it stopped
    sh([*LPMBENCH, "evaluate", f"model={model}", f"suite={suite}", f"run.id={run_id}", f"run.results_dir={out / 'results'}",
        f"analysis.cache_dir={out / 'cache'}", "run.keep_videos=false", *extra, *resume])
    if resume:  # finished cases were kept as scored then: score them with today's metric specs
        sh([*LPMBENCH, "rescore", run])


def rewrite(src: Path, dst: Path, transform) -> None:
    """Write ``transform(frames) -> frames`` of a video to ``dst`` at the source's own rate."""
    from lpmbench.media import VideoWriter, decode, timeline

    frames = [rgb for _, rgb in decode(src)]
    fps = timeline(src).fps
    out = transform(frames)
    h, w = out[0].shape[:2]
    with VideoWriter(dst, fps, w, h) as wr:
        for f in out:
            wr.write(f)


def delayed(k: int):
    """The video k frames late against its audio: the first frame held k frames, the end cut."""
    return lambda frames: [frames[0]] * k + frames[: len(frames) - k]


def frozen_mouth(frames: list[np.ndarray]) -> list[np.ndarray]:
    """The first frame's mouth pasted into every frame, moved with the head (a similarity fitted on
    eyes and nose): the mouth stops moving, everything else is the recording."""
    import cv2

    from lpmbench.vision import detect_faces, fit_landmarks

    def landmarks(rgb):
        dets = detect_faces(rgb, upsample=1, max_side=640)
        return fit_landmarks(rgb, dets[0][0]) if dets else None

    rigid = np.r_[27:36, 36:48]
    first, lm0 = frames[0], landmarks(frames[0])
    if lm0 is None:
        return frames
    out = []
    for rgb in frames:
        lm = landmarks(rgb)
        if lm is None:
            out.append(rgb)
            continue
        m, _ = cv2.estimateAffinePartial2D(lm0[rigid].astype(np.float32), lm[rigid].astype(np.float32))
        if m is None:
            out.append(rgb)
            continue
        warped = cv2.warpAffine(first, m, (rgb.shape[1], rgb.shape[0]), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        mouth = cv2.transform(lm0[None, 48:68].astype(np.float32), m)[0]
        mask = np.zeros(rgb.shape[:2], np.float32)
        hull = cv2.convexHull(mouth.astype(np.int32))
        cv2.fillConvexPoly(mask, hull, 1.0)
        iod = float(np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0)))
        r = max(3, int(0.25 * iod))
        mask = cv2.GaussianBlur(cv2.dilate(mask, np.ones((r, r), np.uint8)), (0, 0), r / 2)[..., None]
        out.append((rgb * (1 - mask) + warped * mask).astype(np.uint8))
    return out


def human_jobs(real: Path, out: Path) -> list[tuple[str, list[str]]]:
    from lpmbench.case import load_suite

    suite = out / "suites" / "real_human"
    if not (suite / "suite.yaml").exists():
        sh([*LPMBENCH, "suite", "import", real / "human", "--out", suite, "--source",
            "the project's shared real recordings (see their README)"])
    cases = load_suite(suite).cases
    for name, transform in (("delayed5", delayed(5)), ("delayed10", delayed(10)), ("frozen_mouth", frozen_mouth)):
        folder = out / "variants" / name
        folder.mkdir(parents=True, exist_ok=True)
        for c in cases:
            dst = folder / f"{c.id}.mp4"
            if not dst.exists():
                rewrite(c.ground_truth, dst, transform)
    # the recordings against each other's audio: a copy of the suite with the speakers' audio rotated
    swapped = out / "suites" / "real_human_swapped"
    if not (swapped / "suite.yaml").exists():
        import yaml

        shutil.copytree(suite, swapped)
        doc = yaml.safe_load((swapped / "suite.yaml").read_text())
        doc["name"] = "real_human_swapped"
        speak = [c for c in doc["cases"] if c["mode"] == "speak"]
        audios = [c["agent_audio"] for c in speak]
        for c, a in zip(speak, audios[1:] + audios[:1]):
            c["agent_audio"] = a
            c["duration"] = min(c["duration"], _audio_s(swapped / a))
        (swapped / "suite.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    evaluate(out, suite, "groundtruth", "h_groundtruth")
    for name in ("delayed5", "delayed10", "frozen_mouth"):
        evaluate(out, suite, "folder", f"h_{name}", f"model.params.root={out / 'variants' / name}", f"model.name={name}")
    evaluate(out, swapped, "groundtruth", "h_swapped_audio", "model.name=swapped_audio")
    evaluate(out, suite, "puppet", "h_puppet")
    evaluate(out, suite, "static", "h_static")
    return [("recordings (suite import)", ["h_groundtruth", "h_delayed5", "h_delayed10", "h_frozen_mouth", "h_puppet",
                                           "h_static"]), ("swapped audio (its own suite)", ["h_swapped_audio"])]


def _audio_s(path: Path) -> float:
    import soundfile as sf

    info = sf.info(str(path))
    return round(info.frames / info.samplerate - 0.05, 3)


def vasa_jobs(real: Path, out: Path) -> list[tuple[str, list[str]]]:
    """A suite of the generator's inputs (reference image + audio) and its outputs as a folder run."""
    import soundfile as sf
    import yaml
    from PIL import Image

    from lpmbench.media import load_audio, probe, timeline

    suite = out / "suites" / "vasa1_inputs"
    outputs = out / "variants" / "vasa1_outputs"
    if not (suite / "suite.yaml").exists():
        (suite / "characters").mkdir(parents=True, exist_ok=True)
        (suite / "audio").mkdir(parents=True, exist_ok=True)
        outputs.mkdir(parents=True, exist_ok=True)
        chars, cases, assets = {}, [], []
        for d in sorted(p for p in (real / "vasa1").iterdir() if (p / "output.mp4").is_file()):
            cid = f"vasa1_{d.name}"
            Image.open(d / "reference.jpg").convert("RGB").save(suite / "characters" / f"{cid}.png")
            info = probe(d / "output.mp4")
            audio = load_audio(d / "audio.mp3")
            duration = round(min(info.duration, len(audio) / 16000) - 0.05, 3)
            sf.write(str(suite / "audio" / f"{cid}.wav"), audio, 16000)
            shutil.copy(d / "output.mp4", outputs / f"{cid}.mp4")
            src = "VASA-1 demo inputs as republished in tencent-ailab/V-Express test_samples/vasa-1"
            chars[cid] = {"style": "photoreal", "references": [f"characters/{cid}.png"], "source": src, "license": "unclear: local use only"}
            cases.append({"id": cid, "mode": "speak", "character": cid, "agent_audio": f"audio/{cid}.wav", "duration": duration,
                          "fps": round(timeline(d / "output.mp4").fps, 3), "resolution": [info.width, info.height],
                          "tags": ["category:real_generator"]})
            assets += [{"path": f"characters/{cid}.png", "source": src, "license": "unclear: local use only"},
                       {"path": f"audio/{cid}.wav", "source": src, "license": "unclear: local use only"}]
        (suite / "suite.yaml").write_text(yaml.safe_dump({"name": "vasa1_inputs", "version": 1, "characters": chars,
                                                          "cases": cases, "assets": assets}, sort_keys=False))
    evaluate(out, suite, "folder", "v_vasa1", f"model.params.root={outputs}", "model.name=VASA-1")
    evaluate(out, suite, "puppet", "v_puppet")
    evaluate(out, suite, "static", "v_static")
    return [("VASA-1 inputs", ["v_vasa1", "v_puppet", "v_static"])]


def tables(out: Path, groups: list[tuple[str, list[str]]]) -> str:
    from lpmbench.leaderboard.data import load_results
    from lpmbench.leaderboard.tables import build_table

    data = load_results(out / "results")
    lb = build_table(data, n_boot=200)
    t = lb.table.copy()
    # a model name can stand in several groups (puppet on each suite): a row is a (model, protocol)
    run_of = {r: (m, p) for r, m, p in zip(data.runs["run_id"], data.runs["model"], data.runs["protocol"])}
    lines = []
    for title, runs in groups:
        keys = {run_of[r] for r in runs if r in run_of}
        rows = t[[(m, p) in keys for m, p in zip(t["model"], t["protocol"])]]
        dims = [d for d in lb.dims if d in rows.columns and rows[d].notna().any()]
        lines += [f"### {title}", "", "| model | overall | " + " | ".join(dims) + " | missing |",
                  "|---|---|" + "---|" * len(dims) + "---|"]
        for _, r in rows.sort_values("overall", ascending=False).iterrows():
            lines.append(f"| {r['model']} | {r['overall']:.1f} | " + " | ".join(f"{r[d]:.1f}" for d in dims)
                         + f" | {r['missing']} |")
        lines.append("")
    raw = lb.raw.set_index("model") if not lb.raw.empty else None
    if raw is not None:
        keep = [c for c in raw.columns if c.startswith(("lipsync.", "expressiveness.blink", "expressiveness.head"))]
        lines += ["### raw values (lip sync, blinks, head motion)", "", raw[keep].round(3).to_markdown(), ""]
    lines += [f"- note: {n}" for n in lb.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--real", type=Path, required=True, help="folder with human/ and vasa1/ (see the docstring)")
    p.add_argument("--out", type=Path, required=True, help="work folder (suites, variants, results, cache)")
    p.add_argument("--jobs", default="human,vasa")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    groups = []
    if "human" in a.jobs:
        groups += human_jobs(a.real.resolve(), a.out.resolve())
    if "vasa" in a.jobs:
        groups += vasa_jobs(a.real.resolve(), a.out.resolve())
    text = tables(a.out, groups)
    (a.out / "tables.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
