"""Pure offset conversion between code points and UTF-16 code units (no database)."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.offsets import (
    OffsetError,
    Utf16Index,
    from_utf16,
    is_grapheme_boundary,
    to_utf16,
)

# Emoji, a flag, a ZWJ sequence, CJK, a combining mark and a skin-tone modifier.
TEXT = "A spokesperson later posted 🇺🇦👍 and said 例えば cafe\u0301 👩\u200d💻 👍🏽 ok."
PIECES = [
    "a",
    " ",
    "\n",
    "🇺🇦",
    "👍",
    "👩\u200d💻",
    "例えば",
    "e\u0301",
    "👍🏽",
    "\u0e33",
    "\r\n",
    "x",
]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clusters(text: str) -> set[int]:
    ends = {0}
    for m in regex.finditer(r"\X", text):
        ends.add(m.end())
    return ends


def test_code_points_and_utf16_agree_with_python_encoding() -> None:
    index = Utf16Index(TEXT)
    assert index.utf16_length == utf16_len(TEXT)
    for cp in range(len(TEXT) + 1):
        assert index.to_utf16(cp) == utf16_len(TEXT[:cp])


def test_said_after_flag_and_emoji_round_trips() -> None:
    index = Utf16Index(TEXT)
    start = TEXT.index("said")
    span = {"start": index.to_utf16(start), "end": index.to_utf16(start + 4)}
    assert span == {"start": start + 3, "end": start + 7}  # the flag and 👍 are 3 extra units
    back = from_utf16({"attributions": [{"cue": span}]}, index)
    cue = back["attributions"][0]["cue"]
    assert TEXT[cue["start"] : cue["end"]] == "said"


@pytest.mark.parametrize(
    ("needle", "inside"),
    [
        ("👍 and", 1),  # between the surrogates of 👍
        ("🇺🇦", 2),  # between the two regional indicators of the flag
        ("e\u0301", 1),  # between e and its combining acute accent
        ("👩\u200d💻", 2),  # between 👩 and the zero-width joiner
        ("👍🏽", 2),  # between 👍 and its skin-tone modifier
    ],
)
def test_offset_inside_a_character_is_refused_naming_the_field(needle: str, inside: int) -> None:
    index = Utf16Index(TEXT)
    offset = index.to_utf16(TEXT.index(needle)) + inside
    with pytest.raises(OffsetError) as err:
        from_utf16({"attributions": [{"cue": {"start": offset, "end": offset + 5}}]}, index)
    assert err.value.field == "value.attributions[0].cue.start"


def test_offset_past_the_end_names_the_utf16_length() -> None:
    index = Utf16Index("👍x")
    with pytest.raises(OffsetError, match="document length 3 .UTF-16 code units"):
        index.to_codepoint(4, field="value.x.end")


def test_bmp_only_text_converts_to_itself_and_cjk_counts_one_unit() -> None:
    index = Utf16Index("例えば e\u0301")
    assert [index.to_utf16(i) for i in range(7)] == list(range(7))
    assert to_utf16({"start": 1, "end": 3}, index) == {"start": 1, "end": 3}


def test_non_span_values_and_bad_offsets_pass_through_for_the_validator() -> None:
    index = Utf16Index("👍 x")
    value = {"label": "favor", "n": {"start": "1", "end": 2}, "neg": {"start": -1, "end": 2}}
    assert from_utf16(value, index) == {**value, "neg": {"start": -1, "end": 1}}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_grapheme_boundaries_match_full_segmentation(pieces: list[str]) -> None:
    text = "".join(pieces)
    ends = clusters(text)
    for offset in range(len(text) + 1):
        assert is_grapheme_boundary(text, offset) == (offset in ends), (text, offset)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=40))
def test_utf16_round_trip_at_every_grapheme_boundary(pieces: list[str]) -> None:
    text = "".join(pieces)
    index = Utf16Index(text)
    for cp in clusters(text):
        assert index.to_codepoint(index.to_utf16(cp), field="f") == cp
