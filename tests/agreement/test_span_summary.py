"""Attribution runs' span agreement: alpha_U, gamma and triple F1, each with an interval."""

from __future__ import annotations

import numpy as np
import pytest

from labeling.agreement import AttributionItem, summarize_attributions, unitizing_alpha
from labeling.agreement.span_summary import build_continuum, summarize_spans

TEXT = "Anna 👍 sagte 🇺🇦 „die Lage 👩‍💻 ist 例えば café\u0301 ruhig“, und Ben schwieg."


def span(sub: str, offset: int = 0) -> dict:
    i = TEXT.index(sub)
    return {"start": offset + i, "end": offset + i + len(sub)}


def item(offset: int, *annotations: list[dict]) -> AttributionItem:
    return AttributionItem(
        sentence_start=offset, sentence_text=TEXT, annotations=dict(enumerate(annotations))
    )


def quote(offset: int = 0, content: str = "„die Lage 👩‍💻 ist 例えば café\u0301 ruhig“") -> dict:
    return {
        "source": span("Anna", offset),
        "cue": span("sagte", offset),
        "content": span(content, offset),
    }


def corpus(n: int, seed: int = 0) -> list[AttributionItem]:
    rng = np.random.default_rng(seed)
    items = []
    for t in range(n):
        offset = t * (len(TEXT) + 1)
        good = [quote(offset)] if t % 2 == 0 else []
        shorter = [quote(offset, "„die Lage")] if good else []
        annotations = [good, good, good if rng.random() < 0.8 else shorter]
        items.append(item(offset, *annotations))
    return items


def test_span_measures_come_with_intervals_and_their_records() -> None:
    s = summarize_attributions(corpus(40), 3, bootstrap_draws=100)
    u, g = s["unitizing_alpha"], s["gamma"]
    assert 0 < u["alpha"] < 1
    assert set(u["per_role"]) == {"source", "cue", "content"}
    assert u["per_role"]["source"] == 1.0
    assert u["ci95"][0] <= u["alpha"] <= u["ci95"][1]
    assert u["interval"]["resampled"] == "tasks"
    assert u["interval"]["n_draws"] == 100
    assert 0 < g["gamma"] < 1
    assert g["ci95"][0] <= g["gamma"] <= g["ci95"][1]
    assert g["per_role"]["cue"]["gamma"] == 1.0
    assert s["triple_f1"]["exact"] < 1.0
    assert s["triple_f1"]["overlap"] == 1.0
    low, high = s["triple_f1_ci95"]["exact"]
    assert low <= s["triple_f1"]["exact"] <= high
    assert u["n_tasks"] == 40
    assert u["n_annotators_per_task"] == 3


def test_split_content_span_is_disagreement_for_alpha_u_not_for_token_alpha() -> None:
    whole = span("„die Lage 👩‍💻 ist 例えば café\u0301 ruhig“")
    cut = whole["start"] + 10
    halves = [
        {**quote(), "content": {"start": whole["start"], "end": cut}},
        {**quote(), "content": {"start": cut, "end": whole["end"]}},
    ]
    items = [item(0, [quote()], halves)] + [item(0, [quote()], [quote()])] * 3
    s = summarize_attributions(items, 2, bootstrap_draws=0)
    assert s["token_alpha"] == 1.0
    assert s["unitizing_alpha"]["per_role"]["content"] < 1.0
    assert s["gamma"]["per_role"]["content"]["gamma"] < 1.0


def test_corpus_alpha_u_is_the_contract_function_on_the_laid_out_continuum() -> None:
    items = corpus(12, seed=3)
    units, lengths, m, kept = build_continuum(items)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    flat = [
        (int(slot), int(start + off), int(end + off), ["source", "cue", "content"][int(role)])
        for rows, off in zip(units, offsets, strict=True)
        for slot, start, end, role in rows.tolist()
    ]
    expected = unitizing_alpha(flat, begin=0, length=int(lengths.sum()), annotators=range(m))
    got = summarize_spans(items, 3, bootstrap_draws=0)["unitizing_alpha"]
    assert got["alpha"] == pytest.approx(expected["alpha"])


def test_tasks_with_another_number_of_annotators_are_left_out_with_a_warning() -> None:
    items = corpus(6) + [item(0, [quote()], [quote()])]
    s = summarize_spans(items, 3, bootstrap_draws=0)
    assert s["unitizing_alpha"]["n_tasks"] == 6
    assert [w["code"] for w in s["span_warnings"]] == ["tasks_left_out"]
