"""Benchmark cases and suites: plain data, loaded and validated from ``prompts/<suite>/suite.yaml``.

A suite knows nothing of models or metrics. The manifest format (YAML)::

    name: mini                      # suite name (folder name by default)
    version: 1                      # bump when cases change meaning
    description: ...
    characters:
      astronaut:
        style: photoreal            # photoreal | stylized | non_humanoid
        references: [characters/astronaut.png]   # one or more, relative to the suite folder
        source: "scikit-image data.astronaut (NASA)"
        license: "Public domain"
    defaults: {fps: 25, resolution: [512, 512]}  # optional, applied to every case
    cases:
      - id: speak_en_01             # unique, [A-Za-z0-9_.-]
        mode: speak                 # speak | listen | silence | duplex
        character: astronaut
        agent_audio: audio/speak_en_01.ogg      # what the character says (optional)
        partner_audio: null                     # what the character hears (optional)
        duration: 8.0               # seconds of video to generate
        fps: 25
        resolution: [512, 512]      # width, height
        language: en
        transcript: "Hello there"   # optional, agent speech text
        partner_transcript: null
        prompts:                    # optional text motion prompts with time spans (s)
          - {action: nod, start: 2.0, end: 4.0}
          - {text: "a warm smile", start: 1.0, end: 3.0}   # free-form: CLIP only
        tags: ["emotion:happy"]
    assets:                         # source and licence of every file in the suite
      - {path: audio/speak_en_01.ogg, source: "espeak-ng via scripts/make_suite_audio.py", license: CC0-1.0}

Audio files cover the case from t=0; they must last at least ``duration`` (minus one frame).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MODES = ("speak", "listen", "silence", "duplex")
STYLES = ("photoreal", "stylized", "non_humanoid")
# The action vocabulary of METRICS.md (text_control.adherence); each has a landmark/pose detector.
ACTIONS = ("nod", "shake_head", "smile", "raise_eyebrows", "look_left", "look_right", "close_eyes")
AUDIO_RATE = 16000  # every audio signal inside lpmbench is mono float32 at this rate
# Ids of cases, characters and suites become file and folder names (videos/<case>.mp4, the default
# run id <model>-<suite>-<time>): letters, digits, '_', '.', '-', not starting with '.' or '-'.
_ID_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
MAX_MANIFEST_BYTES = 16 * 2**20  # a suite.yaml larger than this is refused before parsing
MAX_YAML_ALIASES = 1000  # alias references allowed in a suite.yaml (an alias bomb has millions)
# nodes of a suite.yaml counted with every alias expanded: a bomb needs few aliases (9 levels of 9
# make 387 million strings), a real suite has some thousands of nodes
MAX_YAML_NODES = 2_000_000


def valid_id(value: Any) -> bool:
    """Whether ``value`` can name a case, character, suite or run (see ``_ID_RE``)."""
    return isinstance(value, str) and bool(_ID_RE.fullmatch(value)) and value not in (".", "..")  # '$' allows 'x\n'


def as_id(text: str) -> str:
    """``text`` made a valid id: each run of other characters, and a leading '.' or '-', becomes '_'
    (a model called ``../x`` or ``a/b`` still names a folder inside ``results/``)."""
    s = re.sub(r"^[.-]", "_", re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)))[:128]
    return s if valid_id(s) else "_"


def load_yaml_bounded(text: str, where: str) -> Any:
    """``yaml.safe_load`` with bounds on alias references and on the size of the document once its
    aliases are expanded, so a YAML "billion laughs" fails at once with one clear error instead of
    exhausting memory when the loaded value is walked (``str(tags)``, hashing, JSON)."""

    class _Loader(yaml.SafeLoader):
        aliases = 0

        def compose_node(self, parent, index):  # type: ignore[override]
            if self.check_event(yaml.events.AliasEvent):
                _Loader.aliases += 1
                if _Loader.aliases > MAX_YAML_ALIASES:
                    raise SuiteError(f"{where}: more than {MAX_YAML_ALIASES} YAML aliases: refused (an alias bomb?)")
            return super().compose_node(parent, index)

        def compose_document(self):  # type: ignore[override]
            node = super().compose_document()
            if node is not None and _expanded_nodes(node, MAX_YAML_NODES) > MAX_YAML_NODES:
                raise SuiteError(f"{where}: more than {MAX_YAML_NODES} YAML nodes once its aliases are expanded (or a "
                                 "recursive alias): refused (an alias bomb?)")
            return node

    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise SuiteError(f"{where}: not valid YAML: {e}") from None


def _expanded_nodes(root: yaml.Node, limit: int) -> int:
    """Nodes of a composed YAML graph with every alias expanded, measured without expanding it (each
    shared node is sized once); ``limit + 1`` for more than ``limit`` or a recursive alias."""
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]

    def kids(n: yaml.Node) -> list[yaml.Node]:
        if isinstance(n, yaml.MappingNode):
            return [x for kv in n.value for x in kv]
        return list(n.value) if isinstance(n, yaml.SequenceNode) else []

    while stack:
        node, finished = stack.pop()
        if finished:
            on_path.discard(id(node))
            size[id(node)] = min(limit + 1, 1 + sum(size[id(k)] for k in kids(node)))
        elif id(node) in on_path:
            return limit + 1  # the node contains itself
        elif id(node) not in size:
            on_path.add(id(node))
            stack.append((node, True))
            stack += [(k, False) for k in kids(node) if id(k) not in size]
    return size[id(root)]


class SuiteError(ValueError):
    """A suite manifest or one of its cases is invalid. The message names the case and field."""


@dataclass(frozen=True)
class Character:
    id: str
    style: str
    references: tuple[Path, ...]  # absolute paths
    source: str = ""
    license: str = ""


@dataclass(frozen=True)
class PromptEvent:
    start: float
    end: float
    action: str | None = None  # one of ACTIONS, or None for a free-form prompt
    text: str | None = None  # free-form text (for CLIP) or a description of the action

    @property
    def label(self) -> str:
        return self.action or (self.text or "")

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "action": self.action, "text": self.text}


@dataclass(frozen=True)
class Case:
    id: str
    mode: str
    character: Character
    duration: float
    fps: float = 25.0
    width: int = 512
    height: int = 512
    agent_audio: Path | None = None
    partner_audio: Path | None = None
    prompts: tuple[PromptEvent, ...] = ()
    language: str | None = None
    transcript: str | None = None
    partner_transcript: str | None = None
    tags: tuple[str, ...] = ()
    suite: str = ""
    # a real recording of this very performance (suites imported from real data): paired metrics
    # (landmark distance to it) and model=groundtruth, the human row of the leaderboard
    ground_truth: Path | None = None

    @property
    def n_frames(self) -> int:
        return int(round(self.duration * self.fps))

    @property
    def reference(self) -> Path:
        """The first reference image (what single-image generators take)."""
        return self.character.references[0]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary (paths as strings) for results and adapters in other processes."""
        return {
            "id": self.id,
            "suite": self.suite,
            "mode": self.mode,
            "character": self.character.id,
            "style": self.character.style,
            "references": [str(p) for p in self.character.references],
            "duration": self.duration,
            "fps": self.fps,
            "width": self.width,
            "height": self.height,
            "agent_audio": str(self.agent_audio) if self.agent_audio else None,
            "partner_audio": str(self.partner_audio) if self.partner_audio else None,
            "ground_truth": str(self.ground_truth) if self.ground_truth else None,
            "prompts": [p.to_dict() for p in self.prompts],
            "language": self.language,
            "transcript": self.transcript,
            "partner_transcript": self.partner_transcript,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    root: Path
    description: str
    characters: dict[str, Character]
    cases: tuple[Case, ...]
    content_hash: str  # sha256 over the manifest and every file it references
    assets: tuple[dict[str, str], ...] = field(default=())

    def case(self, case_id: str) -> Case:
        for c in self.cases:
            if c.id == case_id:
                return c
        raise KeyError(f"suite {self.name!r} has no case {case_id!r}")


def builtin_suites_dir() -> Path:
    """Where the bundled suites live: ``prompts/`` in a checkout, ``lpmbench/prompts`` installed."""
    import lpmbench.prompts as p  # the package mapped from the top-level prompts/ folder

    return Path(p.__file__).resolve().parent


def resolve_suite_path(name_or_path: str | Path) -> Path:
    """A suite folder: a folder (or its suite.yaml), else a registered suite name
    (:data:`lpmbench.registry.SUITES`: the bundled ones and the ``lpmbench.suites`` entry points)."""
    from .registry import SUITES, RegistryError

    p = Path(name_or_path)
    if p.is_file() and p.name.endswith((".yaml", ".yml")):
        return p.parent
    if (p / "suite.yaml").is_file():
        return p
    try:
        return SUITES.get(str(name_or_path))
    except RegistryError as e:
        raise SuiteError(f"{e} (not a folder with a suite.yaml either)") from None


def _sha256_file(path: Path, h: "hashlib._Hash") -> None:
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)


