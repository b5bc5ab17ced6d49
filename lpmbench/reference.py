"""The human reference: what real people do, measured by lpmbench's own analysis pass.

A reference is a small versioned JSON file of *statistics only*: for each metric of natural
behaviour (``MetricSpec.natural``) and each context (``speak``: the person talks; ``idle``: silent,
not addressed; ``listen``: silent while a partner talks), the quantiles of the per-clip values of
real recordings; and, for the motion-realism distance, the mean and covariance of windowed facial
dynamics. It lists its source clips with their provenance, never the media. The bundled reference
is ``lpmbench/reference_data/human-v1.json``; ``lpmbench reference build VIDEOS...`` rebuilds one
from any corpus a user owns (HDTF, VFHQ, CelebV-HQ, a studio's recordings), and
``reference.path=FILE`` scores a run against it.

Scores follow from it (:mod:`lpmbench.scoring`): a natural metric's *human range* in a context is
``[q05, q95]`` of the reference clips for ``target`` metrics (widened to include the spec's target,
so the ideal value always scores 100), ``[q05, +inf)`` for ``higher`` ones and ``(-inf, q95]`` for
``lower`` ones; a case inside it scores 100, and the score falls linearly
to 0 one range width (``q95 - q05``) outside it (for an amount that cannot be negative, below the
range to 0 at 0). The reference's id (a hash of its content) is part of every run's protocol:
numbers scored against different references are never ranked together.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

FORMAT = "lpmbench-human-reference"
FORMAT_VERSION = 1
QUANTILES = (5, 10, 25, 50, 75, 90, 95)
CONTEXTS = ("speak", "listen", "idle")
# The reference context a case of each mode is scored in, and where to look when a reference has
# no recordings of that context (a listener is a silent person; a conversation is mostly talk).
MODE_CONTEXT = {"speak": "speak", "listen": "listen", "silence": "idle", "duplex": "speak"}
FALLBACK = {"listen": ("idle",), "idle": (), "speak": ()}
MIN_CLIPS = 5  # fewer reference clips than this in a context: no human range there


class ReferenceError(ValueError):
    """A reference file is malformed (the message names the file and field)."""


def bundled_reference_path() -> Path:
    return Path(__file__).resolve().parent / "reference_data" / "human-v1.json"


@dataclass(frozen=True)
class HumanReference:
    data: dict[str, Any]
    path: str = ""

    @property
    def id(self) -> str:
        """Content hash (16 hex): part of the protocol of every run scored against it."""
        body = {k: v for k, v in self.data.items() if k not in ("sources", "notes", "built_at")}
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    @property
    def name(self) -> str:
        return str(self.data.get("name", "reference"))

    def stats(self, metric: str, context: str) -> dict[str, Any] | None:
        per = (self.data.get("metrics") or {}).get(metric) or {}
        for ctx in (context, *FALLBACK.get(context, ())):
            s = per.get(ctx)
            if s and int(s.get("n", 0)) >= MIN_CLIPS:
                return s
        return None

    def range(self, spec: Mapping[str, Any], context: str) -> tuple[float, float] | None:
        """The human range of a metric in a context (see the module docstring), or None."""
        s = self.stats(str(spec.get("name")), MODE_CONTEXT.get(context, context))
        if s is None:
            return None
        q = s["q"]
        lo, hi = float(q["5"]), float(q["95"])
        direction = spec.get("direction")
        if direction == "higher":
            return lo, float("inf")
        if direction == "lower":
            return float("-inf"), hi
        target = spec.get("target")
        if target is not None:  # the ideal value always scores 100, even where real video misses it
            t = [float(x) for x in (target if isinstance(target, (list, tuple)) else (target, target))]
            lo, hi = min(lo, t[0]), max(hi, t[1])
        return lo, hi

    def width(self, spec: Mapping[str, Any], context: str) -> float | None:
        """How far outside the human range a value scores 0: the spread ``q95 - q05`` of the
        reference clips (at least a tenth of the median's magnitude, so a near-constant human
        behaviour does not make every deviation fatal)."""
        s = self.stats(str(spec.get("name")), MODE_CONTEXT.get(context, context))
        if s is None:
            return None
        q = s["q"]
        spread = float(q["95"]) - float(q["5"])
        return max(spread, 0.1 * abs(float(q["50"])), 1e-9)

    def dynamics(self, context: str = "all") -> tuple[np.ndarray, np.ndarray] | None:
        """(mean (D,), covariance (D, D)) of the windowed dynamics features, or None."""
        d = (self.data.get("dynamics") or {}).get(context)
        if not d:
            return None
        return np.asarray(d["mean"], float), np.asarray(d["cov"], float)

    def describe(self) -> dict[str, Any]:
        """What a run records about the reference it was scored against."""
        return {"id": self.id, "name": self.name, "version": self.data.get("version"), "path": self.path or None,
                "n_sources": len(self.data.get("sources") or [])}


def load_reference(path: str | Path | None = None) -> HumanReference:
    """The reference at ``path`` (default: the bundled one). Raises :class:`ReferenceError`."""
    p = Path(path) if path else bundled_reference_path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReferenceError(f"human reference file not found: {p}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ReferenceError(f"{p}: not a readable JSON reference ({e})") from None
    check_reference(data, str(p))
    return HumanReference(data, "" if path is None else str(p))


def check_reference(data: Any, where: str = "reference") -> None:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReferenceError(f"{where}: not an lpmbench human reference (format must be {FORMAT!r})")
    if int(data.get("format_version", 0)) > FORMAT_VERSION:
        raise ReferenceError(f"{where}: format version {data.get('format_version')} is newer than this lpmbench reads")
    for name, per in (data.get("metrics") or {}).items():
        if not isinstance(per, dict):
            raise ReferenceError(f"{where}: metrics[{name!r}] must be an object")
        for ctx, s in per.items():
            try:
                q = [float(s["q"][str(k)]) for k in QUANTILES]
                int(s["n"])
            except (KeyError, TypeError, ValueError):
                raise ReferenceError(f"{where}: metrics[{name!r}][{ctx!r}] needs n and quantiles {QUANTILES}") from None
            if not all(np.isfinite(q)) or any(a > b for a, b in zip(q, q[1:])):
                raise ReferenceError(f"{where}: metrics[{name!r}][{ctx!r}] quantiles must be finite and non-decreasing")


def summarize(values: Iterable[float]) -> dict[str, Any]:
    """n, quantiles, mean and std of finite values (the per-context statistics of a reference)."""
    x = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if x.size == 0:
        return {"n": 0}
    return {"n": int(x.size), "q": {str(k): float(np.percentile(x, k)) for k in QUANTILES},
            "mean": float(x.mean()), "std": float(x.std())}


@dataclass
class ClipResult:
    """One reference recording's measurements."""

    source: dict[str, Any]  # {"file", "context", "fps", "size", "duration_s", ...} (+ provenance)
    values: dict[str, float] = field(default_factory=dict)
    windows: np.ndarray | None = None  # (N, D) windowed dynamics


