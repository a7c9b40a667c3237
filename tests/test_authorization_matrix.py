"""Every endpoint × every role: exact status codes, and no foreign annotation leaks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from labeling.models import Annotation, Task
from labeling.queue import next_task, submit_annotation
from tests.api_helpers import World, client_for, make_world

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "annotator", "other_annotator", "lead", "other_lead", "staff"]


@dataclass
class Ctx:
    """The world plus the objects the URLs point at."""

    w: World
    own_task: int  # annotated by ``annotator`` and ``annotator2``
    fresh_task: int  # untouched
    foreign_annotation: Annotation  # annotator2's, must never reach ``annotator``


@dataclass
class Case:
    name: str
    method: str
    url: Callable[[Ctx], str]
    expected: dict[str, int]
    body: Callable[[Ctx], Any] | None = None


def codes(anon: int, ann: int, oann: int, lead: int, olead: int, staff: int) -> dict[str, int]:
    return dict(zip(ROLES, [anon, ann, oann, lead, olead, staff], strict=True))


def P(c: Ctx) -> int:
    return c.w.project.pk


CASES = [
    Case("me", "get", lambda c: "/api/me/", codes(401, 200, 200, 200, 200, 200)),
    Case("logout", "post", lambda c: "/api/auth/logout/", codes(401, 204, 204, 204, 204, 204)),
    Case("project-list", "get", lambda c: "/api/projects/", codes(401, 200, 200, 200, 200, 200)),
    Case(
        "project-create",
        "post",
        lambda c: "/api/projects/",
        codes(401, 403, 403, 201, 201, 201),
        lambda c: {"name": "N", "annotators_per_item": 2, "schemas": [{"kind": "attribution"}]},
    ),
    Case(
        "project-get",
        "get",
        lambda c: f"/api/projects/{P(c)}/",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "project-patch",
        "patch",
        lambda c: f"/api/projects/{P(c)}/",
        codes(401, 403, 404, 200, 404, 200),
        lambda c: {"guidelines": "Read twice."},
    ),
    Case(
        "project-delete",
        "delete",
        lambda c: f"/api/projects/{P(c)}/",
        codes(401, 403, 404, 204, 404, 204),
    ),
    Case(
        "members-list",
        "get",
        lambda c: f"/api/projects/{P(c)}/members/",
        codes(401, 403, 404, 200, 404, 200),
    ),
    Case(
        "members-add",
        "post",
        lambda c: f"/api/projects/{P(c)}/members/",
        codes(401, 403, 404, 201, 404, 201),
        lambda c: {"username": "newbie", "role": "annotator"},
    ),
    Case(
        "members-remove",
        "delete",
        lambda c: f"/api/projects/{P(c)}/members/{c.w.annotator2.pk}/",
        codes(401, 403, 404, 204, 404, 204),
    ),
    Case(
        "documents-list",
        "get",
        lambda c: f"/api/projects/{P(c)}/documents/",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "documents-import",
        "post",
        lambda c: f"/api/projects/{P(c)}/documents/",
        codes(401, 403, 404, 201, 404, 201),
        lambda c: {"title": "New", "text": "A new sentence. And another one."},
    ),
    Case(
        "import-job",
        "get",
        lambda c: f"/api/import-jobs/{_import_job(c)}/",
        codes(401, 403, 404, 200, 404, 200),
    ),
    Case(
        "document-get",
        "get",
        lambda c: f"/api/documents/{c.w.document_ids[0]}/",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "document-delete",
        "delete",
        lambda c: f"/api/documents/{c.w.document_ids[0]}/",
        codes(401, 403, 404, 204, 404, 204),
    ),
    Case(
        "tasks-list",
        "get",
        lambda c: f"/api/projects/{P(c)}/tasks/",
        codes(401, 403, 404, 200, 404, 200),
    ),
    Case(
        "next-task",
        "get",
        lambda c: f"/api/projects/{P(c)}/next-task/?kind=verifiability",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "task-own",
        "get",
        lambda c: f"/api/tasks/{c.own_task}/",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "task-untouched",
        "get",
        lambda c: f"/api/tasks/{c.fresh_task}/",
        codes(401, 404, 404, 200, 404, 200),
    ),
    Case(
        "annotation-get-own",
        "get",
        lambda c: f"/api/tasks/{c.own_task}/annotation/",
        codes(401, 200, 404, 404, 404, 404),
    ),
    Case(
        "annotation-edit",
        "put",
        lambda c: f"/api/tasks/{c.own_task}/annotation/",
        codes(401, 200, 404, 403, 404, 403),
        lambda c: {"value": {"label": "unverifiable"}},
    ),
    Case(
        "annotation-put-not-held",
        "put",
        lambda c: f"/api/tasks/{c.fresh_task}/annotation/",
        codes(401, 403, 404, 403, 404, 403),
        lambda c: {"value": {"label": "unverifiable"}},
    ),
    Case(
        "skip",
        "post",
        lambda c: f"/api/tasks/{c.fresh_task}/skip/",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "undo",
        "post",
        lambda c: f"/api/tasks/{c.fresh_task}/undo/",
        codes(401, 403, 404, 403, 404, 403),
    ),
    Case("me-settings", "get", lambda c: "/api/me/settings/", codes(401, 200, 200, 200, 200, 200)),
    Case(
        "me-settings-patch",
        "patch",
        lambda c: "/api/me/settings/",
        codes(401, 200, 200, 200, 200, 200),
        lambda c: {"confirm_with_enter": True},
    ),
    Case(
        "project-annotations",
        "get",
        lambda c: f"/api/projects/{P(c)}/annotations/",
        codes(401, 403, 404, 200, 404, 200),
    ),
    Case(
        "my-annotations",
        "get",
        lambda c: f"/api/projects/{P(c)}/my-annotations/",
        codes(401, 200, 404, 200, 404, 200),
    ),
    Case(
        "foreign-annotation",
        "get",
        lambda c: f"/api/annotations/{c.foreign_annotation.pk}/",
        codes(401, 404, 404, 200, 404, 200),
    ),
    Case(
        "progress",
        "get",
        lambda c: f"/api/projects/{P(c)}/progress/",
        codes(401, 200, 404, 200, 404, 200),
    ),
]


@pytest.fixture
def ctx(make_user) -> Ctx:
    w = make_world(make_user)
    make_user("newbie")
    held = next_task(user=w.annotator, project=w.project, kind="verifiability")
    task = held.task
    submit_annotation(user=w.annotator, task=task, value={"label": "verifiable"})
    next_task(user=w.annotator2, project=w.project, kind="verifiability")
    foreign = submit_annotation(user=w.annotator2, task=task, value={"label": "not_a_claim"})
    fresh = Task.objects.filter(project=w.project, kind="verifiability", n_assigned=0).last()
    return Ctx(w=w, own_task=task.pk, fresh_task=fresh.pk, foreign_annotation=foreign.annotation)


def _import_job(c: Ctx) -> int:
    from django.test import TestCase

    from labeling.importing.job import start_import

    with TestCase.captureOnCommitCallbacks(execute=True):  # the job runs (eagerly)
        job = start_import(project=c.w.project, data=b"One more sentence.", filename="a.txt")
    return job.pk


def _user(c: Ctx, role: str) -> Any:
    return {
        "anonymous": None,
        "annotator": c.w.annotator,
        "other_annotator": c.w.other_annotator,
        "lead": c.w.lead,
        "other_lead": c.w.other_lead,
        "staff": c.w.staff,
    }[role]


def _leaks(data: Any, foreign: Annotation) -> list[str]:
    """Paths in ``data`` that reveal the foreign annotation or its author."""
    found: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("value") == foreign.value:
                found.append(f"{path}.value")
            if node.get("annotator") == foreign.annotator_id:
                found.append(f"{path}.annotator")
            if node.get("username") == foreign.annotator.username:
                found.append(f"{path}.username")
            if node.get("id") == foreign.pk and "revision" in node:
                found.append(f"{path}.id")
            for key, value in node.items():
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}[{i}]")

    walk(data, "")
    return found


def check_case(ctx: Ctx, case: Case, role: str) -> None:
    """Send the case's request as ``role``: the exact status, and no foreign annotation."""
    client = client_for(_user(ctx, role))
    url = case.url(ctx)
    kwargs = {"format": "json"}
    if case.body is not None:
        kwargs["data"] = case.body(ctx)
    response = getattr(client, case.method)(url, **kwargs)
    assert response.status_code == case.expected[role], (
        f"{case.method.upper()} {url} as {role}: {response.status_code} "
        f"{getattr(response, 'data', None)}"
    )
    is_json = response.get("Content-Type", "").startswith("application/json")
    if role in ("annotator", "other_annotator") and is_json:
        assert _leaks(response.json(), ctx.foreign_annotation) == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_endpoint_answers_role_with_exact_status(ctx: Ctx, case: Case, role: str) -> None:
    check_case(ctx, case, role)


