"""The lead's curation pages in the admin: the Disputed list, the adjudication page's
place in it, and the question before a lead is leased a task."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from labeling.models import Assignment, GoldLabel
from tests.factories import add_documents, make_project
from tests.test_agreement_runs import annotate, label_tasks, sentences_text
from tests.test_disputed_queue import run

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(make_user):
    lead = make_user("lead")
    annotators = [make_user(f"ann{i}") for i in range(2)]
    project = make_project(lead=lead, annotators=annotators)
    add_documents(project, [sentences_text(30)])
    tasks = label_tasks(project)
    annotate(tasks, annotators, [["verifiable", "unverifiable"]] * 30)
    run(project)
    return project, lead, annotators, tasks


def test_disputed_page_pages_every_item_in_constant_queries(client, queue) -> None:
    project, lead, annotators, _ = queue
    client.force_login(lead)
    url = reverse("admin:labeling_disputed", args=[project.pk]) + "?kind=verifiability"
    with CaptureQueriesContext(connection) as first:
        page1 = client.get(url)
    assert page1.status_code == 200
    assert len(page1.context["rows"]) == 25
    assert page1.context["page"].paginator.count == 30
    with CaptureQueriesContext(connection) as second:
        page2 = client.get(url + "&page=2")
    assert len(page2.context["rows"]) == 5
    assert len(first.captured_queries) == len(second.captured_queries)
    seen = {r["task_id"] for r in page1.context["rows"]} | {
        r["task_id"] for r in page2.context["rows"]
    }
    assert len(seen) == 30
    assert "&adjudicated=false" in page1.context["rows"][0]["url"]


def test_disputed_page_bad_filter_is_named_and_annotators_are_refused(client, queue) -> None:
    project, lead, annotators, _ = queue
    url = reverse("admin:labeling_disputed", args=[project.pk])
    client.force_login(lead)
    response = client.get(url + "?kind=verifiability&document=abc", follow=True)
    assert response.status_code == 200
    assert "Document: must be a document id" in response.content.decode()
    client.force_login(annotators[0])
    assert client.get(url).status_code == 403


def test_adjudication_page_knows_its_place_and_saves_then_opens_the_next(client, queue) -> None:
    project, lead, _, _ = queue
    client.force_login(lead)
    listing = client.get(
        reverse("admin:labeling_disputed", args=[project.pk]) + "?kind=verifiability"
    )
    first, second = listing.context["rows"][:2]
    page = client.get(first["url"])
    nav = page.context["queue"]
    assert nav["position"] == 1
    assert nav["count"] == 30
    assert nav["next_url"] == second["url"]
    assert nav["prev_url"] is None
    saved = client.post(
        first["url"], {"choice": "label", "label": "verifiable", "then": "next", "note": ""}
    )
    assert saved.status_code == 302
    assert saved["Location"] == second["url"]
    assert GoldLabel.objects.get(task_id=first["task_id"]).method == "adjudicated"
    after = client.get(second["url"]).context["queue"]
    assert after["position"] == 1  # the decided one left the open list
    assert after["count"] == 29


def test_lead_is_asked_before_the_workspace_leases(client, queue) -> None:
    project, lead, annotators, _ = queue
    url = reverse("admin:labeling_annotate") + f"?project={project.pk}&kind=verifiability"
    client.force_login(lead)
    asked = client.get(url)
    assert asked.context["ask_lead"] is True
    assert b"workspace.js" not in asked.content
    agreed = client.get(url + "&as_annotator=1")
    assert agreed.context["ask_lead"] is False
    assert b"workspace.js" in agreed.content
    assert client.get(url).context["ask_lead"] is False  # once per project and session
    assert not Assignment.objects.filter(annotator=lead).exists()  # the page leases nothing
    client.force_login(annotators[0])
    assert client.get(url).context["ask_lead"] is False
