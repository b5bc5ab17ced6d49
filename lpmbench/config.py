"""Hydra configuration: compose ``lpmbench/conf`` with command-line overrides, and turn the
result into library objects (suite, adapter spec, metric set, analyzer, EvalConfig)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

CONF_DIR = Path(__file__).resolve().parent / "conf"


def _group_options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def normalise_overrides(overrides: list[str]) -> list[str]:
    """Shortcuts Hydra cannot express: ``suite=<folder>`` and ``model=<module:Class>``."""
    out: list[str] = []
    for o in overrides:
        key, eq, value = o.partition("=")
        if eq and key == "suite" and value not in _group_options("suite"):
            if Path(value).exists():
                out += ["suite=custom", f"suite.path={Path(value).resolve()}"]
                continue
        if eq and key == "model" and value not in _group_options("model") and ":" in value:
            out += ["model=python", f"model.params.target={value}", f"model.name={value.rpartition(':')[2]}"]
            continue
        out.append(o)
    return out


def compose(overrides: list[str]):
    """The resolved DictConfig for these overrides (errors name the bad key or option)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3", job_name="lpmbench"):
        return hydra_compose(config_name="config", overrides=normalise_overrides(overrides))


def to_container(cfg) -> dict[str, Any]:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)  # type: ignore[return-value]


def build(cfg, *, include: list[str] = (), resume: bool | None = None):
    """(suite, AdapterSpec, MetricSet, Analyzer, EvalConfig) from a composed configuration."""
    from .case import load_suite
    from .plugins import load_metrics
    from .runner import EvalConfig
    from .worker import AdapterSpec

    c = to_container(cfg)
    includes = [*c.get("include", []), *include]
    suite = load_suite(c["suite"].get("path") or c["suite"]["name"])
    model = c["model"]
    spec = AdapterSpec(adapter=str(model["adapter"]), params=dict(model.get("params") or {}),
                       include=tuple(i for i in includes if i.endswith(".py")))
    mcfg = c.get("metrics", {})
    metrics = load_metrics(include=includes, select=mcfg.get("select", ["*"]), exclude=mcfg.get("exclude", []))
    analyzer = make_analyzer(c.get("analysis", {}))
    run = c["run"]
    ecfg = EvalConfig(
        results_dir=Path(run["results_dir"]), run_id=run.get("id"), resume=bool(run["resume"] if resume is None else resume),
        timeout_s=float(run["timeout_s"]),
        keep_videos=run["keep_videos"] if isinstance(run["keep_videos"], list) else bool(run["keep_videos"]), cases=run.get("cases"),
        stream=bool(run["stream"]), paced=bool(run["paced"]), chunk_s=float(run["chunk_s"]),
        metric_options=dict(mcfg.get("options") or {}), config=c, model_name=model.get("name"),
    )
    return suite, spec, metrics, analyzer, ecfg


def make_analyzer(analysis: dict[str, Any]):
    from .analysis import AnalysisConfig, Analyzer

    options = dict(analysis.get("options") or {})
    known = set(AnalysisConfig.__dataclass_fields__)
    unknown = set(options) - known
    if unknown:
        raise ValueError(f"unknown analysis option(s) {sorted(unknown)}; known: {', '.join(sorted(known))}")
    cache = analysis.get("cache_dir")
    return Analyzer(AnalysisConfig(**options), cache_dir=Path(cache) if cache else None)