def assemble(clips: list[ClipResult], *, name: str, version: str, natural: Iterable[str], notes: str = "") -> dict[str, Any]:
    """The reference document from measured clips (statistics only)."""
    import time

    metrics: dict[str, dict[str, Any]] = {}
    for metric in sorted(natural):
        per = {}
        for ctx in CONTEXTS:
            s = summarize(c.values.get(metric) for c in clips if c.source.get("context") == ctx)
            if s["n"]:
                per[ctx] = s
        if per:
            metrics[metric] = per
    dynamics = {}
    for ctx in ("all", *CONTEXTS):
        w = [c.windows for c in clips if c.windows is not None and len(c.windows)
             and (ctx == "all" or c.source.get("context") == ctx)]
        if w:
            x = np.concatenate(w)
            if len(x) > x.shape[1]:
                dynamics[ctx] = {"n_windows": int(len(x)), "mean": x.mean(0).tolist(), "cov": np.cov(x.T).tolist()}
    return {"format": FORMAT, "format_version": FORMAT_VERSION, "name": name, "version": version,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quantiles": list(QUANTILES),
            "metrics": metrics, "dynamics": dynamics, "sources": [c.source for c in clips], "notes": notes}


# -- building a reference from recordings -----------------------------------------------------------
def speech_fraction(features: Any) -> float:
    """Fraction of frames in which the recording's own voice is active."""
    vad = np.asarray(features.get("agent_vad"), dtype=bool) if features.has("agent_vad") else np.zeros(0, bool)
    return float(vad.mean()) if vad.size else 0.0


