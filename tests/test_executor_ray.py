"""``executor=ray`` on a real Ray cluster on loopback (a head and two worker nodes in this machine):
the same metric values as the local executor, one model load per actor, resume across executors,
and a worker node killed mid-run."""
from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path

import pytest

# every node on loopback: Ray reads this when it is imported (and its processes inherit it)
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[test]')")
from ray.cluster_utils import Cluster  # noqa: E402

from lpmbench.case import load_suite  # noqa: E402
from lpmbench.config import as_overrides  # noqa: E402
from lpmbench.plan import build_plan  # noqa: E402
from lpmbench.results import load_run, validate_run  # noqa: E402
from lpmbench.runner import evaluate  # noqa: E402

MB = 2**20
# Generator actors need one "generator" unit: only the two worker nodes have them (two each, so a
# replacement actor finds room on the survivor when the other node is killed).
GEN = {"generator": 2}

# A static generator that logs each setup() and generation (with its pid) to a file and can take
# a fixed time per case: what proves that the model loads once per actor, not once per case.
COUNTING = textwrap.dedent('''
    import os, time
    from lpmbench.adapters.baselines import StaticAdapter

    class Counting(StaticAdapter):
        name = "counting"

        def __init__(self, log, sleep_s=0.0, **config):
            super().__init__(**config)
            self.log, self.sleep_s = log, float(sleep_s)

        def _note(self, what):
            with open(self.log, "a") as f:
                f.write(f"{what} {os.getpid()}\\n")

        def setup(self):
            super().setup()
            self._note("setup " + os.environ.get("LPMBENCH_RUNTIME_MARK", "-"))

        def generate(self, case, output):
            self._note(f"generate {case.id}")
            time.sleep(self.sleep_s)
            super().generate(case, output)

    class Broken(Counting):
        def setup(self):
            raise RuntimeError("CUDA out of memory while loading the weights (simulated)")
''')


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": 80 * MB, "include_dashboard": False})
    workers = [c.add_node(num_cpus=2, object_store_memory=80 * MB, resources=GEN) for _ in range(2)]
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    yield c, workers
    ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def counting(tmp_path_factory):
    d = tmp_path_factory.mktemp("counting")
    (d / "counting.py").write_text(COUNTING)
    return d / "counting.py"


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def evaluate_with(results: Path, run_id: str, cache: Path, *overrides: str, executor: dict | None = None,
                  resume: bool = False):
    ex = executor if executor is not None else {"name": "local"}
    plan = build_plan([f"run.results_dir={results}", f"run.id={run_id}", f"analysis.cache_dir={cache}",
                       f"executor={ex['name']}", *as_overrides("executor", {k: v for k, v in ex.items() if k != "name"}),
                       *(["run.resume=true"] if resume else []), *overrides])
    return load_run(evaluate(plan))


RAY = {"name": "ray", "actors": 2, "resources": {"generator": 1}, "num_cpus": 1, "max_retries": 2}


def counting_model(counting: Path, log: Path, sleep_s: float = 0.0) -> list[str]:
    return ["model=python", "model.name=counting",
            *as_overrides("model.params", {"target": f"{counting}:Counting", "params": {"log": str(log), "sleep_s": sleep_s}})]


def lines(path: Path) -> list[list[str]]:
    return [ln.split() for ln in path.read_text().splitlines()] if path.is_file() else []


def record_lines(run) -> list[str]:
    return [json.loads(ln)["case_id"] for ln in (run.dir / "cases.jsonl").read_text().splitlines()]


def measured(values: dict, run) -> dict:
    """The values of the metrics computed from the video (not from the generator's wall clock)."""
    return {k: v for k, v in values.items() if run.manifest.metrics[k]["dimension"] != "realtime"}


