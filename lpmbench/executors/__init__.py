"""Executors decide where a plan's generators and analysis run; they never write results.

The runner (:func:`lpmbench.runner.evaluate`) prepares the run folder and the manifest, hands the
cases still to do to an executor, and appends every :class:`~lpmbench.results.CaseRecord` the
executor yields to the one results store, as it arrives (in any order). So resume, rescore and
provenance are the same whatever ran the cases.

An executor implements::

    start(plan) -> dict          # set up (load the generator); the model's description for the manifest
    run(plan, cases, store)      # an iterator of finished CaseRecords (one per case, any order)
    describe() -> dict           # what the manifest records: name, cluster size, ...
    close()                      # release workers (idempotent)

``start`` raising :class:`~lpmbench.worker.GenerationFailed` records every case as failed to
start. Built-ins: ``local`` (this machine; generation of the next case overlaps the analysis of
the current one) and ``ray`` (a Ray cluster). Third parties register more in the
``lpmbench.executors`` entry-point group.
"""
from __future__ import annotations

from typing import Any

from ..registry import Registry


def _executor_check(obj: Any) -> str | None:
    if isinstance(obj, type) and all(callable(getattr(obj, m, None)) for m in ("start", "run", "describe", "close")):
        return None
    return f"expected an executor class with start, run, describe and close, got {obj!r}"


EXECUTORS: Registry[Any] = Registry(
    "executor", "lpmbench.executors",
    {"local": "lpmbench.executors.local:LocalExecutor", "ray": "lpmbench.executors.ray:RayExecutor"},
    check=_executor_check,
)


def make_executor(config: dict[str, Any] | None) -> Any:
    """The executor the ``executor`` section of a configuration names, built with its options."""
    cfg = dict(config or {})
    name = str(cfg.pop("name", "local"))
    return EXECUTORS.get(name)(**cfg)
