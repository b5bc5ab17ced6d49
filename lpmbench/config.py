"""Hydra configuration: compose ``lpmbench/conf`` with command-line overrides (the only place
that reads configuration; :mod:`lpmbench.plan` turns the result into library objects).

Beyond Hydra's own syntax, the config groups ``model`` and ``suite`` accept any *registered* name
(:mod:`lpmbench.registry`) and a few shortcuts:

- ``suite=NAME``: a bundled suite or one registered in the ``lpmbench.suites`` entry-point group;
  ``suite=path/to/folder``: any folder with a ``suite.yaml``;
- ``model=NAME``: a YAML of ``conf/model/`` (presets with their parameters), else an adapter
  registered under NAME (entry point or ``--include``); ``model=package.module:Class``: any
  Adapter subclass.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

CONF_DIR = Path(__file__).resolve().parent / "conf"
GROUPS = ("model", "suite", "metrics", "executor")


def group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml") if not p.stem.startswith("_"))


def normalise_overrides(overrides: list[str]) -> list[str]:
    """Turn the registry shortcuts of the module docstring into plain Hydra overrides."""
    from .registry import ADAPTERS, SUITES

    out: list[str] = []
    for o in overrides:
        key, eq, value = o.partition("=")
        if eq and key == "suite" and value not in group_options("suite"):
            if Path(value).is_dir() or Path(value).is_file():
                out += ["suite=_registered", f"suite.name={Path(value).resolve().name}", f"suite.path={Path(value).resolve()}"]
                continue
            if value in SUITES:
                out += ["suite=_registered", f"suite.name={value}"]
                continue
            raise SUITES.unknown(value)
        if eq and key == "model" and value not in group_options("model"):
            if ":" in value or value in ADAPTERS:
                ADAPTERS.resolve(value)  # fail now, with a clear message, if it does not load
                out += ["model=_registered", f"model.adapter={value}", f"model.name={value.rpartition(':')[2]}"]
                continue
            raise ADAPTERS.unknown(value)
        out.append(o)
    return out


def compose(overrides: list[str], *, base: dict[str, Any] | None = None):
    """The resolved DictConfig for these overrides (errors name the bad key or option).

    ``base``: a resolved configuration (a run's frozen one) to start from instead of
    ``conf/config.yaml``; a group override (``metrics=all``) then replaces that group's section.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.config_store import ConfigStore
    from hydra.core.global_hydra import GlobalHydra

    overrides = normalise_overrides(list(overrides))
    name = "config"
    if base is not None:
        base = copy.deepcopy(base)
        plain = []
        for o in overrides:
            key, eq, _ = o.partition("=")
            if eq and key in GROUPS:
                base.pop(key, None)  # the group option supplies the whole section
                plain.append("+" + o)
            else:
                plain.append(o)
        overrides = plain
        name = "lpmbench_frozen_run"
        ConfigStore.instance().store(name=name, node=base)
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="lpmbench"):
        return hydra_compose(config_name=name, overrides=overrides)


def to_container(cfg) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # type: ignore[return-value]


def to_yaml(cfg: dict[str, Any]) -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.create(cfg))


def as_overrides(prefix: str, values: dict[str, Any]) -> list[str]:
    """Python values as Hydra overrides that set (or add) ``prefix.key=value``: what a notebook or
    a test passes to :func:`lpmbench.plan.build_plan` instead of writing YAML. Nested mappings
    become dotted keys; strings are quoted so braces and commas reach the program verbatim."""
    import json

    out: list[str] = []
    for k, v in values.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out += as_overrides(key, v)
        else:
            out.append(f"++{key}={_hydra_value(v)}")
    return out


def _hydra_value(v: Any) -> str:
    import json

    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_hydra_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{}" if not v else "{" + ",".join(f"{k}:{_hydra_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v))  # a double-quoted string: Hydra reads escapes like JSON
