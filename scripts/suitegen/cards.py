"""Suite cards: what a suite holds, counted by facet, for its README and for docs/suites.md.

:func:`suite_card` reads a written manifest (the dict of suite.yaml) and the suite folder, so the
same tables describe a freshly generated suite and a committed one.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .characters import CHARACTERS
from .manifest import md_table

SCRIPT = "scripts/make_suites.py"


def _values(case: dict, key: str, chars: dict) -> list[str]:
    """A case's values of facet ``key``: its tags, or for suites without facet tags (smoke, mini)
    the mode as category, and the language and style fields."""
    tagged = [t.split(":", 1)[1] for t in case.get("tags", []) if t.startswith(key + ":")]
    if tagged or key not in ("category", "language", "style"):
        return tagged
    if key == "category":
        return [case["mode"]]
    if key == "language":
        return [case["language"]] if case.get("language") else []
    return [chars[case["character"]]["style"]]


def _count_table(title: str, counts: dict, durations: dict | None = None) -> str:
    rows = [[f"`{k}`", str(v)] + ([f"{durations[k] / 60:.1f}"] if durations else []) for k, v in sorted(counts.items())]
    return md_table([title, "cases"] + (["minutes"] if durations else []), rows)


def suite_card(manifest: dict, root: Path) -> str:
    """Markdown tables: totals, then cases (and minutes) per category (mode where there are no
    category tags), language, style, shot, emotion and attitude; empty tables are left out."""
    cases = manifest["cases"]
    chars = manifest["characters"]
    total = sum(c["duration"] for c in cases)
    files = [p for p in root.rglob("*") if p.is_file() and p.name not in ("README.md", "suite.yaml")]
    size = sum(p.stat().st_size for p in files)
    counts: dict[str, Counter] = {}
    minutes: dict[str, Counter] = {}
    for key in ("category", "language", "style", "shot", "emotion", "attitude"):
        counts[key], minutes[key] = Counter(), Counter()
        for c in cases:
            for v in _values(c, key, chars):
                counts[key][v] += 1
                minutes[key][v] += c["duration"]
    style_chars = Counter(ch["style"] for ch in chars.values())
    parts = [
        f"{len(cases)} cases, {total / 3600:.2f} h of video ({total:.0f} s), {len(chars)} characters "
        f"({', '.join(f'{n} {s}' for s, n in sorted(style_chars.items()))}), assets {size / 1e6:.1f} MB "
        f"(largest file {max(p.stat().st_size for p in files) / 1e6:.2f} MB; README and manifest aside).",
    ]
    tagged = any(t.startswith("category:") for c in cases for t in c.get("tags", []))
    for key, title in (("category", "category" if tagged else "mode"), ("language", "language"), ("style", "character style"), ("shot", "shot")):
        if counts[key]:
            parts.append(f"**Per {title}**\n\n" + _count_table(key if tagged or key != "category" else "mode", counts[key], minutes[key]))
    if counts["emotion"]:
        parts.append("**Per emotion** (an emotion transition counts for both)\n\n" + _count_table("emotion", counts["emotion"]))
    if counts["attitude"]:
        parts.append("**Per listening attitude**\n\n" + _count_table("attitude", counts["attitude"]))
    return "\n\n".join(parts)


def standard_readme(suite, manifest: dict, timelines: dict, faces: dict, root: Path) -> str:
    """The README of the standard suite: card, tag vocabulary, voices, characters, cases, licences."""
    from .standard import TAG_KEYS, VOICES

    cases = manifest["cases"]
    used = {t.split(":", 1)[1] for c in cases for t in c.get("tags", []) if t.split(":", 1)[0] in ("voice", "partner_voice")}
    voice_rows = [[f"`{vid}`", VOICES[vid].describe(), VOICES[vid].engine()] for vid in sorted(used)]
    char_rows = []
    for cid, ch in manifest["characters"].items():
        f = faces[cid]
        det = f"face {f[0][0]}, score {f[0][1]:.2f}" if f else "no face (non-humanoid)"
        char_rows.append([f"`{cid}`", ch["style"], CHARACTERS[cid].shot, ", ".join(f"`{r}`" for r in ch["references"]),
                          ch["source"], ch["license"], det])
    values = {k: sorted({t.split(":", 1)[1] for c in cases for t in c.get("tags", []) if t.startswith(k + ":")}) for k in TAG_KEYS}
    vocab_doc = {
        "category": "exactly one per case: what the case tests",
        "emotion": "the emotion the character should show (speech prosody, transcript and prompts agree); two for a transition",
        "attitude": "how the character listens (given to it as text prompts over the partner's turns)",
        "language": "the language of the speech (none for silent cases)",
        "shot": "framing of the character's first reference",
        "style": "the character's style (as in `characters:`)",
        "voice": "the voice of the character's own speech (table below)",
        "partner_voice": "the voice of what the character hears",
        "action": "a vocabulary action prompted in the case (`text_control.adherence`)",
        "feature": "conversational or timing features: turn_taking, interruption (one side starts before the other ends), "
                   "backchannel (short agent sounds in the partner's pauses), pauses, combination (two actions at once), idle",
        "probe": "`offscreen_audio`: the heard audio is all there is; any lip motion that follows it is a failure",
        "source": "what the off-screen audio is (tv, radio, phone)",
        "transition": "`<from>_to_<to>` for emotion transitions",
        "melody": "the traditional tune a song is sung to",
        "horizon": "length of a long-horizon case",
        "timing": "where single or sequenced actions sit (early, middle, late, spread)",
    }
    vocab_rows = [[f"`{k}`", vocab_doc[k], ", ".join(f"`{v}`" for v in values[k])] for k in TAG_KEYS]
    case_rows = [[f"`{c['id']}`", c["mode"], c["character"], f"{c['duration']:g}", str(len(timelines.get(c["id"], []))),
                  " ".join(t for t in c["tags"] if t.split(":", 1)[0] not in ("style", "shot", "voice", "partner_voice"))]
                 for c in cases]
    return "\n\n".join([
        f"# Suite `{suite.name}` (version {manifest['version']})",
        manifest["description"],
        f"Generated by `python {SCRIPT} --suite standard` (do not edit by hand: edit `scripts/suitegen/standard.py` or "
        f"`standard_text.py` and regenerate; `--check` verifies the committed bytes). Regenerating needs the voices: "
        f"`pip install -e \".[suites]\"` in a separate environment, Debian's espeak-ng, and the face_recognition 1.3.0 sdist "
        f"(`pip download face_recognition==1.3.0 --no-deps --no-binary :all:`, passed with `--face-recognition-sdist`); "
        f"the harness itself needs none of them. Frames are {suite.resolution}x{suite.resolution} at {suite.fps} fps.",
        "## Card\n\n" + suite_card(manifest, root),
        "## Tags\n\nEvery case carries `key:value` facet tags; the leaderboard breaks every metric down by them.\n\n"
        + md_table(["key", "meaning", "values in this suite"], vocab_rows),
        "## Voices\n\nEnglish speech is neural: piper's `joe` (an American male voice, VITS) as the partner, and WORLD-vocoder "
        "reshapings of it (pitch level and range, formants) for the characters, so that a woman's portrait speaks with a "
        "woman's pitch and formants, and Barack Obama and Joe Biden with two different men's voices (Biden's deeper, "
        "darker and slower). Japanese is Kokoro-82M with its Japanese voices. Spanish, German and Mandarin use "
        "espeak-ng (no neural voice for them ships in a package). Emotions change speaking rate, pitch level and range, "
        "loudness and (piper) the VITS noise scales; every case also varies the rate by up to 6 %, and the gaps between "
        "turns are drawn from a seeded generator. Singing is speech converted by the WORLD vocoder: voiced stretches are "
        "matched to the notes of a traditional tune, stretched to their lengths and given their pitches, a glide and a "
        "vibrato. Each utterance's exact parameters are in `timelines.json`.\n\n"
        + md_table(["voice", "parameters", "engine and model file"], voice_rows),
        "## Characters\n\nThe dlib column is the frontal HOG detector (upsample 0) on the first reference. The photoreal "
        "characters are four real people with clear licences, each in a close-up and a half-body framing: Eileen Collins "
        "(NASA photograph; a white woman, about 40), Grace Hopper (US Navy portrait; a white woman, about 80), Barack "
        "Obama (a Black man, about 50) and Joe Biden (a white man, about 67). The photographs of Obama and Biden are "
        "official White House photographs (works of the US federal government, public domain), taken from the test "
        "images of the face_recognition 1.3.0 source distribution on PyPI; they are official portraits of public "
        "officials, used here only as benchmark references: no endorsement by them, or by anyone, is implied. The "
        "stylized characters are renderings of Collins and Hopper; the non-humanoid ones are a cat and drawings.\n\n"
        + md_table(["id", "style", "shot", "references", "source", "licence", "dlib HOG"], char_rows),
        "## Cases\n\n*utterances* counts the speech segments of both sides (times and voices in `timelines.json`).\n\n"
        + md_table(["id", "mode", "character", "duration (s)", "utterances", "tags"], case_rows),
        "## Licences\n\nEvery file is listed under `assets:` in `suite.yaml` with its source and licence. The texts (written "
        "for lpmbench, lyrics included; the tunes are traditional) and the synthesised audio are released under CC0-1.0: "
        "the synthesisers (piper-tts and its voice, MIT; Kokoro, Apache-2.0; espeak-ng, GPL-3.0; pyworld, MIT) are the "
        "tools that made them, and their licences do not extend to their output. Images derive from public-domain "
        "photographs or are drawn by the generator (CC0-1.0).",
    ]) + "\n"
