"""The OpenAPI generator: every error an operation can answer is documented with ``Error``.

``Error`` is the one error envelope ``{"detail", "code", "errors"}``. Added to every
operation: 400 (bad parameters or body; NUL in any query parameter), 401 and 403 unless
it is open to anyone, 404 when it has a path parameter or pages, 409 on writes (and on
views with ``may_conflict``), 413 and 415 when it takes a body, 429 when it is throttled.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

DESCRIPTIONS = {
    "400": "Bad input; `errors` names each field.",
    "401": "Missing or invalid credentials.",
    "403": "Signed in, but your role does not allow this.",
    "404": "Missing, or not visible to you (the same answer).",
    "409": "Valid, but the current state forbids it now.",
    "413": "The body is larger than LABELING_MAX_UPLOAD_BYTES.",
    "415": "The body is not JSON (Content-Type: application/json).",
    "429": "Too many attempts; wait for Retry-After seconds.",
}


class ErrorSerializer(serializers.Serializer):
    """Every error answer of the API."""

    detail = serializers.CharField(help_text="Reads well on its own; names the field if any.")
    code = serializers.CharField(help_text="Machine-readable: invalid, not_found, conflict…")
    errors = serializers.DictField(  # type: ignore[assignment]  # a declared field, not .errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="{field: [messages]}; empty when the problem is not about a field.",
    )

    class Meta:
        ref_name = "Error"


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses each operation can give."""

    def _error_codes(self) -> list[str]:
        view = self.view
        open_to_all = any(isinstance(p, AllowAny) for p in view.get_permissions())
        takes_body = self.method in ("POST", "PUT", "PATCH") and (
            self.get_request_serializer() is not None
        )
        codes = ["400"]
        if not open_to_all:
            codes += ["401", "403"]
        if "{" in self.path or self._get_paginator() is not None:
            codes.append("404")
        if self.method != "GET" or getattr(view, "may_conflict", False):
            codes.append("409")
        if takes_body:
            codes += ["413", "415"]
        if view.get_throttles() or self.path.endswith("/auth/token/"):  # see lockout.py
            codes.append("429")
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        codes = {code for code in responses if code.startswith(("4", "5"))}
        codes.update(self._error_codes())
        error = self.resolve_serializer(ErrorSerializer, direction).ref
        for code in sorted(codes):
            existing = responses.get(code) or {}
            responses[code] = {
                "content": {"application/json": {"schema": error}},
                "description": existing.get("description") or DESCRIPTIONS.get(code, "Error."),
            }
        return responses
