"""The evaluation plan and the registries: one way of reading configuration, every registered name
usable, extractors derived from the metrics, and the defects the renovation fixed."""
from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import pytest

from lpmbench.cli import main
from lpmbench.plan import build_plan, plan_for_run
from lpmbench.registry import ADAPTERS, EXTRACTORS, METRICS, SUITES, Registry, RegistryError
from lpmbench.results import load_run

ECHO_PLUGIN = textwrap.dedent('''
    from lpmbench.metric_api import metric

    @metric("quality.option_echo", dimension="quality", direction="higher", anchors=(0.0, 10.0),
            description="echoes metrics.options.echo (a test plug-in)")
    def option_echo(ctx):
        return float(ctx.config.get("echo", -1))
''')


def _fake_distribution(root: Path, name: str, module: str, code: str, entry_points: str) -> None:
    """A third-party package installed on sys.path: a module and its entry points."""
    (root / f"{module}.py").write_text(code)
    dist = root / f"{name}-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(entry_points)


def test_metrics_needing_extractors_turn_them_on():
    """Before: metrics=all left SyncNet/CLIP metrics silently unavailable unless the user also
    listed analysis.options.extractors; MetricSet.requires() was never used."""
    plan = build_plan(["metrics=all", "suite=smoke"])
    assert {"syncnet", "clip_frames", "fid_inception"} <= set(plan.analysis.extractors)
    assert any("syncnet" in n for n in plan.notes)
    default = build_plan(["suite=smoke"])
    assert default.analysis.extractors == []  # the default metrics need nothing weight-backed


def test_preset_timeout_reaches_the_worker(monkeypatch, tmp_path):
    """Before: presets said timeout_s 1800-7200 but run.timeout_s=600 killed the generator first."""
    for var in ("SADTALKER_REPO", "HALLO2_REPO"):
        monkeypatch.setenv(var, str(tmp_path))
    assert build_plan(["model=sadtalker", "suite=smoke"]).run.timeout_s == 1800
    assert build_plan(["model=hallo2", "suite=smoke"]).run.timeout_s == 7200
    assert build_plan(["model=puppet", "suite=smoke"]).run.timeout_s == 600  # no preset limit: the default
    assert build_plan(["model=sadtalker", "suite=smoke", "run.timeout_s=5"]).run.timeout_s == 5  # the user wins


def test_entry_point_adapter_and_suite_are_usable_by_name(tmp_path, monkeypatch, tiny_suite):
    """Before: `list suites` showed folders `evaluate suite=NAME` rejected, and an adapter registered
    through the lpmbench.adapters entry point could not be named as model=NAME."""
    suite_copy = tmp_path / "suites" / "thirdsuite"
    shutil.copytree(tiny_suite, suite_copy)
    _fake_distribution(tmp_path, "thirdparty_gen", "thirdparty_gen", textwrap.dedent(f'''
        from lpmbench.adapters.baselines import StaticAdapter
        class MyGen(StaticAdapter):
            name = "mygen"
        SUITE = {str(suite_copy)!r}
    '''), "[lpmbench.adapters]\nmygen = thirdparty_gen:MyGen\n\n[lpmbench.suites]\nthirdsuite = thirdparty_gen:SUITE\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    # as if installed: the generator's worker process (a fresh interpreter) finds it too
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p))
    with ADAPTERS.restored(), SUITES.restored():  # later tests must not see this distribution's plug-ins
        for reg in (ADAPTERS, SUITES):
            reg._scanned = False  # entry points are read once per process: as if freshly started
        plan = build_plan(["model=mygen", "suite=thirdsuite", f"run.results_dir={tmp_path / 'r'}"])
        assert plan.adapter.adapter == "mygen" and plan.model_name == "mygen"
        assert plan.suite.name == "tiny" and len(plan.suite.cases) == 3
        assert main(["list", "suites"]) == 0
        assert main(["evaluate", "model=mygen", "suite=thirdsuite", "run.id=third", f"run.results_dir={tmp_path / 'r'}",
                     f"analysis.cache_dir={tmp_path / 'c'}", "run.cases=[silence_nod]"]) == 0
    run = load_run(tmp_path / "r" / "third")
    assert run.cases["silence_nod"].status == "ok" and run.manifest.model["adapter_name"] == "mygen"


def test_registry_checks_types_collisions_and_names(tmp_path, monkeypatch):
    reg: Registry = Registry("model adapter", "lpmbench.test_none", {"static": "lpmbench.adapters.baselines:StaticAdapter"},
                             check=ADAPTERS._check)
    with pytest.raises(RegistryError, match="Did you mean 'static'"):
        reg.get("statik")
    with pytest.raises(RegistryError, match="registered twice"):
        reg.register("static", type("Other", (ADAPTERS.get("static"),), {}))
    with pytest.raises(RegistryError, match="subclass of lpmbench.adapters.base.Adapter"):
        reg.register("bad", int)
    assert ADAPTERS.resolve("lpmbench.adapters.baselines:StaticAdapter") is ADAPTERS.get("static")
    with pytest.raises(RegistryError, match="Extractor"):
        EXTRACTORS.register("not_an_extractor", dict)
    assert "identity" in METRICS and "mini" in SUITES and "smoke" in SUITES


