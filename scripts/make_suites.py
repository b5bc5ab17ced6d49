#!/usr/bin/env python
"""Regenerate the bundled benchmark suites ``prompts/smoke``, ``prompts/mini`` and ``prompts/standard``.

    python scripts/make_suites.py                 # rewrite prompts/smoke and prompts/mini (manifest + assets)
    python scripts/make_suites.py --suite standard  # the standard suite (needs the suites extra; ~30 min)
    python scripts/make_suites.py --out /tmp/x    # write elsewhere (prompts/ untouched)
    python scripts/make_suites.py --check         # regenerate into a temp folder, compare bytes
    python scripts/make_suites.py --cards         # print each suite's counts per facet (docs/suites.md)

standard also needs the sdist of face_recognition 1.3.0 (its test images are official White House
photographs): ``pip download face_recognition==1.3.0 --no-deps --no-binary :all:`` and
``--face-recognition-sdist face_recognition-1.3.0.tar.gz`` (its sha256 is checked).

Everything is deterministic: character images are derived from photos shipped with
scikit-image, matplotlib and the face_recognition sdist (or drawn), speech is synthesised by Debian's espeak-ng and, for
``standard``, by the neural voices of ``suitegen.neural`` (every parameter is recorded in the
manifest and in timelines.json), gaps between turns come from seeded random generators, and the
Ogg files get a fixed stream serial. The harness never needs a synthesiser: it reads the
committed files. smoke and mini need only espeak-ng; standard needs the ``suites`` extra of
pyproject.toml. A different synthesiser version may produce different audio (the suite's
content hash then changes); the versions used are recorded in each suite's README.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suitegen.cards import suite_card  # noqa: E402
from suitegen.characters import CHARACTERS, FR_SDIST_HINT, detect_faces, save_png, use_fr_sdist  # noqa: E402
from suitegen.manifest import Flow, FlowList, dump_yaml, md_table, write_text  # noqa: E402
from suitegen.specs import AGENT_VOICES, MAX_ACTION_SPAN, PARTNER_VOICES, CaseSpec, P, SuiteSpec  # noqa: E402
from suitegen.specs import SUITES as SMALL_SUITES  # noqa: E402
from suitegen.standard import STANDARD  # noqa: E402
from suitegen.speech import Voice, espeak_version, synthesize, write_ogg  # noqa: E402
from suitegen.timeline import Say, Segment, auto_duration, place, render  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
AUDIO_LICENSE = "CC0-1.0"
SCRIPT = "scripts/make_suites.py"
SUITES = {**SMALL_SUITES, STANDARD.name: STANDARD}
FILL_TAIL = 0.6  # seconds of silence after the last utterance of a filled case


def case_rng(suite: SuiteSpec, case_id: str) -> np.random.Generator:
    """One generator per case, so editing one case never shifts the gaps of another."""
    return np.random.default_rng([suite.seed, zlib.crc32(case_id.encode())])


def voice_for(spec: CaseSpec, who: str) -> Voice:
    if who == "agent" and spec.agent_voice is not None:
        return spec.agent_voice
    if who == "agent":
        try:
            return AGENT_VOICES[(spec.character, spec.language)]
        except KeyError:
            raise KeyError(f"case {spec.id!r}: no agent voice for character {spec.character!r}, language {spec.language!r}") from None
    if spec.partner_voice is not None:
        return spec.partner_voice
    try:
        return PARTNER_VOICES[spec.language]
    except KeyError:
        raise KeyError(f"case {spec.id!r}: no partner voice for language {spec.language!r}") from None


def _placed(at: str, segments: list[Segment]) -> bool:
    who, _, idx = at.partition(":")
    return int(idx) < sum(1 for s in segments if s.who == who)


def resolve_span(p: P, segments: list[Segment], case_id: str) -> tuple[float, float]:
    """Absolute (start, end) seconds of a prompt; "agent:N" means that side's N-th utterance
    (for an action, at most its first MAX_ACTION_SPAN seconds)."""
    if isinstance(p.at, tuple):
        return float(p.at[0]), float(p.at[1])
    who, _, idx = p.at.partition(":")
    mine = [s for s in segments if s.who == who]
    try:
        seg = mine[int(idx)]
    except (ValueError, IndexError):
        raise ValueError(f"case {case_id!r}: prompt span {p.at!r} names no utterance ({len(mine)} by {who!r})") from None
    end = min(seg.end, seg.start + MAX_ACTION_SPAN) if p.action else seg.end
    return round(seg.start, 2), round(end, 2)


def build_case(suite: SuiteSpec, spec: CaseSpec, out: Path) -> tuple[dict, list[dict], list[Segment]]:
    """Synthesise and write a case's audio; return its manifest entry, asset entries and timeline."""
    engines: dict[str, set[str]] = {"agent": set(), "partner": set()}

    def speak(say: Say) -> tuple[np.ndarray, str]:
        v = say.voice if say.voice is not None else voice_for(spec, say.who)
        if say.prosody:
            v = v.with_prosody(**say.prosody)
        engines[say.who].add(v.engine())
        return synthesize(say.text, v), v.describe()

    until = spec.fill - FILL_TAIL if spec.fill else None
    segments, pieces, script_end = place(spec.script, speak, rng=case_rng(suite, spec.id), lead_in=spec.lead_in, until=until)
    if spec.fill:
        duration = float(spec.fill)
    else:
        duration = spec.duration if spec.duration is not None else auto_duration(script_end, minimum=spec.min_duration)
    if segments and segments[-1].end > duration:
        raise ValueError(f"case {spec.id!r}: speech lasts {segments[-1].end:.2f} s, longer than duration {duration}")
    if suite.max_case_duration and duration > suite.max_case_duration:
        raise ValueError(f"case {spec.id!r}: duration {duration} s exceeds the {suite.name} limit of {suite.max_case_duration} s")

    entry: dict = {"id": spec.id, "mode": spec.mode, "character": spec.character, "duration": duration}
    assets: list[dict] = []
    sides = {"speak": ("agent",), "listen": ("partner",), "duplex": ("agent", "partner"), "silence": ()}[spec.mode]
    for who in ("agent", "partner"):
        if who not in sides:
            if pieces[who]:
                raise ValueError(f"case {spec.id!r}: mode {spec.mode!r} takes no {who} speech")
            continue
        rel = f"audio/{spec.id}.{who}.ogg"
        track = render(pieces[who], duration)
        write_ogg(track, out / rel)
        frames = sf.info(str(out / rel)).frames
        if frames < len(track):  # the harness requires audio covering the whole case
            raise RuntimeError(f"{rel}: wrote {frames} samples, expected {len(track)}")
        entry[f"{who}_audio"] = rel
        voices = sorted({s.voice for s in segments if s.who == who})
        assets.append({
            "path": rel,
            "source": f"speech synthesised by {'; '.join(sorted(engines[who]))} ({'; '.join(voices)}), 16 kHz mono, via {SCRIPT}",
            "license": AUDIO_LICENSE,
        })
    if spec.language:
        entry["language"] = spec.language
    for who, key in (("agent", "transcript"), ("partner", "partner_transcript")):
        text = " ".join(s.text for s in segments if s.who == who)
        if text:
            entry[key] = text
    prompts = []
    for p in spec.prompts:
        if spec.fill and isinstance(p.at, str) and not _placed(p.at, segments):
            continue  # its utterance was dropped from the filled case
        start, end = resolve_span(p, segments, spec.id)
        d = Flow()
        if p.action:
            d["action"] = p.action
        if p.text:
            d["text"] = p.text
        d["start"], d["end"] = start, end
        prompts.append(d)
    if prompts:
        entry["prompts"] = prompts
    if spec.tags:
        entry["tags"] = FlowList(spec.tags)
    return entry, assets, segments


