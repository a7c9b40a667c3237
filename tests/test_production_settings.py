"""Production (DEBUG off): unsafe secret keys refuse to start, HTTPS is on, the admin works.

Each case runs in a fresh interpreter, since settings are read once from the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = "k3y-" + "0123456789abcdefghijklmnopqrstuvwxyz" * 2
# Set by the browser tests in this process; check --deploy rightly refuses it.
NOT_IN_PRODUCTION = {"DJANGO_ALLOW_ASYNC_UNSAFE"}
SETTING_NAMES = (
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
)


def run(code: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", *SETTING_NAMES, *NOT_IN_PRODUCTION}
    }
    # A database of its own: the production checks must not touch the test database.
    base = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "STATIC_ROOT": str(tmp_path / "static"),  # empty: collectstatic never ran
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**clean, **base, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


SHOW = """
import config.settings as s
for name in {names!r}:
    print(name, getattr(s, name, None))
"""


@pytest.mark.parametrize(
    "key", ["", "x", "changeme", "secret", "insecure-dev-only-key-change-me", "a" * 49, "ab" * 30]
)
def test_debug_off_refuses_a_placeholder_or_short_secret_key(tmp_path, key: str) -> None:
    result = run("import config.settings", {"DEBUG": "false", "SECRET_KEY": key}, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_debug_off_turns_https_protections_on_by_default(tmp_path) -> None:
    result = run(
        SHOW.format(names=SETTING_NAMES), {"DEBUG": "false", "SECRET_KEY": GOOD_KEY}, tmp_path
    )
    assert result.returncode == 0, result.stderr
    values = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert values == {
        "SECURE_SSL_REDIRECT": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "True",
        "SECURE_HSTS_PRELOAD": "True",
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
    }


def test_each_https_protection_can_be_turned_off_by_the_environment(tmp_path) -> None:
    env = {"DEBUG": "false", "SECRET_KEY": GOOD_KEY, "SECURE_HSTS_SECONDS": "0"}
    env.update({name: "false" for name in SETTING_NAMES if name != "SECURE_HSTS_SECONDS"})
    result = run(SHOW.format(names=SETTING_NAMES), env, tmp_path)
    assert result.returncode == 0, result.stderr
    values = dict(line.split(" ", 1) for line in result.stdout.splitlines())
    assert values["SECURE_HSTS_SECONDS"] == "0"
    assert values["SECURE_PROXY_SSL_HEADER"] == "None"
    assert {values[n] for n in SETTING_NAMES} - {"0", "None"} == {"False"}


def test_check_deploy_is_clean(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{
                k: v
                for k, v in os.environ.items()
                if k not in {"DEBUG", "SECRET_KEY", *NOT_IN_PRODUCTION}
            },
            "DEBUG": "false",
            "SECRET_KEY": GOOD_KEY,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


ADMIN_LOGIN = """
import re
import django
django.setup()
from django.conf import settings
from django.test import Client
assert not settings.DEBUG
client = Client()
plain = client.get("/admin/login/")
print("http", plain.status_code, plain.get("Location"))
page = client.get("/admin/login/", secure=True)
print("https", page.status_code, page.get("Strict-Transport-Security"))
html = page.content.decode()
assert 'name="username"' in html
css = re.findall(r'href="(/static/[^"]+\\.css)"', html)
assert css, html[:500]
for url in css:
    print("static", url, client.get(url, secure=True).status_code)
"""


def test_admin_login_works_with_debug_off_without_collectstatic(tmp_path) -> None:
    env = {"DEBUG": "false", "SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "testserver"}
    result = run(ADMIN_LOGIN, {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "http 301 https://testserver/admin/login/"
    assert lines[1].startswith("https 200 max-age=31536000; includeSubDomains; preload")
    statics = [line for line in lines if line.startswith("static ")]
    assert statics
    assert all(line.endswith(" 200") for line in statics), statics
