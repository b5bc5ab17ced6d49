"""Human preference: pairwise good / same / bad votes per dimension (GSB), Bradley-Terry ratings,
and how each automatic dimension agrees with the human ranking."""
import random

import pandas as pd
import streamlit as st

from lpmbench.leaderboard import preference as pref
from lpmbench.leaderboard.data import run_of
from lpmbench.leaderboard.tables import Filters, selected_cases
from lpmbench.leaderboard_app import ui

LABELS = {"good": "good (A better)", "same": "same", "bad": "bad (A worse)"}

st.title("Human preference")
data = ui.get_data()
if data.empty:
    ui.empty_state(data)
    st.stop()
store = pref.VoteStore(pref.default_votes_path())
st.caption("Votes are stored in an SQLite file (set LPMBENCH_VOTES to use another):")
st.text(str(store.path))

cases = selected_cases(data, Filters())
protocol, pc = ui.pick_protocol(cases, key="pref_protocol")
models = sorted(pc["model"].unique())
lb = ui.get_table(Filters(protocols=(protocol,)), n_boot=0)  # point scores suffice here
dims = list(lb.dims)

tab_vote, tab_results = st.tabs(["Vote", "Ratings and agreement"])
with tab_vote:
    if len(models) < 2:
        st.info("This protocol has a single model: nothing to compare.")
    else:
        if st.button("Random pair and case", key="pref_random"):
            a, b = random.sample(models, 2)
            st.session_state["pref_a"], st.session_state["pref_b"] = a, b
            shared = sorted(set(pc.loc[pc["model"] == a, "case_id"]) & set(pc.loc[pc["model"] == b, "case_id"]))
            if shared:
                st.session_state["pref_case"] = random.choice(shared)
        c1, c2 = st.columns(2)
        model_a = c1.selectbox("Model A", models, key="pref_a")
        model_b = c2.selectbox("Model B", models, index=1, key="pref_b")
        shared = [] if model_a == model_b else  sorted(set(pc.loc[pc["model"] == model_a, "case_id"]) & set(pc.loc[pc["model"] == model_b, "case_id"]))
        if model_a == model_b:
            st.warning("Choose two different models.")
        elif not shared:
            st.info("The two models share no case.")
        else:
            case_id = st.selectbox("Case", shared, key="pref_case")
            run_ids = {}
            cols = st.columns(2)
            for col, side, model in ((cols[0], "A", model_a), (cols[1], "B", model_b)):
                row = pc[(pc["model"] == model) & (pc["case_id"] == case_id)].iloc[0]
                run_ids[side] = row["run_id"]
                run = run_of(data, row["run_id"])
                video = run.video_path(case_id) if run is not None else None
                with col:
                    st.subheader(side)
                    if video is not None:
                        st.video(str(video))
                    else:
                        st.info("No video kept for this case: judge from another case.")
            with st.form("vote_form", clear_on_submit=True):
                voter = st.text_input("Your name or id (optional)", key="pref_voter")
                answers = {d: st.radio(d, list(pref.OUTCOMES), index=None, horizontal=True,
                                       format_func=LABELS.get, key=f"pref_vote_{d}")
                           for d in [*dims, "overall"]}
                if st.form_submit_button("Submit votes"):
                    votes = [pref.Vote(protocol, case_id, model_a, model_b, d, o, voter=voter,
                                       run_a=run_ids["A"], run_b=run_ids["B"]) for d, o in answers.items() if o]
                    if votes:
                        try:
                            st.success(f"Stored {store.add(votes)} vote(s).")
                        except pref.PreferenceError as e:  # a read-only or damaged votes file
                            st.error("Votes not stored:")
                            st.text(str(e))
                    else:
                        st.warning("No dimension was rated: nothing stored.")

with tab_results:
    try:
        votes = store.votes(protocol)
    except pref.PreferenceError as e:
        st.error("Votes unreadable:")
        st.text(str(e))
        votes = pd.DataFrame(columns=pref.VOTE_COLUMNS)
    st.text(f"{len(votes)} vote(s) for this protocol.")
    if votes.empty:
        st.info("No votes yet: rate a pair on the Vote tab.")
    else:
        ties = st.radio("Ties", ["half", "davidson"], horizontal=True, key="pref_ties",
                        format_func={"half": "half a win each", "davidson": "Davidson model"}.get)
        voted = sorted(votes["dimension"].unique())
        dim = st.selectbox("Dimension", voted, key="pref_dim")
        ratings = ui.bt_ratings(votes[votes["dimension"] == dim].reset_index(drop=True), ties)
        st.dataframe(ratings.round(1), hide_index=True, width="stretch", key="pref_ratings")
        st.caption("Bradley-Terry ratings on the Elo scale with 95% bootstrap intervals over votes (200 resamples, seed 0).")
        st.subheader("Agreement of automatic dimensions with human ratings")
        agree = pref.agreement_table(votes, lb.table, dims, ties=ties)
        st.dataframe(agree.round(3), hide_index=True, width="stretch", key="pref_agreement")
        st.caption("Spearman's rho and Kendall's tau between the human Bradley-Terry rating and the automatic "
                   "0-100 score, over the models both cover.")
        with st.expander("All votes"):
            st.dataframe(votes, hide_index=True, width="stretch")