@pytest.mark.slow  # the longest here (~95 s on 2 cores): six cases analysed twice from scratch
def test_ray_gives_the_local_executors_values_on_smoke(cluster, tmp_path):
    """Puppet on the smoke suite: Ray (analysis in Ray tasks, fresh cache) against the local
    executor pipelined (fresh cache) and sequential: the same videos, features and values."""
    t0 = time.monotonic()
    on_ray = evaluate_with(tmp_path, "ray", tmp_path / "cache-ray", "model=puppet", "suite=smoke", executor=RAY)
    t_ray = time.monotonic() - t0
    piped = evaluate_with(tmp_path, "piped", tmp_path / "cache-local", "model=puppet", "suite=smoke",
                          executor={"name": "local", "pipeline": True})
    sequential = evaluate_with(tmp_path, "sequential", tmp_path / "cache-local", "model=puppet", "suite=smoke",
                               executor={"name": "local", "pipeline": False})
    assert not [p for p in validate_run(on_ray) if p.fatal]
    assert len(on_ray.cases) == 6 and set(on_ray.cases) == set(piped.cases) == set(sequential.cases)
    for cid, rec in on_ray.cases.items():
        for other in (piped.cases[cid], sequential.cases[cid]):
            assert rec.status == other.status == "ok", (rec.error, other.error)
            assert rec.video_sha256 == other.video_sha256 and rec.features_key == other.features_key
            # every metric of the video is identical; only the realtime ones measure this run's clock
            assert measured(rec.values, on_ray) == measured(other.values, on_ray) and measured(rec.values, on_ray)
            assert rec.unavailable == other.unavailable and rec.states == other.states
        # the curves were written by the driver's store from the task's series
        assert set(on_ray.series(cid)) == set(piped.series(cid))
        # where it was generated, on a worker node (the head has no "generator" resource)
        assert rec.timing["node_id"] in {w.node_id for w in cluster[1]} and rec.timing["actor"] in (0, 1)
        assert "node" in rec.timing and rec.timing["gpu"] is None
    assert measured(on_ray.manifest.corpus, on_ray) == measured(piped.manifest.corpus, on_ray)
    ex = on_ray.manifest.executor
    assert ex["name"] == "ray" and ex["nodes"] == 3 and ex["actors"] == 2 and ex["gpus"] == 0
    # the features computed in Ray tasks are in the driver's cache: rescore needs no decoding
    for rec in on_ray.cases.values():
        assert (tmp_path / "cache-ray" / rec.features_key[:2] / f"{rec.features_key}.npz").is_file()
    print(f"\nsmoke on Ray (2 actors, 3 nodes): {t_ray:.1f} s")


def test_model_loads_once_per_actor_and_streams_inside_it(cluster, counting, shared_cache, tmp_path):
    log = tmp_path / "calls.log"
    # the actors' runtime_env reaches the generator (its worker process inherits the actor's)
    run = evaluate_with(tmp_path, "reuse", shared_cache, *counting_model(counting, log), "suite=smoke",
                        "run.stream=true", "run.paced=true",
                        "executor.runtime_env={env_vars: {LPMBENCH_RUNTIME_MARK: actor-env}}", executor=RAY)
    assert all(r.status == "ok" for r in run.cases.values()), [r.error for r in run.cases.values()]
    durations = {c.id: c.duration for c in load_suite("smoke").cases}
    calls = lines(log)
    setups = [c for c in calls if c[0] == "setup"]
    assert len(setups) == 2  # two actors, six cases: the generator loaded twice
    assert [c[1] for c in setups] == ["actor-env", "actor-env"]
    assert run.manifest.executor["runtime_env"] == ["env_vars"]
    # the paced replay ran inside the actors' generator processes (streaming adapters never call
    # generate()), and each latency figure carries the node and GPU that produced it
    assert not [c for c in calls if c[0] == "generate"]
    for rec in run.cases.values():
        assert rec.timing["streaming"] and rec.timing["paced"]
        assert rec.timing["node_id"] in {w.node_id for w in cluster[1]} and "gpu" in rec.timing
        assert "realtime.latency_p50_s" in rec.values
        # a paced replay takes the case's own duration (the actor fed the audio in real time)
        assert rec.timing["wall_s"] >= 0.9 * durations[rec.case_id]


