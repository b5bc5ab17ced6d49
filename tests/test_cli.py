"""The command line on real media: score, list, validate, rescore, plugins, configuration errors."""
from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest
from PIL import Image

from lpmbench.cli import main, parse_prompt
from lpmbench.results import load_run

PLUGIN = textwrap.dedent('''
    import numpy as np
    from lpmbench.metric_api import metric

    @metric("expressiveness.mouth_range", dimension="expressiveness", direction="higher",
            requires=("mouth_open",), description="5-95 percentile range of the mouth opening")
    def mouth_range(ctx):
        m = ctx.features["mouth_open"]
        m = m[np.isfinite(m)]
        return float(np.percentile(m, 95) - np.percentile(m, 5))
''')


@pytest.fixture(scope="module")
def evaluated(tiny_suite, tmp_path_factory):
    """One CLI evaluation of the puppet on the tiny suite, with an included metric plugin."""
    root = tmp_path_factory.mktemp("cli")
    plugin = root / "mouth_range.py"
    plugin.write_text(PLUGIN)
    rc = main(["evaluate", "model=puppet", f"suite={tiny_suite}", "run.id=cli-puppet", f"run.results_dir={root / 'results'}",
               f"analysis.cache_dir={root / 'cache'}", "--include", str(plugin)])
    assert rc == 0
    return root, root / "results" / "cli-puppet", plugin


def test_evaluate_writes_config_and_included_metric(evaluated):
    root, run_dir, _ = evaluated
    run = load_run(run_dir)
    assert (run_dir / "config.yaml").read_text().count("model:") >= 1
    assert run.manifest.config["model"]["adapter"] == "puppet"
    assert "expressiveness.mouth_range" in run.manifest.metrics
    assert run.cases["speak_a"].values["expressiveness.mouth_range"] > 0.02


def test_validate_reports_good_and_torn_runs(evaluated, tmp_path, capsys):
    _, run_dir, _ = evaluated
    assert main(["validate", str(run_dir)]) == 0
    import shutil

    torn = tmp_path / "torn"
    shutil.copytree(run_dir, torn)
    with open(torn / "cases.jsonl", "a") as f:
        f.write('{"case_id": "speak_a", "status": "ok", "valu')  # a run killed mid-write
    assert main(["validate", str(torn)]) == 1
    assert "line 4: not valid JSON" in capsys.readouterr().out
    assert len(load_run(torn).cases) == 3  # the torn line costs nothing else
    (torn / "manifest.json").write_text("{}")
    assert main(["validate", str(torn)]) == 1
    assert "missing field" in capsys.readouterr().out


def test_rescore_never_decodes(evaluated, monkeypatch, capsys):
    root, run_dir, plugin = evaluated
    import lpmbench.media

    def no_decoding(*a, **k):
        raise AssertionError("rescore decoded a video")

    monkeypatch.setattr(lpmbench.media, "decode", no_decoding)
    before = load_run(run_dir).cases["speak_a"].values
    assert main(["rescore", str(run_dir), "--include", str(plugin)]) == 0
    after = load_run(run_dir).cases["speak_a"].values
    assert after == pytest.approx(before)
    assert "rescored 3 case(s)" in capsys.readouterr().out


def test_score_one_video(evaluated, tiny_suite, tmp_path, capsys):
    _, run_dir, _ = evaluated
    out = tmp_path / "score.json"
    rc = main(["score", str(run_dir / "videos" / "speak_a.mp4"), "--reference", str(tiny_suite / "characters" / "astronaut.png"),
               "--audio", str(tiny_suite / "audio" / "agent.wav"), "--prompt", "nod@1-2", "--json", str(out),
               f"analysis.cache_dir={tmp_path / 'c'}"])
    assert rc == 0
    table = capsys.readouterr().out
    assert "identity.csim" in table and "lipsync.av_corr" in table
    doc = json.loads(out.read_text())
    assert set(doc) >= {"metrics", "unavailable", "specs"}
    assert doc["metrics"]["identity.csim"] > 0.8
    for name, reason in doc["unavailable"].items():
        assert reason, name  # every missing value says why
    assert not set(doc["metrics"]) & set(doc["unavailable"])


def test_score_without_face_reports_reasons(tmp_path, capsys):
    from lpmbench.media import VideoWriter

    noise = np.random.default_rng(0).integers(0, 255, (64, 128, 128, 3), dtype=np.uint8)
    video = tmp_path / "noise.mp4"
    with VideoWriter(video, 25, 128, 128) as w:
        for f in noise:
            w.write(f)
    ref = tmp_path / "ref.png"
    Image.fromarray(noise[0]).save(ref)
    out = tmp_path / "s.json"
    assert main(["score", str(video), "--reference", str(ref), "--json", str(out), f"analysis.cache_dir={tmp_path / 'c'}"]) == 0
    doc = json.loads(out.read_text())
    assert "identity.csim" in doc["unavailable"] and "face" in doc["unavailable"]["identity.csim"]
    assert "identity.csim" not in doc["metrics"]


def test_list_commands(capsys):
    assert main(["list", "metrics"]) == 0
    out = capsys.readouterr().out
    for name in ("identity.csim", "lipsync.av_offset_frames", "expressiveness.face_motion", "conversation.listen_lip_leak", "realtime.rtf"):
        assert name in out
    assert main(["list", "suites"]) == 0
    out = capsys.readouterr().out
    assert "smoke" in out and "mini" in out
    assert main(["list", "models"]) == 0
    assert "puppet" in capsys.readouterr().out


def test_configuration_errors_are_clear(capsys):
    assert main(["evaluate", "model=pupet"]) == 2
    err = capsys.readouterr().err
    assert "pupet" in err
    assert main(["evaluate", "run.timout_s=3"]) == 2
    assert "timout_s" in capsys.readouterr().err
    assert main(["evaluate", "suite=nonexistent_suite_x"]) == 2


def test_parse_prompt():
    p = parse_prompt("nod@2-4.5")
    assert (p.action, p.start, p.end) == ("nod", 2.0, 4.5)
    assert parse_prompt("a warm smile@1-3").text == "a warm smile"
    with pytest.raises(SystemExit, match="ACTION@START-END"):
        parse_prompt("nod")


def test_entry_point_plugins_need_no_edit_of_this_repo(tmp_path, monkeypatch):
    """A third-party distribution registers a metric and an adapter through entry points."""
    (tmp_path / "thirdparty_lpm.py").write_text(PLUGIN + textwrap.dedent('''
        from lpmbench.adapters.baselines import StaticAdapter
        class MyGen(StaticAdapter):
            name = "mygen"
    '''))
    dist = tmp_path / "thirdparty_lpm-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-lpm\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[lpmbench.metrics]\nmouth = thirdparty_lpm:mouth_range\n\n[lpmbench.adapters]\nmygen = thirdparty_lpm:MyGen\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from lpmbench.plugins import load_metrics
    from lpmbench.registry import METRICS, Registry

    with METRICS.restored():  # later tests must not see this distribution's metric
        METRICS._scanned = False  # entry points are read once per process: as if freshly started
        ms = load_metrics()
    assert ms.origins["expressiveness.mouth_range"].startswith("entry point mouth")
    adapters = Registry("model adapter", "lpmbench.adapters", {})
    assert adapters.get("mygen").name == "mygen"
    with pytest.raises(KeyError, match="Did you mean .mygen."):
        adapters.get("mygem")
