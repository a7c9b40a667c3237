"""The single gate for "may this user see or change this object".

``access_*`` helpers return the object or raise: ``NotFound`` (404) both when the
object is missing and when it belongs to a project the user is not a member of, so
nobody learns what exists elsewhere; ``Forbidden`` (403) when a member of the project
lacks the role. Staff see and manage everything. Annotators are blind: they reach only
tasks they hold or annotated, and only their own annotations.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from rest_framework.permissions import BasePermission

from labeling.exceptions import Forbidden, NotFound
from labeling.models import (
    Annotation,
    Assignment,
    Document,
    Kind,
    LabelSchema,
    Membership,
    Project,
    Role,
    Task,
)

#: Role names accepted by ``access_project``: any member, or a lead.
MEMBER = "member"
LEAD = Role.LEAD.value


MAX_ID = 2**63 - 1


def parse_id(value: Any, what: str) -> int:
    """A database id from a URL, or the usual 404 (ids out of range are simply missing)."""
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise NotFound(f"{what} not found") from None
    if not 0 < pk <= MAX_ID:
        raise NotFound(f"{what} not found")
    return pk


def _is_staff(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_staff)


def project_role(user: Any, project_id: int) -> str | None:
    """The user's role in the project, or None when not a member."""
    if not user.is_authenticated:
        return None
    return (
        Membership.objects.filter(project_id=project_id, user_id=user.pk)
        .values_list("role", flat=True)
        .first()
    )


def _check_role(role: str | None, wanted: str, *, staff: bool, what: str) -> None:
    if staff:
        return
    if role is None:
        raise NotFound(f"{what} not found")
    if wanted == LEAD and role != LEAD:
        raise Forbidden(f"only a lead of this project may do this ({what})")


def access_project(user: Any, project_id: Any, *, role: str = MEMBER) -> Project:
    """The project if ``user`` has ``role`` in it (``member`` or ``lead``); staff always.

    The returned project carries ``viewer_role`` (the user's role; None for staff who
    are not members) so callers need no second query.
    """
    pid = parse_id(project_id, "project")
    if not user.is_authenticated:
        raise NotFound("project not found")
    membership = (
        Membership.objects.filter(project_id=pid, user_id=user.pk).select_related("project").first()
    )
    staff = _is_staff(user)
    if membership is not None:
        project = membership.project
        found_role: str | None = membership.role
    else:
        project = Project.objects.filter(pk=pid).first() if staff else None
        found_role = None
    if project is None:
        raise NotFound("project not found")
    _check_role(found_role, role, staff=staff, what="project")
    project.viewer_role = found_role  # type: ignore[attr-defined]
    return project


# --- the annotator hot path -------------------------------------------------------------
#
# next-task and PUT annotation run on every annotation, so their access checks are one
# hand-written query each (the ORM spends ~0.5 ms of CPU building a query, the database
# ~0.05 ms answering it). The SQL is portable (SQLite and PostgreSQL) and reads only
# integers, strings and JSON text, which both backends return alike. The rules are
# those of ``access_project`` / ``access_task(annotate=True)``; the tests run both.

_PROJECT_FIELDS = ["id", "guidelines", "lease_minutes"]
# Only table names (model metadata) and enum values are interpolated.
_QUEUE_ACCESS_SQL = f"""
SELECT p.id, p.guidelines, p.lease_minutes,
       (SELECT m.role FROM {Membership._meta.db_table} m
        WHERE m.project_id = p.id AND m.user_id = %s),
       s.id, s.labels, s.level, s.targets
FROM {Project._meta.db_table} p
LEFT JOIN {LabelSchema._meta.db_table} s ON s.project_id = p.id AND s.kind = %s AND s.enabled
WHERE p.id = %s
"""  # noqa: S608


def access_queue(user: Any, project_id: Any, kind: Any) -> tuple[Project, LabelSchema | None]:
    """``access_project(role=MEMBER)`` plus the project's enabled schema of ``kind``, one query.

    The project carries ``id``, ``guidelines``, ``lease_minutes`` and ``viewer_role`` (other
    fields load on access). The schema is None when ``kind`` is not enabled: the caller
    answers that with a 400 naming ``kind`` (``assignment.enabled_schema``).
    """
    pid = parse_id(project_id, "project")
    if not user.is_authenticated:
        raise NotFound("project not found")
    with connection.cursor() as cur:
        known = kind if kind in Kind.values else ""  # never send junk (NUL bytes) to SQL
        cur.execute(_QUEUE_ACCESS_SQL, [user.pk, known, pid])
        row = cur.fetchone()
    if row is None:
        raise NotFound("project not found")
    found_role = row[3]
    _check_role(found_role, MEMBER, staff=_is_staff(user), what="project")
    project = Project.from_db(connection.alias, _PROJECT_FIELDS, row[:3])
    project.viewer_role = found_role  # type: ignore[attr-defined]
    schema = None
    if row[4] is not None:
        schema = LabelSchema(
            id=row[4],
            project_id=pid,
            kind=kind,
            labels=json.loads(row[5]),
            level=row[6],
            targets=json.loads(row[7]),
            enabled=True,
        )
        schema._state.adding = False
    return project, schema