def build_characters(suite: SuiteSpec, out: Path) -> tuple[dict, list[dict], dict[str, list]]:
    """Write every character's reference PNG; check dlib's HOG detector finds the humanoid faces."""
    chars, assets, faces = {}, [], {}
    for cid in suite.characters:
        c = CHARACTERS[cid]
        refs = []
        for suffix, make in (("", c.make), *c.extra):
            img = make(suite.resolution)
            rel = f"characters/{cid}{'.' + suffix if suffix else ''}.png"  # '.': no clash with another id
            save_png(img, out / rel)
            found = detect_faces(img, upsample=0)
            if not refs:
                faces[cid] = found
            if c.expect_face and not found:
                raise RuntimeError(f"{suite.name}/{rel}: dlib's HOG detector finds no face in the {c.style} reference")
            refs.append(rel)
            assets.append({"path": rel, "source": f"{c.source}; {c.derivation}; made by {SCRIPT}", "license": c.license})
        chars[cid] = {"style": c.style, "references": refs, "source": c.source, "license": c.license}
    return chars, assets, faces


def suite_readme(suite: SuiteSpec, manifest: dict, timelines: dict, faces: dict) -> str:
    cases = manifest["cases"]
    total = sum(c["duration"] for c in cases)
    rows = []
    for c in cases:
        prompts = ", ".join(
            f"{p.get('action') or repr(p.get('text'))} {p['start']:g}-{p['end']:g}s" for p in c.get("prompts", [])
        )
        turns = len(timelines.get(c["id"], []))
        rows.append([f"`{c['id']}`", c["mode"], c["character"], f"{c['duration']:g}", c.get("language", ""),
                     str(turns) if turns else "", prompts, ", ".join(c.get("tags", []))])
    char_rows = []
    for cid, ch in manifest["characters"].items():
        f = faces[cid]
        det = f"face {f[0][0]}, score {f[0][1]:.2f}" if f else "no face (expected for non-humanoid)"
        char_rows.append([f"`{cid}`", ch["style"], ch["source"], ch["license"], det])
    asset_rows = [[f"`{a['path']}`", a["source"], a["license"]] for a in manifest["assets"]]
    return "\n\n".join([
        f"# Suite `{suite.name}` (version {manifest['version']})",
        manifest["description"],
        f"{len(cases)} cases, {total:g} s of video in all ({total / 60:.1f} min), {suite.resolution}x{suite.resolution} at "
        f"{suite.fps} fps. Generated by `python {SCRIPT}` (do not edit by hand: edit `scripts/suitegen/specs.py` "
        f"and regenerate). Speech: {espeak_version()}.",
        "## Cases\n\nTimes are seconds from the start of the case; *utterances* counts the speech segments of "
        "both sides (exact times and voices in `timelines.json`).\n\n"
        + md_table(["id", "mode", "character", "duration (s)", "lang", "utterances", "prompts", "tags"], rows),
        "## Conventions\n\n"
        "- `speak`: the character says its `agent_audio` (transcript in the manifest).\n"
        "- `listen`: the character hears `partner_audio` (what the partner says off screen) and must not lip-sync to it. "
        "Cases tagged `probe:offscreen_audio` contain nothing but heard speech (a newsreader): any mouth motion "
        "that follows it is a failure.\n"
        "- `silence`: no audio; motion comes from the text prompts only (`idle`: no prompts at all).\n"
        "- `duplex`: separate agent and partner tracks, both covering the whole case, with alternating turns; "
        "`interruption` marks a case where one side starts before the other has finished.\n"
        "- Prompts with an `action` use the vocabulary of `text_control.adherence`; prompts with only `text` "
        "are free-form (CLIP). Action prompts also carry a short `text` for text-conditioned models.\n"
        "- Tags: `emotion:<name>` (expressive transcript, prosody and prompts), `probe:offscreen_audio`, "
        "`long_horizon` (5 minutes or more), `turns`, `interruption`, `pauses`, `backchannel`, `idle`, `non_humanoid`.",
        "## Licences\n\nEvery file is listed under `assets:` in `suite.yaml` with its source and licence. The speech "
        "texts and the synthesised audio are released under CC0-1.0: espeak-ng (GPL-3.0) is the tool that made them, "
        "and its licence does not extend to its output. The images derive from photographs that scikit-image ships "
        "as public domain / CC0.",
        "## Characters\n\nThe dlib column is the frontal HOG detector (upsample 0) on the reference.\n\n"
        + md_table(["id", "style", "source", "licence", "dlib HOG"], char_rows),
        "## Assets\n\n" + md_table(["path", "source", "licence"], asset_rows),
    ]) + "\n"


