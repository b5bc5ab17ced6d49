"""lpmbench leaderboard (Streamlit entry point).

    streamlit run leaderboard_app/app.py -- --results DIR      # or: lpmbench leaderboard
Default folder: $LPMBENCH_RESULTS, else ./results.
"""
import streamlit as st

from lpmbench.leaderboard_app import ui

st.set_page_config(page_title="lpmbench leaderboard", layout="wide")

PAGES = [
    st.Page("views/leaderboard.py", title="Leaderboard", default=True),
    st.Page("views/case.py", title="Case drill-down", url_path="case"),
    st.Page("views/compare.py", title="Compare", url_path="compare"),
    st.Page("views/preference.py", title="Human preference", url_path="preference"),
    st.Page("views/runs.py", title="Runs", url_path="runs"),
]
nav = st.navigation(PAGES)

with st.sidebar:
    st.caption("Results folder")
    st.text(str(ui.results_dir()))
    st.toggle("Include unfinished runs", key="include_unfinished",
              help="Runs still running or interrupted are skipped by default (listed on the Runs page).")
    if st.button("Reload results"):
        st.cache_data.clear()

nav.run()