def test_every_api_route_is_in_the_matrix() -> None:
    """A new endpoint must be added to CASES (routes of other concerns are tested there)."""
    from django.urls import get_resolver

    covered = {
        "me", "projects", "project", "members", "member", "documents", "document", "tasks",
        "next-task", "task", "annotation", "skip", "project-annotations", "my-annotations",
        "annotation-detail", "progress", "api-token", "import-job", "api-logout", "undo",
        "me-settings",
    }  # fmt: skip
    from labeling.api import urls

    names = {p.name for p in urls.urlpatterns if getattr(p, "name", None)}
    assert names - covered == set()
    assert get_resolver() is not None


def test_annotator_lists_only_projects_they_belong_to(ctx: Ctx) -> None:
    ids = [
        p["id"] for p in client_for(ctx.w.other_annotator).get("/api/projects/").json()["results"]
    ]
    assert ctx.w.project.pk not in ids
    assert ctx.w.other.pk in ids


def test_annotator_progress_shows_only_their_own_row(ctx: Ctx) -> None:
    body = client_for(ctx.w.annotator).get(f"/api/projects/{ctx.w.project.pk}/progress/").json()
    assert [a["username"] for a in body["annotators"]] == ["ann"]
    lead_body = client_for(ctx.w.lead).get(f"/api/projects/{ctx.w.project.pk}/progress/").json()
    assert {"ann", "ann2"} <= {a["username"] for a in lead_body["annotators"]}


def test_lead_sees_every_annotation_of_their_project_only(ctx: Ctx) -> None:
    body = client_for(ctx.w.lead).get(f"/api/projects/{ctx.w.project.pk}/annotations/").json()
    assert {a["username"] for a in body["results"]} == {"ann", "ann2"}
    response = client_for(ctx.w.other_lead).get(f"/api/annotations/{ctx.foreign_annotation.pk}/")
    assert response.status_code == 404
