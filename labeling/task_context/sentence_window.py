"""A task's sentence with its neighbours: the one query the workspace and the lead pages share.

Each sentence says what separates it from the sentence before it in the document's text
(``break_before``), so a page can keep the paragraphs, and may carry its word tokens
(``tokens``, from ``labeling.text.tokenization``), the units a span selection snaps to.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connection

from labeling.models import Document, Sentence
from labeling.text.tokenization import tokenize

#: Sentences shown before and after a task's sentence (workspace, adjudication page).
NEIGHBOURS = 2

#: Values of ``break_before``: a blank line, a line break, other characters, nothing.
PARAGRAPH, LINE, SPACE, NONE = "paragraph", "line", "space", "none"
BREAKS = (PARAGRAPH, LINE, SPACE, NONE)
BREAK_HELP = (
    "What separates this sentence from the one before it in the document's text: "
    "'paragraph' (a blank line, i.e. two or more line breaks), 'line' (one line break), "
    "'space' (other characters, usually a space) or 'none' (nothing, or the first "
    "sentence). Pages keep paragraphs and line breaks with it."
)
TOKENS_HELP = (
    "The sentence's word tokens in document offsets, as the server's tokenizer splits "
    "them (the units the workspace snaps span selections to; exports' BIO tags use the "
    "same tokens). A token never splits a grapheme cluster (a flag, an emoji sequence, "
    "a letter with combining marks); ideographs and kana are one token each."
)

# The sentences, the gap before each (from the end of the previous sentence, which is
# read for the first one too), the document's title and source, in one query. Portable
# SQL (window functions and substr count characters on SQLite and PostgreSQL alike).
_WINDOW_SQL = f"""
SELECT w.id, w.position, w.start, w."end", w.text, w.gap, w.title, w.source_url
FROM (
  SELECT s.id, s.position, s.start, s."end", s.text, d.title, d.source_url,
         substr(d.text, COALESCE(LAG(s."end") OVER (ORDER BY s.position), 0) + 1,
                s.start - COALESCE(LAG(s."end") OVER (ORDER BY s.position), 0)) AS gap
  FROM {Sentence._meta.db_table} s JOIN {Document._meta.db_table} d ON d.id = s.document_id
  WHERE s.document_id = %s AND s.position >= %s AND s.position <= %s
) w
WHERE w.position >= %s
ORDER BY w.position
"""  # noqa: S608  # only table names are interpolated


def break_before(gap: str) -> str:
    """The ``break_before`` value of the text between two sentences."""
    newlines = gap.count("\n")
    if newlines >= 2:
        return PARAGRAPH
    if newlines == 1:
        return LINE
    return SPACE if gap else NONE


def token_spans(text: str, start: int) -> list[dict[str, int]]:
    """The word tokens of a sentence starting at document offset ``start``, as spans."""
    return [{"start": a, "end": b} for a, b in tokenize(text, start)]


def sentence_row(
    pk: int, position: int, start: int, end: int, text: str, gap: str, *, tokens: bool
) -> dict[str, Any]:
    """A sentence as pages receive it (see ``SentenceSerializer``)."""
    row: dict[str, Any] = {
        "id": pk,
        "position": position,
        "start": start,
        "end": end,
        "text": text,
        "break_before": break_before(gap),
    }
    if tokens:
        row["tokens"] = token_spans(text, start)
    return row


def document_sentences(text: str, sentences: Iterable[Sentence]) -> list[dict[str, Any]]:
    """Every sentence of a document (in order) with its break and tokens; no query."""
    rows = []
    previous_end = 0
    for s in sentences:
        gap = text[previous_end : s.start]
        rows.append(sentence_row(s.pk, s.position, s.start, s.end, s.text, gap, tokens=True))
        previous_end = s.end
    return rows


def sentence_window(
    document_id: int, position: int, neighbours: int = NEIGHBOURS, *, tokens: bool = False
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The sentences ``position ± neighbours`` of a document in order, and the document.

    Each sentence is ``{"id", "position", "start", "end", "text", "break_before"}`` (and
    ``tokens`` when asked; document offsets in code points); the document is
    ``{"title", "source_url"}``. One query.
    """
    first = position - neighbours
    with connection.cursor() as cur:
        cur.execute(_WINDOW_SQL, [document_id, first - 1, position + neighbours, first])
        rows = cur.fetchall()
    sentences = [
        sentence_row(pk, pos, start, end, text, gap or "", tokens=tokens)
        for pk, pos, start, end, text, gap, _title, _source in rows
    ]
    document = {"title": rows[0][6], "source_url": rows[0][7]} if rows else {}
    return sentences, document