_TASK_FIELDS = ["id", "project_id", "sentence_id", "document_id", "position", "kind", "target"]
# Only table names (model metadata) and enum values are interpolated.
_ANNOTATE_ACCESS_SQL = f"""
SELECT {", ".join(f"t.{f}" for f in _TASK_FIELDS)},
       (SELECT m.role FROM {Membership._meta.db_table} m
        WHERE m.project_id = t.project_id AND m.user_id = %s),
       (SELECT s.labels FROM {LabelSchema._meta.db_table} s
        WHERE s.project_id = t.project_id AND s.kind = t.kind)
FROM {Task._meta.db_table} t
WHERE t.id = %s
"""  # noqa: S608


def access_task_to_annotate(user: Any, task_id: Any) -> tuple[Task, list[str]]:
    """``access_task(annotate=True)`` plus the labels of the task's schema, one query.

    The task carries the fields listed in ``_TASK_FIELDS`` (others load on access).
    """
    tid = parse_id(task_id, "task")
    if not user.is_authenticated:
        raise NotFound("task not found")
    with connection.cursor() as cur:
        cur.execute(_ANNOTATE_ACCESS_SQL, [user.pk, tid])
        row = cur.fetchone()
    if row is None or (row[7] is None and not _is_staff(user)):
        raise NotFound("task not found")
    task = Task.from_db(connection.alias, _TASK_FIELDS, row[:7])
    return task, json.loads(row[8]) if row[8] is not None else []


def is_lead(user: Any, project: Project) -> bool:
    """True when the user leads the project (or is staff); needs ``access_project`` first."""
    return getattr(project, "viewer_role", None) == LEAD or _is_staff(user)


def access_document(user: Any, document_id: Any) -> Document:
    """A document of a project the user is a member of (staff: any)."""
    did = parse_id(document_id, "document")
    document = Document.objects.filter(pk=did).first()
    if document is None:
        raise NotFound("document not found")
    if not _is_staff(user) and project_role(user, document.project_id) is None:
        raise NotFound("document not found")
    return document


def access_task(user: Any, task_id: Any, *, annotate: bool = False) -> Task:
    """A task the user may see: leads and staff see every task of their projects.

    Annotators see a task only once they were assigned it or annotated it; with
    ``annotate=True`` any task of a project they belong to is returned, and the
    domain function decides (lease held, already annotated) with a clear message.
    """
    tid = parse_id(task_id, "task")
    task = Task.objects.filter(pk=tid).select_related("project").first()
    if task is None or not user.is_authenticated:
        raise NotFound("task not found")
    if _is_staff(user):
        return task
    role = project_role(user, task.project_id)
    if role is None:
        raise NotFound("task not found")
    if role == LEAD or annotate:
        return task
    touched = (
        Assignment.objects.filter(task_id=tid, annotator_id=user.pk).exists()
        or Annotation.objects.filter(task_id=tid, annotator_id=user.pk).exists()
    )
    if not touched:
        raise NotFound("task not found")
    return task


def access_annotation(user: Any, annotation_id: Any) -> Annotation:
    """An annotation: its own annotator, a lead of its project, or staff; else 404."""
    aid = parse_id(annotation_id, "annotation")
    annotation = (
        Annotation.objects.filter(pk=aid).select_related("task", "annotator").first()
        if user.is_authenticated
        else None
    )
    if annotation is None:
        raise NotFound("annotation not found")
    if _is_staff(user) or annotation.annotator_id == user.pk:
        return annotation
    if project_role(user, annotation.task.project_id) != LEAD:
        raise NotFound("annotation not found")
    return annotation


def visible_projects(user: Any) -> QuerySet[Project]:
    """Projects the user may list: staff all, others those they are a member of."""
    qs = Project.objects.all()
    if _is_staff(user):
        return qs
    return qs.filter(Exists(Membership.objects.filter(project_id=OuterRef("pk"), user_id=user.pk)))


def can_create_project(user: Any) -> bool:
    """Staff, users with ``labeling.add_project``, and leads of any project create projects."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.has_perm("labeling.add_project"):
        return True
    return Membership.objects.filter(user_id=user.pk, role=Role.LEAD).exists()


class CanCreateProject(BasePermission):
    """DRF permission: reads for any signed-in user; POST only for project creators."""

    message = "Only staff, users with the add_project permission or project leads create projects."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method == "POST":
            return can_create_project(request.user)
        return True


def access_lead_object(user: Any, model: type[Any], object_id: Any, what: str) -> Any:
    """A project-owned object (it has ``project_id``) for leads of its project and staff.

    404 when it is missing or the user is not a member of its project; 403 for the
    project's annotators (agreement figures and exports are leads' business).
    """
    pk = parse_id(object_id, what)
    obj = model.objects.filter(pk=pk).first() if user.is_authenticated else None
    if obj is None:
        raise NotFound(f"{what} not found")
    try:
        access_project(user, obj.project_id, role=LEAD)
    except NotFound:
        raise NotFound(f"{what} not found") from None
    return obj
