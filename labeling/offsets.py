"""Pure: offset units. The API counts Unicode code points; JavaScript counts UTF-16 code units.

A character outside the Basic Multilingual Plane (👍, each half of 🇺🇦) is one code point
and two UTF-16 code units, so the two units drift apart after the first such character.
``Utf16Index`` converts offsets into one text both ways; converting from UTF-16 refuses
an offset inside a surrogate pair or inside a grapheme cluster (e + U+0301, 🇺🇦, 👩‍💻),
which no user can select.
Grapheme clusters are the extended ones of UAX #29 (https://unicode.org/reports/tr29/),
found with the ``regex`` module's ``\\X``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

import regex

CODEPOINT = "codepoint"
UTF16 = "utf16"
UNITS = (CODEPOINT, UTF16)
UNIT_DESCRIPTION = (
    "Offsets are Unicode code point indexes into the document's text, half-open [start, end); "
    "with offset_unit=utf16 they are UTF-16 code units, as JavaScript strings count them."
)
START_HELP = (
    "Start (inclusive) in the document's text, in Unicode code points "
    "(UTF-16 code units with offset_unit=utf16)."
)
END_HELP = (
    "End (exclusive) in the document's text, in Unicode code points "
    "(UTF-16 code units with offset_unit=utf16)."
)
VALUE_HELP = (
    "The annotation's value; spans in it ({start, end}) are half-open offsets into the "
    "document's text in Unicode code points (UTF-16 code units with offset_unit=utf16)."
)

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_GRAPHEME = regex.compile(r"\X")
# Characters that join the cluster before them (UAX #29 rules GB3, GB9, GB9a).
_JOINS_PREVIOUS = regex.compile(
    r"[\p{Grapheme_Cluster_Break=Extend}\p{Grapheme_Cluster_Break=ZWJ}"
    r"\p{Grapheme_Cluster_Break=SpacingMark}\p{Grapheme_Cluster_Break=LF}]"
)
# Scanning back for a safe place to start segmenting stops after this many characters and
# segments from the start of the text instead (exact either way, only slower).
_SCAN_LIMIT = 2000


class OffsetError(ValueError):
    """An offset that cannot be converted; ``field`` names it in the request's terms."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _safe_start(text: str, offset: int) -> bool:
    """True when whitespace precedes ``offset`` and its character joins nothing before it."""
    return text[offset - 1].isspace() and not _JOINS_PREVIOUS.match(text, offset)


def is_grapheme_boundary(text: str, offset: int) -> bool:
    """True when code point ``offset`` lies between two extended grapheme clusters of ``text``."""
    if offset <= 0 or offset >= len(text):
        return True
    # Segmenting from a sure cluster start gives the true clusters up to ``offset``.
    lo = offset - 1
    stop = max(0, offset - _SCAN_LIMIT)
    while lo > stop and not _safe_start(text, lo):
        lo -= 1
    if lo <= stop:
        lo = 0
    # Only the character after ``offset`` decides whether a cluster ends there.
    for match in _GRAPHEME.finditer(text, lo, offset + 1):
        if match.end() >= offset:
            return match.end() == offset
    return True  # pragma: no cover - the loop always reaches offset


class Utf16Index:
    """Converts offsets into ``text`` between code points and UTF-16 code units."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._astral = [m.start() for m in _ASTRAL.finditer(text)]  # code point positions
        self._astral_u16 = [p + i for i, p in enumerate(self._astral)]  # their UTF-16 positions
        self.utf16_length = len(text) + len(self._astral)
        self.has_astral = bool(self._astral)

    def to_utf16(self, offset: int) -> int:
        """The UTF-16 offset of code point ``offset``."""
        return offset + bisect_left(self._astral, offset)

    def to_codepoint(self, offset: int, *, field: str) -> int:
        """The code point offset of UTF-16 ``offset``; ``OffsetError`` names ``field`` if none.

        Refuses offsets past the end, inside a surrogate pair, or inside a grapheme cluster.
        Negative offsets are returned unchanged for the value's validator to refuse.
        """
        if offset < 0:
            return offset
        if offset > self.utf16_length:
            raise OffsetError(
                field,
                f"must be <= the document length {self.utf16_length} (UTF-16 code units)",
            )
        before = bisect_right(self._astral_u16, offset - 2)  # astral characters wholly before
        if before < len(self._astral_u16) and self._astral_u16[before] == offset - 1:
            raise OffsetError(
                field,
                f"UTF-16 offset {offset} falls inside a surrogate pair (one character outside "
                "the Basic Multilingual Plane); move it before or after that character",
            )
        codepoint = offset - before
        if not is_grapheme_boundary(self.text, codepoint):
            raise OffsetError(
                field,
                f"UTF-16 offset {offset} falls inside a grapheme cluster (a character with "
                "combining marks, a flag or an emoji sequence); move it before or after it",
            )
        return codepoint


def map_offsets(value: Any, convert: Callable[[int, str], int], *, field: str = "value") -> Any:
    """A copy of ``value`` with ``convert(offset, field)`` applied to every span's start and end.

    A span is any object holding integer ``start`` and ``end`` (attribution roles, sentences);
    other values are copied as they are. ``field`` names the path, e.g.
    ``value.attributions[0].cue.start``.
    """
    if isinstance(value, list):
        return [map_offsets(item, convert, field=f"{field}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, dict):
        return value
    out = {k: map_offsets(v, convert, field=f"{field}.{k}") for k, v in value.items()}
    if _is_offset(value.get("start")) and _is_offset(value.get("end")):
        out["start"] = convert(value["start"], f"{field}.start")
        out["end"] = convert(value["end"], f"{field}.end")
    return out


def _is_offset(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def to_utf16(value: Any, index: Utf16Index) -> Any:
    """``value`` (code points) with every span's offsets in UTF-16 code units."""
    if not index.has_astral:
        return value
    return map_offsets(value, lambda offset, _field: index.to_utf16(offset))


def from_utf16(value: Any, index: Utf16Index, *, field: str = "value") -> Any:
    """``value`` (UTF-16 code units) with every span's offsets in code points.

    Raises ``OffsetError`` naming the first offset that is past the end, inside a
    surrogate pair or inside a grapheme cluster.
    """
    return map_offsets(
        value, lambda offset, name: index.to_codepoint(offset, field=name), field=field
    )


def has_spans(value: Any) -> bool:
    """True when ``value`` holds at least one span (an object with integer start and end)."""
    if isinstance(value, list):
        return any(has_spans(item) for item in value)
    if not isinstance(value, dict):
        return False
    if _is_offset(value.get("start")) and _is_offset(value.get("end")):
        return True
    return any(has_spans(v) for v in value.values())
