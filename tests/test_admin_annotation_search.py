"""The admin annotation changelist at scale: capped count, bounded search, scoped filters."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from labeling.admin.model_admins import CappedCountPaginator
from labeling.models import Annotation, Project, Task
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

LIST = "/admin/labeling/annotation/"


def _annotate(project: Project, users: list, kind: str = "verifiability") -> list[Annotation]:
    tasks = Task.objects.filter(project=project, kind=kind).order_by("id")
    return Annotation.objects.bulk_create(
        Annotation(task=t, annotator=u, value={"label": "verifiable"}) for t in tasks for u in users
    )


def _listed(response) -> set[int]:
    assert response.status_code == 200
    return {
        int(x) for x in re.findall(rb"/admin/labeling/annotation/(\d+)/change/", response.content)
    }


@pytest.fixture
def two_projects(make_user):
    lead, other_lead = make_user("lead"), make_user("other-lead")
    ann, outsider = make_user("ann"), make_user("outsider")
    mine = make_project(lead=lead, annotators=[ann], name="Mine")
    theirs = make_project(lead=other_lead, annotators=[outsider], name="Theirs")
    add_documents(mine, ["The minister said no. Zürich 🇨🇭 agreed, 東京 too."])
    add_documents(theirs, ["The minister said yes. Nothing else."])
    return lead, mine, theirs, _annotate(mine, [ann]), _annotate(theirs, [outsider])


def test_capped_paginator_counts_at_most_cap_plus_one(make_user):
    project = make_project(annotators=[make_user("a"), make_user("b")])
    add_documents(project, ["\n".join(f"Sentence {i} here." for i in range(4))])
    users = [m.user for m in project.memberships.select_related("user")]
    _annotate(project, users)
    rows = Annotation.objects.order_by("id")
    assert CappedCountPaginator(rows, 2).count == rows.count() == 8
    capped = type("Capped", (CappedCountPaginator,), {"cap": 5})
    assert capped(rows, 2).count == 6  # cap + 1: "more than cap"


def test_search_finds_words_of_the_sentence_within_the_lead_scope(two_projects):
    lead, mine, theirs, my_rows, their_rows = two_projects
    client = Client()
    client.force_login(lead)
    found = _listed(client.get(LIST, {"q": "minister"}))
    assert found
    assert found <= {a.pk for a in my_rows}
    minister = {a.pk for a in my_rows if "minister" in a.task.sentence.text}
    assert found == minister
    # Every word must match (as Django's admin search does), in any case, CJK included.
    assert _listed(client.get(LIST, {"q": "ZüRICH 東京"})) == {
        a.pk for a in my_rows if "東京" in a.task.sentence.text
    }
    assert _listed(client.get(LIST, {"q": "minister 東京"})) == set()
    assert _listed(client.get(LIST, {"q": "zebra"})) == set()


def test_search_as_staff_sees_every_project(two_projects, make_user):
    _, mine, theirs, my_rows, their_rows = two_projects
    staff = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    found = _listed(client.get(LIST, {"q": "minister"}))
    assert found & {a.pk for a in my_rows}
    assert found & {a.pk for a in their_rows}


def test_filters_offer_only_the_requesters_projects_and_annotators(two_projects):
    lead, mine, theirs, my_rows, _ = two_projects
    client = Client()
    client.force_login(lead)
    page = client.get(LIST).content.decode()
    assert f"project={mine.pk}" in page
    assert f"project={theirs.pk}" not in page
    assert "annotator__id__exact=" in page
    assert "outsider" not in page
    # A filter on another project's id shows nothing rather than their rows.
    assert _listed(client.get(LIST, {"project": theirs.pk})) == set()
    assert _listed(client.get(LIST, {"project": mine.pk})) == {a.pk for a in my_rows}
    assert _listed(client.get(LIST, {"annotator__id__exact": "x"})) == set()