def test_include_file_registers_an_adapter_for_model_name(tmp_path, tiny_suite):
    plugin = tmp_path / "my_adapter.py"
    plugin.write_text(textwrap.dedent('''
        from lpmbench.adapters.baselines import StaticAdapter
        from lpmbench.registry import ADAPTERS

        class Included(StaticAdapter):
            name = "included"

        ADAPTERS.register("included_gen", Included)
    '''))
    assert main(["evaluate", "model=included_gen", f"suite={tiny_suite}", "run.id=inc", f"run.results_dir={tmp_path / 'r'}",
                 f"analysis.cache_dir={tmp_path / 'c'}", "run.cases=[silence_nod]", "--include", str(plugin)]) == 0
    assert load_run(tmp_path / "r" / "inc").cases["silence_nod"].status == "ok"


def test_rescore_keeps_the_runs_metric_selection_and_options(tmp_path, tiny_suite):
    """Before: rescore re-read the default metric set and dropped metrics.options, silently narrowing
    a metrics=all run."""
    plugin = tmp_path / "echo.py"
    plugin.write_text(ECHO_PLUGIN)
    args = ["evaluate", "model=static", f"suite={tiny_suite}", "run.id=all", f"run.results_dir={tmp_path / 'r'}",
            f"analysis.cache_dir={tmp_path / 'c'}", "metrics=all", "++metrics.options.echo=7", "run.cases=[speak_a]",
            "--include", str(plugin)]
    assert main(args) == 0
    run_dir = tmp_path / "r" / "all"
    before = load_run(run_dir)
    assert before.cases["speak_a"].values["quality.option_echo"] == 7
    assert "lipsync.lse_c" in before.manifest.metrics  # metrics=all: weight-backed ones are listed ...
    assert "lipsync.lse_c" in before.cases["speak_a"].unavailable  # ... and unavailable, with the reason
    plan = plan_for_run(run_dir, include=[str(plugin)])
    assert plan.metric_options == {"echo": 7} and "lipsync.lse_c" in plan.metrics.specs
    assert main(["rescore", str(run_dir), "--include", str(plugin)]) == 0
    after = load_run(run_dir)
    assert after.cases["speak_a"].values == before.cases["speak_a"].values
    assert set(after.manifest.metrics) == set(before.manifest.metrics)
    assert main(["rescore", str(run_dir), "--include", str(plugin), "++metrics.options.echo=3"]) == 0
    assert load_run(run_dir).cases["speak_a"].values["quality.option_echo"] == 3


def test_validate_and_leaderboard_agree(tmp_path, tiny_suite):
    """Before: `lpmbench validate` passed runs the leaderboard then skipped (unscorable specs)."""
    import json

    from lpmbench.leaderboard.data import load_results

    assert main(["evaluate", "model=static", f"suite={tiny_suite}", "run.id=good", f"run.results_dir={tmp_path / 'r'}",
                 f"analysis.cache_dir={tmp_path / 'c'}", "run.cases=[silence_nod]"]) == 0
    good = tmp_path / "r" / "good"
    bad = tmp_path / "r" / "bad"
    shutil.copytree(good, bad)
    m = json.loads((bad / "manifest.json").read_text())
    m["run_id"] = "bad"
    m["metrics"]["identity.csim"]["direction"] = "sideways"
    (bad / "manifest.json").write_text(json.dumps(m))
    assert main(["validate", str(good)]) == 0
    assert main(["validate", str(bad)]) == 1
    data = load_results(tmp_path / "r")
    assert list(data.runs["run_id"]) == ["good"]
    assert "sideways" in " ".join(data.problems["problem"])


def test_anchors_live_in_the_spec_only():
    """Before: lipsync.lse_d scored on (10, 6) in scoring.py while its spec said (11, 6)."""
    import lpmbench.scoring as scoring
    from lpmbench.plugins import load_metrics

    specs = load_metrics().specs
    for name, spec in specs.items():
        d = spec.for_backend("dlib").to_dict() if spec.backend == "identity_embedding" else spec.to_dict()
        scale = scoring.spec_scale(d)
        if d["anchors"] is not None:
            assert (scale.zero, scale.full) == tuple(d["anchors"]), name
    # no table of anchors outside the specs
    tables = [k for k, v in vars(scoring).items() if isinstance(v, dict) and any("." in str(x) for x in v)]
    assert not tables, tables
    lse_d = specs["lipsync.lse_d"].to_dict()
    assert scoring.spec_scale(lse_d).zero == lse_d["anchors"][0]
