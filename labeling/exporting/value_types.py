"""The Arrow type of annotation values and gold in a Parquet export, from the kinds' JSON Schemas.

Kind-agnostic: a kind's value JSON Schema (the one the OpenAPI document shows) becomes an
Arrow type by :func:`labeling.exporting.writers.arrow_type`; an export of several kinds
gets the union struct that ``pyarrow.json`` and ``datasets`` infer for the same JSONL.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from labeling.exporting.writers import arrow_type, merge_struct_types
from labeling.kinds import kind_spec


def value_type(kinds: Iterable[str]) -> pa.DataType | None:
    """The struct type of values of ``kinds`` (None when a kind has no Arrow type)."""
    try:
        types = [arrow_type(kind_spec(kind).value_json_schema()) for kind in dict.fromkeys(kinds)]
        return merge_struct_types(types) if types else None
    except (KeyError, ValueError):
        return None
