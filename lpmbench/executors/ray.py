"""``executor=ray``: the cases of a run spread over a Ray cluster; the driver stays the one writer.

- **Generators live in actors**, one per GPU by default (``num_gpus`` per actor, fractional
  allowed; ``actors`` fixes the count; a cluster without GPUs gets one CPU actor per node). Each
  actor holds an :class:`~lpmbench.worker.AdapterWorker`, so the adapter's ``setup()`` (loading
  the weights) runs once per actor and the worker keeps owning timeouts and memory measurement.
  With ``run.stream=true`` the paced replay runs inside the actor, on the generator's node.
- **Analysis and scoring are CPU tasks** (``num_cpus`` each), so generation of the next case
  overlaps the analysis of the last one on every actor.
- **No shared file system is needed**: an actor generates into a node-local scratch folder and
  returns the video's bytes through the object store; the driver's :class:`~lpmbench.results.RunStore`
  writes them; the scoring task replays its series and the video pruning onto the driver's store,
  and returns the features it computed so the driver's analysis cache (what ``lpmbench rescore``
  reads) holds them too. Case definitions, the suite and the metrics are rebuilt on each node from
  the run's resolved configuration; a node whose suite differs (by content hash) is refused.
- **Failures**: an actor that dies (its node lost, killed for memory) is replaced by a fresh one
  and its in-flight case retried up to ``max_retries`` times, then recorded as failed with the
  reason; a scoring task lost with its node is retried the same way. Finished cases stream back
  as they complete (``ray.wait``); the runner's one progress bar counts them for the whole cluster.
- **Provenance**: :meth:`RayExecutor.describe` (the manifest's ``executor``) records the cluster
  size (nodes, GPUs, actors) and the options; every case record's ``timing`` gets ``node`` (host
  name), ``node_ip``, ``node_id``, ``gpu`` (the GPU ids Ray gave the actor, or None; ``gpu_name``
  with them) and ``actor`` (slot number) of the actor that generated it.

``address``: ``auto`` (the cluster this machine belongs to, e.g. after ``ray start``),
``ray://host:10001`` (Ray Client) or ``host:port`` (a head's GCS), or ``local`` for a private
single-machine cluster on loopback, shut down when the run ends. A Ray session the caller already
opened (``ray.init`` in a notebook or a test) is used as is and left open.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..case import Case
from ..results import RunStore, atomic_write
from ..worker import GenerationFailed

# Ray's switch for single-machine clusters ("0": every node address on loopback), used for address=local
_LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def _ray():
    """Ray, imported on first use (lpmbench's core does not depend on it)."""
    import ray

    return ray


# -- what runs on the nodes -----------------------------------------------------------------------
class ScratchStore(RunStore):
    """A :class:`RunStore` in a node-local scratch folder. It keeps what ``score_case`` wrote
    (series) and pruned (videos) so the driver can replay both onto the run's one store."""

    def __init__(self, run_dir: str | Path):
        super().__init__(run_dir)
        self.series: dict[str, dict[str, Any]] = {}
        self.dropped: set[str] = set()

    def write_series(self, case_id: str, series: dict[str, dict[str, Any]]) -> str | None:
        self.series[case_id] = series
        return super().write_series(case_id, series)

    def drop_video(self, case_id: str) -> None:
        self.dropped.add(case_id)
        super().drop_video(case_id)

    def forget(self, case_id: str) -> None:
        """Remove a finished case's files: the scratch folder holds one case at a time."""
        self.series.pop(case_id, None)
        self.dropped.discard(case_id)
        self.layout.video(case_id).unlink(missing_ok=True)
        self.layout.series(case_id).unlink(missing_ok=True)


_PLANS: dict[str, Any] = {}  # per worker process: plans rebuilt from a configuration, by its JSON


def node_plan(config: dict[str, Any], include: tuple[str, ...]):
    """The evaluation plan of ``config``, rebuilt once per Ray worker process. A node that cannot
    create the driver's analysis cache folder (no shared file system) caches in its temp folder:
    the driver keeps its own copy of the features either way."""
    from dataclasses import replace

    from ..plan import plan_from_config

    key = json.dumps([config, include], sort_keys=True, default=str)
    if key not in _PLANS:
        plan = plan_from_config(config, include=include)
        if plan.cache_dir is not None and not _writable(plan.cache_dir):
            plan = replace(plan, cache_dir=Path(tempfile.gettempdir()) / "lpmbench-cache")
        _PLANS[key] = plan
    return _PLANS[key]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


_ANALYZERS: dict[str, Any] = {}  # per worker process: its models load once, not once per case


def node_analyzer(plan, key: str):
    if key not in _ANALYZERS:
        _ANALYZERS[key] = plan.analyzer()
    return _ANALYZERS[key]


def placement() -> dict[str, Any]:
    """Where the calling Ray worker runs: what each case record's timing says about its origin."""
    ray = _ray()
    ctx = ray.get_runtime_context()
    gpus = [str(g) for g in ray.get_gpu_ids()]
    place = {"node": socket.gethostname(), "node_ip": ray.util.get_node_ip_address(), "node_id": ctx.get_node_id(),
             "gpu": gpus or None}
    if gpus:  # which card: Ray makes the actor's GPUs the only visible ones, so the first is device 0
        try:
            import torch

            place["gpu_name"] = torch.cuda.get_device_name(0)
        except Exception:  # no torch or no CUDA runtime in this environment: the ids still say which
            pass
    return place


class GeneratorActor:
    """One generator on one node: an AdapterWorker that loads the model once and runs case after case."""

    def __init__(self, config: dict[str, Any], include: tuple[str, ...], slot: int):
        self.config, self.include, self.slot = config, include, slot
        self.worker = None
        self.streams = False
        self.scratch = ScratchStore(tempfile.mkdtemp(prefix="lpmbench-generate-")).open()

    def start(self) -> dict[str, Any]:
        """Load the generator (its ``setup()``); the adapter's description, the suite hash and where it runs."""
        from ..worker import AdapterWorker

        plan = node_plan(self.config, self.include)
        self.worker = AdapterWorker(plan.adapter)
        try:
            desc = self.worker.start()
        except GenerationFailed as e:
            return {"failed": (e.kind, e.message, e.detail), "place": placement()}
        self.streams = bool(desc.get("streaming"))
        return {"description": desc, "suite_hash": plan.suite.content_hash, "place": {**placement(), "actor": self.slot}}

    def generate(self, case_id: str) -> tuple[tuple[Any, Any, dict[str, Any]], bytes | None]:
        """((record, timing, placement), video bytes): the generation half of a case. Timing is None
        when generation failed (the record says why); the bytes are None when the generator wrote
        no file, which the analysis then reports, as on one machine."""
        from ..runner import generate_case

        plan = node_plan(self.config, self.include)
        case = plan.suite.case(case_id)
        rec, video, timing = generate_case(plan, self.worker, self.scratch, case, self.streams)
        data = video.read_bytes() if video is not None and video.is_file() else None
        self.scratch.forget(case_id)
        return (rec, timing, {**placement(), "actor": self.slot}), data

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
        self.scratch.close()
        shutil.rmtree(self.scratch.dir, ignore_errors=True)


def score_remote(config: dict[str, Any], include: tuple[str, ...], case_id: str, rec, timing, video: bytes | None):
    """The analysis half of a case, as a CPU task: (record, series, video dropped, features bytes)."""
    from ..runner import score_case

    plan = node_plan(config, include)
    analyzer = node_analyzer(plan, json.dumps([config, include], sort_keys=True, default=str))
    case = plan.suite.case(case_id)
    scratch = ScratchStore(tempfile.mkdtemp(prefix="lpmbench-score-")).open()
    try:
        path = scratch.video_path(case_id)
        if video is not None:
            path.write_bytes(video)
        rec = score_case(plan, analyzer, scratch, case, path, timing, rec)
        features = None
        if rec.features_key:
            cached = analyzer._cache_path(rec.features_key)
            features = cached.read_bytes() if cached is not None and cached.is_file() else None
        return rec, scratch.series.get(case_id), case_id in scratch.dropped, features
    finally:
        scratch.close()
        shutil.rmtree(scratch.dir, ignore_errors=True)


# -- the driver -----------------------------------------------------------------------------------
@dataclass
class _Slot:
    """One actor place: its handle, and what it is doing (starting, generating a case, idle)."""

    index: int
    actor: Any = None
    starting: Any = None  # ObjectRef of start() while the actor loads its generator
    since: float = 0.0
    place: dict[str, Any] = field(default_factory=dict)


class RayExecutor:
    name = "ray"

    def __init__(self, address: str = "auto", num_gpus: float = 1, actors: int | None = None, actor_cpus: float = 1,
                 num_cpus: float = 1, max_retries: int = 2, runtime_env: dict[str, Any] | None = None,
                 resources: dict[str, float] | None = None, start_timeout_s: float = 900,
                 local: dict[str, Any] | None = None):
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ValueError("executor=ray needs Ray: pip install 'lpmbench[scale]'")
        if actors is not None and int(actors) < 1:
            raise ValueError(f"executor.actors must be >= 1 (or null: one per GPU), got {actors!r}")
        if float(num_gpus) < 0 or float(num_cpus) <= 0 or float(actor_cpus) < 0:
            raise ValueError("executor.num_gpus and executor.actor_cpus must be >= 0 and executor.num_cpus > 0")
        if int(max_retries) < 0:
            raise ValueError(f"executor.max_retries must be >= 0, got {max_retries!r}")
        self.address = str(address)
        self.num_gpus, self.actors, self.actor_cpus = float(num_gpus), None if actors is None else int(actors), float(actor_cpus)
        self.num_cpus, self.max_retries = float(num_cpus), int(max_retries)
        self.runtime_env = dict(runtime_env or {}) or None
        self.resources = {str(k): float(v) for k, v in (resources or {}).items()} or None
        self.start_timeout_s = float(start_timeout_s)
        # ray.init arguments of a private local cluster (num_cpus, num_gpus, object_store_memory)
        self.local = {k: v for k, v in (local or {}).items() if v is not None}
        self.slots: list[_Slot] = []
        self.description: dict[str, Any] = {}
        self.cluster: dict[str, Any] = {}
        self._owns_session = False
        self._node_config: dict[str, Any] = {}
        self._include: tuple[str, ...] = ()
        self._gpus_per_actor = self.num_gpus

    # -- protocol ---------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "address": self.address, "num_gpus_per_actor": self._gpus_per_actor,
                             "actor_cpus": self.actor_cpus, "task_cpus": self.num_cpus, "max_retries": self.max_retries,
                             "runtime_env": sorted(self.runtime_env) if self.runtime_env else None,
                             "resources": self.resources}
        d.update(self.cluster)
        if self.slots:
            d["actors"] = len(self.slots)
            d["actor_nodes"] = [s.place.get("node_id") for s in self.slots]
        return d

    def start(self, plan: Any) -> dict[str, Any]:
        if self.address == "local":
            # a private cluster on this machine: every address on loopback (Ray reads this variable
            # when it is imported; its processes inherit it)
            os.environ.setdefault(_LOOPBACK_ENV, "0")
        ray = _ray()
        self._connect(ray)
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        total = ray.cluster_resources()
        gpus = float(total.get("GPU", 0))
        self._gpus_per_actor = self.num_gpus if gpus > 0 else 0.0
        n_actors = self.actors or (max(1, int(gpus // self.num_gpus)) if gpus > 0 and self.num_gpus > 0 else len(nodes))
        self.cluster = {"ray_version": ray.__version__, "nodes": len(nodes), "gpus": gpus, "cpus": float(total.get("CPU", 0))}
        self._node_config, self._include = node_config(plan), tuple(str(Path(i).resolve()) for i in plan.includes)
        self.slots = [_Slot(i) for i in range(n_actors)]
        for s in self.slots:
            self._spawn(s)
        first_error: GenerationFailed | None = None
        for s in self.slots:
            out = self._await_start(s, plan)
            if isinstance(out, GenerationFailed):
                first_error = first_error or out
            elif not self.description:
                self.description = out
        self.slots = [s for s in self.slots if s.actor is not None]
        if not self.slots:
            raise first_error or GenerationFailed("setup_error", "no generator actor could be started")
        return self.description

    def close(self) -> None:
        ray = _ray() if self.slots or self._owns_session else None
        live = [s.actor for s in self.slots if s.actor is not None and s.starting is None]
        if live:  # let each adapter close (release its GPU) before its actor goes
            try:
                ray.wait([a.close.remote() for a in live], num_returns=len(live), timeout=30)
            except Exception:  # an actor already gone with its node
                pass
        for s in self.slots:
            self._retire(s)
        self.slots = []
        if ray is not None and self._owns_session and ray.is_initialized():
            ray.shutdown()
            self._owns_session = False

    def run(self, plan: Any, cases: list[Case], store: RunStore) -> Iterator[Any]:
        from ..runner import failed, new_record

        ray = _ray()
        score = ray.remote(score_remote).options(num_cpus=self.num_cpus, max_retries=self.max_retries)
        pending: deque[Case] = deque(cases)
        attempts: dict[str, int] = {}
        generating: dict[Any, tuple[_Slot, Case, Any]] = {}  # result ref -> (slot, case, video ref)
        scoring: dict[Any, tuple[Case, Any, Any, Any, dict[str, Any], int]] = {}  # -> (case, rec, timing, video ref, place, tries)
        cfg, inc = self._node_config, self._include
        cache = plan.analyzer()  # only its cache layout is used: models load lazily, never here

        def dispatch(slot: _Slot) -> None:
            if pending and slot.actor is not None and slot.starting is None:
                case = pending.popleft()
                res, video = slot.actor.generate.options(num_returns=2).remote(case.id)
                generating[res] = (slot, case, video)

        def lost(slot: _Slot, case: Case, why: str) -> Any:
            """The actor died with ``case`` in flight: retry it (with a fresh actor) or give up on it."""
            attempts[case.id] = attempts.get(case.id, 0) + 1
            self._replace(slot)
            if attempts[case.id] <= self.max_retries:
                pending.appendleft(case)
                return None
            rec = failed(new_record(case), "generate", "actor_died",
                         f"the generator actor died {attempts[case.id]} time(s) with this case in flight "
                         f"(executor.max_retries={self.max_retries}): {why}")
            rec.timing.update(slot.place)
            return rec

        while True:
            busy = {id(slot) for slot, _, _ in generating.values()}
            for s in self.slots:
                if id(s) not in busy:
                    dispatch(s)
            if not (generating or scoring or (pending and any(s.starting is not None for s in self.slots))):
                break
            starting = {s.starting: s for s in self.slots if s.starting is not None}
            ready, _ = ray.wait([*generating, *scoring, *starting], num_returns=1, timeout=5.0)
            for s in list(starting.values()):
                if s.starting not in ready and time.monotonic() - s.since > self.start_timeout_s:
                    self._retire(s)  # never placed (no room left on the cluster): its cases go to the others
            for ref in ready:
                if ref in starting:
                    self._await_start(starting[ref], plan)
                elif ref in generating:
                    slot, case, vref = generating.pop(ref)
                    try:
                        rec, timing, place = ray.get(ref)
                    except ray.exceptions.RayActorError as e:
                        rec = lost(slot, case, _first_line(e))
                        if rec is not None:
                            yield rec
                        continue
                    except ray.exceptions.RayTaskError as e:
                        rec = failed(new_record(case), "generate", "error", f"the generator actor failed: {_first_line(e)}",
                                     str(e))
                        yield _placed(rec, slot.place)
                        continue
                    slot.place = place
                    dispatch(slot)  # the next case generates while this one is analysed
                    if timing is None:
                        yield _placed(rec, place)
                        continue
                    data = ray.get(vref)
                    store.video_path(case.id)  # a stale video of an interrupted attempt is removed
                    if data is not None:
                        store.write_video(case.id, data)
                    scoring[score.remote(cfg, inc, case.id, rec, timing, vref)] = (case, rec, timing, vref, place, 0)
                elif ref in scoring:
                    case, rec0, timing, vref, place, tries = scoring.pop(ref)
                    try:
                        rec, series, dropped, features = ray.get(ref)
                    except ray.exceptions.RayError as e:
                        if not isinstance(e, ray.exceptions.RayTaskError) and tries < self.max_retries:
                            # a system failure (node lost, object lost): score again from the stored video
                            stored = store.layout.video(case.id)
                            data = ray.put(stored.read_bytes() if stored.is_file() else None)
                            scoring[score.remote(cfg, inc, case.id, rec0, timing, data)] = (case, rec0, timing, data, place, tries + 1)
                            continue
                        rec = failed(rec0, "analyze", type(e).__name__, f"the scoring task failed: {_first_line(e)}", str(e),
                                     timing)
                        yield _placed(rec, place)
                        continue
                    if series:
                        rec.series = store.write_series(case.id, series)
                    if dropped:
                        store.drop_video(case.id)
                    if features is not None:
                        _cache_features(cache, rec.features_key, features)
                    yield _placed(rec, place)
        for case in pending:  # every actor is gone and none could be started again
            yield failed(new_record(case), "generate", "actor_died", "no generator actor is left to run this case "
                         f"(each died or could not be started again; executor.max_retries={self.max_retries})")

    # -- actors -----------------------------------------------------------------------------------
    def _connect(self, ray) -> None:
        if ray.is_initialized():
            return
        if self.address == "local":
            ray.init(include_dashboard=False, configure_logging=False, log_to_driver=False, **self.local)
        else:
            try:
                ray.init(address=self.address, configure_logging=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise ValueError(f"executor.address={self.address}: no Ray cluster to connect to ({_first_line(e)}); "
                                 "start one with `ray start --head`, or use executor.address=local") from None
        self._owns_session = True

    def _spawn(self, slot: _Slot) -> None:
        ray = _ray()
        opts: dict[str, Any] = {"num_cpus": self.actor_cpus, "num_gpus": self._gpus_per_actor, "max_restarts": 0,
                                "max_task_retries": 0, "scheduling_strategy": "SPREAD"}
        if self.runtime_env:
            opts["runtime_env"] = self.runtime_env
        if self.resources:
            opts["resources"] = self.resources
        slot.actor = ray.remote(GeneratorActor).options(**opts).remote(self._node_config, self._include, slot.index)
        slot.starting, slot.since = slot.actor.start.remote(), time.monotonic()

    def _await_start(self, slot: _Slot, plan: Any) -> dict[str, Any] | GenerationFailed:
        """Finish starting ``slot``: its adapter description, or the failure (the slot is then retired)."""
        ray = _ray()
        ref, slot.starting = slot.starting, None
        try:
            ready, _ = ray.wait([ref], timeout=max(1.0, self.start_timeout_s - (time.monotonic() - slot.since)))
            if not ready:
                raise GenerationFailed("setup_timeout", f"generator actor not started within executor.start_timeout_s="
                                       f"{self.start_timeout_s:g} s (does the cluster have the resources it asks for?)")
            out = ray.get(ref)
            if "failed" in out:
                raise GenerationFailed(*out["failed"])
            if out["suite_hash"] != plan.suite.content_hash:
                raise GenerationFailed("setup_error", f"suite {plan.suite.name!r} on node {out['place']['node']} differs "
                                       f"from the driver's (hash {out['suite_hash'][:12]} != {plan.suite.content_hash[:12]})")
        except GenerationFailed as e:
            self._retire(slot)
            return e
        except ray.exceptions.RayError as e:
            self._retire(slot)
            return GenerationFailed("setup_error", f"generator actor failed to start: {_first_line(e)}", str(e))
        slot.place = out["place"]
        return out["description"]

    def _replace(self, slot: _Slot) -> None:
        """A fresh actor in ``slot`` (wherever the cluster has room) after its actor died."""
        self._retire(slot)
        self._spawn(slot)

    def _retire(self, slot: _Slot) -> None:
        if slot.actor is not None:
            try:
                _ray().kill(slot.actor, no_restart=True)
            except Exception:  # already dead with its node
                pass
        slot.actor, slot.starting = None, None


def _placed(rec, place: dict[str, Any]):
    """``rec`` with the generating actor's node, GPU and slot in its timing (see the module doc)."""
    rec.timing = {**(rec.timing or {}), **place}
    return rec


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _cache_features(analyzer: Any, key: str | None, data: bytes) -> None:
    """Put features computed on another node into the driver's analysis cache (what rescore reads)."""
    path = analyzer._cache_path(key) if key else None
    if path is not None and not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)


def node_config(plan: Any) -> dict[str, Any]:
    """The run's configuration as the nodes rebuild the plan from it: every path made absolute (a
    Ray worker's working folder is not the driver's)."""
    from ..runner import suite_path_for_results

    cfg = copy.deepcopy(plan.config)
    suite_path = suite_path_for_results(plan.suite)
    if suite_path is not None:
        cfg.setdefault("suite", {})["path"] = suite_path
    if plan.cache_dir is not None:
        cfg.setdefault("analysis", {})["cache_dir"] = str(Path(plan.cache_dir).resolve())
    return cfg


__all__ = ["RayExecutor", "GeneratorActor", "ScratchStore", "node_config"]