SPEAK_FRACTION = 0.3  # a recording voiced for at least this fraction of its frames is "speak"


def measure_recording(plan: Any, video: Path, *, context: str = "auto", provenance: str = "",
                      audio: Path | None = None, partner_audio: Path | None = None) -> ClipResult:
    """Analyse one real recording with the plan's analysis pass and natural metrics.

    The recording's own soundtrack is its agent audio (``audio`` overrides it); ``context``
    ``auto`` is ``speak`` when it is voiced for at least :data:`SPEAK_FRACTION` of the frames,
    else ``idle`` (``listen`` needs ``partner_audio``, the voice the person listens to).
    """
    import tempfile

    import soundfile as sf

    from .case import AUDIO_RATE
    from .media import MediaError, load_audio, probe
    from .runner import case_for_video, score_features

    info = probe(video)
    with tempfile.TemporaryDirectory(prefix="lpmbench-ref-") as tmp:
        track = audio
        if track is None and info.has_audio:
            try:
                samples = load_audio(video, duration=info.duration)
            except MediaError:
                samples = None
            if samples is not None and np.any(samples):
                track = Path(tmp) / "own.wav"
                sf.write(str(track), samples, AUDIO_RATE)
        reference_frame = Path(tmp) / "reference.png"
        _first_frame(video, reference_frame)
        case = case_for_video(video, [reference_frame], audio=track, partner_audio=partner_audio,
                              case_id=Path(video).stem)
        with plan.analyzer() as analyzer:
            features = analyzer.run(video, case)
        out = score_features(features, case, None, plan.metrics, plan.metric_options)
    natural = [n for n, s in plan.metrics.specs.items() if s.natural]
    if context == "auto":
        context = "listen" if partner_audio else ("speak" if speech_fraction(features) >= SPEAK_FRACTION else "idle")
    if context not in CONTEXTS:
        raise ReferenceError(f"unknown context {context!r}; one of {CONTEXTS} or auto")
    windows = None
    try:
        from .metrics.realism import window_dynamics

        windows = window_dynamics(features)
    except Exception:  # no face / too short: the clip adds no dynamics windows
        windows = None
    source = {"file": Path(video).name, "context": context, "provenance": provenance, "fps": round(features.fps, 3),
              "size": [info.width, info.height], "duration_s": round(float(features["duration"]), 3),
              "speech_fraction": round(speech_fraction(features), 3),
              "face_presence": round(float(np.mean(features["face_present"])), 3)}
    return ClipResult(source, {n: out.values[n] for n in natural if n in out.values}, windows)


def _first_frame(video: Path, out: Path) -> None:
    """The recording's first frame as the reference image (a real person's own likeness)."""
    from PIL import Image

    from .media import MediaError, iter_frames

    for rgb in iter_frames(video):
        Image.fromarray(np.ascontiguousarray(rgb)).save(out)
        return
    raise MediaError(f"{video}: no decodable frame")


def build_reference(plan: Any, videos: list[tuple[Path, str, str]], *, name: str, version: str,
                    progress: Any = None, notes: str = "") -> dict[str, Any]:
    """A reference document from ``(video, context, provenance)`` triples (context may be ``auto``)."""
    natural = [n for n, s in plan.metrics.specs.items() if s.natural]
    clips = []
    for i, (video, context, provenance) in enumerate(videos):
        if progress:
            progress(i, len(videos), Path(video).name)
        clips.append(measure_recording(plan, Path(video), context=context, provenance=provenance))
    return assemble(clips, name=name, version=version, natural=natural, notes=notes)
