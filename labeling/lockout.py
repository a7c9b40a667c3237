"""Log-in lockout: after too many failed log-ins for a username, refuse it for a while.

Every password log-in (the admin's form, ``POST /api/auth/token/``) goes through
``LockoutModelBackend``: ``LABELING_LOGIN_FAILURES`` failures (default 5) within
``LABELING_LOGIN_LOCKOUT_SECONDS`` (default 900) lock the username for that long, the
right password included. Counters live in the cache: set ``CACHE_URL`` to Redis so that
every server process shares them.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied


def _key(username: str) -> str:
    digest = hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()
    return f"labeling:login-failures:{digest}"


def _limits() -> tuple[int, int]:
    return int(settings.LABELING["LOGIN_FAILURES"]), int(settings.LABELING["LOGIN_LOCKOUT_SECONDS"])


def locked_for(username: str | None) -> int:
    """Seconds until ``username`` may log in again (0: it may now)."""
    if not username:
        return 0
    limit, window = _limits()
    key = _key(username)
    found = cache.get_many([key, f"{key}:since"])
    if found.get(key, 0) < limit:
        return 0
    since = found.get(f"{key}:since", time.time())
    return max(1, int(since + window - time.time()) + 1)


def note_failure(username: str) -> None:
    """Count a failed log-in (atomically); the window starts at the first failure."""
    _limit, window = _limits()
    key = _key(username)
    if cache.add(key, 1, timeout=window):
        cache.set(f"{key}:since", time.time(), timeout=window)
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)


def clear_failures(username: str) -> None:
    key = _key(username)
    cache.delete_many([key, f"{key}:since"])


def lockout_message(seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return (
        f"Too many failed log-ins for this account: try again in about {minutes} minute"
        f"{'s' if minutes != 1 else ''}."
    )


class LockoutModelBackend(ModelBackend):
    """Django's ModelBackend; counts failures per username and refuses locked usernames."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get(self._username_field())
        if username is not None and locked_for(str(username)):
            raise PermissionDenied(lockout_message(locked_for(str(username))))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if username is not None and password is not None:
            if user is None:
                note_failure(str(username))
            else:
                clear_failures(str(username))
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
