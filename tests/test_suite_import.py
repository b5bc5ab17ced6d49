"""`lpmbench suite import` on real recordings, `model=groundtruth` (the human row) and the paired
landmark distance: the recording scores 0 against itself, a still image does not."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lpmbench.case import load_suite
from lpmbench.cli import main
from lpmbench.results import load_run

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real" / "human"
CLIPS = ("vexpress_short_10.mp4", "liveportrait_d18.mp4")  # 4.4 s of speech at 25 fps; 7.2 s silent at 30 fps


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    if not all((REAL / c).is_file() for c in CLIPS):
        pytest.skip(f"real recordings not found in {REAL} (the project's shared real material)")
    root = tmp_path_factory.mktemp("import")
    src = root / "src"
    src.mkdir()
    for c in CLIPS:
        shutil.copy(REAL / c, src / c)
    assert main(["suite", "import", str(src), "--out", str(root / "real"), "--source", "test clips"]) == 0
    return root


def test_import_makes_one_case_per_recording_with_its_own_audio_and_ground_truth(imported):
    suite = load_suite(imported / "real")
    modes = {c.id: c.mode for c in suite.cases}
    assert modes == {"vexpress_short_10": "speak", "liveportrait_d18": "silence"}
    for c in suite.cases:
        assert c.ground_truth is not None and c.ground_truth.is_file()
        assert c.reference.is_file() and c.character.source.startswith("a frame of")
        assert "category:real" in c.tags
    assert {c.fps for c in suite.cases} == {25.0, 30.0}  # each recording keeps its own rate


def test_groundtruth_scores_zero_distance_to_itself_and_a_still_image_does_not(imported):
    results, cache = imported / "results", imported / "cache"
    for model in ("groundtruth", "static"):
        assert main(["evaluate", f"model={model}", f"suite={imported / 'real'}", f"run.id={model}",
                     f"run.results_dir={results}", f"analysis.cache_dir={cache}"]) == 0
    gt, still = load_run(results / "groundtruth"), load_run(results / "static")
    assert all(r.status == "ok" for r in gt.cases.values())
    for cid, rec in gt.cases.items():
        assert rec.values["lipsync.lmd"] == 0.0
        assert still.cases[cid].values["lipsync.lmd"] > 0.03
        assert not [k for k in rec.values if k.startswith("realtime.")]  # a recording is no generation


def test_suite_import_refuses_an_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["suite", "import", str(tmp_path / "empty"), "--out", str(tmp_path / "s")]) == 2
    assert "no videos" in capsys.readouterr().err
