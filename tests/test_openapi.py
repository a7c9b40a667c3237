"""The OpenAPI document: it renders, the committed copy has not drifted, fuzzing finds no 5xx."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from labeling.queue import next_task
from tests.api_helpers import make_world

COMMITTED = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
REGENERATE = ".venv/bin/python manage.py spectacular --file docs/openapi.yaml"


def generate_schema() -> str:
    """The schema as ``manage.py spectacular`` writes it in the embedded (SQLite) mode.

    Integer bounds in the schema depend on the database backend, so the committed copy is
    always the embedded mode's, whatever database this test run uses.
    """
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate"],
        cwd=COMMITTED.parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


@pytest.mark.django_db
def test_schema_endpoint_serves_openapi_3(client) -> None:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    body = response.json()
    assert body["openapi"].startswith("3.")
    for path in (
        "/api/projects/",
        "/api/projects/{project_id}/members/",
        "/api/projects/{project_id}/documents/",
        "/api/documents/{document_id}/",
        "/api/projects/{project_id}/next-task/",
        "/api/tasks/{task_id}/annotation/",
        "/api/tasks/{task_id}/skip/",
    ):
        assert path in body["paths"], path


def test_committed_schema_has_not_drifted() -> None:
    assert COMMITTED.exists(), f"docs/openapi.yaml is missing: run {REGENERATE}"
    assert generate_schema() == COMMITTED.read_text(), (
        f"the API changed but docs/openapi.yaml did not: run {REGENERATE} and commit it"
    )


@pytest.fixture
def _keep_connection():
    """Calls through WSGI would close the test's connection; Django's test client does this too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(db, make_user, _keep_connection):
    """A lead with a project holding documents, a leased and an annotated task."""
    world = make_world(make_user)
    next_task(user=world.annotator, project=world.project, kind="verifiability")
    return world


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx: object, value: object) -> bytes:
    """The JSON Lines body of the document import: its schema is raw bytes."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


def _load_schema() -> schemathesis.schemas.BaseSchema:
    from config.wsgi import application

    # Loaded at collection time: serving the schema needs no database.
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


schema = _load_schema()


# Response conformance, not only 5xx: every status, content type, header and body the API
# answers must be the ones its OpenAPI document declares for that operation.
CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
FUZZ_SETTINGS = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "derandomize": True,
    "database": None,
}


def _fuzz(case, world, role: str) -> None:
    from rest_framework.authtoken.models import Token

    user = world.lead if role == "lead" else world.annotator
    token, _ = Token.objects.get_or_create(user=user)
    case.call_and_validate(headers={"Authorization": f"Token {token.key}"}, checks=CONFORMANCE)


@pytest.mark.parametrize("role", ["lead", "annotator"])
@schema.parametrize()
@settings(max_examples=15, **FUZZ_SETTINGS)
def test_api_fuzz_responses_conform_to_the_schema(case, fuzz_world, role) -> None:
    _fuzz(case, fuzz_world, role)


@pytest.mark.slow
@pytest.mark.parametrize("role", ["lead", "annotator"])
@schema.parametrize()
@settings(max_examples=100, **FUZZ_SETTINGS)
def test_api_fuzz_responses_conform_to_the_schema_at_length(case, fuzz_world, role) -> None:
    _fuzz(case, fuzz_world, role)
