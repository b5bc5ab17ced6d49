"""Case drill-down: the generated video beside the reference, prompts, audio, every metric, curves."""
import pandas as pd
import streamlit as st

from lpmbench.leaderboard import charts
from lpmbench.leaderboard.data import case_metrics, case_series, run_of
from lpmbench.leaderboard_app import ui

KNOWN_SERIES = {"identity.csim", "lipsync.mouth_vs_audio", "head_pose.yaw", "head_pose.pitch", "head_pose.roll"}

st.title("Case drill-down")
data = ui.get_data()
if data.empty:
    ui.empty_state(data)
    st.stop()

run_ids = list(data.runs["run_id"])
run_id = st.selectbox("Run", run_ids, index=ui.query_default("run", run_ids),
                      format_func=lambda r: ui.run_label(data.runs, r), key="case_run")
case_ids = sorted(data.cases.loc[data.cases["run_id"] == run_id, "case_id"])
case_id = st.selectbox("Case", case_ids, index=ui.query_default("case", case_ids), key="case_case")
st.query_params.update({"run": run_id, "case": case_id})

run_row = data.runs[data.runs["run_id"] == run_id].iloc[0]
rec = data.cases[(data.cases["run_id"] == run_id) & (data.cases["case_id"] == case_id)].iloc[0]
st.dataframe(pd.DataFrame([{
    "model": run_row["model"], "suite": run_row["suite"], "case": case_id, "mode": rec["mode"],
    "style": rec["style"], "character": rec["character"], "status": rec["status"], "tags": rec["tags"],
}]), hide_index=True, width="stretch")
if rec["error"]:
    st.error("The case failed:")
    st.code(rec["error"], language=None)

run = run_of(data, run_id)
suite, suite_reason = ui.suite_for(run_row["suite"], run_row["suite_path"])
case = None
if suite is not None:
    try:
        case = suite.case(case_id)
    except KeyError as e:
        suite_reason = str(e)

left, right = st.columns(2)
with left:
    st.subheader("Generated video")
    video = run.video_path(case_id) if run is not None else None
    if video is not None:
        st.video(str(video))
    else:
        st.info("No video kept for this case (not written, or pruned from the run folder).")
with right:
    st.subheader("Reference")
    if case is not None:
        for ref in case.character.references:
            if ref.is_file():
                st.image(ref.read_bytes(), caption=ui.md_escape(ref.name), width=320)
    else:
        st.info("Reference image and audio unavailable: the suite could not be loaded.")
        st.text(suite_reason)

if case is not None:
    st.subheader("Inputs")
    if case.prompts:
        st.dataframe(pd.DataFrame([p.to_dict() for p in case.prompts]), hide_index=True)
    else:
        st.text("No text prompts in this case.")
    for label, path, text in (("Agent audio (what the character says)", case.agent_audio, case.transcript),
                              ("Partner audio (what the character hears)", case.partner_audio, case.partner_transcript)):
        if path is not None and path.is_file():
            st.text(label + (f": {text}" if text else ""))
            st.audio(str(path))

st.subheader("Metrics")
mt = case_metrics(data, run_id, case_id)
st.dataframe(mt, hide_index=True, width="stretch", height=36 * (len(mt) + 1) + 4)  # every metric, no scrolling
n_un = int(mt["value"].isna().sum())
if n_un:
    st.caption(f"{n_un} metric(s) unavailable for this case: the 'unavailable' column gives the reason.")

st.subheader("Curves")
series, series_problem = case_series(run, case_id)
if series_problem:  # a damaged or oversized series file costs its curves, not the page
    st.warning("Series file unreadable:")
    st.text(series_problem)
ui.show_chart(charts.series_chart(series, "identity.csim", title="identity similarity over time",
                                  y_title="cosine similarity"), key="s_id")
ui.show_chart(charts.series_chart(series, "lipsync.mouth_vs_audio", title="mouth opening vs audio envelope",
                                  y_title="mouth opening (IOD)", y2_title="audio envelope"), key="s_mouth")
ui.show_chart(charts.head_pose_chart(series), key="s_pose")
others = sorted(set(series) - KNOWN_SERIES)
if others:
    with st.expander(f"All other series ({len(others)})"):
        for i, name in enumerate(others):
            ui.show_chart(charts.series_chart(series, name), key=f"s_other_{i}")
