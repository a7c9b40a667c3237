"""Browser fixtures: Playwright's sync API driving Debian's chromium against the live server."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless chromium for the session; never downloads a browser."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
    # in a thread with a running loop unless told it is safe (it is: one thread, no awaits).
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield instance
        instance.close()


def wait_until(
    page: Any, expression: str, *, arg: Any = None, timeout: float = 10_000, polling: Any = None
) -> Any:
    """Poll ``expression`` (a JS expression or function, as for wait_for_function) until it
    is truthy, through page.evaluate (the DevTools protocol, which the page's CSP does not
    govern). Navigations while polling are waited out."""
    from playwright.sync_api import Error, TimeoutError

    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            value = page.evaluate(expression, arg)
        except Error as exc:  # the page navigated while evaluating: try again
            if "context was destroyed" not in str(exc) and "navigat" not in str(exc):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_until: {expression[:80]!r} not true after {timeout} ms")
        page.wait_for_timeout(25)


@pytest.fixture
def new_page(browser, live_server) -> Iterator[object]:
    """Open fresh pages (one browser context each, so logins do not mix)."""
    contexts = []

    def make(**options: object) -> object:
        context = browser.new_context(
            viewport={"width": 1360, "height": 900}, base_url=live_server.url, **options
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        # Playwright's own wait_for_function evaluates its predicate with eval inside the
        # page, which the Content-Security-Policy refuses (no unsafe-eval, as it should).
        page.wait_for_function = functools.partial(wait_until, page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot() -> object:
    """Save a full-page screenshot as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: object, name: str, *, full_page: bool = True) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return take


def log_in(page: object, username: str) -> None:
    """Log in through the admin's form (passwords are pw-<username>, see make_user)."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
