"""The runner: suite -> adapter (in a worker process) -> one analysis pass -> metrics -> results.

Every case is appended to the results as soon as it finishes, so an interrupted run loses
nothing; ``resume=True`` skips the cases already recorded. A failing case (generator crash,
timeout, unreadable video, no face, ...) is recorded with its error and the run goes on.
"""
from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from . import __version__
from .case import Case, Suite
from .features import Features
from .media import MediaError, file_sha256, probe
from .metric_api import MetricContext, MetricOutput, Timing
from .plugins import MetricSet
from .results import SCHEMA_VERSION, CaseRecord, RunManifest, RunWriter, load_run, utcnow
from .worker import AdapterSpec, AdapterWorker, GenerationFailed


def git_revision() -> str | None:
    here = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        return None


def hardware_info() -> dict[str, Any]:
    import psutil

    info: dict[str, Any] = {
        "platform": platform.platform(), "python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1), "gpu": None,
    }
    try:
        import torch

        info["torch"] = torch.__version__
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except Exception:  # torch is optional for the harness itself
        pass
    return info


def case_input_hash(case: Case) -> str:
    """sha256 of the case's definition and every input file: equal hashes mean equal inputs."""
    h = hashlib.sha256()
    d = case.to_dict()
    for k in ("references", "agent_audio", "partner_audio"):
        d.pop(k, None)
    h.update(json.dumps(d, sort_keys=True).encode())
    for p in (*case.character.references, case.agent_audio, case.partner_audio):
        h.update(file_sha256(p).encode() if p else b"-")
    return h.hexdigest()


def protocol_hash(suite_hash: str, metric_specs: dict[str, Any], backends: dict[str, Any]) -> str:
    """Runs are ranked together only when suite, metric versions and feature backends agree."""
    key = {
        "suite": suite_hash,
        "metrics": {n: s.get("version") for n, s in sorted(metric_specs.items())},
        "backends": {n: (b.get("name"), b.get("version"), b.get("weights_sha256")) for n, b in sorted(backends.items())},
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]


