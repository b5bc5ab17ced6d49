"""Runs: every run found, and the validation problems of those skipped."""
import streamlit as st

from lpmbench.leaderboard_app import ui

st.title("Runs")
data = ui.get_data()
st.text(f"Results folder: {data.root.resolve()}")

skipped = data.problems[data.problems["severity"] == "skipped"]
warnings = data.problems[data.problems["severity"] == "warning"]
c1, c2, c3 = st.columns(3)
c1.metric("usable runs", len(data.runs))
c2.metric("skipped runs", skipped["run_id"].nunique())
c3.metric("warnings", len(warnings))

st.subheader("Usable runs")
if data.runs.empty:
    st.info("No usable run.")
else:
    st.dataframe(data.runs.drop(columns=["dir"]), hide_index=True, width="stretch", key="runs_table")

st.subheader("Skipped runs (schema validation)")
if skipped.empty:
    st.success("No run was skipped.")
else:
    st.dataframe(skipped, hide_index=True, width="stretch", key="runs_skipped")

st.subheader("Warnings (run kept, bad lines skipped)")
if warnings.empty:
    st.text("None.")
else:
    st.dataframe(warnings, hide_index=True, width="stretch", key="runs_warnings")
