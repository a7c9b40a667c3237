"""A task's sentence with its neighbours: the one query the workspace and the lead pages share."""

from __future__ import annotations

from typing import Any

from django.db import connection

from labeling.models import Document, Sentence

#: Sentences shown before and after a task's sentence (workspace, adjudication page).
NEIGHBOURS = 2

# The sentences and the document's title in one query (portable SQL; only integers and
# strings are read).
_WINDOW_SQL = f"""
SELECT s.id, s.position, s.start, s."end", s.text, d.title
FROM {Sentence._meta.db_table} s JOIN {Document._meta.db_table} d ON d.id = s.document_id
WHERE s.document_id = %s AND s.position >= %s AND s.position <= %s
ORDER BY s.position
"""  # noqa: S608  # only table names are interpolated


def sentence_window(
    document_id: int, position: int, neighbours: int = NEIGHBOURS
) -> tuple[list[dict[str, Any]], str]:
    """The sentences ``position ± neighbours`` of a document in order, and its title.

    Each sentence is ``{"id", "position", "start", "end", "text"}`` (document offsets in
    code points). One query.
    """
    with connection.cursor() as cur:
        cur.execute(_WINDOW_SQL, [document_id, position - neighbours, position + neighbours])
        rows = cur.fetchall()
    sentences = [
        {"id": pk, "position": pos, "start": start, "end": end, "text": text}
        for pk, pos, start, end, text, _title in rows
    ]
    return sentences, rows[0][5] if rows else ""
