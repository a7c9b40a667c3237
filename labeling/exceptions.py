"""Domain errors and the one DRF exception handler that gives every error the same shape.

Every error body is ``{"detail": str, "code": str, "errors": {field: [messages]}}``:
``detail`` reads well on its own and names the field; ``errors`` is empty when the
problem is not about a field.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """An expected failure of a domain function, shown to the client as a 4xx."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, field: str = "", code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(DomainError):
    """The request's data is wrong; ``field`` names what."""


class NotFound(DomainError):
    """Missing, or not visible to this user: the same answer for both."""

    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Forbidden(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "permission_denied"


class Conflict(DomainError):
    """The request is valid but the state forbids it now (e.g. an expired lease)."""

    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field.sub": [messages]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int):  # DRF keys list items' errors by index: name them [i]
                name = f"{prefix}[{key}]"
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            out[prefix] = [str(item) for item in detail]
        else:
            for i, item in enumerate(detail):
                for k, v in _flatten(item, f"{prefix}[{i}]" if prefix else f"[{i}]").items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix] = [str(detail)]
    return {k: v for k, v in out.items() if v}


def _summary(errors: dict[str, list[str]]) -> str:
    parts = [f"{field}: {msgs[0]}" if field else msgs[0] for field, msgs in errors.items()]
    return "; ".join(parts) or "Invalid input."


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: one error shape for domain errors and DRF's own."""
    if isinstance(exc, DomainError):
        errors = {exc.field: [exc.message]} if exc.field else {}
        detail = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return Response(
            {"detail": detail, "code": exc.code, "errors": errors}, status=exc.status_code
        )
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        big = isinstance(exc, RequestDataTooBig)
        return Response(
            {
                "detail": f"body: {exc}",
                "code": "too_large" if big else "invalid",
                "errors": {"body": [str(exc)]},
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE if big else status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        response.data = {"detail": _summary(errors), "code": "invalid", "errors": errors}
    elif isinstance(exc, exceptions.APIException):
        api_detail = exc.detail
        code = getattr(api_detail, "code", None) or exc.default_code
        response.data = {"detail": str(api_detail), "code": str(code), "errors": {}}
    return response
