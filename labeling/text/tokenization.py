"""Pure word tokenization with character offsets, and BIO role tags over tokens.

Offsets are half-open ``(start, end)`` pairs of code points in the coordinates of the
text passed in, shifted by ``offset`` so callers can tokenize a sentence and get
document offsets. These are the tokens the workspace snaps selections to (the task
payload and the document context send them), so a token never splits an extended
grapheme cluster (UAX #29: e + U+0301, 🇺🇦, 👩‍💻): the API refuses such offsets.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import regex

# Words keep inner apostrophes, hyphens and digit separators ("Kremlin's", "1,844",
# "pro-Russian", "3.5"); every other non-space character is a token of its own.
# ASCII text (the common case) takes this plain ``re`` pattern.
TOKEN_RE = re.compile(r"\w+(?:['’\-.,]\w+)*|[^\w\s]", re.UNICODE)
# Any other text: the same rule over grapheme clusters (a cluster is a word character
# when its first character is), so combining marks stay with their letter and a flag or
# an emoji sequence is one token; ideographs and kana, written without spaces, are one
# token each (a run of them would otherwise be one unselectable "word"). On ASCII text
# both patterns give the same tokens (tested).
_IDEOGRAPH = r"[\p{Han}\p{Hiragana}\p{Katakana}]"
_WORD_CLUSTER = rf"(?!{_IDEOGRAPH})(?=\w)\X"
GRAPHEME_TOKEN_RE = regex.compile(
    rf"(?:{_WORD_CLUSTER})+(?:['’\-.,](?:{_WORD_CLUSTER})+)*|(?!\s)\X"
)

ROLES: tuple[str, ...] = ("source", "cue", "content")
# When roles overlap on a token, the single-sequence label keeps the narrowest role:
# a cue inside a content span stays a cue.
ROLE_PRIORITY: tuple[str, ...] = ("cue", "source", "content")

Span = tuple[int, int]


def tokenize(text: str, offset: int = 0) -> list[Span]:
    """Return the ``(start, end)`` offsets of the tokens of ``text``, shifted by ``offset``."""
    pattern = TOKEN_RE if text.isascii() else GRAPHEME_TOKEN_RE
    return [(m.start() + offset, m.end() + offset) for m in pattern.finditer(text)]


def token_in_span(token: Span, span: Span) -> bool:
    """A token belongs to a span when they share at least one character."""
    return token[0] < span[1] and span[0] < token[1]


def bio_tags(tokens: Sequence[Span], spans: Iterable[Span]) -> list[str]:
    """BIO tags (``B``/``I``/``O``) for ``tokens`` against one role's ``spans``.

    Each span, in sorted order, marks its first overlapping token ``B`` and the following
    overlapping tokens ``I`` where they are still ``O``; tokens covered by no span are
    ``O``. ``tokens`` must be sorted and disjoint, as :func:`tokenize` returns them:
    O(tokens + spans log tokens).
    """
    ends = [end for _, end in tokens]
    n = len(tokens)
    tags = ["O"] * n
    for span_start, span_end in sorted(spans):
        i = bisect_right(ends, span_start)  # the first token ending after the span starts
        first = True
        while i < n and tokens[i][0] < span_end:
            if first:
                tags[i] = "B"
                first = False
            elif tags[i] == "O":
                tags[i] = "I"
            i += 1
    return tags


def role_bio_tags(
    tokens: Sequence[Span], attributions: Iterable[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """One BIO sequence per role for attribution triples ``{role: {"start", "end"}}``."""
    attributions = list(attributions)
    return {
        role: bio_tags(
            tokens,
            [(a[role]["start"], a[role]["end"]) for a in attributions if a.get(role)],
        )
        for role in ROLES
    }


def token_role_labels(
    tokens: Sequence[Span], attributions: Iterable[Mapping[str, Any]]
) -> list[str]:
    """One role label per token (``source``/``cue``/``content``/``O``), narrowest role wins."""
    per_role = role_bio_tags(tokens, attributions)
    labels = []
    for i in range(len(tokens)):
        label = "O"
        for role in ROLE_PRIORITY:
            if per_role[role][i] != "O":
                label = role
                break
        labels.append(label)
    return labels
