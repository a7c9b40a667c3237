"""The Arrow type of annotation values and gold in a Parquet export, from the kinds' JSON Schemas.

Kind-agnostic: a kind's value JSON Schema (the one the OpenAPI document shows) becomes an
Arrow type by :func:`labeling.exporting.writers.arrow_type`; an export of several kinds
gets the union struct that ``pyarrow.json`` and ``datasets`` infer for the same JSONL.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from labeling.exporting.writers import arrow_type, merge_struct_types

_SPAN: dict[str, Any] = {
    "type": "object",
    "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
}
_LABEL: dict[str, Any] = {"type": "object", "properties": {"label": {"type": "string"}}}
# The built-in kinds' value schemas, until labeling.kinds answers value_json_schema().
VALUE_JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    "verifiability": _LABEL,
    "stance": _LABEL,
    "attribution": {
        "type": "object",
        "properties": {
            "attributions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"source": _SPAN, "cue": _SPAN, "content": _SPAN},
                },
            }
        },
    },
}


def value_type(kinds: Iterable[str]) -> pa.DataType | None:
    """The struct type of values of ``kinds`` (None when a kind has no Arrow type)."""
    try:
        types = [arrow_type(VALUE_JSON_SCHEMAS[kind]) for kind in dict.fromkeys(kinds)]
        return merge_struct_types(types) if types else None
    except (KeyError, ValueError):
        return None
