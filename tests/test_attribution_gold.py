"""The committed attribution gold: offsets agree with their texts and with the spec."""

from __future__ import annotations

import unicodedata

import pytest

from bench import attribution_gold as gold
from labeling.text.segmentation import split_sentences
from labeling.text.tokenization import ROLES

FILES = [gold.GOLD_FILE, gold.DEMO_GOLD_FILE]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_span_is_the_text_it_names_and_every_cue_lies_in_its_sentence(path):
    for record in gold.load(path):
        text = record["text"]
        spans = [(s["start"], s["end"]) for s in record["sentences"]]
        assert spans == split_sentences(text), record["id"]
        for sentence in record["sentences"]:
            for triple in sentence["attributions"]:
                for role in ROLES:
                    span = triple[role]
                    assert 0 <= span["start"] < span["end"] <= len(text)
                    assert text[span["start"] : span["end"]] == span["text"], (record["id"], role)
                assert sentence["start"] <= triple["cue"]["start"]
                assert triple["cue"]["end"] <= sentence["end"]


def test_committed_files_are_what_the_spec_builds():
    assert gold.load(gold.GOLD_FILE) == gold.records()
    assert gold.load(gold.DEMO_GOLD_FILE) == gold.demo_records()


def test_the_demo_gold_labels_the_shipped_demo_document():
    [record] = gold.load(gold.DEMO_GOLD_FILE)
    assert record["text"] == gold.DEMO_TEXT_FILE.read_text(encoding="utf-8")
    assert sum(bool(s["attributions"]) for s in record["sentences"]) >= 15


def test_hand_labelled_set_size_and_variety():
    records = gold.load(gold.GOLD_FILE)
    sentences = [s for r in records for s in r["sentences"]]
    assert len(sentences) >= 50
    assert {r["split"] for r in records} == {"dev", "heldout"}
    assert any(not s["attributions"] for s in sentences)
    cues = {t["cue"]["text"].lower() for s in sentences for t in s["attributions"]}
    assert {"said", "told", "according to"} <= cues
    # a quotation that starts in an earlier sentence than its cue
    assert any(t["content"]["start"] < s["start"] for s in sentences for t in s["attributions"])
    text = "".join(r["text"] for r in records)
    assert any(ord(c) > 0xFFFF for c in text)  # emoji outside the BMP
    assert "\u200d" in text  # a ZWJ sequence
    assert "🇺🇦" in text  # a flag
    assert any(unicodedata.combining(c) for c in text)
    assert any("\u4e00" <= c <= "\u9fff" for c in text)  # CJK


def test_bench_counts_exact_and_overlap_matches_per_role_and_triple():
    from bench import suggester_bench

    text = "Police said 34 people were detained."
    record = gold.build("t", text, [("Police", "said", "34 people were")], "dev")
    counts, errors = suggester_bench.evaluate([record])
    # The suggester marks "34 people were detained": the content overlaps but is not exact.
    assert counts["source"]["exact"] == {"tp_p": 1, "tp_g": 1, "pred": 1, "gold": 1}
    assert counts["content"]["exact"]["tp_p"] == 0
    assert counts["content"]["overlap"]["tp_p"] == 1
    assert counts["triple"]["exact"]["tp_p"] == 0
    assert counts["triple"]["overlap"]["tp_p"] == 1
    assert suggester_bench._prf(counts["triple"]["overlap"]) == (1.0, 1.0, 1.0)
    assert len(errors) == 1
