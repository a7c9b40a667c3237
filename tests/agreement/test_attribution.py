"""Attribution agreement: span F1 (exact/overlap), has-attribution and token-role alpha."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labeling.agreement import (
    AttributionItem,
    has_attribution_codes,
    krippendorff_alpha,
    matched_spans,
    span_f1,
    summarize_attributions,
    token_role_codes,
)
from labeling.agreement.attribution import TOKEN_LABELS
from labeling.text.tokenization import tokenize

TEXT = "Putin said the war would end soon."
START = 100  # the sentence sits at document offset 100


def span(text: str, sub: str, occurrence: int = 0) -> dict:
    i = -1
    for _ in range(occurrence + 1):
        i = text.index(sub, i + 1)
    return {"start": START + i, "end": START + i + len(sub)}


def triple(source: str, cue: str, content: str) -> dict:
    return {"source": span(TEXT, source), "cue": span(TEXT, cue), "content": span(TEXT, content)}


FULL = triple("Putin", "said", "the war would end soon")


def test_matched_spans_exact_vs_overlap() -> None:
    assert matched_spans([(0, 5)], [(0, 5)], "exact") == 1
    assert matched_spans([(0, 5)], [(2, 7)], "exact") == 0
    assert matched_spans([(0, 5)], [(2, 7)], "overlap") == 1
    assert matched_spans([(0, 5)], [(5, 9)], "overlap") == 0  # half-open: touching is not sharing


def test_overlap_matching_is_one_to_one_and_maximum() -> None:
    # One long span against two short ones inside it: only one match.
    assert matched_spans([(0, 10)], [(0, 3), (5, 8)], "overlap") == 1
    # A greedy first-fit would pair (0,5)-(4,7) and leave (6,10) unmatched; the maximum is 2.
    assert matched_spans([(0, 5), (6, 10)], [(4, 7), (0, 2)], "overlap") == 2


def test_span_f1_hand_example() -> None:
    shifted = {
        "source": span(TEXT, "Putin"),
        "cue": span(TEXT, "said"),
        "content": span(TEXT, "the war would end"),  # misses "soon"
    }
    items = [
        AttributionItem(START, TEXT, {0: [FULL], 1: [shifted]}),
        AttributionItem(200, "Nothing here.", {0: [], 1: []}),
    ]
    f1 = span_f1(items, 2)
    assert f1["source"] == {"exact": 1.0, "overlap": 1.0}
    assert f1["cue"] == {"exact": 1.0, "overlap": 1.0}
    assert f1["content"] == {"exact": 0.0, "overlap": 1.0}


def test_span_f1_micro_average_over_pairs() -> None:
    # Annotator 2 marks no attribution: pairs (0,2) and (1,2) add 1 unmatched span each.
    items = [AttributionItem(START, TEXT, {0: [FULL], 1: [FULL], 2: []})]
    f1 = span_f1(items, 3)
    # TP = 1 (pair 0-1); spans: pair 0-1 has 2, 0-2 has 1, 1-2 has 1 -> 2*1/4.
    assert f1["source"]["exact"] == pytest.approx(0.5)


def test_span_f1_none_without_spans() -> None:
    items = [AttributionItem(START, TEXT, {0: [], 1: []})]
    assert span_f1(items, 2)["cue"] == {"exact": None, "overlap": None}


def test_repeated_source_counts_once() -> None:
    two_quotes = [FULL, {**FULL, "content": span(TEXT, "soon")}]
    items = [AttributionItem(START, TEXT, {0: two_quotes, 1: [FULL]})]
    f1 = span_f1(items, 2)
    assert f1["source"]["exact"] == 1.0
    assert f1["content"]["exact"] == pytest.approx(2 * 1 / 3)


def test_has_attribution_codes_missing_vs_empty() -> None:
    items = [
        AttributionItem(START, TEXT, {0: [FULL], 1: []}),
        AttributionItem(200, "x", {1: [FULL]}),
    ]
    np.testing.assert_array_equal(has_attribution_codes(items, 3), [[1, 0, -1], [-1, 1, -1]])


def test_token_role_codes() -> None:
    items = [AttributionItem(START, TEXT, {0: [FULL], 2: []})]
    codes, owners = token_role_codes(items, 3)
    tokens = tokenize(TEXT, offset=START)
    assert codes.shape == (len(tokens), 3)
    labels = [TOKEN_LABELS[c] for c in codes[:, 0]]
    assert labels == ["source", "cue", "content", "content", "content", "content", "content", "O"]
    assert (codes[:, 1] == -1).all()
    assert (codes[:, 2] == 0).all()
    assert (owners == 0).all()


def test_summarize_attributions() -> None:
    partial = {**FULL, "content": span(TEXT, "the war")}
    items = [
        AttributionItem(START, TEXT, {0: [FULL], 1: [FULL]}),
        AttributionItem(START, TEXT, {0: [FULL], 1: [partial]}),
        AttributionItem(START, TEXT, {0: [FULL], 1: []}),
        AttributionItem(200, "No quote here at all.", {0: [], 1: []}),
        AttributionItem(300, "Only one annotator.", {0: []}),
        AttributionItem(400, "", {}),
    ]
    progress = []
    s = summarize_attributions(items, 2, bootstrap_draws=200, seed=1, progress=progress.append)
    json.dumps(s, allow_nan=False)
    assert progress[0] == 0.0
    assert progress[-1] == 1.0
    assert progress == sorted(progress)
    has = has_attribution_codes(items, 2)
    assert s["alpha"] == pytest.approx(krippendorff_alpha(has, "nominal", n_categories=2))
    token_codes, _ = token_role_codes(items, 2)
    assert s["token_alpha"] == pytest.approx(
        krippendorff_alpha(token_codes, "nominal", n_categories=4)
    )
    assert s["n_items"] == 5
    assert s["n_annotations"] == 9
    assert s["n_annotators"] == 2
    assert s["span_f1"]["source"] == {
        "exact": pytest.approx(2 * 2 / 5),
        "overlap": pytest.approx(0.8),
    }
    assert s["span_f1"]["content"]["exact"] == pytest.approx(2 * 1 / 5)
    assert s["span_f1"]["content"]["overlap"] == pytest.approx(2 * 2 / 5)
    assert set(s["per_label"]) == {"source", "cue", "content"}
    assert s["pairwise"][0]["span_f1"] == s["span_f1"]
    dis = s["item_disagreement"]
    assert dis[0] == 0.0  # identical triples
    assert dis[2] == 1.0  # yes vs no
    assert 0.0 < dis[1] < dis[2]  # same yes, different content extent
    assert dis[3] == 0.0
    assert dis[4] is None
    assert dis[5] is None


def test_summarize_attributions_empty() -> None:
    s = summarize_attributions([], 3, bootstrap_draws=10)
    json.dumps(s, allow_nan=False)
    assert s["alpha"] is None
    assert s["token_alpha"] is None
    assert s["span_f1"]["cue"] == {"exact": None, "overlap": None}
    assert s["item_disagreement"] == []