def manifest_specs(metrics: MetricSet, analysis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Metric specs as recorded in a run. A spec on the generic ``identity_embedding`` backend is
    recorded with the embedding backend actually used (dlib, arcface, clip): its numbers live on
    that backend's scale, and the leaderboard's anchors and protocol depend on it."""
    identity = (analysis.get("config") or {}).get("identity_backend", "dlib")
    specs = {n: s.to_dict() for n, s in metrics.specs.items()}
    for d in specs.values():
        if d["backend"] == "identity_embedding":
            d["backend"] = identity
    return specs


def score_features(features: Features, case: Case | None, timing: Timing | None, metrics: MetricSet,
                   options: dict[str, Any] | None = None) -> MetricOutput:
    return metrics.compute(MetricContext(features=features, case=case, timing=timing, config=options or {}))


def _error(stage: str, kind: str, message: str, detail: str = "") -> dict[str, Any]:
    return {"stage": stage, "type": kind, "message": message, "detail": detail[-4000:]}


def _series_for_json(out: MetricOutput) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in out.series.items() if isinstance(v, dict) and "y" in v}


@dataclass
class EvalConfig:
    """Options of one evaluation (the ``run`` section of the Hydra config)."""

    results_dir: Path = Path("results")
    run_id: str | None = None
    resume: bool = False
    timeout_s: float = 600.0  # per case, generation only
    keep_videos: bool | list[str] = True  # or case-id globs: keep only those videos (small result folders)
    cases: list[str] | None = None  # case ids or glob patterns; None = all
    stream: bool = False  # drive streaming adapters through the paced replay
    paced: bool = True
    chunk_s: float = 0.04
    metric_options: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)  # the resolved configuration, frozen into the run
    model_name: str | None = None  # display name on the leaderboard


def suite_path_for_results(suite: Suite) -> str | None:
    """None for a bundled suite (found again by name on any machine), else the folder it came from."""
    from .case import builtin_suites_dir

    return None if suite.root.parent == builtin_suites_dir() else str(suite.root)


def _keep_video(keep: bool | list[str], case_id: str) -> bool:
    if isinstance(keep, bool):
        return keep
    return any(fnmatch.fnmatch(case_id, p) for p in keep)


def select_cases(suite: Suite, patterns: Iterable[str] | None) -> list[Case]:
    if not patterns:
        return list(suite.cases)
    pats = list(patterns)
    chosen = [c for c in suite.cases if any(fnmatch.fnmatch(c.id, p) for p in pats)]
    if not chosen:
        raise ValueError(f"no case of suite {suite.name!r} matches {pats}")
    return chosen


def evaluate(adapter: AdapterSpec, suite: Suite, metrics: MetricSet, analyzer, cfg: EvalConfig,
             progress: Callable[[str], None] | None = None) -> Path:
    """Evaluate every case of ``suite`` with the generator ``adapter``; returns the run folder."""
    from tqdm.auto import tqdm

    cases = select_cases(suite, cfg.cases)
    model_name = cfg.model_name or adapter.adapter
    run_id = cfg.run_id or f"{model_name}-{suite.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    run_dir = Path(cfg.results_dir) / run_id
    done: set[str] = set()
    if (run_dir / "manifest.json").exists():
        if not cfg.resume:
            raise FileExistsError(f"run folder {run_dir} exists; pass --resume to continue it or choose another run id")
        prev = load_run(run_dir)
        if prev.manifest.suite.get("hash") != suite.content_hash:
            raise ValueError(f"cannot resume {run_dir}: the suite changed (hash {prev.manifest.suite.get('hash', '')[:12]} "
                             f"!= {suite.content_hash[:12]})")
        done = {cid for cid, r in prev.cases.items() if r.status in ("ok", "skipped")}
        started = prev.manifest.started_at
    else:
        started = utcnow()
    writer = RunWriter(run_dir)

    worker = AdapterWorker(adapter)
    analysis = analyzer.describe()
    specs = manifest_specs(metrics, analysis)
    manifest = RunManifest(
        schema_version=SCHEMA_VERSION, run_id=run_id,
        harness={"version": __version__, "git_revision": git_revision()},
        suite={"name": suite.name, "version": suite.version, "hash": suite.content_hash, "n_cases": len(suite.cases),
               "path": suite_path_for_results(suite), "selected": [c.id for c in cases]},
        model={"name": model_name, "adapter": adapter.adapter, "params": adapter.params},
        metrics=specs, backends={}, analysis=analysis, hardware=hardware_info(), started_at=started,
        config=cfg.config,
    )
    manifest.backends = manifest.analysis.get("backends", {})
    manifest.protocol = protocol_hash(suite.content_hash, specs, manifest.backends)
    writer.write_manifest(manifest)

    todo = [c for c in cases if c.id not in done]
    status = "interrupted"
    try:
        try:
            desc = worker.start()
            manifest.model.update({k: desc.get(k) for k in ("version", "fingerprint", "streaming", "config")})
            manifest.model["adapter_name"] = desc.get("name")
            writer.write_manifest(manifest)
            setup_error = None
        except GenerationFailed as e:
            setup_error = e
        bar = tqdm(todo, desc=f"{model_name} on {suite.name}", unit="case", disable=None)
        for case in bar:
            bar.set_postfix_str(case.id)
            rec = _run_case(case, worker if setup_error is None else None, setup_error, analyzer, metrics, cfg,
                            writer, bar, bool(manifest.model.get("streaming")))
            writer.append(rec)
            if progress:
                progress(f"{case.id}: {rec.status}")
        status = "finished"
    finally:
        worker.close()
        manifest.status = status
        manifest.finished_at = utcnow()
        writer.write_manifest(manifest)
    return run_dir


def _run_case(case: Case, worker: AdapterWorker | None, setup_error: GenerationFailed | None, analyzer,
              metrics: MetricSet, cfg: EvalConfig, writer: RunWriter, bar, adapter_streams: bool) -> CaseRecord:
    rec = CaseRecord(case_id=case.id, status="error", mode=case.mode, style=case.character.style,
                     character=case.character.id, tags=list(case.tags), input_hash=case_input_hash(case),
                     started_at=utcnow())
    video = writer.dir / "videos" / f"{case.id}.mp4"
    if video.exists():
        video.unlink()  # never score a stale video from an interrupted attempt
    # 1. generate
    if worker is None:
        assert setup_error is not None
        rec.error = _error("generate", setup_error.kind, f"generator failed to start: {setup_error.message}", setup_error.detail)
        rec.finished_at = utcnow()
        return rec
    stream = None
    if cfg.stream and adapter_streams:
        stream = {"chunk_s": cfg.chunk_s, "paced": cfg.paced}
    bar.set_postfix_str(f"{case.id}: generate")
    try:
        timing = worker.run(case, video, cfg.timeout_s, stream)
    except GenerationFailed as e:
        rec.status = "skipped" if e.kind == "unsupported" else "error"
        rec.error = _error("generate", e.kind, e.message, e.detail)
        rec.finished_at = utcnow()
        return rec
    # 2. analyse (the only decode of the video)
    bar.set_postfix_str(f"{case.id}: analyze")
    try:
        info = probe(video)
        timing.n_frames = timing.n_frames or info.n_frames
        timing.video_duration_s = timing.video_duration_s or info.duration
        rec.video = str(video.relative_to(writer.dir))
        rec.video_sha256 = file_sha256(video)
        features = analyzer.run(video, case)
        rec.features_key = analyzer.cache_key(video, case)
        if features.has("n_frames"):
            timing.n_frames = int(features["n_frames"])
            timing.video_duration_s = float(features["duration"])
    except MediaError as e:
        rec.error = _error("analyze", "media", str(e))
        rec.timing = timing.to_dict()
        rec.finished_at = utcnow()
        return rec
    except Exception as e:
        import traceback

        rec.error = _error("analyze", type(e).__name__, f"analysis failed: {e}", traceback.format_exc())
        rec.timing = timing.to_dict()
        rec.finished_at = utcnow()
        return rec
    # 3. score (metrics are pure; a crashing plugin is recorded as unavailable by MetricSet)
    bar.set_postfix_str(f"{case.id}: score")
    out = score_features(features, case, timing, metrics, cfg.metric_options)
    rec.status = "ok"
    rec.values, rec.unavailable, rec.details = out.values, out.unavailable, out.details
    rec.timing = timing.to_dict()
    from .streaming.timing import frame_series

    # per-frame arrival/due times of a streamed case are kept so that rescore loses no latency data
    rec.series = writer.write_series(case.id, {**_series_for_json(out), **frame_series(timing)})
    if not _keep_video(cfg.keep_videos, case.id):
        video.unlink()
        rec.video = None  # scored, then not stored (record keeps its sha256)
    rec.finished_at = utcnow()
    return rec


def rescore(run_dir: str | Path, metrics: MetricSet, analyzer, suite: Suite, *, reanalyze: bool = False,
            metric_options: dict[str, Any] | None = None) -> int:
    """Recompute metrics of a run from cached features (no decoding); appends new case records.

    With ``reanalyze`` a case whose features are no longer cached is analysed again from its
    stored video. Returns the number of cases rescored.
    """
    from tqdm.auto import tqdm

    from .streaming.timing import frame_series, timing_from_record

    run = load_run(run_dir)
    writer = RunWriter(run.dir)
    n = 0
    for cid, rec in tqdm(list(run.cases.items()), desc=f"rescore {run.run_id}", unit="case", disable=None):
        if rec.status != "ok":
            continue
        try:
            case = suite.case(cid)
        except KeyError:
            continue
        features = analyzer.load_cached(rec.features_key) if rec.features_key else None
        if features is None:
            video = run.video_path(cid)
            if not reanalyze or video is None:
                rec.unavailable = {k: "features not cached; rerun with --reanalyze (needs the stored video)" for k in metrics.specs}
                rec.values = {}
                writer.append(rec)
                continue
            features = analyzer.run(video, case)
            rec.features_key = analyzer.cache_key(video, case)
        timing = timing_from_record(rec.timing, run.series(cid))
        out = score_features(features, case, timing, metrics, metric_options)
        rec.values, rec.unavailable, rec.details = out.values, out.unavailable, out.details
        rec.series = writer.write_series(cid, {**_series_for_json(out), **frame_series(timing)})
        rec.finished_at = utcnow()
        writer.append(rec)
        n += 1
    run.manifest.metrics = manifest_specs(metrics, analyzer.describe())
    run.manifest.protocol = protocol_hash(run.manifest.suite.get("hash", ""), run.manifest.metrics, run.manifest.backends)
    writer.write_manifest(run.manifest)
    return n


def adhoc_case(reference: list[Path], *, video_fps: float, duration: float, width: int, height: int,
               audio: Path | None = None, partner_audio: Path | None = None, prompts: Iterable[Any] = (),
               style: str = "photoreal", case_id: str = "video") -> Case:
    """A case for ``lpmbench score``: one video scored without a suite."""
    from .case import Character

    mode = "duplex" if audio and partner_audio else "speak" if audio else "listen" if partner_audio else "silence"
    char = Character(id="reference", style=style, references=tuple(Path(p).resolve() for p in reference))
    return Case(id=case_id, mode=mode, character=char, duration=duration, fps=video_fps, width=width, height=height,
                agent_audio=Path(audio).resolve() if audio else None,
                partner_audio=Path(partner_audio).resolve() if partner_audio else None, prompts=tuple(prompts), suite="")


def score_video(video: Path, reference: list[Path], metrics: MetricSet, analyzer, *, audio: Path | None = None,
                partner_audio: Path | None = None, prompts: Iterable[Any] = (), style: str = "photoreal") -> tuple[MetricOutput, Features]:
    """Score one video against its reference image(s) and audio; no suite, no generator timing."""
    info = probe(video)
    case = adhoc_case(reference, video_fps=info.fps, duration=info.duration, width=info.width, height=info.height,
                      audio=audio, partner_audio=partner_audio, prompts=prompts, style=style)
    # the ad-hoc case takes its duration from the container, which may round: trust the decoder
    features = analyzer.run(video, case)
    return score_features(features, case, None, metrics), features
