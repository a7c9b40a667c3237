"""Every answer under /api/ is JSON in the error envelope, even those Django makes itself.

Unmatched URLs (404), bodies over ``LABELING_MAX_UPLOAD_BYTES`` (413, refused from the
``Content-Length`` before anything is read), NUL in a query parameter (400), a JSON
log-in for a username locked by ``labeling.lockout`` (429 with ``Retry-After``) and any
other HTML error page Django would send (405, 500...) become ``{"detail", "code", "errors"}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from labeling.importing.uploads import too_large_message, upload_too_large
from labeling.lockout import locked_for, lockout_message
from labeling.strings import string_problem

API_PREFIX = "/api/"
LOGIN_PATH = "/api/auth/token/"
_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    429: "throttled",
    500: "server_error",
}
_DETAILS = {
    404: "No API endpoint matches this URL; see /api/schema/ for the list.",
    405: "This method is not allowed on this URL.",
    500: "The server failed on this request; it has been logged.",
}


def envelope(status: int, detail: str, *, code: str = "", field: str = "") -> JsonResponse:
    """A JSON error response in the API's one shape."""
    errors = {field: [detail]} if field else {}
    body = {
        "detail": f"{field}: {detail}" if field else detail,
        "code": code or _CODES.get(status, "error"),
        "errors": errors,
    }
    return JsonResponse(body, status=status)


def too_large(size: int | None = None, *, field: str = "body") -> JsonResponse:
    """413 naming the limit."""
    return envelope(413, too_large_message(size), code="too_large", field=field)


class ApiErrorEnvelopeMiddleware:
    """JSON error envelopes for /api/; refuses oversized bodies and NUL in query strings."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        early = self._refuse(request)
        if early is not None:
            return early
        response = self.get_response(request)
        if upload_too_large(request) is not None:
            return too_large(upload_too_large(request) or None, field="file")
        if response.status_code >= 400 and _is_html_or_empty(response):
            detail = _DETAILS.get(response.status_code) or response.reason_phrase
            return envelope(response.status_code, detail)
        return response

    @staticmethod
    def _refuse(request: HttpRequest) -> HttpResponse | None:
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return envelope(400, "is not a number", field="Content-Length")
        if size > settings.LABELING["MAX_UPLOAD_BYTES"]:
            return too_large(size)
        for name, values in request.GET.lists():
            for text in (name, *values):
                problem = string_problem(text)
                if problem:
                    return envelope(400, problem, field=name if text != name else "query")
        if request.method == "POST" and request.path == LOGIN_PATH:
            return _refuse_login(request)
        return None


def _refuse_login(request: HttpRequest) -> HttpResponse | None:
    """A JSON log-in with a bad string (400) or for a locked username (429, Retry-After)."""
    if not (request.content_type or "").startswith("application/json"):
        return None  # forms: the lockout backend still refuses a locked username
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None  # the view answers the parse error
    if not isinstance(body, dict):
        return None
    for name in ("username", "password"):
        value = body.get(name)
        problem = string_problem(value) if isinstance(value, str) else None
        if problem:
            return envelope(400, problem, field=name)
    username = body.get("username")
    seconds = locked_for(username) if isinstance(username, str) else 0
    if seconds:
        response = envelope(429, lockout_message(seconds), code="throttled")
        response["Retry-After"] = str(seconds)
        return response
    return None


def _is_html_or_empty(response: HttpResponse) -> bool:
    """Django's own error pages (HTML, or plain text/empty for 400/413), not an API answer."""
    if response.streaming:
        return False
    kind = response.get("Content-Type", "")
    return kind.startswith(("text/html", "text/plain")) or not response.content
