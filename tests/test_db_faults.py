"""A lost database connection: 503 with Retry-After in the error envelope, then service resumes."""

from __future__ import annotations

import pytest
from django.db import OperationalError, close_old_connections, connection
from rest_framework.test import APIClient

from labeling.importing import documents as importing
from labeling.jobs.lifecycle import _fresh_connection
from labeling.models import Document
from tests.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True)

DOC = {"title": "Ünïcode 👍 🇺🇦 👩‍💻 例えば é", "text": "First 👍 sentence.\nSecond 例えば é."}


@pytest.fixture
def lead_client(make_user):
    lead = make_user("lead")
    project = make_project(lead=lead)
    client = APIClient()
    client.force_authenticate(lead)
    return client, project


def _assert_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.json()
    assert set(body) == {"detail", "code", "errors"}
    assert body["code"] == "database_unavailable"
    assert "retry" in body["detail"]


def test_a_database_error_in_a_view_answers_503_then_the_next_request_works(
    lead_client, monkeypatch
):
    client, project = lead_client

    def lost(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("labeling.api.views.import_documents", lost)
    _assert_unavailable(client.post(f"/api/projects/{project.pk}/documents/", DOC, format="json"))
    monkeypatch.undo()
    assert (
        client.post(f"/api/projects/{project.pk}/documents/", DOC, format="json").status_code == 201
    )


def test_the_admin_answers_a_plain_503_too(client, make_user, monkeypatch):
    lead = make_user("lead", is_staff=True, is_superuser=True)
    client.force_login(lead)

    def lost(*args, **kwargs):
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr("labeling.admin.views._led_project", lost)
    project = make_project(lead=lead)
    response = client.get(f"/admin/labeling/project/{project.pk}/agreement/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "retry in a few seconds" in response.content.decode()


def _terminate(pid: int) -> None:
    killer = _fresh_connection()
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        killer.close()


@pytest.mark.services
def test_a_backend_killed_between_requests_costs_no_request(lead_client):
    """PostgreSQL + CONN_HEALTH_CHECKS: the persistent connection is checked, then replaced.

    The test client skips Django's request-start hook (``close_old_connections``), so the
    test runs it between requests as every real server does.
    """
    client, project = lead_client
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert client.get(f"/api/projects/{project.pk}/documents/").status_code == 200
    old_pid = connection.connection.info.backend_pid
    _terminate(old_pid)
    close_old_connections()  # request_started
    assert client.get(f"/api/projects/{project.pk}/documents/").status_code == 200
    assert connection.connection.info.backend_pid != old_pid


@pytest.mark.services
def test_an_import_interrupted_by_a_killed_backend_leaves_nothing_and_can_be_retried(
    lead_client, monkeypatch
):
    """PostgreSQL: the connection dies inside the import's transaction: 503, nothing stored."""
    client, project = lead_client
    original = importing._create_sentences_and_tasks

    def die_midway(*args, **kwargs):
        out = original(*args, **kwargs)  # documents and sentences written, not committed
        _terminate(connection.connection.info.backend_pid)
        return out

    monkeypatch.setattr(importing, "_create_sentences_and_tasks", die_midway)
    _assert_unavailable(client.post(f"/api/projects/{project.pk}/documents/", DOC, format="json"))
    monkeypatch.undo()
    assert Document.objects.filter(project=project).count() == 0
    retried = client.post(f"/api/projects/{project.pk}/documents/", DOC, format="json")
    assert retried.status_code == 201
    assert Document.objects.get(project=project).title == DOC["title"]