def build_suite(suite: SuiteSpec, out: Path) -> Path:
    """Write ``out/`` (suite.yaml, README.md, timelines.json, characters/, audio/) and validate it."""
    out.mkdir(parents=True, exist_ok=True)
    for sub in ("characters", "audio"):  # stale assets of removed cases must not linger
        shutil.rmtree(out / sub, ignore_errors=True)
    chars, assets, faces = build_characters(suite, out)
    cases, timelines = [], {}
    for spec in suite.cases:
        entry, case_assets, segments = build_case(suite, spec, out)
        cases.append(entry)
        assets += case_assets
        if segments:
            timelines[spec.id] = [s.to_dict() for s in segments]
    write_text(out / "timelines.json", json.dumps(timelines, indent=1, ensure_ascii=False) + "\n")
    assets.append({"path": "timelines.json", "source": f"speech timelines (who, start, end, text, voice) written by {SCRIPT}",
                   "license": AUDIO_LICENSE})
    assets.append({"path": "README.md", "source": f"written by {SCRIPT}", "license": AUDIO_LICENSE})
    manifest = {
        "name": suite.name,
        "version": 1,
        "description": suite.description,
        "defaults": {"fps": suite.fps, "resolution": FlowList([suite.resolution, suite.resolution])},
        "characters": chars,
        "cases": cases,
        "assets": [Flow(a) for a in assets],
    }
    text = suite.readme(suite, manifest, timelines, faces, out) if suite.readme else suite_readme(suite, manifest, timelines, faces)
    write_text(out / "README.md", text)
    header = f"Suite {suite.name!r}: generated by {SCRIPT}; do not edit by hand.\nFormat: see lpmbench/case.py."
    write_text(out / "suite.yaml", dump_yaml(manifest, header))
    from lpmbench.case import load_suite

    load_suite(out)  # the harness's own validation: paths, audio lengths, spans, vocabulary
    return out


