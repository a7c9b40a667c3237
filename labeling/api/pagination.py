"""Pagination for list endpoints: ``page`` from 1, ``page_size`` from 1 to 500 (default 50)."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from labeling.exceptions import InvalidInput

MAX_PAGE_SIZE = 500


def _positive(request: Request, name: str, *, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    bound = f"between 1 and {maximum}" if maximum else "of at least 1"
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"must be an integer {bound}; got {raw[:40]!r}", field=name) from None
    if value < 1 or (maximum is not None and value > maximum):
        raise InvalidInput(f"must be an integer {bound}; got {value}", field=name)
    return value


class DefaultPagination(PageNumberPagination):
    """Page-number pagination; a bad ``page`` or ``page_size`` is a 400 naming it."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int | None:
        return _positive(request, "page_size", maximum=MAX_PAGE_SIZE) or self.page_size

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        _positive(request, self.page_query_param)  # "last" is not offered: numbers only
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.page_query_param,
                "required": False,
                "in": "query",
                "description": "Page number, from 1; past the last page: 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page, 1 to {MAX_PAGE_SIZE} (default "
                f"{self.page_size or 50}); other values are refused with a 400.",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]