def test_generator_that_cannot_start_fails_every_case_with_the_reason(cluster, counting, shared_cache, tmp_path):
    model = [m.replace(":Counting", ":Broken") for m in counting_model(counting, tmp_path / "calls.log")]
    run = evaluate_with(tmp_path, "broken", shared_cache, *model, "suite=smoke", "run.cases=[smoke_speak,smoke_listen]",
                        executor=RAY)
    assert run.manifest.status == "finished" and set(run.cases) == {"smoke_speak", "smoke_listen"}
    for rec in run.cases.values():
        assert rec.status == "error" and rec.error["type"] == "setup_error"
        assert "out of memory while loading the weights" in rec.error["message"]


@pytest.mark.parametrize("first,second", [("ray", "local"), ("local", "ray")])
def test_resume_across_executors_runs_each_case_once(cluster, counting, shared_cache, tmp_path, first, second):
    log = tmp_path / "calls.log"
    model = counting_model(counting, log)
    ex = {"ray": RAY, "local": {"name": "local"}}
    part = evaluate_with(tmp_path, "r", shared_cache, *model, "suite=smoke", "run.cases=[smoke_speak*,smoke_listen]",
                         executor=ex[first])
    assert set(part.cases) == {"smoke_speak", "smoke_speak_stylized", "smoke_listen"}
    full = evaluate_with(tmp_path, "r", shared_cache, *model, "suite=smoke", executor=ex[second], resume=True)
    ids = record_lines(full)
    assert sorted(ids) == sorted(c.id for c in load_suite("smoke").cases)  # each exactly once
    assert full.manifest.status == "finished" and not [p for p in validate_run(full) if p.fatal]
    generated = [c[1] for c in lines(log) if c[0] == "generate"]
    assert sorted(generated) == sorted(ids)  # and generated exactly once
    assert full.manifest.executor["name"] == second
    by_ray = {cid for cid, r in full.cases.items() if "node_id" in r.timing}
    assert by_ray == (set(part.cases) if first == "ray" else set(ids) - set(part.cases))


def test_worker_node_killed_mid_run_loses_no_finished_case(cluster, counting, shared_cache, tmp_path):
    c, workers = cluster
    log = tmp_path / "calls.log"
    out: dict = {}

    def go():
        try:
            out["run"] = evaluate_with(tmp_path, "killed", shared_cache, *counting_model(counting, log, sleep_s=1.5),
                                       "suite=smoke", executor=RAY)
        except BaseException as e:  # re-raised below
            out["error"] = e

    t = threading.Thread(target=go)
    t.start()
    cases = tmp_path / "killed" / "cases.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (cases.is_file() and cases.read_text().strip()):
        time.sleep(0.1)
    first = json.loads(cases.read_text().splitlines()[0])
    victim = next(w for w in workers if w.node_id == first["timing"]["node_id"])
    c.remove_node(victim, allow_graceful=False)  # its actor, and whatever ran on it, die with it
    t.join(240)
    try:
        assert not t.is_alive() and "error" not in out, out.get("error")
        run = out["run"]
        # the record finished before the kill is kept as it was
        assert run.cases[first["case_id"]].finished_at == first["finished_at"]
        assert sorted(record_lines(run)) == sorted(run.cases) and len(run.cases) == 6
        for rec in run.cases.values():
            assert rec.status == "ok" or (rec.error and rec.error["type"] == "actor_died"), rec.error
        # the case in flight on the dead node was generated again, on a fresh actor elsewhere
        generated = [ln[1] for ln in lines(log) if ln[0] == "generate"]
        assert len(generated) > len(set(generated))
        assert {r.timing["node_id"] for r in run.cases.values() if r.status == "ok"} - {victim.node_id}
    finally:
        workers[workers.index(victim)] = c.add_node(num_cpus=2, object_store_memory=80 * MB, resources=GEN)
        c.wait_for_nodes()
