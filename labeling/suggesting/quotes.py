"""Quotation spans in a paragraph: curly, straight, guillemets, German and CJK marks.

A quotation never crosses a line break here: news style closes no quotation at the end
of a paragraph that goes on in the next one, so an unclosed quotation runs to the end of
its paragraph. Offsets are indices into the Python string, i.e. Unicode code points.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Opening mark -> the marks that close it.
PAIRS: dict[str, str] = {
    "“": "”",  # English curly
    "„": "“”",  # German/Ukrainian low-high, closed by “ (or ” in some styles)
    "«": "»",
    "‹": "›",
    "「": "」",
    "『": "』",
    "‘": "’",
    '"': '"',
}
CLOSERS: frozenset[str] = frozenset('”“»›」』’"')
OPENERS: frozenset[str] = frozenset(PAIRS)
LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_OTHER_BREAK_RE = re.compile("[" + LINE_BREAKS.replace("\n", "") + "]")
_MARK_RE = re.compile("[" + re.escape("".join(OPENERS | CLOSERS)) + "]")
# Straight and single quotes open only after one of these (or at the start).
_BEFORE_OPENING = frozenset(" \t([{—–-/" + "".join(PAIRS) + LINE_BREAKS)


@dataclass(frozen=True)
class Quote:
    """A quotation: ``start`` is the opening mark, ``end`` is just past the closing mark
    (or the paragraph end when ``closed`` is false)."""

    start: int
    end: int
    closed: bool

    @property
    def inner(self) -> tuple[int, int]:
        """The quoted text without its marks."""
        return self.start + 1, self.end - 1 if self.closed else self.end


def _opens(text: str, i: int, lo: int) -> bool:
    char = text[i]
    if char not in ('"', "‘"):
        return char in OPENERS
    before = text[i - 1] if i > lo else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return before in _BEFORE_OPENING and not after.isspace()


def _closes(text: str, i: int, opener: str) -> bool:
    char = text[i]
    if char not in PAIRS[opener]:
        return False
    if char == "’":  # an apostrophe unless no letter follows ("MoD’s" vs "says’ ")
        return not (i + 1 < len(text) and text[i + 1].isalpha())
    return True


def paragraph_bounds(text: str, start: int, end: int, reach: int = 20_000) -> tuple[int, int]:
    """The line around ``[start, end)``, looking at most ``reach`` characters either way.

    ``\n`` is found first (C speed); the rarer breaks are then looked for only between
    it and the sentence, so the cost follows the line's length, not ``reach``.
    """
    lo_limit, hi_limit = max(0, start - reach), min(len(text), end + reach)
    lo = text.rfind("\n", lo_limit, start) + 1 or lo_limit
    for match in _OTHER_BREAK_RE.finditer(text, lo, start):
        lo = match.end()
    hi = text.find("\n", end, hi_limit)
    hi = hi_limit if hi == -1 else hi
    other = _OTHER_BREAK_RE.search(text, end, hi)
    return lo, other.start() if other else hi


def find_quotes(text: str, lo: int, hi: int) -> list[Quote]:
    """Quotations in ``text[lo:hi]`` (one paragraph), in order, not nested."""
    quotes: list[Quote] = []
    opener_at = -1
    for match in _MARK_RE.finditer(text, lo, hi):
        i = match.start()
        if opener_at < 0:
            if _opens(text, i, lo):
                opener_at = i
        elif _closes(text, i, text[opener_at]):
            quotes.append(Quote(opener_at, i + 1, True))
            opener_at = -1
    if opener_at >= 0:
        quotes.append(Quote(opener_at, hi, False))
    return quotes
