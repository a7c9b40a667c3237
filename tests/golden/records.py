"""Export records with every kind of awkward text, shared by the golden-file tests.

``export_records.jsonl`` and ``export_records.csv`` beside this module were written by
the writers of commit dc6ebbb (before orjson and ``csv.writer``) from :func:`records`;
the current writers must reproduce them byte for byte. The ``predictions`` field was
appended later (``,"predictions":[]`` before each JSONL record's closing brace, a
``predictions`` column holding ``[]`` in CSV); with it removed, the files are the old
bytes exactly (checked when it was added).
"""

from __future__ import annotations

from typing import Any

TEXTS = [
    'A spokesperson later posted 🇺🇦👍 and said the talks were "productive" for Kyiv.',
    'The engineer 👩‍💻 said, "例えば this works", and left.',
    "Cafe\u0301 owners said prices rose; others disagreed.",
    "Line one\nline two, with a comma",
    "Windows\r\nline end and a tab\there",
    'Quote "inside" and backslash \\ and \u2028 separator',
    "control \x01 char and DEL \x7f",
    "",
    "=SUM(A1:A2) starts like a formula",
    "\u200f\u200e zero-width marks \ufeff bom inside",
]


def records() -> list[dict[str, Any]]:
    """Sixty records over three kinds, with and without annotations and gold."""
    out = []
    for i in range(60):
        kind = ("verifiability", "stance", "attribution")[i % 3]
        text = TEXTS[i % len(TEXTS)]
        start = 7 * i
        record: dict[str, Any] = {
            "task_id": i + 1,
            "document_id": i // 4 + 1,
            "document_external_id": f"ext,{i // 4}" if i % 6 else None,
            "document_title": f'Title "{i // 4}", 例え\n2 👍',
            "sentence_id": 1000 + i,
            "sentence_position": i % 4,
            "sentence_start": start,
            "sentence_end": start + len(text),
            "sentence_text": text,
            "kind": kind,
            "target": "Ukrainian government 🇺🇦" if kind == "stance" else "",
            "split": ("train", "dev", "test")[i % 3],
            "annotations": [],
            "gold": None,
            "gold_method": None,
            "gold_confidence": None,
            "modal_share": None,
            "tokens": None,
            "bio": None,
        }
        if kind == "attribution":
            n = len(text)
            value = {
                "attributions": [
                    {
                        "source": {"start": start, "end": start + min(2, n)},
                        "cue": {"start": start + min(3, n), "end": start + min(4, n)},
                        "content": {"start": start + min(5, n), "end": start + n},
                    }
                ]
                if i % 4
                else []
            }
            record["tokens"] = [[start, start + 2], [start + 3, start + 4]]
            if i % 4:
                record["bio"] = {"source": ["B", "O"], "cue": ["O", "B"], "content": ["O", "O"]}
        else:
            value = {"label": ("verifiable", "not_a_claim", "favor", "é 👩‍💻")[i % 4]}
        if i % 5 != 4:
            record["annotations"] = [
                {
                    "annotator": name,
                    "value": value,
                    "lead_time_ms": None if name == "zoë" else 1000 + i,
                    "updated_at": f"2026-11-{(i % 28) + 1:02d}T12:00:{i % 60:02d}.{i:06d}+00:00",
                }
                for name in ("alice", "zoë", "annotator-0123456789abcdef")
            ]
            record["gold"] = value
            record["gold_method"] = ("majority", "adjudicated", "dawid_skene")[i % 3]
            record["gold_confidence"] = None if i % 3 == 1 else round(0.5 + (i % 7) / 13, 6)
            record["modal_share"] = (1.0, 0.666667, 0.333333, 0.5)[i % 4]
        out.append(record)
    return out
