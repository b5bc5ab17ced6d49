"""The runner: an evaluation plan -> generator (in a worker process) -> one analysis pass -> metrics
-> the results store.

Every case is appended to the results as soon as it finishes, so an interrupted run loses
nothing; ``resume`` skips the cases already recorded. A failing case (generator crash, timeout,
unreadable video, no face, ...) is recorded with its error and the run goes on. The worker owns
timeouts and memory measurement; the analysis pass owns decoding and the video's hash; the store
owns the run folder.
"""
from __future__ import annotations

import fnmatch
import os
import platform
import subprocess
import traceback
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from . import __version__
from .case import Case, Suite
from .features import Features
from .media import MediaError
from .metric_api import MetricContext, MetricOutput, Timing
from .plan import EvaluationPlan
from .plugins import MetricSet
from .results import (SCHEMA_VERSION, CaseRecord, ResultsError, RunManifest, RunStore, case_input_hash, load_run,
                      protocol_hash, utcnow, validate_run)
from .worker import AdapterWorker, GenerationFailed


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


def manifest_specs(metrics: MetricSet, analysis: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Metric specs as recorded in a run. A spec on the generic ``identity_embedding`` backend is
    recorded with the embedding backend actually used (dlib, arcface, clip): its numbers live on
    that backend's scale, and the leaderboard's anchors and protocol depend on it."""
    identity = (analysis.get("config") or {}).get("identity_backend", "dlib")
    return {n: (s.for_backend(identity) if s.backend == "identity_embedding" else s.for_backend(s.backend)).to_dict()
            for n, s in metrics.specs.items()}


def score_features(features: Features, case: Case | None, timing: Timing | None, metrics: MetricSet,
                   options: dict[str, Any] | None = None, ground_truth: Features | None = None) -> MetricOutput:
    return metrics.compute(MetricContext(features=features, case=case, timing=timing, config=options or {},
                                         ground_truth=ground_truth))


def ground_truth_features(analyzer, case: Case) -> Features | None:
    """The analysis of the case's ground-truth recording (cached like any video), or None when the
    case has none or it cannot be analysed (paired metrics then say so)."""
    if case.ground_truth is None:
        return None
    try:
        return analyzer.run(case.ground_truth, case)
    except MediaError:
        return None


def _error(stage: str, kind: str, message: str, detail: str = "") -> dict[str, Any]:
    return {"stage": stage, "type": kind, "message": message, "detail": detail[-4000:]}


def _series_for_json(out: MetricOutput) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in out.series.items() if isinstance(v, dict) and "y" in v}


def suite_path_for_results(suite: Suite) -> str | None:
    """None for a bundled suite (found again by name on any machine), else the folder it came from."""
    from .case import builtin_suites_dir

    return None if suite.root.parent == builtin_suites_dir() else str(suite.root)


def _keep_video(keep: bool | tuple[str, ...], case_id: str) -> bool:
    if isinstance(keep, bool):
        return keep
    return any(fnmatch.fnmatch(case_id, p) for p in keep)


def select_cases(suite: Suite, patterns: Iterable[str] | None, shard: tuple[int, int] | None = None) -> list[Case]:
    """The cases matching ``patterns`` (all when None); with ``shard=(i, n)`` every n-th of them from
    the i-th, so that n array jobs with i = 0..n-1 cover the selection exactly once."""
    chosen = list(suite.cases)
    if patterns:
        pats = list(patterns)
        chosen = [c for c in suite.cases if any(fnmatch.fnmatch(c.id, p) for p in pats)]
        if not chosen:
            raise ValueError(f"no case of suite {suite.name!r} matches {pats}")
    return chosen[shard[0]::shard[1]] if shard else chosen


def _fill(rec: CaseRecord, out: MetricOutput) -> None:
    rec.values, rec.unavailable, rec.details = out.values, out.unavailable, out.details
    rec.states = {k: {kk: vv.tolist() for kk, vv in v.items()} for k, v in out.states.items()}


def corpus_values(plan: EvaluationPlan, records: Iterable[CaseRecord]) -> dict[str, Any]:
    """Corpus-level metrics of a set of case records: each reduced from the sum of its states."""
    from .metric_api import CorpusContext, MetricUnavailable

    out: dict[str, Any] = {}
    ctx = CorpusContext(reference=plan.reference, config=plan.metric_options)
    for name in plan.metrics.corpus_names():
        states = [r.states[name] for r in records if r.status == "ok" and name in r.states]
        if not states:
            out[name] = {"unavailable": "no case contributed a state"}
            continue
        pooled = {k: sum(np.asarray(s[k], dtype=np.float64) for s in states) for k in states[0]}
        try:
            out[name] = {"value": plan.metrics.reduce(name, pooled, ctx), "n_cases": len(states)}
        except (MetricUnavailable, ValueError) as e:
            out[name] = {"unavailable": str(e)}
    return out


def new_record(case: Case) -> CaseRecord:
    """A case's record before anything ran: an error until the case is scored."""
    return CaseRecord(case_id=case.id, status="error", mode=case.mode, style=case.character.style,
                      character=case.character.id, tags=list(case.tags), input_hash=case_input_hash(case),
                      started_at=utcnow())


def failed(rec: CaseRecord, stage: str, kind: str, message: str, detail: str = "",
           timing: Timing | None = None) -> CaseRecord:
    """Finish ``rec`` as failed (or skipped, for an unsupported case) at ``stage``."""
    rec.status = "skipped" if kind == "unsupported" else "error"
    rec.error = _error(stage, kind, message, detail)
    if timing is not None:
        rec.timing = timing.to_dict()
    rec.finished_at = utcnow()
    return rec


def score_case(plan: EvaluationPlan, analyzer, store: RunStore, case: Case, video: Path, timing: Timing,
               rec: CaseRecord) -> CaseRecord:
    """Analyse a generated video (its only decode), score it and finish ``rec``."""
    from .streaming.timing import frame_series

    try:
        features = analyzer.run(video, case)
    except MediaError as e:
        return failed(rec, "analyze", "media", str(e), timing=timing)
    except Exception as e:
        return failed(rec, "analyze", type(e).__name__, f"analysis failed: {e}", traceback.format_exc(), timing)
    meta = features.meta
    timing.n_frames = int(features["n_frames"])
    timing.video_duration_s = float(features["duration"])
    rec.video = store.layout.rel(video)
    rec.video_sha256 = meta.get("video_sha256")
    rec.features_key = meta.get("cache_key")
    # metrics are pure; a crashing plugin is recorded as unavailable by MetricSet
    out = score_features(features, case, timing, plan.metrics, plan.metric_options, ground_truth_features(analyzer, case))
    rec.status = "ok"
    _fill(rec, out)
    rec.timing = timing.to_dict()
    # per-frame arrival/due times of a streamed case are kept so that rescore loses no latency data
    rec.series = store.write_series(case.id, {**_series_for_json(out), **frame_series(timing)})
    if not _keep_video(plan.run.keep_videos, case.id):
        store.drop_video(case.id)
        rec.video = None  # scored, then not stored (the record keeps its sha256)
    rec.finished_at = utcnow()
    return rec


def generate_case(plan: EvaluationPlan, worker: AdapterWorker, store: RunStore, case: Case,
                  streams: bool) -> tuple[CaseRecord, Path | None, Timing | None]:
    """Run the generator on one case: (record, video, timing), or a finished error record."""
    rec = new_record(case)
    video = store.video_path(case.id)
    stream = {"chunk_s": plan.run.chunk_s, "paced": plan.run.paced} if plan.run.stream and streams else None
    try:
        return rec, video, worker.run(case, video, plan.run.timeout_s, stream)
    except GenerationFailed as e:
        return failed(rec, "generate", e.kind, e.message, e.detail), None, None


def _manifest(plan: EvaluationPlan, run_id: str, cases: list[Case], started: str, analysis: dict[str, Any]) -> RunManifest:
    suite = plan.suite
    assert suite is not None
    specs = manifest_specs(plan.metrics, analysis)
    backends = {**analysis.get("backends", {}), **plan.metrics.backends()}
    reference = plan.reference.describe() if plan.reference is not None else {}
    return RunManifest(
        schema_version=SCHEMA_VERSION, run_id=run_id,
        harness={"version": __version__, "git_revision": git_revision()},
        suite={"name": suite.name, "version": suite.version, "hash": suite.content_hash, "n_cases": len(suite.cases),
               "path": suite_path_for_results(suite), "selected": [c.id for c in cases]},
        model={"name": plan.model_name, "adapter": plan.adapter.adapter, "params": plan.adapter.params,
               "timeout_s": plan.run.timeout_s},
        metrics=specs, backends=backends, analysis=analysis, hardware=hardware_info(), started_at=started,
        config=plan.config, reference=reference,
        protocol=protocol_hash(suite.content_hash, specs, backends, reference.get("id")),
    )


def evaluate(plan: EvaluationPlan, progress: Callable[[str], None] | None = None) -> Path:
    """Evaluate every selected case of the plan's suite with its generator; returns the run folder."""
    from tqdm.auto import tqdm

    from .config import to_yaml

    suite = plan.suite
    if suite is None:
        raise ValueError("the evaluation plan has no suite")
    cases = select_cases(suite, plan.run.cases, plan.run.shard)
    run_id = plan.run.id_for(plan.model_name, suite.name)
    run_dir = Path(plan.run.results_dir) / run_id
    done: set[str] = set()
    started = utcnow()
    if (run_dir / "manifest.json").exists():
        if not plan.run.resume:
            raise FileExistsError(f"run folder {run_dir} exists; pass --resume to continue it or choose another run id")
        prev = load_run(run_dir)
        if prev.manifest.suite.get("hash") != suite.content_hash:
            raise ValueError(f"cannot resume {run_dir}: the suite changed (hash {prev.manifest.suite.get('hash', '')[:12]} "
                             f"!= {suite.content_hash[:12]})")
        done = {cid for cid, r in prev.cases.items() if r.status in ("ok", "skipped")}
        started = prev.manifest.started_at
    from .executors import make_executor

    executor = make_executor(plan.executor)
    with RunStore(run_dir) as store:
        with plan.analyzer() as analyzer:
            manifest = _manifest(plan, run_id, cases, started, analyzer.describe())
        manifest.executor = executor.describe()
        store.write_manifest(manifest)
        store.write_config(to_yaml(plan.config))
        todo = [c for c in cases if c.id not in done]
        bar = tqdm(total=len(todo), desc=f"{plan.model_name} on {suite.name}", unit="case", disable=None)
        try:
            try:
                desc = executor.start(plan)
                manifest.model.update({k: desc.get(k) for k in ("version", "fingerprint", "streaming", "config")})
                manifest.model["adapter_name"] = desc.get("name")
                manifest.executor = executor.describe()
                store.write_manifest(manifest)
                records = executor.run(plan, todo, store)
            except GenerationFailed as e:
                # a list, not a generator: ``e`` is unbound once the except block ends
                records = [failed(new_record(c), "generate", e.kind, f"generator failed to start: {e.message}", e.detail)
                           for c in todo]
            for rec in records:
                store.append(rec)
                bar.update(1)
                bar.set_postfix_str(f"{rec.case_id}: {rec.status}")
                if progress:
                    progress(f"{rec.case_id}: {rec.status}")
            manifest.status = "finished"
            manifest.corpus = corpus_values(plan, load_run(run_dir).cases.values())
        finally:
            bar.close()
            executor.close()
            if manifest.status != "finished":
                manifest.status = "interrupted"
            manifest.finished_at = utcnow()
            store.write_manifest(manifest)
    return run_dir


def rescore(plan: EvaluationPlan, run_dir: str | Path, *, reanalyze: bool = False) -> int:
    """Recompute the metrics of a run from cached features (no decoding); appends new records.

    With ``reanalyze`` a case whose features are no longer cached is analysed again from its
    stored video. Returns the number of cases rescored.
    """
    from tqdm.auto import tqdm

    from .streaming.timing import frame_series, timing_from_record

    run = load_run(run_dir)
    fatal = [p for p in validate_run(run, require_finished=False) if p.fatal]
    if fatal:
        raise ResultsError(f"cannot rescore {run_dir}: {fatal[0]}")
    suite = plan.suite
    assert suite is not None
    n = 0
    with RunStore(run.dir) as store, plan.analyzer() as analyzer:
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
                    rec.unavailable = {k: "features not cached; rerun with --reanalyze (needs the stored video)"
                                       for k in plan.metrics.specs}
                    rec.values = {}
                    store.append(rec)
                    continue
                features = analyzer.run(video, case)
                rec.features_key = features.meta.get("cache_key")
            timing = timing_from_record(rec.timing, run.series(cid))
            out = score_features(features, case, timing, plan.metrics, plan.metric_options,
                                 ground_truth_features(analyzer, case))
            _fill(rec, out)
            rec.series = store.write_series(cid, {**_series_for_json(out), **frame_series(timing)})
            rec.finished_at = utcnow()
            store.append(rec)
            n += 1
        m = run.manifest
        m.metrics = manifest_specs(plan.metrics, analyzer.describe())
        m.backends = {**m.backends, **plan.metrics.backends()}
        m.config = {**m.config, "metrics": plan.config.get("metrics", m.config.get("metrics")),
                    "reference": plan.config.get("reference", m.config.get("reference"))}
        m.reference = plan.reference.describe() if plan.reference is not None else {}
        m.protocol = protocol_hash(m.suite.get("hash", ""), m.metrics, m.backends, m.reference.get("id"))
        m.corpus = corpus_values(plan, load_run(run.dir).cases.values())
        store.write_manifest(m)
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


def case_for_video(video: Path, reference: list[Path], *, case_id: str = "video", **kw: Any) -> Case:
    """The ad-hoc case of one video: its own frame rate (from its timestamps: a container's average
    rate can be off), duration and upright size."""
    from .media import probe, timeline

    info, tl = probe(video), timeline(video)
    return adhoc_case(reference, video_fps=tl.fps, duration=tl.duration, width=info.width, height=info.height,
                      case_id=case_id, **kw)


def score_video(plan: EvaluationPlan, video: Path, reference: list[Path], *, audio: Path | None = None,
                partner_audio: Path | None = None, prompts: Iterable[Any] = (),
                style: str = "photoreal") -> tuple[MetricOutput, Features]:
    """Score one video against its reference image(s) and audio; no suite, no generator timing."""
    case = case_for_video(video, reference, audio=audio, partner_audio=partner_audio, prompts=prompts, style=style)
    with plan.analyzer() as analyzer:
        features = analyzer.run(video, case)
    return score_features(features, case, None, plan.metrics, plan.metric_options), features
