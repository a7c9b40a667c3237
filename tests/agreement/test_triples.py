"""Triple agreement: swapped sources are disagreement even when every span matches."""

from __future__ import annotations

import pytest

from labeling.agreement import AttributionItem, span_f1, summarize_attributions
from labeling.agreement.triples import triple_counts, triple_f1

TEXT = "Anna 👍 sagte 🇺🇦, Ben 👩‍💻 meinte 例えば café\u0301: „ja“ und „nein“."


def span(sub: str) -> dict:
    i = TEXT.index(sub)
    return {"start": i, "end": i + len(sub)}


def triple(source: str, cue: str, content: str) -> dict:
    return {"source": span(source), "cue": span(cue), "content": span(content)}


RIGHT = [triple("Anna", "sagte", "„ja“"), triple("Ben", "meinte", "„nein“")]
SWAPPED = [triple("Ben", "sagte", "„ja“"), triple("Anna", "meinte", "„nein“")]


def item(*annotations: list[dict]) -> AttributionItem:
    return AttributionItem(
        sentence_start=0, sentence_text=TEXT, annotations=dict(enumerate(annotations))
    )


def test_swapped_sources_score_zero_while_span_f1_is_perfect() -> None:
    items = [item(RIGHT, SWAPPED)]
    assert span_f1(items, 2)["source"] == {"exact": 1.0, "overlap": 1.0}
    assert triple_f1(items, 2) == {"exact": 0.0, "overlap": 0.0}
    assert triple_f1([item(RIGHT, RIGHT)], 2) == {"exact": 1.0, "overlap": 1.0}
    summary = summarize_attributions(items, 2, bootstrap_draws=0)
    assert summary["token_alpha"] == 1.0  # token labels are blind to who said what
    assert summary["triple_f1"] == {"exact": 0.0, "overlap": 0.0}


def test_overlap_matching_is_one_to_one() -> None:
    shifted = [
        {**RIGHT[0], "content": {"start": span("„ja“")["start"] + 1, "end": span("„ja“")["end"]}}
    ]
    # Two identical triples by one annotator count once; overlap matches the shifted one.
    assert triple_f1([item(RIGHT[:1] * 2, shifted)], 2) == {"exact": 0.0, "overlap": 1.0}
    # A single triple cannot match both of the other annotator's overlapping triples.
    wide = [triple("Anna", "sagte", "„ja“ und „nein“")]
    both = [triple("Anna", "sagte", "„ja“"), triple("Anna", "sagte", "„nein“")]
    counts = triple_counts([item(wide, both)], 2)
    assert counts["overlap"][0] == 1
    assert counts["total"][0] == 3
    assert triple_f1([item(wide, both)], 2)["overlap"] == pytest.approx(2 / 3)


def test_empty_lists_give_no_figure() -> None:
    assert triple_f1([item([], [])], 2) == {"exact": None, "overlap": None}
