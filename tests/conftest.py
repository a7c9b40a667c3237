"""Shared fixtures, and the rule that under CI=true no test may skip."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.conf import settings

CI = os.environ.get("CI", "").lower() == "true"


def services_mode() -> bool:
    """True when running against PostgreSQL and a Redis broker (the services mode)."""
    db = settings.DATABASES["default"]["ENGINE"]
    return db == "django.db.backends.postgresql" and not settings.CELERY_TASK_ALWAYS_EAGER


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_services = pytest.mark.skip(
        reason="needs services mode: DATABASE_URL=postgres://… and CELERY_BROKER_URL=redis://… "
        "(run ./scripts/test.sh --services)"
    )
    if not services_mode():
        for item in items:
            if "services" in item.keywords:
                item.add_marker(skip_services)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Under CI=true a skip is a failure: CI must run every test it selects."""
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped under CI=true, which is not allowed: {reason}"


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _eager_jobs_unless_services(request: pytest.FixtureRequest) -> object:
    """Jobs run in process, except in tests marked ``services``, which use a real worker.

    In services mode the broker is Redis; tests that are not about the worker still run
    against PostgreSQL but need their jobs done before they assert.
    """
    from config.celery import app

    if "services" in request.keywords:
        yield
        return
    # Celery's settings mapping does not undo cleanly through monkeypatch.setitem (the
    # value stays set), so this is the one place that flips it, and it restores it.
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    """MD5 hashing in tests: users are made by the dozen and PBKDF2 would dominate."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """The cache holds debounce keys; every test starts without them."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def make_user(django_user_model) -> Callable[..., object]:
    counter = {"n": 0}

    def make(username: str | None = None, **extra: object) -> object:
        counter["n"] += 1
        name = username or f"user{counter['n']}"
        return django_user_model.objects.create_user(username=name, password="pw-" + name, **extra)

    return make
