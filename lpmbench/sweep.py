"""A Hydra application for sharded evaluations on a job scheduler (``hydra/launcher=slurm``,
hydra-submitit-launcher; ``pip install 'lpmbench[slurm]'``). It needs no Ray and no shared
scheduler of lpmbench's own: every job is one ``lpmbench evaluate`` of one shard::

    python -m lpmbench.sweep --multirun hydra/launcher=slurm model=puppet suite=mini \\
        run.results_dir=/shared/results run.shard=0/4,1/4,2/4,3/4
    lpmbench merge /shared/results/puppet-mini-shard*of4 --out results/puppet-mini

A shard's run id defaults to ``<model>-<suite>-shard<i>of<n>`` and every job resumes its run
folder when it exists, so a job that SLURM requeues (time limit, preemption) continues its shard
instead of starting over. The configuration is lpmbench's own (``lpmbench/conf``), composed by
Hydra: plain group options (``model=NAME`` of ``conf/model/``, ``suite=NAME`` of ``conf/suite/``)
and dotted keys; the registry shortcuts of ``lpmbench evaluate`` (``suite=path/to/folder``,
``model=pkg.mod:Class``) are written ``suite=_registered suite.path=...`` and
``model=_registered model.adapter=...`` here.
"""
from __future__ import annotations

import hydra
from omegaconf import DictConfig


def shard_run_id(config: dict) -> str | None:
    """The run id of a shard job: ``<model>-<suite>-shard<i>of<n>``, unless ``run.id`` names one."""
    from .plan import parse_shard

    run = config.get("run") or {}
    shard = parse_shard(run.get("shard"))
    if run.get("id") or shard is None:
        return run.get("id")
    model, suite = config.get("model") or {}, config.get("suite") or {}
    return f"{model.get('name') or model.get('adapter')}-{suite.get('name')}-shard{shard[0]}of{shard[1]}"


@hydra.main(config_path="conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> str:
    from .config import to_container
    from .plan import plan_from_config
    from .runner import evaluate

    config = to_container(cfg)
    config["run"].update({"id": shard_run_id(config), "resume": True})  # a requeued job continues its shard
    return str(evaluate(plan_from_config(config, include=config.get("include") or [])))


if __name__ == "__main__":
    main()
