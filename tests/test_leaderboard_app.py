"""Every page of the Streamlit leaderboard, run headless with streamlit.testing.v1.AppTest."""
import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lpmbench.leaderboard import launch, streamlit_command
from lpmbench.leaderboard.preference import VoteStore
from lpmbench.testing.runs import make_results

APP = Path(__file__).resolve().parents[1] / "leaderboard_app" / "app.py"
PAGES = ["views/leaderboard.py", "views/case.py", "views/compare.py", "views/preference.py", "views/runs.py"]
EVIL = "<img src=x onerror=alert(1)> [click](http://evil.example) **bold**"


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """4 synthetic runs (2 streaming) x 4 cases, with real small videos and a loadable suite."""
    return make_results(tmp_path_factory.mktemp("app") / "results", n_models=4, n_cases=4, videos=True,
                        size=64, n_frames=8)


def open_page(monkeypatch, results_dir, page=None, votes=None) -> AppTest:
    monkeypatch.setenv("LPMBENCH_RESULTS", str(results_dir))
    if votes is not None:
        monkeypatch.setenv("LPMBENCH_VOTES", str(votes))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def frame(at: AppTest, column: str):
    """The first dataframe on the page that has ``column`` (st.dataframe elements carry no key)."""
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no dataframe with a {column!r} column on the page")


