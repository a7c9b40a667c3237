"""A control question is leased by the same SQL as an ordinary task: no statement tells.

Issue 14 wants control questions indistinguishable to the annotator, timing included.
Both leases go through the queue's one lease (``queue.leasing``): the same statement on
PostgreSQL, the same statements on SQLite; whether this lease is a control is a
parameter, never a different path. As ``tests/test_access.py`` does for the access
gates, the test compares the SQL each next-task issues, with its values blanked out.
"""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.models import Task
from labeling.quality import policies
from labeling.quality.models import ControlQuestion, QualitySettings, Reservation
from labeling.quality.reservations import reserve
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db(transaction=True)

TEXTS = [" ".join(f"Sentence {j} of document {i}." for j in range(6)) for i in range(4)]
VALUES = re.compile(
    r"'(?:[^']|'')*'|\$\d+|-?\b\d+(?:\.\d+)?\b|\b(?:true|false|TRUE|FALSE|NULL|None)\b"
)


def _shape(queries: list[dict]) -> list[str]:
    """The statements with every literal value (ids, times, flags) blanked (psycopg
    renders a negative number with a space before it: spaces are collapsed)."""
    return [" ".join(VALUES.sub("?", q["sql"]).split()) for q in queries]


@pytest.fixture
def world(make_user):
    lead = make_user("lead")
    annotators = [make_user("shape0"), make_user("shape1")]
    project = make_project(
        lead=lead, annotators=annotators, overlap=2, schemas=[{"kind": "verifiability"}]
    )
    add_documents(project, TEXTS)
    tasks = list(Task.objects.filter(project=project).order_by("-id").values_list("pk", flat=True))
    body = [{"task": pk, "value": {"label": "verifiable"}} for pk in tasks[:4]]
    response = client_for(lead).post(f"/api/projects/{project.pk}/controls/", body, format="json")
    assert response.status_code == 201, response.json()
    QualitySettings.objects.update_or_create(
        project=project, defaults={"control_rate": 0.5, "escalation_enabled": True}
    )
    return project, lead, annotators


def _lease(client, project, monkeypatch, *, control: bool) -> tuple[int, list[str]]:
    # The draw at the project's rate (0.5): under it, a control.
    monkeypatch.setattr(policies.random, "random", lambda: 0.0 if control else 0.99)
    cache.clear()  # both calls run the rate-limited sweep of expired leases alike
    with CaptureQueriesContext(connection) as queries:
        got = client.get(f"/api/projects/{project.pk}/next-task/?kind=verifiability")
    assert got.status_code == 200, got.content
    shape = _shape(queries.captured_queries)  # now: the next request clears the log
    task_id = got.json()["id"]
    put = client.put(
        f"/api/tasks/{task_id}/annotation/", {"value": {"label": "verifiable"}}, format="json"
    )
    assert put.status_code == 200, put.content
    return task_id, shape


@pytest.mark.parametrize("reserved", [False, True], ids=["no-reservation", "reservation"])
def test_a_control_lease_issues_the_same_sql_as_an_ordinary_one(
    world, monkeypatch, reserved
) -> None:
    project, lead, annotators = world
    annotator = annotators[0]
    if reserved:  # the reservation arm joins the statement; still one shape for both
        document = Task.objects.filter(project=project).order_by("id").first().document
        reserve(project=project, user=annotator, by=lead, documents=[document.pk])
    client = client_for(annotator)
    controls = set(ControlQuestion.objects.values_list("task_id", flat=True))
    shapes = []
    for control in (True, False, True, False):
        task_id, shape = _lease(client, project, monkeypatch, control=control)
        assert (task_id in controls) == control
        shapes.append(shape)
    assert len(shapes[0]) >= 4
    assert shapes[0] == shapes[1] == shapes[2] == shapes[3]
    if connection.vendor == "postgresql":  # the lease itself is one statement
        assert sum("INSERT INTO labeling_assignment" in q for q in shapes[0]) == 1
    if reserved:  # the ordinary leases took the reserved tasks first
        assert Reservation.objects.filter(annotator=annotator).count() == 6 - 2
