"""Content-Security-Policy: on every response, no inline script allowed, none in templates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[1] / "labeling"


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    out = {}
    for part in header.split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize(
    "url", ["/admin/login/", "/api/docs/", "/api/redoc/", "/api/nowhere/", "/favicon.ico"]
)
def test_every_response_has_a_policy_without_inline_scripts(client, url) -> None:
    policy = directives(client.get(url))
    assert policy["script-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert "'unsafe-eval'" not in policy["script-src"]


def test_logged_in_pages_and_api_have_the_policy(client, make_user) -> None:
    client.force_login(make_user("boss", is_staff=True, is_superuser=True))
    for url in ("/admin/", "/admin/labeling/annotate/", "/api/projects/"):
        assert directives(client.get(url))["script-src"] == ["'self'"]


def test_swagger_ui_init_code_is_a_script_file(client) -> None:
    page = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script[^>]*>", page)
    assert scripts
    assert all("src=" in s for s in scripts), scripts
    init = client.get("/api/docs/?script=")
    assert init["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in init.content


def test_redoc_allows_only_its_logo_beyond_self(client) -> None:
    policy = directives(client.get("/api/redoc/"))
    assert policy["img-src"] == ["'self'", "data:", "https://cdn.redoc.ly/redoc/logo-mini.svg"]
    assert directives(client.get("/admin/login/"))["img-src"] == ["'self'", "data:"]


def test_favicon_points_at_the_static_icon(client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith("labeling/favicon.svg")


def test_no_template_has_an_inline_script_or_handler() -> None:
    """An inline <script> (other than JSON data) or on…= handler would be refused."""
    problems = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag and "application/json" not in tag:
                problems.append(f"{path.name}: {tag}")
        problems += [f"{path.name}: {m}" for m in re.findall(r"\son[a-z]+\s*=", text)]
    assert problems == []
