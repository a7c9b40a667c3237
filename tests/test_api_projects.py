"""Projects, members and documents over HTTP: creation, bad inputs, idempotent import."""

from __future__ import annotations

import pytest

from labeling.models import Document, Membership, Project, Sentence, Task
from tests.api_helpers import client_for, make_world

pytestmark = pytest.mark.django_db

GOOD = {
    "name": "News",
    "annotators_per_item": 3,
    "schemas": [
        {"kind": "verifiability", "labels": ["verifiable", "unverifiable", "not_a_claim"]},
        {"kind": "stance", "labels": ["against", "neutral", "favor"], "level": "ordinal",
         "targets": ["Ukrainian government"]},
        {"kind": "attribution"},
    ],
}  # fmt: skip


@pytest.fixture
def world(make_user):
    return make_world(make_user)


def test_lead_creates_a_project_and_becomes_its_lead(world) -> None:
    response = client_for(world.lead).post("/api/projects/", GOOD, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["role"] == "lead"
    assert [s["kind"] for s in body["schemas"]] == ["attribution", "stance", "verifiability"]
    assert Membership.objects.get(project_id=body["id"], user=world.lead).role == "lead"


def test_user_with_add_project_permission_may_create_projects(make_user, world) -> None:
    from django.contrib.auth.models import Permission

    user = make_user("creator")
    user.user_permissions.add(Permission.objects.get(codename="add_project"))
    assert client_for(user).post("/api/projects/", GOOD, format="json").status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": ""}, "name"),
        ({"annotators_per_item": 0}, "annotators_per_item"),
        ({"annotators_per_item": "many"}, "annotators_per_item"),
        ({"schemas": []}, "schemas"),
        ({"schemas": [{"kind": "Sentiment"}]}, "schemas[0].kind"),
        ({"schemas": [{"kind": "sentiment"}]}, "schemas[0].labels"),
        ({"schemas": [{"kind": "stance", "labels": ["a", "b"]}]}, "schemas[0].targets"),
        ({"schemas": [{"kind": "verifiability", "labels": ["a", "a"]}]}, "schemas[0].labels[1]"),
        ({"schemas": [{"kind": "verifiability", "level": "fuzzy"}]}, "schemas[0].level"),
        ({"lease_minutes": 0}, "lease_minutes"),
    ],
)
def test_bad_project_is_a_400_naming_the_field_and_stores_nothing(world, change, field) -> None:
    before = Project.objects.count()
    response = client_for(world.staff).post("/api/projects/", {**GOOD, **change}, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert Project.objects.count() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"guidelines": None}, "guidelines"),
        ({"lease_minutes": -1}, "lease_minutes"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_project_patch_is_a_400_naming_the_field(world, body, field) -> None:
    url = f"/api/projects/{world.project.pk}/"
    response = client_for(world.lead).patch(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ghost", "role": "annotator"}, "username"),
        ({"username": "ann", "role": "boss"}, "role"),
        ({"role": "annotator"}, "username"),
    ],
)
def test_bad_member_is_a_400_naming_the_field(world, body, field) -> None:
    before = Membership.objects.count()
    url = f"/api/projects/{world.project.pk}/members/"
    response = client_for(world.lead).post(url, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Membership.objects.count() == before


def test_member_role_change_answers_200(world) -> None:
    url = f"/api/projects/{world.project.pk}/members/"
    response = client_for(world.lead).post(url, {"username": "ann", "role": "lead"})
    assert response.status_code == 200
    assert Membership.objects.get(project=world.project, user=world.annotator).role == "lead"


def test_document_import_accepts_one_object_or_a_list_and_is_idempotent(world) -> None:
    client = client_for(world.lead)
    url = f"/api/projects/{world.project.pk}/documents/"
    one = {"title": "T", "text": "One sentence. Two sentences.", "external_id": "x-1"}
    first = client.post(url, one, format="json")
    assert first.status_code == 201
    assert len(first.json()["created"]) == 1
    again = client.post(url, [one, {"text": "Fresh text here."}], format="json")
    assert again.status_code == 201
    assert again.json()["existing"] == first.json()["created"]
    assert len(again.json()["created"]) == 1
    same = client.post(url, [one], format="json")
    assert same.status_code == 200
    assert same.json()["created"] == []
    doc = client.get(f"/api/documents/{first.json()['created'][0]}/").json()
    assert [(s["position"], s["text"]) for s in doc["sentences"]] == [
        (0, "One sentence."),
        (1, "Two sentences."),
    ]
    assert all(doc["text"][s["start"] : s["end"]] == s["text"] for s in doc["sentences"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([{"text": "Fine."}, {"title": "no text"}], "[1].text"),
        ([{"text": "Fine."}, {"text": "Ok.", "metadata": "x"}], "[1].metadata"),
        ({"text": "Ok.", "source_url": "ftp://x"}, "source_url"),
        ({"text": 5}, "text"),
    ],
)
def test_bad_documents_are_a_400_naming_item_and_field_and_store_nothing(
    world, body, field
) -> None:
    before = (Document.objects.count(), Sentence.objects.count(), Task.objects.count())
    url = f"/api/projects/{world.project.pk}/documents/"
    response = client_for(world.lead).post(url, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert (Document.objects.count(), Sentence.objects.count(), Task.objects.count()) == before


def test_empty_document_list_is_a_400(world) -> None:
    url = f"/api/projects/{world.project.pk}/documents/"
    assert client_for(world.lead).post(url, [], format="json").status_code == 400
