"""The ``offset_unit`` request option: offsets in code points (default) or UTF-16 code units.

Views read and write code points; with ``offset_unit=utf16`` they convert the request's
offsets on the way in and the response's on the way out, one query for the documents' texts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request

from labeling.exceptions import InvalidInput
from labeling.models import Document
from labeling.offsets import (
    CODEPOINT,
    UNIT_DESCRIPTION,
    UNITS,
    UTF16,
    OffsetError,
    Utf16Index,
    from_utf16,
    has_spans,
    to_utf16,
)

OFFSET_UNIT_PARAM = OpenApiParameter(
    "offset_unit",
    str,
    enum=list(UNITS),
    required=False,
    description=f"Unit of every offset in the request and the response. {UNIT_DESCRIPTION} "
    "Default: codepoint.",
)


def offset_unit_field() -> serializers.ChoiceField:
    """The body field twin of the ``offset_unit`` query parameter."""
    return serializers.ChoiceField(
        choices=list(UNITS),
        required=False,
        help_text=f"Unit of the offsets in this body and the response. {UNIT_DESCRIPTION}",
    )


class Offsets:
    """One request's offset unit; converts values of given documents to and from it."""

    def __init__(self, unit: str) -> None:
        self.unit = unit
        self._indexes: dict[int, Utf16Index] = {}

    @classmethod
    def of(cls, request: Request, body: Any = None) -> Offsets:
        """The unit from the query string or the body's ``offset_unit``; 400 if unknown."""
        query = request.query_params.get("offset_unit")
        field = body.get("offset_unit") if isinstance(body, dict) else None
        for given in (query, field):
            if given is not None and given not in UNITS:
                raise InvalidInput(
                    f"must be one of {', '.join(UNITS)}; got {given!r}", field="offset_unit"
                )
        if query is not None and field is not None and query != field:
            raise InvalidInput(
                f"the query says {query!r} and the body {field!r}: give one", field="offset_unit"
            )
        return cls(query or field or CODEPOINT)

    @property
    def utf16(self) -> bool:
        return self.unit == UTF16

    def load(self, document_ids: Iterable[int], *, texts: dict[int, str] | None = None) -> None:
        """Read the texts of these documents (one query; none in code point mode)."""
        if not self.utf16:
            return
        known = dict(texts or {})
        missing = {d for d in document_ids if d not in self._indexes and d not in known}
        if missing:
            known.update(Document.objects.filter(pk__in=missing).values_list("id", "text"))
        for doc_id, text in known.items():
            self._indexes.setdefault(doc_id, Utf16Index(text))

    def _index(self, document_id: int) -> Utf16Index:
        if document_id not in self._indexes:
            self.load([document_id])
        return self._indexes[document_id]

    def out(self, body: Any, document_id: int) -> Any:
        """``body`` with every span's offsets in the request's unit."""
        if not self.utf16 or not has_spans(body):
            return body
        return to_utf16(body, self._index(document_id))

    def out_items(self, items: list[dict[str, Any]], document_key: str) -> list[dict[str, Any]]:
        """Each item converted with the document its ``document_key`` names."""
        if not self.utf16:
            return items
        self.load(item[document_key] for item in items if has_spans(item))
        return [self.out(item, item[document_key]) for item in items]

    def into(self, value: Any, document_id: int, *, field: str = "value") -> Any:
        """``value`` sent in the request's unit, in code points; 400 naming a bad offset."""
        if not self.utf16 or not has_spans(value):
            return value
        try:
            return from_utf16(value, self._index(document_id), field=field)
        except OffsetError as exc:
            raise InvalidInput(exc.message, field=exc.field) from exc


class OffsetUnitPageMixin:
    """For list views whose items name their document in ``document``: converts each page."""

    offset_document_key = "document"

    def get_paginated_response(self, data: Any) -> Any:
        offsets = Offsets.of(self.request)  # type: ignore[attr-defined]
        items = offsets.out_items(list(data), self.offset_document_key)
        return super().get_paginated_response(items)  # type: ignore[misc]
