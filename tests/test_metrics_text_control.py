"""Validity of text_control.adherence: every vocabulary action performed in its span is detected,
and not detected where it is absent or outside its span.

A clip performs the seven actions one after another (with speech-like mouth motion throughout)
and leaves one span empty. Every (action, span) pair is a query: the truth is whether that action
was performed in that span. Precision and recall over all queries are printed and must be >= 0.85.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lpmbench.case import ACTIONS, PromptEvent
from lpmbench.metrics import text_control as tcm
from lpmbench.testing import clips as mf
from lpmbench.testing.scoring import analyse, score

SPAN_S, GAP_S, LEAD_S = 1.6, 0.6, 1.0


def spans_for(n: int) -> list[tuple[float, float]]:
    return [(LEAD_S + i * (SPAN_S + GAP_S), LEAD_S + i * (SPAN_S + GAP_S) + SPAN_S) for i in range(n)]


def performed_clip(out_dir, order: tuple[str, ...], fps: float, seed: int = 0):
    """A clip performing ``order`` in consecutive spans, then one empty span; returns (clip, spans)."""
    spans = spans_for(len(order) + 1)
    acts = [(a, s, e) for a, (s, e) in zip(order, spans)]
    tracks = mf.perform(acts, mouth=mf.speech_mouth(0.2, seed=seed))
    clip = mf.make_clip(out_dir, "actions_" + "_".join(a[:3] for a in order), duration=spans[-1][1] + 0.8, fps=fps,
                        prompts=acts, seed=seed, **tracks)
    return clip, spans, acts


def confusion(features, clip, spans, acts) -> tuple[int, int, int, int, list]:
    """(tp, fp, fn, tn, rows) over every (action, span) query: one case per action, with that action
    prompted in every span (the baseline is outside all spans, as in the real case)."""
    tp = fp = fn = tn = 0
    rows = []
    for a in ACTIONS:
        case = dataclasses.replace(clip.case, prompts=tuple(PromptEvent(s, e, a) for s, e in spans))
        out = score(tcm.METRICS, features, case)
        for (s, e), d in zip(spans, out.details["text_control.adherence"]["prompts"]):
            truth = any(x == a and xs == s for x, xs, _ in acts)
            tp += truth and d["detected"]
            fn += truth and not d["detected"]
            fp += (not truth) and d["detected"]
            tn += (not truth) and not d["detected"]
            rows.append((a, s, truth, d["detected"], d["statistic"], d["threshold"]))
    return tp, fp, fn, tn, rows


def check(tp, fp, fn, tn, rows, label):
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    print(f"\n{label}: precision {precision:.3f} recall {recall:.3f} (tp {tp} fp {fp} fn {fn} tn {tn})")
    for r in rows:
        if r[2] != r[3]:
            print("  wrong:", r)
    assert precision >= 0.85 and recall >= 0.85


@pytest.fixture(scope="module")
def default_set(tmp_path_factory):
    d = mf.media_dir()
    clip, spans, acts = performed_clip(d, ACTIONS, fps=10)
    return clip, spans, acts, analyse(clip.video, clip.case)


def test_every_action_detected_in_span_only(default_set):
    clip, spans, acts, feats = default_set
    tp, fp, fn, tn, rows = confusion(feats, clip, spans, acts)
    check(tp, fp, fn, tn, rows, "7 actions, 10 fps")
    assert tp == len(ACTIONS)  # every performed action, in its own span


def test_adherence_on_the_case_prompts(default_set):
    clip, spans, acts, feats = default_set
    out = score(tcm.METRICS, feats, clip.case)
    assert out.values["text_control.adherence"] == 1.0, out.details
    assert [p["action"] for p in out.details["text_control.adherence"]["prompts"]] == list(ACTIONS)
    # the same prompts shifted onto the neighbouring span (where another action, or none, happens)
    shifted = tuple(PromptEvent(spans[i + 1][0], spans[i + 1][1], a) for i, a in enumerate(ACTIONS))
    out2 = score(tcm.METRICS, feats, dataclasses.replace(clip.case, prompts=shifted))
    assert out2.values["text_control.adherence"] <= 0.15, out2.details


def test_no_vocabulary_prompt_is_unavailable(default_set):
    clip, spans, acts, feats = default_set
    case = dataclasses.replace(clip.case, prompts=(PromptEvent(1.0, 2.0, None, "a warm smile"),))
    out = score(tcm.METRICS, feats, case)
    assert "text_control.adherence" in out.unavailable


@pytest.mark.slow
def test_precision_recall_other_order_25fps(tmp_path_factory):
    d = mf.media_dir()
    order = ("close_eyes", "look_right", "smile", "shake_head", "raise_eyebrows", "nod", "look_left")
    clip, spans, acts = performed_clip(d, order, fps=25, seed=3)
    check(*confusion(analyse(clip.video, clip.case), clip, spans, acts), "7 actions, other order, 25 fps")


def test_nod_excursion_must_return():
    fps = 10.0
    p = np.zeros(40)
    span = np.zeros(40, bool)
    span[5:35] = True
    p[10:14] = [5, 10, 10, 5]  # goes and comes back: a nod
    assert tcm.nod_excursion(p, span, fps, 6.0) == pytest.approx(10.0)
    p2 = np.zeros(40)
    p2[10:] = 10.0  # shifts and stays
    assert tcm.nod_excursion(p2, span, fps, 6.0) == 0.0
