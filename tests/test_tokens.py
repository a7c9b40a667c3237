"""API tokens: Token or Bearer, logout revokes, an optional lifetime (LABELING_TOKEN_TTL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _client(header: str | None = None) -> APIClient:
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    return client


def _token(client: APIClient, username: str) -> str:
    response = client.post(
        "/api/auth/token/", {"username": username, "password": f"pw-{username}"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"token"}
    return response.json()["token"]


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer", "TOKEN"])
def test_token_and_bearer_schemes_are_accepted_alike(make_user, scheme) -> None:
    make_user("ann")
    key = _token(_client(), "ann")
    response = _client(f"{scheme} {key}").get("/api/me/")
    assert response.status_code == 200
    assert response.json()["username"] == "ann"


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Bearer nope", "Invalid token."),
        ("Bearer", "No credentials provided"),
        ("Bearer a b", "should not contain spaces"),
        ("Basic dXNlcjpwdw==", "Authentication credentials were not provided."),
    ],
)
def test_bad_credentials_get_401_in_the_error_envelope(make_user, header, detail) -> None:
    response = _client(header).get("/api/me/")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert detail in body["detail"]
    assert "Bearer" in response["WWW-Authenticate"]


def test_inactive_users_token_is_refused(make_user) -> None:
    user = make_user("gone")
    key = _token(_client(), "gone")
    user.is_active = False
    user.save()
    response = _client(f"Bearer {key}").get("/api/me/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_logout_revokes_the_token_and_a_new_one_can_be_had(make_user) -> None:
    make_user("ann")
    key = _token(_client(), "ann")
    client = _client(f"Bearer {key}")
    assert client.post("/api/auth/logout/").status_code == 204
    again = client.get("/api/me/")
    assert again.status_code == 401
    assert again.json()["detail"] == "Invalid token."
    assert not Token.objects.filter(key=key).exists()
    fresh = _token(_client(), "ann")
    assert fresh != key
    assert _client(f"Token {fresh}").get("/api/me/").status_code == 200


def test_logout_needs_a_signed_in_caller(make_user) -> None:
    assert _client().post("/api/auth/logout/").status_code == 401
    assert _client("Token unknown").post("/api/auth/logout/").status_code == 401


def test_logout_with_a_session_ends_it_and_revokes_the_token(make_user) -> None:
    user = make_user("ann")
    key = _token(_client(), "ann")
    client = APIClient()
    client.force_login(user)
    assert client.post("/api/auth/logout/").status_code == 204
    assert client.get("/api/me/").status_code in (401, 403)
    assert _client(f"Token {key}").get("/api/me/").status_code == 401


def _age(key: str, seconds: int) -> None:
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(seconds=seconds))


def test_tokens_never_expire_by_default(make_user) -> None:
    make_user("ann")
    key = _token(_client(), "ann")
    _age(key, 400 * 24 * 3600)
    assert _client(f"Token {key}").get("/api/me/").status_code == 200


def test_token_older_than_its_lifetime_is_refused_and_replaced(make_user, settings) -> None:
    settings.LABELING = {**settings.LABELING, "TOKEN_TTL": 3600}
    make_user("ann")
    key = _token(_client(), "ann")
    _age(key, 3599 - 5)
    assert _client(f"Bearer {key}").get("/api/me/").status_code == 200
    assert _token(_client(), "ann") == key  # still valid: the same token
    _age(key, 3601)
    response = _client(f"Bearer {key}").get("/api/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    assert "POST /api/auth/token/" in response.json()["detail"]
    fresh = _token(_client(), "ann")
    assert fresh != key
    assert _client(f"Bearer {fresh}").get("/api/me/").status_code == 200
    assert _client(f"Bearer {key}").get("/api/me/").status_code == 401


def test_the_authenticated_user_is_built_as_the_orm_builds_it(make_user) -> None:
    """One portable query on both databases: column values converted as the ORM converts them."""
    from labeling.api.authentication import TokenAuthentication

    user = make_user("ann", is_staff=True)
    key = _token(_client(), "ann")
    found, token = TokenAuthentication().authenticate_credentials(key)
    orm = type(user).objects.get(pk=user.pk)
    for field in type(user)._meta.concrete_fields:
        mine, theirs = getattr(found, field.attname), getattr(orm, field.attname)
        assert (mine, type(mine)) == (theirs, type(theirs)), field.name
    assert token.created == Token.objects.get(key=key).created
