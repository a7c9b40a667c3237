"""A project's kinds, looked up in the database: the one check that a project has a kind."""

from __future__ import annotations

from typing import Any

from labeling.exceptions import InvalidInput
from labeling.kinds.base import SchemaError
from labeling.kinds.registry import parse_kind_name
from labeling.models import LabelSchema


def project_schema(project_id: int, kind: Any, *, field: str = "kind") -> LabelSchema:
    """The project's schema of ``kind`` (one query); 400 naming ``field`` if it has none."""
    if not isinstance(kind, str) or not kind:
        raise InvalidInput("is required: one of the project's kinds", field=field)
    try:
        parse_kind_name(kind, field)
    except SchemaError as exc:
        raise InvalidInput(exc.message, field=field) from exc
    schema = LabelSchema.objects.filter(project_id=project_id, kind=kind).first()
    if schema is None:
        raise InvalidInput(f"this project has no {kind} schema", field=field)
    return schema
