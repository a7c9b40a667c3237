"""Suggestions for a task's sentence: read the context, ask the kind, cache.

A kind that ``suggests`` (attribution: ``labeling.suggesting``) needs the document text
around the sentence and the spans of the sentences before it (to resolve "He added").
One query reads both (a slice of the text, not all of it); the result is cached per
kind and sentence, so the annotators after the first pay one cache read. Kinds without
suggestions cost nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import connection

from labeling.kinds import kind_spec
from labeling.models import Document, Sentence
from labeling.suggesting import SUGGESTER_VERSION
from labeling.suggesting.attribution import LOOKBACK

#: Sentences before the task's one read for pronoun resolution.
EARLIER_SENTENCES = LOOKBACK
#: Characters of text read on either side of the sentence (quotations, paragraph bounds).
CONTEXT_CHARS = 20_000
CACHE_SECONDS = 24 * 60 * 60

# The earlier sentences' spans and the sentence's own, the text slice on the last row only.
# SUBSTR counts characters (code points) in SQLite and PostgreSQL alike.
_CONTEXT_SQL = f"""
SELECT s.start, s."end",
       CASE WHEN s.position = %(position)s THEN SUBSTR(d.text, %(lo)s + 1, %(length)s) END
FROM {Sentence._meta.db_table} s JOIN {Document._meta.db_table} d ON d.id = s.document_id
WHERE s.document_id = %(document)s AND s.position >= %(first)s AND s.position <= %(position)s
ORDER BY s.position
"""  # noqa: S608  # only table names are interpolated


def cache_key(kind: str, sentence_id: int) -> str:
    """Where one sentence's suggestions are cached (versioned with the rules)."""
    return f"labeling:suggestions:v{SUGGESTER_VERSION}:{kind}:{sentence_id}"


def task_suggestions(kind: str, document_id: int, sentence: dict[str, Any]) -> list[dict]:
    """The kind's suggestions for ``sentence`` (``id``, ``position``, ``start``, ``end``).

    Attribution: ``{"source", "cue", "content"}`` spans in document code points plus
    ``confidence`` and ``rule``, most confident first. ``[]`` for kinds without.
    """
    spec = kind_spec(kind)
    if not spec.suggests:
        return []
    key = cache_key(kind, sentence["id"])
    cached = cache.get(key)
    if cached is not None:
        return cached
    start, end, position = sentence["start"], sentence["end"], sentence["position"]
    lo = max(0, start - CONTEXT_CHARS)
    params = {
        "document": document_id,
        "position": position,
        "first": position - EARLIER_SENTENCES,
        "lo": lo,
        "length": end + CONTEXT_CHARS - lo,
    }
    with connection.cursor() as cur:
        cur.execute(_CONTEXT_SQL, params)
        rows = cur.fetchall()
    text = rows[-1][2] if rows and rows[-1][2] is not None else ""
    earlier = [(s - lo, e - lo) for s, e, _ in rows[:-1] if s >= lo]
    suggestions = []
    if text and end - lo <= len(text):
        found = spec.suggest(text, (start - lo, end - lo), earlier)
        suggestions = [_shifted(s, lo) for s in found]
    cache.set(key, suggestions, CACHE_SECONDS)
    return suggestions


def _shifted(value: Any, lo: int) -> Any:
    """``value`` with every span ``{start, end}`` moved by ``lo`` (slice -> document)."""
    if isinstance(value, list):
        return [_shifted(v, lo) for v in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
        return {**value, "start": value["start"] + lo, "end": value["end"] + lo}
    return {k: _shifted(v, lo) for k, v in value.items()}
