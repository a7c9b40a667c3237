"""Login guessing is throttled: after 5 failures a username is locked, right password included."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from labeling import lockout

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("alice", is_staff=True)


def token(client: APIClient, password: str, username: str = "alice"):
    return client.post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_token_endpoint_locks_after_five_failures_then_refuses_the_right_password(alice):
    api = APIClient()
    for _ in range(5):
        assert token(api, "wrong").status_code == 400
    response = token(api, "pw-alice")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert "Too many failed log-ins" in body["detail"]
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    # Another account is not affected.
    assert token(api, "wrong", username="bob").status_code == 400


def test_four_failures_do_not_lock_and_a_success_resets_the_count(alice):
    api = APIClient()
    for _ in range(4):
        assert token(api, "wrong").status_code == 400
    assert token(api, "pw-alice").status_code == 200
    for _ in range(4):
        assert token(api, "wrong").status_code == 400
    assert token(api, "pw-alice").status_code == 200


def test_lock_ends_after_the_window(alice, monkeypatch):
    api = APIClient()
    for _ in range(5):
        token(api, "wrong")
    assert token(api, "pw-alice").status_code == 429
    now = lockout.time.time()
    monkeypatch.setattr(lockout.time, "time", lambda: now + 15 * 60 + 1)
    lockout.cache.delete(lockout._key("alice"))  # the cache entry's own timeout has passed too
    assert token(api, "pw-alice").status_code == 200


def test_admin_login_locks_after_five_failures(client, alice):
    for _ in range(5):
        response = client.post("/admin/login/", {"username": "alice", "password": "no"})
        assert response.status_code == 200  # the form again, with an error
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "alice", "password": "pw-alice"}
    )
    assert response.status_code == 200
    assert "Too many failed log-ins for this account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_lock_is_shared_by_the_api_and_the_admin(client, alice):
    api = APIClient()
    for _ in range(5):
        token(api, "wrong")
    response = client.post("/admin/login/", {"username": "alice", "password": "pw-alice"})
    assert "Too many failed log-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_nul_or_lone_surrogate_in_credentials_is_400(alice):
    api = APIClient()
    response = api.generic(
        "POST",
        "/api/auth/token/",
        b'{"username": "alice\\u0000", "password": "x"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "username" in response.json()["errors"]
    response = api.generic(
        "POST",
        "/api/auth/token/",
        b'{"username": "alice", "password": "\\ud800"}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
