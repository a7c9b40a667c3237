"""/api/docs/ (Swagger UI) and /api/redoc/ render in chromium with no network at all."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def offline_page(new_page, live_server):
    """A page whose requests to anything but the live server are aborted and recorded.

    Recorded: what the page needs to work (scripts, styles, fonts, data). Redoc's footer
    links a decorative logo image from its CDN; that image may fail.
    """
    page = new_page()
    ours = urlsplit(live_server.url).netloc
    outside: list[str] = []

    def route(route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == ours or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            if route.request.resource_type != "image":
                outside.append(url)
            route.abort()

    page.context.route("**/*", route)
    return page, outside


def test_swagger_ui_renders_offline(new_page, live_server, shot) -> None:
    page, outside = offline_page(new_page, live_server)
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/projects/{project_id}/next-task/" in p.replace("\u200b", "") for p in paths)
    shot(page, "08_api_docs_swagger_offline")
    assert outside == []


def test_redoc_renders_offline(new_page, live_server) -> None:
    page, outside = offline_page(new_page, live_server)
    page.goto("/api/redoc/")
    page.wait_for_selector("text=Labeling backend API", timeout=60_000)  # slow under load
    page.wait_for_selector("h2 >> text=/next/i")
    assert outside == []
