"""Leaderboard: one row per model and protocol, scores per dimension with bootstrap intervals."""
import streamlit as st

from lpmbench.leaderboard import charts, export
from lpmbench.leaderboard.tables import Filters, display_table, facet_keys, filter_options
from lpmbench.leaderboard_app import ui

st.title("lpmbench leaderboard")
data = ui.get_data()
if data.empty:
    ui.empty_state(data)
    st.stop()

opts = filter_options(data)
with st.expander("Filters", expanded=True):
    c1, c2, c3 = st.columns(3)
    suites = c1.multiselect("Suite", opts["suites"], key="f_suite")
    modes = c2.multiselect("Mode", opts["modes"], key="f_mode", help="speak / listen / silence / duplex cases only")
    styles = c3.multiselect("Character style", opts["styles"], key="f_style")
    c4, c5 = st.columns(2)
    models = c4.multiselect("Model", opts["models"], key="f_model")
    dims = c5.multiselect("Dimension", opts["dimensions"], key="f_dim", help="columns shown (scoring uses all)")
filters = Filters(tuple(suites), tuple(modes), tuple(styles), tuple(models), tuple(dims))
lb = ui.get_table(filters)

if lb.table.empty:
    st.warning("No case matches these filters.")
    st.stop()

n_protocols = lb.table["protocol"].nunique()
st.caption(
    f"{len(lb.table)} row(s) in {n_protocols} protocol(s). Ranks are within a protocol (same suite, metric "
    f"versions and backends). Scores are 0-100; intervals are {int(100 * 0.95)}% paired bootstrap intervals over "
    f"cases ({ui.N_BOOT} resamples, seed 0): overlapping rank ranges cannot be told apart. A missing dimension "
    "is left empty and the row marked incomplete (no overall score, no rank)."
)
shown = display_table(lb)
st.dataframe(shown, hide_index=True, width="stretch", key="main_table",
             column_config={"complete": st.column_config.CheckboxColumn("complete")})

incomplete = lb.table[~lb.table["complete"]]
if not incomplete.empty:
    detail = "; ".join(f"{m} (missing: {d})" for m, d in zip(incomplete["model"], incomplete["missing"]))
    st.warning(ui.md_escape(f"{len(incomplete)} incomplete row(s), unranked: a dimension has a metric without any "
                            f"value for that model (the drill-down page gives the reasons): {detail}"))

with st.expander("Raw metrics (mean over cases) and 0-100 metric scores"):
    tab_raw, tab_scores, tab_cov, tab_anchors = st.tabs(["raw values", "metric scores", "cases with a value", "anchors"])
    tab_raw.dataframe(lb.raw, hide_index=True, width="stretch")
    tab_scores.dataframe(lb.metric_scores.round(1), hide_index=True, width="stretch")
    tab_cov.dataframe(lb.coverage, hide_index=True, width="stretch")
    tab_anchors.dataframe(lb.anchors, hide_index=True, width="stretch")
    for note in lb.notes:
        st.text(note)

st.subheader("Drill down")
labels = [f"{m} [{p[:8]}]" for m, p in zip(lb.table["model"], lb.table["protocol"])]
pick = st.selectbox("Model", range(len(labels)), format_func=lambda i: labels[i], key="drill_row")
c1, c2 = st.columns(2)
c1.page_link("views/case.py", label="Open this model's cases",
             query_params={"run": lb.table.iloc[pick]["runs"][-1]})
c2.page_link("views/compare.py", label="Compare two models on one case")

st.subheader("Charts")
col_a, col_b = st.columns(2)
with col_a:
    chosen = st.multiselect("Models on the radar", list(lb.table["model"].unique()),
                            default=list(lb.table["model"].unique())[:5], key="radar_models")
    ui.show_chart(charts.radar(lb.table, lb.dims, chosen), key="radar")
with col_b:
    ui.show_chart(charts.interval_chart(lb.table, "overall"), key="intervals")

streaming_runs = [r for runs in lb.table.loc[lb.table["streaming"], "runs"] for r in runs]
if streaming_runs:
    ui.show_chart(charts.latency_chart(ui.get_latency(streaming_runs)), key="latency")
else:
    st.info("Latency distributions: no streaming run in this selection.")

st.subheader("By category")
keys = facet_keys(data)
if keys:
    c1, c2 = st.columns(2)
    key = c1.selectbox("Break down by", keys, key="facet_key", help="the cases' key:value tags, mode and style")
    score = c2.selectbox("Score", ["overall", *lb.dims], key="facet_score")
    per = ui.get_breakdown(key, filters)
    if per.empty:
        st.info(f"No {key} with at least 2 cases in this selection.")
    else:
        ui.show_chart(charts.heatmap(per, key, score), key="heatmap")
        st.dataframe(per.round(1), hide_index=True, width="stretch", key="facet_table")
else:
    st.info("The cases carry no key:value tags to break the scores down by.")

st.subheader("Export")
fmt = st.radio("Format", list(export.FORMATS), horizontal=True, key="export_fmt")
try:
    text = export.export(shown, fmt)
    mime, ext = export.FORMATS[fmt]
    st.download_button(f"Download {fmt}", text, file_name=f"lpmbench_leaderboard.{ext}", mime=mime)
    with st.expander("Preview"):
        st.code(text, language="latex" if fmt == "latex" else None)
except export.ExportError as e:
    st.error(str(e))