def compare_trees(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two folders (missing on either side or different bytes)."""
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    diff = sorted(str(p) for p in fa ^ fb)
    diff += sorted(str(p) for p in fa & fb if not filecmp.cmp(a / p, b / p, shallow=False))
    return diff


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--suite", action="append", choices=sorted(SUITES),
                    help=f"suite(s) to build (default: {', '.join(sorted(SMALL_SUITES))}; standard needs the suites extra and ~30 min)")
    ap.add_argument("--out", type=Path, default=REPO / "prompts", help="folder holding <suite>/ (default: prompts/)")
    ap.add_argument("--check", action="store_true", help="regenerate into a temporary folder and compare with --out")
    ap.add_argument("--cards", action="store_true", help="print the card (counts per facet) of each suite in --out")
    ap.add_argument("--face-recognition-sdist", type=Path, metavar="TAR_GZ",
                    help="face_recognition-1.3.0.tar.gz from PyPI (standard's Obama and Biden photos)")
    args = ap.parse_args(argv)
    names = args.suite or sorted(SMALL_SUITES)
    if args.face_recognition_sdist:
        try:
            use_fr_sdist(args.face_recognition_sdist)
        except RuntimeError as e:
            ap.error(str(e))
    elif STANDARD.name in names and not args.cards:  # fail before the suite folder is cleared
        ap.error(f"--suite {STANDARD.name} needs the Obama and Biden photos: {FR_SDIST_HINT}")
    if args.cards:
        import yaml

        for n in names:
            manifest = yaml.safe_load((args.out / n / "suite.yaml").read_text(encoding="utf-8"))
            print(f"## `{n}`\n\n{suite_card(manifest, args.out / n)}\n")
        return 0
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            bad = []
            for n in names:
                build_suite(SUITES[n], Path(tmp) / n)
                bad += [f"{n}/{p}" for p in compare_trees(Path(tmp) / n, args.out / n)]
        if bad:
            print("differs from a fresh regeneration:\n  " + "\n  ".join(bad), file=sys.stderr)
            return 1
        print(f"{', '.join(names)}: identical to a fresh regeneration")
        return 0
    for n in names:
        path = build_suite(SUITES[n], args.out / n)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