def _inside(root: Path, rel: str, where: str) -> Path:
    if rel is None or str(rel).strip() == "":
        raise SuiteError(f"{where}: empty path")
    if not isinstance(rel, (str, Path)):
        raise SuiteError(f"{where}: expected a path, got a {type(rel).__name__}")
    try:
        p = (root / str(rel)).resolve()
        if p.is_relative_to(root.resolve()):
            found = p.is_file()
    except (OSError, ValueError) as e:  # a NUL byte, a name too long, a symlink loop
        raise SuiteError(f"{where}: path {str(rel)[:100]!r} is unusable ({getattr(e, 'strerror', None) or e})") from None
    if not p.is_relative_to(root.resolve()):
        raise SuiteError(f"{where}: path {rel!r} escapes the suite folder {root}")
    if not found:
        raise SuiteError(f"{where}: file {rel!r} not found in {root}")
    return p


def _num(value: Any, where: str, *, positive: bool = False, at_most: float | None = None) -> float:
    if isinstance(value, bool):
        raise SuiteError(f"{where}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise SuiteError(f"{where}: expected a number, got {value!r}") from None
    if v != v or v in (float("inf"), float("-inf")) or (positive and v <= 0) or v < 0:
        raise SuiteError(f"{where}: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    if at_most is not None and v > at_most:
        raise SuiteError(f"{where}: must be at most {at_most:g}, got {value!r}")
    return v


MAX_CASE_S = 4 * 3600.0  # a case longer than four hours is a typo, not a benchmark case
MAX_FPS = 240.0


def audio_duration(path: Path) -> float:
    import soundfile as sf

    info = sf.info(str(path))
    return info.frames / float(info.samplerate)


def load_suite(name_or_path: str | Path, *, check_audio: bool = True) -> Suite:
    """Load and validate a suite. Raises :class:`SuiteError` naming the case and field at fault."""
    root = resolve_suite_path(name_or_path).resolve()
    manifest = root / "suite.yaml"
    try:
        size = manifest.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise SuiteError(f"{manifest}: {size / 2**20:.0f} MB is larger than the {MAX_MANIFEST_BYTES >> 20} MB a suite.yaml may be")
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SuiteError(f"{manifest}: cannot read it: {e}") from None
    data = load_yaml_bounded(text, str(manifest))
    if not isinstance(data, dict):
        raise SuiteError(f"{manifest}: expected a mapping at the top level")
    name = data.get("name", root.name)
    if not valid_id(name):
        raise SuiteError(f"{manifest}, field 'name': {name!r} is not a valid suite name "
                         "(letters, digits, '_', '.', '-'; it names folders)")
    unknown_top = set(data) - {"name", "version", "description", "characters", "cases", "assets", "defaults"}
    if unknown_top:
        raise SuiteError(f"{manifest}: unknown top-level field(s) {sorted(unknown_top)}")

    referenced: set[Path] = set()
    characters: dict[str, Character] = {}
    raw_chars = data.get("characters") or {}
    if not isinstance(raw_chars, dict):
        raise SuiteError(f"suite {name!r}, field 'characters': expected a mapping of character id -> "
                         f"{{style, references, ...}}, got a {type(raw_chars).__name__}")
    for cid, c in raw_chars.items():
        where = f"suite {name!r}, character {cid!r}"
        if not valid_id(cid):
            raise SuiteError(f"{where}: not a valid character id (letters, digits, '_', '.', '-')")
        if not isinstance(c, dict):
            raise SuiteError(f"{where}: expected a mapping")
        style = c.get("style")
        if style not in STYLES:
            raise SuiteError(f"{where}, field 'style': {style!r} is not one of {STYLES}")
        refs = c.get("references") or []
        if isinstance(refs, str):
            refs = [refs]
        if not refs:
            raise SuiteError(f"{where}, field 'references': at least one reference image is required")
        paths = tuple(_inside(root, r, f"{where}, field 'references'") for r in refs)
        referenced.update(paths)
        characters[cid] = Character(cid, style, paths, str(c.get("source", "")), str(c.get("license", "")))

    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise SuiteError(f"suite {name!r}, field 'defaults': expected a mapping")
    raw_cases = data.get("cases") or []
    if not isinstance(raw_cases, list):
        raise SuiteError(f"suite {name!r}, field 'cases': expected a list of cases, got a {type(raw_cases).__name__}")
    allowed = {
        "id", "mode", "character", "agent_audio", "partner_audio", "duration", "fps", "resolution",
        "language", "transcript", "partner_transcript", "prompts", "tags", "ground_truth",
    }
    cases: list[Case] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_cases):
        if not isinstance(raw, dict):
            raise SuiteError(f"suite {name!r}, case #{i}: expected a mapping")
        raw = {**defaults, **raw}
        case_id = raw.get("id", "")
        where = f"suite {name!r}, case {(case_id if isinstance(case_id, str) and case_id else '#' + str(i))!r}"
        if not valid_id(case_id):
            raise SuiteError(f"{where}, field 'id': {case_id!r} is not a valid case id (letters, digits, '_', '.', '-', "
                             "not starting with '.' or '-')")
        if case_id in seen:
            raise SuiteError(f"{where}, field 'id': duplicate case id")
        seen.add(case_id)
        extra = set(raw) - allowed
        if extra:
            raise SuiteError(f"{where}: unknown field(s) {sorted(extra)}")
        mode = raw.get("mode")
        if mode not in MODES:
            raise SuiteError(f"{where}, field 'mode': {mode!r} is not one of {MODES}")
        char = characters.get(raw.get("character")) if isinstance(raw.get("character"), str) else None
        if char is None:
            raise SuiteError(f"{where}, field 'character': unknown character {raw.get('character')!r}")
        duration = _num(raw.get("duration"), f"{where}, field 'duration'", positive=True, at_most=MAX_CASE_S)
        fps = _num(raw.get("fps", 25), f"{where}, field 'fps'", positive=True, at_most=MAX_FPS)
        res = raw.get("resolution", [512, 512])
        if not (isinstance(res, (list, tuple)) and len(res) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 8192 for v in res)):
            raise SuiteError(f"{where}, field 'resolution': expected [width, height] integers in 1..8192, got {res!r}")
        audio: dict[str, Path | None] = {}
        for key in ("agent_audio", "partner_audio"):
            rel = raw.get(key)
            audio[key] = None
            if rel:
                p = _inside(root, rel, f"{where}, field {key!r}")
                referenced.add(p)
                if check_audio:
                    try:
                        d = audio_duration(p)
                    except Exception as e:  # soundfile raises its own error type
                        raise SuiteError(f"{where}, field {key!r}: cannot read audio {rel!r}: {e}") from None
                    if d + 1.0 / fps < duration:
                        raise SuiteError(
                            f"{where}, field {key!r}: audio {rel!r} lasts {d:.2f} s, shorter than the case duration {duration:.2f} s"
                        )
                audio[key] = p
        if mode in ("speak", "duplex") and audio["agent_audio"] is None:
            raise SuiteError(f"{where}, field 'agent_audio': required for mode {mode!r}")
        if mode in ("listen", "duplex") and audio["partner_audio"] is None:
            raise SuiteError(f"{where}, field 'partner_audio': required for mode {mode!r}")
        prompts: list[PromptEvent] = []
        raw_prompts = raw.get("prompts") or []
        if not isinstance(raw_prompts, list):
            raise SuiteError(f"{where}, field 'prompts': expected a list of {{action/text, start, end}}, "
                             f"got a {type(raw_prompts).__name__}")
        for j, pr in enumerate(raw_prompts):
            pw = f"{where}, field 'prompts[{j}]'"
            if not isinstance(pr, dict):
                raise SuiteError(f"{pw}: expected a mapping with action/text, start, end")
            action, text = pr.get("action"), pr.get("text")
            if action is None and not text:
                raise SuiteError(f"{pw}: needs an 'action' from the vocabulary or a free-form 'text'")
            if action is not None and action not in ACTIONS:
                import difflib

                close = difflib.get_close_matches(str(action), ACTIONS, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise SuiteError(f"{pw}: unknown action {action!r}{hint}; vocabulary: {', '.join(ACTIONS)}")
            s = _num(pr.get("start"), f"{pw}.start")
            e = _num(pr.get("end"), f"{pw}.end", positive=True)
            if not s < e <= duration + 1e-6:
                raise SuiteError(f"{pw}: span [{s}, {e}] must satisfy start < end <= duration ({duration})")
            prompts.append(PromptEvent(s, e, action, text))
        ground_truth = None
        if raw.get("ground_truth"):
            ground_truth = _inside(root, raw["ground_truth"], f"{where}, field 'ground_truth'")
            referenced.add(ground_truth)
        tags = raw.get("tags") or []
        if isinstance(tags, str):  # `tags: emotion:happy` is one tag, not one per character
            tags = [tags]
        if not isinstance(tags, list):
            raise SuiteError(f"{where}, field 'tags': expected a list of tags, got a {type(tags).__name__}")
        cases.append(
            Case(
                id=case_id, mode=mode, character=char, duration=duration, fps=fps,
                width=int(res[0]), height=int(res[1]), agent_audio=audio["agent_audio"],
                partner_audio=audio["partner_audio"], prompts=tuple(prompts),
                language=raw.get("language"), transcript=raw.get("transcript"),
                partner_transcript=raw.get("partner_transcript"), tags=tuple(str(t) for t in tags), suite=name,
                ground_truth=ground_truth,
            )
        )
    if not cases:
        raise SuiteError(f"{manifest}: the suite has no cases")

    raw_assets = data.get("assets") or []
    if not isinstance(raw_assets, list) or not all(isinstance(a, dict) for a in raw_assets):
        raise SuiteError(f"suite {name!r}, field 'assets': expected a list of {{path, source, license}} mappings")
    assets = tuple(dict(a) for a in raw_assets)
    for a in assets:
        _inside(root, a.get("path"), f"suite {name!r}, assets entry {a.get('path')!r}")
    h = hashlib.sha256()
    h.update(manifest.read_bytes())
    for p in sorted(referenced):
        h.update(str(p.relative_to(root)).encode())
        _sha256_file(p, h)
    try:
        version = int(data.get("version", 1))
    except (TypeError, ValueError):
        raise SuiteError(f"suite {name!r}, field 'version': expected an integer, got {data.get('version')!r}") from None
    return Suite(
        name=name, version=version, root=root, description=str(data.get("description", "")),
        characters=characters, cases=tuple(cases), content_hash=h.hexdigest(), assets=assets,
    )
