"""CORS on /api/ for the origins in CORS_ALLOWED_ORIGINS (none by default)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

ORIGIN = "https://label.example.org"


def preflight(client, url: str = "/api/projects/", origin: str = ORIGIN):
    return client.options(
        url,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_no_origin_is_allowed_by_default(client) -> None:
    response = preflight(client)
    assert "Access-Control-Allow-Origin" not in response


def test_preflight_from_an_allowed_origin_gets_cors_headers_without_credentials(
    client, settings
) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN, "http://localhost:5173"]
    response = preflight(client)
    assert response.status_code == 200  # not 401: a preflight carries no credentials
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    allowed = response["Access-Control-Allow-Headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed


def test_actual_request_from_an_allowed_origin_is_readable(client, settings, make_user) -> None:
    from rest_framework.authtoken.models import Token

    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    key = Token.objects.create(user=make_user("lead")).key
    response = client.get("/api/me/", HTTP_ORIGIN=ORIGIN, HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    # Errors are readable cross-origin too (the browser would hide the body otherwise).
    missing = client.get("/api/nothing/", HTTP_ORIGIN=ORIGIN)
    assert missing.status_code == 404
    assert missing["Access-Control-Allow-Origin"] == ORIGIN


def test_other_origins_and_non_api_paths_get_no_cors_headers(client, settings) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]
    assert "Access-Control-Allow-Origin" not in preflight(client, origin="https://evil.example")
    assert "Access-Control-Allow-Origin" not in preflight(client, url="/admin/login/")


def test_allowed_origins_come_from_the_environment(tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "CORS_ALLOWED_ORIGINS": f"{ORIGIN},http://localhost:5173"}
    out = subprocess.run(
        [sys.executable, "-c", "import config.settings as s; print(s.CORS_ALLOWED_ORIGINS)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == str([ORIGIN, "http://localhost:5173"])
