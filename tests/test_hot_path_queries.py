"""The annotator hot path (next-task, PUT annotation) in an exact number of queries.

Counted in autocommit (``transaction=True``), as in production: the single-statement
lease and submit need no BEGIN/COMMIT there. A regression (an extra query, a lost
merge) fails here. Bodies built by hand on the hot path must equal the serializers'.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling import events
from labeling.api.serializers import AnnotationSerializer
from labeling.models import Annotation
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db(transaction=True)

#: (next-task, submit) per backend; one implementation (``labeling.queue``), packaged by
#: what the backend can do in one statement (``leasing.one_statement``).
#: PostgreSQL: next-task is token+user, access+schema, the lease (cursor, held lease,
#: candidate in reading order, lease, slot: ONE statement with data-modifying CTEs, so
#: no BEGIN/COMMIT), sentence window; submit is token+user, access+labels, the submission
#: (claim the lease, count it, insert the annotation: ONE statement).
#: SQLite (no INSERT/UPDATE inside WITH): next-task is token+user, access+schema, cursor,
#: BEGIN, slot (candidate locked and slot taken: one UPDATE), lease (one upsert), COMMIT,
#: sentence window; submit is token+user, access+labels, BEGIN, claim, count, insert,
#: COMMIT. (Before: 8 and 7 on both.)
EXPECTED = {"postgresql": (4, 3), "sqlite": (9, 7)}
TEXTS = [" ".join(f"Sentence {j} in document {i}." for j in range(8)) for i in range(3)]


@pytest.fixture
def world(make_user):
    users = [make_user(f"hot{i}") for i in range(2)]
    project = make_project(annotators=users, overlap=2, schemas=[{"kind": "verifiability"}])
    add_documents(project, TEXTS)
    return project, users


def _next_url(project) -> str:
    return f"/api/projects/{project.pk}/next-task/?kind=verifiability"


def _submit(client, task_id: int):
    return client.put(
        f"/api/tasks/{task_id}/annotation/",
        {"value": {"label": "verifiable"}, "lead_time_ms": 900},
        format="json",
    )


@pytest.fixture
def after_response(monkeypatch) -> list:
    """Events delivered after the response, collected instead: their subscribers (agreement
    runs, escalation, webhooks) are not the queue's and are counted by their own tests."""
    delivered: list = []
    monkeypatch.setattr(events, "_deliver_all", delivered.extend)
    return delivered


def test_next_task_and_submit_query_counts(
    world, django_assert_num_queries, after_response
) -> None:
    project, users = world
    client = client_for(users[0])
    n_next, n_submit = EXPECTED[connection.vendor]
    # The first call also sweeps expired leases (one probe); later ones within the window not.
    assert _submit(client, client.get(_next_url(project)).json()["id"]).status_code == 200
    for _ in range(10):  # within a document and across a document boundary (8 sentences)
        with django_assert_num_queries(n_next):
            body = client.get(_next_url(project)).json()
        with django_assert_num_queries(n_submit):
            response = _submit(client, body["id"])
        assert response.status_code == 200, response.json()
        assert after_response[-1].name == events.ANNOTATION_SUBMITTED
        assert after_response[-1].data["task_id"] == body["id"]


def test_asking_again_while_holding_costs_no_write(world, django_assert_num_queries) -> None:
    project, users = world
    client = client_for(users[0])
    first = client.get(_next_url(project)).json()
    # token, access, cursor (finds the lease; on PostgreSQL the lease statement answers
    # it and writes nothing), sentence window
    with django_assert_num_queries(4):
        again = client.get(_next_url(project)).json()
    assert again == first


def _sweeps(queries) -> int:
    return sum(q["sql"].startswith('SELECT 1 AS "a" FROM "labeling_assignment"') for q in queries)


def test_the_lazy_sweep_runs_once_per_window(world) -> None:
    project, users = world
    client = client_for(users[0])
    with CaptureQueriesContext(connection) as first:
        _submit(client, client.get(_next_url(project)).json()["id"])
    with CaptureQueriesContext(connection) as later:
        _submit(client, client.get(_next_url(project)).json()["id"])
    cache.clear()  # the window has passed
    with CaptureQueriesContext(connection) as after_window:
        client.get(_next_url(project))
    assert (_sweeps(first), _sweeps(later), _sweeps(after_window)) == (1, 0, 1)


def test_next_task_body_equals_the_task_detail_body(world) -> None:
    project, users = world
    client = client_for(users[0])
    for _ in range(9):  # through a document boundary
        body = client.get(_next_url(project)).json()
        assert client.get(f"/api/tasks/{body['id']}/").json() == body
        client.put(f"/api/tasks/{body['id']}/annotation/", {"value": {"label": "verifiable"}})


@pytest.mark.parametrize("lead_time_ms", [None, 1234])
def test_submit_body_equals_the_annotation_serializer(world, lead_time_ms) -> None:
    project, users = world
    client = client_for(users[1])
    task_id = client.get(_next_url(project)).json()["id"]
    payload = {"value": {"label": "unverifiable"}}
    if lead_time_ms is not None:
        payload["lead_time_ms"] = lead_time_ms
    body = client.put(f"/api/tasks/{task_id}/annotation/", payload, format="json").json()
    stored = Annotation.objects.select_related("task", "annotator").get(pk=body["id"])
    assert body == AnnotationSerializer(stored).data
    if lead_time_ms is None:
        assert 0 <= body["lead_time_ms"] < 60_000
    else:
        assert body["lead_time_ms"] == lead_time_ms
