"""A lost database connection answers 503 with Retry-After, never a 500.

``CONN_HEALTH_CHECKS`` (settings) makes the next request open a new connection; this
middleware turns the request that met the broken one into a clear, retryable answer:
the error envelope under ``/api/``, a short text page elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import suppress

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse

from labeling.api.middleware import envelope

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
MESSAGE = (
    "The database could not be reached while answering this request (connection lost). "
    "Writes are all-or-nothing and repeating a request is safe (an import or an annotation "
    "is never stored twice): retry in a few seconds."
)


class DatabaseUnavailableMiddleware:
    """Answer 503 + ``Retry-After`` when a view meets a lost or refused database connection."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        for conn in connections.all(initialized_only=True):
            if not conn.in_atomic_block:
                with suppress(OperationalError, InterfaceError):
                    conn.close_if_unusable_or_obsolete()
        return service_unavailable(request)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The 503 answer: the API's error envelope, or plain text for the admin."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = envelope(503, MESSAGE, code="database_unavailable")
    else:
        response = HttpResponse(MESSAGE, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
