"""Compare two models side by side on the same case (same protocol)."""
import pandas as pd
import streamlit as st

from lpmbench.leaderboard import charts
from lpmbench.leaderboard.data import case_metrics, case_series, run_of
from lpmbench.leaderboard.tables import Filters, selected_cases
from lpmbench.leaderboard_app import ui

st.title("Compare two models")
data = ui.get_data()
if data.empty:
    ui.empty_state(data)
    st.stop()

cases = selected_cases(data, Filters())
protocol, pc = ui.pick_protocol(cases, key="cmp_protocol")
models = sorted(pc["model"].unique())
if len(models) < 2:
    st.info("This protocol has a single model: nothing to compare.")
    st.stop()
c1, c2 = st.columns(2)
model_a = c1.selectbox("Model A", models, index=0, key="cmp_a")
model_b = c2.selectbox("Model B", models, index=1, key="cmp_b")
if model_a == model_b:
    st.warning("Choose two different models.")
    st.stop()
shared = sorted(set(pc.loc[pc["model"] == model_a, "case_id"]) & set(pc.loc[pc["model"] == model_b, "case_id"]))
if not shared:
    st.info("The two models share no case.")
    st.stop()
case_id = st.selectbox("Case", shared, key="cmp_case")


def side(model: str):
    row = pc[(pc["model"] == model) & (pc["case_id"] == case_id)].iloc[0]
    return row["run_id"], run_of(data, row["run_id"])


(run_a, ra), (run_b, rb) = side(model_a), side(model_b)
cols = st.columns(2)
for col, model, run_id, run in ((cols[0], model_a, run_a, ra), (cols[1], model_b, run_b, rb)):
    with col:
        st.subheader("A" if model == model_a else "B")
        st.text(f"{model}  (run {run_id})")
        video = run.video_path(case_id) if run is not None else None
        if video is not None:
            st.video(str(video))
        else:
            st.info("No video kept for this case.")

ma = case_metrics(data, run_a, case_id).set_index("metric")
mb = case_metrics(data, run_b, case_id).set_index("metric")
both = pd.DataFrame({
    "dimension": ma["dimension"].combine_first(mb["dimension"]),
    "direction": ma["direction"].combine_first(mb["direction"]),
    "A": ma["value"], "B": mb["value"],
    "A unavailable": ma["unavailable"], "B unavailable": mb["unavailable"],
})
both["B - A"] = both["B"] - both["A"]
st.subheader("Metrics")
st.dataframe(both.reset_index(), hide_index=True, width="stretch", key="cmp_metrics")

st.subheader("Curves")
(sa, why_a), (sb, why_b) = case_series(ra, case_id), case_series(rb, case_id)
for side_label, why in (("A", why_a), ("B", why_b)):
    if why:
        st.warning(f"{side_label}: series file unreadable:")
        st.text(why)
names = sorted(set(sa) | set(sb))
if not names:
    st.info("Neither run recorded per-frame series for this case.")
for i, name in enumerate(names):
    c = st.columns(2)
    with c[0]:
        ui.show_chart(charts.series_chart(sa, name, title=f"A: {name}"), key=f"cmp_sa_{i}")
    with c[1]:
        ui.show_chart(charts.series_chart(sb, name, title=f"B: {name}"), key=f"cmp_sb_{i}")
