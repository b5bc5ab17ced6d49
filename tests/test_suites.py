"""The bundled suites (prompts/smoke, prompts/mini) and the suite loader's error messages.

The bundled-suite tests read the committed files (real espeak-ng speech, real photos); the
error tests build small suites in tmp_path from generated WAVs and PNGs.
"""
from __future__ import annotations

import copy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from lpmbench.case import ACTIONS, AUDIO_RATE, MODES, STYLES, Case, Suite, SuiteError, builtin_suites_dir, load_suite

REPO = Path(__file__).resolve().parent.parent
FRAME_S = 0.05  # analysis window of the activity detector below


@pytest.fixture(scope="module")
def smoke() -> Suite:
    return load_suite("smoke")


@pytest.fixture(scope="module")
def mini() -> Suite:
    return load_suite("mini")


def read_audio(path: Path) -> np.ndarray:
    x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    assert sr == AUDIO_RATE, f"{path.name}: {sr} Hz, expected {AUDIO_RATE}"
    assert x.shape[1] == 1, f"{path.name}: {x.shape[1]} channels, expected mono"
    return x[:, 0]


def voiced(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    """Per 50 ms window: RMS above threshold (espeak speech peaks at 0.7, silence is ~0)."""
    n = int(FRAME_S * AUDIO_RATE)
    frames = x[: len(x) // n * n].reshape(-1, n)
    return np.sqrt((frames**2).mean(axis=1)) > threshold


def turns(agent: np.ndarray, partner: np.ndarray) -> list[str]:
    """Order of speakers, one entry per change of who alone is talking (gaps ignored)."""
    a, p = voiced(agent), voiced(partner)
    seq: list[str] = []
    for who in np.where(a & ~p, "A", np.where(p & ~a, "P", "")):
        if who and (not seq or seq[-1] != who):
            seq.append(str(who))
    return seq


def speech_cases(suite: Suite) -> list[Case]:
    return [c for c in suite.cases if c.agent_audio or c.partner_audio]


# ------------------------------------------------------------------ bundled suites: coverage
def test_bundled_suites_are_listed():
    from lpmbench.registry import SUITES

    assert {"smoke", "mini"} <= set(SUITES.names())


def test_smoke_rules(smoke):
    assert 1 <= len(smoke.cases) <= 6
    assert {c.mode for c in smoke.cases} == set(MODES)
    for c in smoke.cases:
        assert c.duration <= 5.0, c.id
        assert (c.width, c.height, c.fps) == (256, 256, 25), c.id


def test_mini_counts_characters_and_format(mini):
    assert len(mini.cases) >= 24
    styles = {c.character.style for c in mini.cases}
    assert styles == set(STYLES)
    assert len({c.character.id for c in mini.cases}) >= 3
    for c in mini.cases:
        assert (c.width, c.height, c.fps) == (512, 512, 25), c.id
        assert c.n_frames == c.duration * c.fps, f"{c.id}: duration should be a whole number of frames"
    total_min = sum(c.duration for c in mini.cases) / 60
    assert 8.0 <= total_min <= 13.0, f"mini lasts {total_min:.1f} min; keep it about 10-12 for a 2-core CPU"


def test_mini_modes_and_languages(mini):
    modes = {c.mode for c in mini.cases}
    assert modes == set(MODES)
    assert any(c.mode == "silence" and c.prompts for c in mini.cases), "needs a silence-with-prompt case"
    speaking = {c.language for c in mini.cases if c.agent_audio}
    assert "en" in speaking and ({"es", "de"} & speaking), f"agent speech languages: {speaking}"
    assert {c.language for c in speech_cases(mini)} >= {"en", "es", "de"}
    for c in speech_cases(mini):
        assert c.language, f"{c.id}: speech without a language"
        if c.agent_audio:
            assert c.transcript, f"{c.id}: agent speech without transcript"
        if c.partner_audio:
            assert c.partner_transcript, f"{c.id}: partner speech without transcript"


def test_mini_emotion_probes(mini):
    emotions = {t.split(":", 1)[1] for c in mini.cases for t in c.tags if t.startswith("emotion:")}
    assert {"happy", "sad", "angry", "surprised"} <= emotions
    # text-prompted emotion (free-form prompts) and expressive speech (an emotion-tagged speak case)
    assert any(any(t.startswith("emotion:") for t in c.tags) and any(p.action is None for p in c.prompts) for c in mini.cases)
    assert any(c.mode == "speak" and "emotion:sad" in c.tags and c.transcript for c in mini.cases)


def test_mini_offscreen_probe(mini):
    probes = [c for c in mini.cases if "probe:offscreen_audio" in c.tags]
    assert probes
    for c in probes:
        assert c.mode == "listen" and c.agent_audio is None and c.partner_audio is not None, c.id
        assert voiced(read_audio(c.partner_audio)).mean() > 0.3, f"{c.id}: the heard audio should be mostly speech"


def test_mini_uses_every_action_with_spans(mini):
    used = {p.action for c in mini.cases for p in c.prompts if p.action}
    assert used == set(ACTIONS)
    for c in mini.cases:
        for p in c.prompts:
            assert 0 <= p.start < p.end <= c.duration, f"{c.id}: {p}"
            if p.action:
                assert p.end - p.start <= 3.0 + 1e-6, f"{c.id}: action span {p} too long to be a test"


def test_mini_long_horizon(mini):
    long = [c for c in mini.cases if "long_horizon" in c.tags]
    assert long and all(c.duration >= 300 for c in long)
    # long means long *activity*: speech keeps coming until the end, not five minutes of padding
    c = long[0]
    active = voiced(read_audio(c.agent_audio)) | (voiced(read_audio(c.partner_audio)) if c.partner_audio else False)
    last_voice_s = np.flatnonzero(active)[-1] * FRAME_S
    assert last_voice_s > c.duration - 15, f"{c.id}: speech ends at {last_voice_s:.0f} s of {c.duration:.0f}"


def test_mini_duplex_has_alternating_turns(mini):
    duplex = [c for c in mini.cases if c.mode == "duplex"]
    assert any(c.duration >= 60 for c in duplex)
    for c in duplex:
        a, p = read_audio(c.agent_audio), read_audio(c.partner_audio)
        seq = turns(a, p)
        assert len(seq) >= 4, f"{c.id}: turns {seq}"
        if c.duration >= 60:
            assert len(seq) >= 8, f"{c.id}: only {len(seq)} turns"
        if "interruption" in c.tags:
            assert (voiced(a) & voiced(p)).any(), f"{c.id}: tagged interruption but the tracks never overlap"
        # each side is silent somewhere: both tracks cover the whole case with silence between turns
        assert (~voiced(a)).mean() > 0.2 and (~voiced(p)).mean() > 0.2, c.id


# ------------------------------------------------------------------ bundled suites: assets
@pytest.mark.parametrize("name", ["smoke", "mini"])
def test_audio_covers_cases_and_holds_speech(name):
    suite = load_suite(name)
    for c in suite.cases:
        if c.mode == "silence":
            assert c.agent_audio is None and c.partner_audio is None, c.id
        for path in (c.agent_audio, c.partner_audio):
            if path is None:
                continue
            x = read_audio(path)
            assert len(x) / AUDIO_RATE >= c.duration - 1 / c.fps, f"{c.id}: {path.name} shorter than the case"
            assert voiced(x).any(), f"{c.id}: {path.name} holds no speech"
        if c.mode == "speak":
            assert voiced(read_audio(c.agent_audio)).mean() > 0.25, c.id
        if c.mode in ("speak", "duplex"):
            assert c.agent_audio is not None, c.id


@pytest.mark.parametrize("name", ["smoke", "mini"])
def test_every_file_has_source_and_licence(name):
    suite = load_suite(name)
    recorded = {}
    for a in suite.assets:
        assert a.get("source") and a.get("license"), f"{name}: asset entry {a}"
        assert a["path"] not in recorded, f"{name}: asset {a['path']} listed twice"
        recorded[a["path"]] = a
    on_disk = {
        str(p.relative_to(suite.root)) for p in suite.root.rglob("*")
        if p.is_file() and p.name != "suite.yaml" and "__pycache__" not in p.parts
    }
    assert on_disk == set(recorded), f"{name}: unlisted {on_disk - set(recorded)}, missing {set(recorded) - on_disk}"
    for ch in suite.characters.values():
        assert ch.source and ch.license, ch.id


@pytest.mark.parametrize("name", ["smoke", "mini"])
def test_references_match_resolution_and_faces_are_detectable(name):
    import cv2
    import dlib

    detector = dlib.get_frontal_face_detector()
    suite = load_suite(name)
    size = {(c.width, c.height) for c in suite.cases}
    for ch in suite.characters.values():
        img = cv2.cvtColor(cv2.imread(str(ch.references[0])), cv2.COLOR_BGR2RGB)
        assert {(img.shape[1], img.shape[0])} == size, f"{name}/{ch.id}: {img.shape}"
        if ch.style in ("photoreal", "stylized"):
            boxes = detector(img, 0)
            assert len(boxes) == 1, f"{name}/{ch.id}: dlib HOG finds {len(boxes)} faces"
            assert boxes[0].width() >= 0.25 * img.shape[1], f"{name}/{ch.id}: face too small for a talking head"


def test_prompts_folder_stays_small():
    # smoke and mini only: the standard suite has its own budget (tests/test_standard_suite.py)
    total = sum(p.stat().st_size for n in ("smoke", "mini") for p in (builtin_suites_dir() / n).rglob("*") if p.is_file())
    assert total < 6 * 1024 * 1024, f"prompts/smoke and prompts/mini hold {total / 1e6:.1f} MB"


def test_loading_mini_is_fast_and_hash_is_stable(mini):
    t = time.perf_counter()
    again = load_suite("mini")
    elapsed = time.perf_counter() - t
    assert again.content_hash == mini.content_hash
    assert elapsed < 5.0, f"loading mini took {elapsed:.2f} s"


# ------------------------------------------------------------------ generator helpers
@pytest.fixture(scope="module")
def suitegen():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import suitegen.speech
        import suitegen.timeline

        yield suitegen
    finally:
        sys.path.remove(str(REPO / "scripts"))


def test_ogg_files_are_byte_reproducible(suitegen, tmp_path):
    t = np.arange(2 * AUDIO_RATE) / AUDIO_RATE
    x = (0.4 * np.sin(2 * np.pi * 3 * t) * np.sin(2 * np.pi * 330 * t)).astype(np.float32)  # a syllable-rate burst
    a, b = tmp_path / "a.ogg", tmp_path / "b.ogg"
    suitegen.speech.write_ogg(x, a)
    suitegen.speech.write_ogg(x, b)
    assert a.read_bytes() == b.read_bytes()
    y = read_audio(a)
    assert len(y) == len(x) and np.corrcoef(x, y)[0, 1] > 0.98


def test_timeline_alternates_and_overlaps(suitegen):
    tl = suitegen.timeline
    tone = lambda s: (np.full(int(s * AUDIO_RATE), 0.5, np.float32), "test")  # noqa: E731
    events = [tl.Say("agent", "a"), tl.Say("partner", "b"), tl.Pause(2.0), tl.Say("agent", "c", overlap=0.0),
              tl.Say("partner", "d", overlap=0.5)]
    segs, pieces, end = tl.place(events, lambda s: tone(1.0), rng=np.random.default_rng(1), lead_in=0.5)
    assert [s.who for s in segs] == ["agent", "partner", "agent", "partner"]
    assert segs[0].start == 0.5
    assert segs[2].start - segs[1].end >= 2.0  # the pause
    assert segs[3].start == pytest.approx(segs[2].end - 0.5)  # the interruption
    duration = tl.auto_duration(end)
    assert duration == int(duration) and duration >= end + 0.6
    a, p = tl.render(pieces["agent"], duration), tl.render(pieces["partner"], duration)
    assert len(a) == len(p) == duration * AUDIO_RATE
    assert turns(a, p) == ["A", "P", "A", "P"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (needed only to regenerate)")
def test_generator_reproduces_committed_suites():
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "make_suites.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr + proc.stdout


# ------------------------------------------------------------------ loader errors
def _write_wav(path: Path, seconds: float) -> None:
    t = np.arange(int(seconds * AUDIO_RATE)) / AUDIO_RATE
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), AUDIO_RATE)


@pytest.fixture
def tiny_suite(tmp_path):
    """A valid two-case suite in tmp_path; returns (folder, manifest dict, write(manifest))."""
    import cv2

    root = tmp_path / "tiny"
    (root / "characters").mkdir(parents=True)
    img = np.zeros((64, 64, 3), np.uint8)
    cv2.circle(img, (32, 32), 20, (200, 180, 160), -1)
    cv2.imwrite(str(root / "characters" / "ball.png"), img)
    _write_wav(root / "audio" / "say.wav", 3.0)
    _write_wav(root / "audio" / "short.wav", 1.0)
    _write_wav(tmp_path / "outside.wav", 3.0)
    manifest = {
        "name": "tiny",
        "characters": {"ball": {"style": "stylized", "references": ["characters/ball.png"], "source": "test", "license": "CC0-1.0"}},
        "defaults": {"fps": 25, "resolution": [64, 64]},
        "cases": [
            {"id": "c1", "mode": "speak", "character": "ball", "agent_audio": "audio/say.wav", "duration": 3.0,
             "prompts": [{"action": "nod", "start": 0.5, "end": 1.5}]},
            {"id": "c2", "mode": "silence", "character": "ball", "duration": 2.0},
        ],
    }

    def write(m: dict) -> Path:
        (root / "suite.yaml").write_text(yaml.safe_dump(m), encoding="utf-8")
        return root

    return root, manifest, write


def test_tiny_suite_is_valid(tiny_suite):
    root, manifest, write = tiny_suite
    suite = load_suite(write(manifest))
    assert [c.id for c in suite.cases] == ["c1", "c2"]
    assert suite.case("c1").prompts[0].action == "nod"


def _c1(m):
    return m["cases"][0]


BAD = {
    "missing file": (lambda m: _c1(m).update(agent_audio="audio/nope.wav"), ["'c1'", "agent_audio", "not found", "nope.wav"]),
    "escaping path": (lambda m: _c1(m).update(agent_audio="../outside.wav"), ["'c1'", "agent_audio", "escapes the suite folder"]),
    "short audio": (lambda m: _c1(m).update(agent_audio="audio/short.wav"), ["'c1'", "agent_audio", "lasts 1.00 s", "3.00 s"]),
    "unknown action": (lambda m: _c1(m)["prompts"][0].update(action="nodd"), ["'c1'", "prompts[0]", "'nodd'", "did you mean 'nod'"]),
    "unknown mode": (lambda m: _c1(m).update(mode="talk"), ["'c1'", "'mode'", "'talk'"]),
    "duplicate id": (lambda m: m["cases"][1].update(id="c1"), ["'c1'", "'id'", "duplicate"]),
    "unknown character": (lambda m: _c1(m).update(character="dog"), ["'c1'", "'character'", "unknown character 'dog'"]),
    "span after the end": (lambda m: _c1(m)["prompts"][0].update(end=4.0), ["'c1'", "prompts[0]", "[0.5, 4.0]", "duration (3.0)"]),
    "span reversed": (lambda m: _c1(m)["prompts"][0].update(start=2.0, end=1.0), ["'c1'", "prompts[0]", "start < end"]),
    "missing agent audio": (lambda m: _c1(m).pop("agent_audio"), ["'c1'", "agent_audio", "required for mode 'speak'"]),
    "unknown field": (lambda m: _c1(m).update(durration=3.0), ["'c1'", "unknown field", "durration"]),
    "missing reference": (lambda m: m["characters"]["ball"].update(references=["characters/none.png"]),
                          ["character 'ball'", "references", "not found"]),
    "unknown style": (lambda m: m["characters"]["ball"].update(style="anime"), ["character 'ball'", "'style'", "'anime'"]),
}


@pytest.mark.parametrize("label", sorted(BAD))
def test_bad_suite_errors_name_case_and_field(tiny_suite, label):
    root, manifest, write = tiny_suite
    mutate, expected = BAD[label]
    m = copy.deepcopy(manifest)
    mutate(m)
    with pytest.raises(SuiteError) as err:
        load_suite(write(m))
    msg = str(err.value)
    for part in expected:
        assert part in msg, f"{label}: {part!r} not in error message: {msg}"


def test_unknown_suite_name_suggests_close_match():
    with pytest.raises(SuiteError, match="Did you mean 'mini'"):
        load_suite("minii")


def test_a_single_tag_string_is_one_tag(tiny_suite):
    root, manifest, write = tiny_suite
    m = copy.deepcopy(manifest)
    _c1(m)["tags"] = "emotion:happy"
    assert load_suite(write(m)).case("c1").tags == ("emotion:happy",)
