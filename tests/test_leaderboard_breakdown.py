"""The per-category leaderboard: every dimension scored on each category's own cases, with its
own bootstrap interval, and the model x category heat map."""
from __future__ import annotations

import json

import numpy as np

from lpmbench.leaderboard.charts import heatmap
from lpmbench.leaderboard.data import facets, load_results
from lpmbench.leaderboard.tables import breakdown, build_table, facet_keys
from lpmbench.testing.runs import make_results


def _tag(results, by_case):
    for cases in results.glob("*/cases.jsonl"):
        recs = [json.loads(x) for x in cases.read_text().splitlines()]
        for r in recs:
            r["tags"] = list(r.get("tags") or []) + [by_case(r["case_id"])]
        cases.write_text("".join(json.dumps(r) + "\n" for r in recs))


def test_facets_come_from_key_value_tags_mode_and_style():
    f = facets(["category:listen", "attitude:warm", "turns", "emotion:"], "listen", "photoreal")
    assert f == {"mode": "listen", "style": "photoreal", "category": "listen", "attitude": "warm"}


def test_breakdown_scores_each_category_on_its_own_cases(tmp_path):
    make_results(tmp_path, n_models=3, n_cases=8)
    _tag(tmp_path, lambda cid: f"category:{'a' if int(cid[-1]) % 2 else 'b'}")
    data = load_results(tmp_path)
    assert facet_keys(data)[0] == "category"
    per = breakdown(data, "category", n_boot=100)
    assert set(per["category"]) == {"a", "b"}
    assert (per.groupby("category")["model"].nunique() == 3).all()
    assert np.all(per["overall_lo"] <= per["overall"]) and np.all(per["overall"] <= per["overall_hi"])
    assert heatmap(per, "category", "overall").ok
    assert not heatmap(per, "category", "no_such_dimension").ok


def test_a_category_of_every_case_scores_as_the_whole_table(tmp_path):
    make_results(tmp_path, n_models=2, n_cases=6)
    _tag(tmp_path, lambda cid: "category:everything")
    data = load_results(tmp_path)
    whole = build_table(data, n_boot=0).table.set_index("model")["overall"]
    per = breakdown(data, "category", n_boot=0).set_index("model")["overall"]
    assert np.allclose(per.sort_index(), whole.sort_index())
