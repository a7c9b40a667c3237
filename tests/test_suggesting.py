"""Rule-based attribution suggestions: concrete spans for concrete sentences."""

from __future__ import annotations

import pytest

from labeling.suggesting import Suggestion, suggest_attributions
from labeling.suggesting.lexicon import CUE_RE, lemma_of
from labeling.suggesting.quotes import find_quotes, paragraph_bounds
from labeling.text.segmentation import split_sentences

E_ACUTE = "e\u0301"


def span_of(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def suggest(text: str, sentence_index: int) -> list[Suggestion]:
    sentences = split_sentences(text)
    return suggest_attributions(text, sentences[sentence_index], sentences)


def texts(text: str, suggestion: Suggestion) -> tuple[str, str, str]:
    return tuple(text[a:b] for a, b in (suggestion.source, suggestion.cue, suggestion.content))


def test_offsets_are_code_points_around_emoji_flags_zwj_cjk_and_combining_marks():
    text = (
        "Fans 👍 cheered in Kyiv 🇺🇦 and the coder 👩‍💻 wrote 例えば a note. "
        f"Ren{E_ACUTE}e Dubois said the caf{E_ACUTE} 👩‍💻 in 東京 would reopen 🇺🇦."
    )
    [s] = suggest(text, 1)
    assert s.source == span_of(text, f"Ren{E_ACUTE}e Dubois")
    assert s.cue == span_of(text, "said")
    assert s.content == span_of(text, f"the caf{E_ACUTE} 👩‍💻 in 東京 would reopen 🇺🇦")
    # The flag is two code points and the ZWJ sequence three: the content ends after the
    # whole flag, and no span ends inside a surrogate pair (a UTF-16 split would be visible
    # as a length that differs from the code point count).
    assert text[s.content[1] - 2 : s.content[1]] == "🇺🇦"
    assert s.content[1] == len(text) - 1
    assert s.as_value() == {
        "source": {"start": s.source[0], "end": s.source[1]},
        "cue": {"start": s.cue[0], "end": s.cue[1]},
        "content": {"start": s.content[0], "end": s.content[1]},
    }


def test_quote_with_emoji_before_cue_and_inverted_source_with_combining_mark():
    text = f"“What a night! 🔥⚽ 👩‍💻,” said Jos{E_ACUTE} Mart{E_ACUTE}, coach of 例えば FC."
    [s] = suggest(text, 0)
    assert texts(text, s) == (
        f"Jos{E_ACUTE} Mart{E_ACUTE}, coach of 例えば FC",
        "said",
        "What a night! 🔥⚽ 👩‍💻",
    )
    assert s.rule == "quote-before-cue"


def test_that_clause_after_told_skips_the_listener_and_the_time():
    text = "Finance Minister Rahul Mehta told parliament on Thursday that the deficit would narrow."
    [s] = suggest(text, 0)
    assert texts(text, s) == ("Finance Minister Rahul Mehta", "told", "the deficit would narrow")
    assert s.rule == "cue-that"


def test_told_without_that_skips_a_named_listener():
    text = "His lawyer, Zhang Min, told Reuters the verdict would be appealed."
    [s] = suggest(text, 0)
    assert texts(text, s) == ("His lawyer, Zhang Min", "told", "the verdict would be appealed")


def test_apposition_and_aside_before_the_cue():
    text = (
        "Mikhail Mizintsev, the head of the control centre, told reporters that the pause "
        "would begin. President Putin, for his part, stressed that storming the plant was unwise."
    )
    first, second = suggest(text, 0), suggest(text, 1)
    assert texts(text, first[0])[0] == "Mikhail Mizintsev, the head of the control centre"
    assert texts(text, second[0]) == (
        "President Putin",
        "stressed",
        "storming the plant was unwise",
    )


def test_content_before_the_source_and_cue():
    text = "Turnout was lower than last week, police said on Friday."
    [s] = suggest(text, 0)
    assert texts(text, s) == ("police", "said", "Turnout was lower than last week")
    assert s.rule == "content-before-cue"


def test_according_to_at_the_start_and_at_the_end():
    text = (
        "According to police in Kharkiv, three people were injured. "
        "Northwind plans to cut 1,200 jobs, according to a person familiar with the matter."
    )
    [first] = suggest(text, 0)
    [second] = suggest(text, 1)
    assert texts(text, first) == ("police in Kharkiv", "According to", "three people were injured")
    assert texts(text, second) == (
        "a person familiar with the matter",
        "according to",
        "Northwind plans to cut 1,200 jobs",
    )
    assert first.rule == second.rule == "according-to"


def test_two_cues_in_one_sentence_give_nested_triples():
    text = (
        "The Kremlin press service said Putin held a “protracted” call on Friday, during which "
        "the Russian president noted that he ordered the assault cancelled."
    )
    outer, inner = suggest(text, 0)
    assert texts(text, outer) == (
        "The Kremlin press service",
        "said",
        "Putin held a “protracted” call on Friday, during which the Russian president noted "
        "that he ordered the assault cancelled",
    )
    assert texts(text, inner) == (
        "the Russian president",
        "noted",
        "he ordered the assault cancelled",
    )


def test_quote_that_opens_in_an_earlier_sentence_is_followed_back():
    text = (
        "“The pause will begin when the white flag is raised. If such signs are found, the "
        "forces will stop,” Mizintsev said. He added that 1,844 soldiers had surrendered."
    )
    sentences = split_sentences(text)
    assert len(sentences) == 3
    assert suggest(text, 0) == []  # no cue in the first sentence: its quote belongs to the next
    [s] = suggest(text, 1)
    assert s.content == (1, text.index(",”"))
    assert s.content[0] < sentences[1][0] <= s.cue[0]
    assert texts(text, s)[:2] == ("Mizintsev", "said")


def test_pronoun_source_resolves_to_the_nearest_earlier_named_source():
    text = (
        "Mizintsev said the corridor was open. The ministry said the talks would go on. "
        "He added that 1,844 soldiers had surrendered."
    )
    [s] = suggest(text, 2)
    assert s.source == span_of(text, "Mizintsev")  # "the ministry" does not fit "he"
    assert s.rule == "cue-that+pronoun"
    assert s.cue == span_of(text, "added")


def test_it_resolves_to_an_organisation_not_a_person():
    text = (
        "The coast guard said two boats were missing. Captain Ana Ruiz said the sea was calm. "
        "It said a search would resume at dawn."
    )
    [s] = suggest(text, 2)
    assert s.source == span_of(text, "The coast guard")


def test_pronoun_without_earlier_attribution_resolves_to_the_earlier_subject():
    text = (
        "Climate activist Greta Lindqvist was detained during a protest in Oslo. "
        "“They cannot arrest the science,” she told reporters."
    )
    [s] = suggest(text, 1)
    assert texts(text, s) == (
        "Climate activist Greta Lindqvist",
        "told",
        "They cannot arrest the science",
    )


def test_unresolved_pronoun_keeps_the_pronoun_with_lower_confidence():
    text = "She said the vote would be held in May."
    [s] = suggest(text, 0)
    assert texts(text, s)[0] == "She"
    assert s.rule == "cue-content+pronoun-unresolved"
    resolved = suggest("Mayor Ana Ruiz spoke. She said the vote would be held in May.", 1)[0]
    assert s.confidence < resolved.confidence


def test_no_attribution_scare_quotes_and_verbs_inside_quotations():
    assert suggest("Heavy snow closed schools across northern Japan on Tuesday ❄️.", 0) == []
    assert suggest("The plant held a “protracted” shutdown on Friday.", 0) == []
    # "said" inside the quotation is content, not a cue of this sentence.
    assert suggest("“He said he would come,” was all the note read.", 0) == []
    assert suggest("The operation was announced by President Putin on 24 February.", 0) == []
    assert suggest("The index added 3% on Friday.", 0) == []


def test_quotation_marks_of_several_languages():
    cases = [
        ("„Wir lassen niemanden allein“, Brandt told lawmakers.", "Wir lassen niemanden allein"),
        ("« Nous irons jusqu’au bout », said Marc Dubois.", "Nous irons jusqu’au bout"),
        ('"No injuries have been reported," the company said.', "No injuries have been reported"),
        ("「実り多い」, said Kenji Sato.", "実り多い"),
    ]
    for text, content in cases:
        [s] = suggest(text, 0)
        assert texts(text, s)[2] == content, text


def test_cue_before_a_quotation_that_runs_into_the_next_sentence():
    text = "The agency head warned: “Markets are volatile. Prices will rise.” Oil rose 3%."
    [s] = suggest(text, 0)
    assert texts(text, s) == (
        "The agency head",
        "warned",
        "Markets are volatile. Prices will rise",
    )
    assert s.content[1] > split_sentences(text)[0][1]  # past the end of the cue's sentence
    assert s.rule == "cue-before-quote"


def test_headline_with_colon():
    text = "Russian MoD: Moscow Ready to Announce Ceasefire\nThe ministry said it was ready."
    [s] = suggest(text, 0)
    assert texts(text, s) == ("Russian MoD", ":", "Moscow Ready to Announce Ceasefire")
    assert s.rule == "headline-colon"
    assert s.confidence < suggest(text, 1)[0].confidence


def test_sentence_outside_the_text_is_refused():
    with pytest.raises(ValueError, match="sentence span"):
        suggest_attributions("Short.", (0, 99))
    with pytest.raises(ValueError, match="sentence span"):
        suggest_attributions("Short.", (3, 3))


def test_quotes_never_cross_a_line_break_and_apostrophes_are_not_quotes():
    text = "“First paragraph runs on\nThe MoD’s head said ‘fine’ today."
    lo, hi = paragraph_bounds(text, 0, 5)
    assert (lo, hi) == (0, text.index("\n"))
    [unclosed] = find_quotes(text, lo, hi)
    assert (unclosed.start, unclosed.end, unclosed.closed) == (0, hi, False)
    lo2, hi2 = paragraph_bounds(text, hi + 1, hi + 5)
    [single] = find_quotes(text, lo2, hi2)
    assert text[single.start : single.end] == "‘fine’"


def test_lexicon_inflections_and_noun_like_forms():
    assert lemma_of("Emphasised") == ("emphasise", False)
    assert lemma_of("denies") == ("deny", False)
    assert lemma_of("told") == ("tell", False)
    assert lemma_of("according  to") == ("according to", False)
    assert lemma_of("claims") == ("claim", True)  # "claims" is a cue only before "that"
    assert [m.group() for m in CUE_RE.finditer("the statement said; unsaid; hearsay")] == ["said"]
    text = "The claims were false. The ministry claims that the claims were false."
    found = suggest(text, 1)
    assert [texts(text, s)[1] for s in found] == ["claims"]


def test_paragraph_bounds_stop_at_every_line_break_and_within_reach():
    text = "ab\ncd\u2028ef gh\rij\n"
    assert paragraph_bounds(text, 6, 8) == (6, 11)  # between U+2028 and \r
    assert paragraph_bounds(text, 0, 2) == (0, 2)
    assert paragraph_bounds(text, 12, 14) == (12, 14)
    long_line = "x" * 30_000 + " hello " + "y" * 30_000
    assert paragraph_bounds(long_line, 30_001, 30_006, reach=20_000) == (10_001, 50_006)