def texts(at: AppTest) -> str:
    """Everything a page wrote as text, markdown, captions and alerts."""
    parts = [e.value for kind in ("text", "markdown", "caption", "info", "warning", "error", "success", "title",
                                  "subheader") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_has_a_useful_empty_state(monkeypatch, tmp_path, page):
    at = open_page(monkeypatch, tmp_path / "nothing-here", None if page == PAGES[0] else page)
    body = texts(at)
    if page == "views/runs.py":
        assert "No usable run" in body
    else:
        assert "No usable runs in this results folder yet" in body and "lpmbench evaluate" in body


def test_leaderboard_page_table_filters_charts_export(monkeypatch, results):
    at = open_page(monkeypatch, results)
    table = frame(at, "overall CI")
    assert table["model"].tolist() == [f"synthetic-{i:03d}" for i in (3, 2, 1, 0)]
    assert table["rank"].tolist() == [1, 2, 3, 4] and "overall CI" in table.columns
    assert len(at.get("vega_lite_chart")) >= 3  # radar, intervals, latency
    assert [b.label for b in at.get("download_button")] == ["Download csv"]
    assert len(at.get("page_link")) == 2  # to the drill-down and compare pages
    at.radio(key="export_fmt").set_value("latex").run()
    assert "tabular" in at.code[0].value
    at.multiselect(key="f_mode").set_value(["listen"]).run()
    listen = frame(at, "overall CI")
    assert "lipsync" not in listen.columns and (listen["cases"] == "1/1 of 1").all()
    at.multiselect(key="f_dim").set_value(["identity"]).run()
    assert "quality" not in frame(at, "overall CI").columns
    at.multiselect(key="f_mode").set_value([]).run()
    at.multiselect(key="f_style").set_value(["stylized"]).run()
    assert not at.exception


def test_case_page_shows_video_reference_inputs_and_reasons(monkeypatch, results):
    at = open_page(monkeypatch, results, "views/case.py")
    at.selectbox(key="case_run").set_value("synthetic-001").run()
    at.selectbox(key="case_case").set_value("duplex_03").run()
    assert not at.exception
    assert len(at.get("video")) == 1 and len(at.get("image")) == 1 and len(at.get("audio")) == 2
    metrics = frame(at, "unavailable").set_index("metric")
    assert metrics.loc["lipsync.lse_c", "unavailable"] == "SyncNet weights (syncnet_v2) not installed"
    assert metrics["value"].notna().sum() >= 20
    assert len(at.get("vega_lite_chart")) >= 3  # identity, mouth vs audio, head pose (+ latency)
    assert "Chart not drawn" not in texts(at)
    at.selectbox(key="case_case").set_value("speak_00").run()
    assert len(at.get("audio")) == 1
    body = texts(at)
    assert "Chart not drawn" not in body


def test_case_page_fails_soft_without_suite_or_video(monkeypatch, results, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(results, out)
    m = json.loads((out / "synthetic-000" / "manifest.json").read_text())
    m["suite"]["path"], m["suite"]["name"] = str(tmp_path / "gone"), "gone"
    (out / "synthetic-000" / "manifest.json").write_text(json.dumps(m))
    shutil.rmtree(out / "synthetic-000" / "videos")
    shutil.rmtree(out / "synthetic-000" / "series")
    at = open_page(monkeypatch, out, "views/case.py")
    at.selectbox(key="case_run").set_value("synthetic-000").run()
    assert not at.exception
    body = texts(at)
    assert "No video kept" in body and "suite could not be loaded" in body
    assert "Chart not drawn: this case has no 'identity.csim' series" in body
    assert len(at.get("video")) == 0


def test_compare_page_two_models_on_one_case(monkeypatch, results):
    at = open_page(monkeypatch, results, "views/compare.py")
    at.selectbox(key="cmp_a").set_value("synthetic-000").run()
    at.selectbox(key="cmp_b").set_value("synthetic-003").run()
    at.selectbox(key="cmp_case").set_value("speak_00").run()
    assert not at.exception
    assert len(at.get("video")) == 2
    m = frame(at, "A unavailable").set_index("metric")
    assert m.loc["identity.csim", "A"] < m.loc["identity.csim", "B"]
    assert m.loc["realtime.latency_p50_s", "A unavailable"].startswith("streaming only")
    assert len(at.get("vega_lite_chart")) >= 8  # each series for A and B


def test_preference_page_stores_votes_and_fits_ratings(monkeypatch, results, tmp_path):
    votes = tmp_path / "votes.sqlite"
    at = open_page(monkeypatch, results, "views/preference.py", votes=votes)
    assert "No votes yet" in texts(at)
    pairs = [("synthetic-003", "synthetic-000"), ("synthetic-002", "synthetic-000"), ("synthetic-003", "synthetic-001"),
             ("synthetic-001", "synthetic-002"), ("synthetic-003", "synthetic-002"), ("synthetic-001", "synthetic-000")]
    for a, b in pairs:
        at.selectbox(key="pref_a").set_value(a)
        at.selectbox(key="pref_b").set_value(b)
        at.radio(key="pref_vote_overall").set_value("bad" if (a, b) == ("synthetic-001", "synthetic-002") else "good")
        at.radio(key="pref_vote_identity").set_value("same")
        next(x for x in at.button if x.label == "Submit votes").click().run()  # a round robin: 003 > 002 > 001 > 000
        assert not at.exception
    stored = VoteStore(votes).votes()
    assert len(stored) == 12 and set(stored["dimension"]) == {"overall", "identity"}
    assert "Stored 2 vote(s)." in texts(at)
    at.selectbox(key="pref_dim").set_value("overall").run()
    ratings = frame(at, "rating")
    assert ratings["model"].iloc[0] == "synthetic-003" and ratings["model"].iloc[-1] == "synthetic-000"
    agree = frame(at, "spearman").set_index("dimension")
    assert agree.loc["overall", "n_models"] == 4 and agree.loc["overall", "spearman"] == pytest.approx(1.0)
    assert agree.loc["quality", "reason"] == "no votes on this dimension"
    at.radio(key="pref_ties").set_value("davidson").run()
    assert not at.exception


def test_runs_page_lists_problems_and_never_renders_result_text_as_markup(monkeypatch, results, tmp_path):
    out = tmp_path / "results"
    shutil.copytree(results, out)
    (out / "broken").mkdir()
    (out / "broken" / "manifest.json").write_text('{"schema_version": 1}')
    m = json.loads((out / "synthetic-000" / "manifest.json").read_text())
    m["model"]["name"] = EVIL
    (out / "synthetic-000" / "manifest.json").write_text(json.dumps(m))
    recs = [json.loads(x) for x in (out / "synthetic-000" / "cases.jsonl").read_text().splitlines()]
    for r in recs:
        r["unavailable"]["lipsync.lse_c"] = EVIL
    (out / "synthetic-000" / "cases.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs))

    shutil.copytree(out / "synthetic-001", out / "running")
    m = json.loads((out / "running" / "manifest.json").read_text())
    m.update(run_id="running", status="running", finished_at=None)
    (out / "running" / "manifest.json").write_text(json.dumps(m))

    at = open_page(monkeypatch, out, "views/runs.py")
    skipped = frame(at, "problem").set_index("run_id")["problem"]
    assert sorted(skipped.index) == ["broken", "running"]
    assert "missing field" in skipped["broken"] and "partial run" in skipped["running"]
    assert len(frame(at, "n_ok")) == 4
    at.toggle(key="include_unfinished").set_value(True).run()
    assert len(frame(at, "n_ok")) == 5 and not at.exception
    for page in (None, "views/case.py"):  # the pages that print model names and reasons
        at = open_page(monkeypatch, out, page)
        for el in list(at.markdown) + list(at.caption):
            assert "<img" not in el.value and "](http" not in el.value, (page, el.value)
    src = "\n".join(p.read_text() for p in APP.parent.rglob("*.py"))
    assert "unsafe_allow_html" not in src and "st.html" not in src


def test_launch_builds_the_streamlit_command(tmp_path):
    cmd = streamlit_command(tmp_path, 8599, headless=True)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and Path(cmd[4]) == APP
    assert cmd[cmd.index("--server.port") + 1] == "8599"
    assert cmd[-3:] == ["--", "--results", str(tmp_path.resolve())]
    assert callable(launch)
