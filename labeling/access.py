"""The one gate for "may this user see or change this object": API, admin pages, admin views.

``access_*`` helpers return the object or raise: ``NotFound`` (404) both when the object
is missing and when it belongs to a project the user is not a member of, so nobody learns
what exists elsewhere; ``Forbidden`` (403) when a member of the project lacks the role.
Each is ONE query of the same shape for both cases (the object filtered by the viewer's
membership), so "missing" and "not yours" also take the same time. Staff see and manage
everything. Annotators are blind: they reach only tasks they hold or annotated, and only
their own annotations.

The admin reads the same rules through ``Access`` (the viewer's projects, once per
request) and ``visible_rows``; its custom pages call the ``access_*`` gates through
``page_gate``, which answers as Django pages do (``Http404``, ``PermissionDenied``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest
from rest_framework.permissions import BasePermission

from labeling.exceptions import Forbidden, NotFound
from labeling.kinds import is_kind_name
from labeling.models import (
    Annotation,
    Assignment,
    ControlQuestion,
    Document,
    LabelSchema,
    Membership,
    Project,
    Role,
    Task,
    Webhook,
    WebhookDelivery,
)
from labeling.quality import policies

#: Role names accepted by the gates: any member, or a lead.
MEMBER = "member"
LEAD = Role.LEAD.value

MAX_ID = 2**63 - 1

M = TypeVar("M", bound=Model)


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


def _viewer_role(user: Any, project_ref: str) -> Subquery:
    """The viewer's role in the row's project (``project_ref``: the row's project id)."""
    return Subquery(
        Membership.objects.filter(project_id=OuterRef(project_ref), user_id=user.pk).values("role")[
            :1
        ]
    )


def _gate(
    qs: QuerySet[M],
    user: Any,
    object_id: Any,
    *,
    what: str,
    project: str,
    role: str = MEMBER,
    own: Q | None = None,
    hide: bool = False,
) -> M:
    """The object if the user may reach it, in ONE query; else 404 (or 403, see module).

    ``project``: the lookup of the row's project id; ``own``: rows an annotator may see
    (None: every row of their projects); ``hide``: a member without ``role`` gets the
    404 of a missing object, not a 403. The object carries ``viewer_role``.
    """
    pk = parse_id(object_id, what)
    if not user.is_authenticated:
        raise NotFound(f"{what} not found")
    staff = _is_staff(user)
    qs = qs.filter(pk=pk).annotate(viewer_role=_viewer_role(user, project))
    if not staff:
        visible = Q(viewer_role__isnull=False)
        if own is not None:
            visible &= Q(viewer_role=LEAD) | own
        qs = qs.filter(visible)
    obj = next(iter(qs[:1]), None)
    if obj is None:
        raise NotFound(f"{what} not found")
    if role == LEAD and not staff and obj.viewer_role != LEAD:  # type: ignore[attr-defined]
        if hide:
            raise NotFound(f"{what} not found")
        raise Forbidden(f"only a lead of this project may do this ({what})")
    return obj


def access_project(user: Any, project_id: Any, *, role: str = MEMBER) -> Project:
    """The project if ``user`` has ``role`` in it (``member`` or ``lead``); staff always.

    The returned project carries ``viewer_role`` (the user's role; None for staff who
    are not members) so callers need no second query.
    """
    return _gate(Project.objects.all(), user, project_id, what="project", project="pk", role=role)


def access_document(user: Any, document_id: Any, *, role: str = MEMBER) -> Document:
    """A document of a project the user is a member of (staff: any)."""
    qs = Document.objects.all()
    return _gate(qs, user, document_id, what="document", project="project_id", role=role)


def access_task(user: Any, task_id: Any, *, role: str = MEMBER) -> Task:
    """A task the user may see: leads and staff see every task of their projects.

    Annotators see a task only once they were assigned it or annotated it. To act on a
    task (annotate, skip) see ``access_task_to_annotate``.
    """
    own = None
    if user.is_authenticated:
        own = Exists(
            Assignment.objects.filter(task_id=OuterRef("pk"), annotator_id=user.pk)
        ) | Exists(Annotation.objects.filter(task_id=OuterRef("pk"), annotator_id=user.pk))
    qs = Task.objects.select_related("project")
    return _gate(qs, user, task_id, what="task", project="project_id", role=role, own=own)


def access_annotation(user: Any, annotation_id: Any) -> Annotation:
    """An annotation: its own annotator, a lead of its project, or staff; else 404."""
    qs = Annotation.objects.select_related("task", "annotator")
    own = Q(annotator_id=user.pk) if user.is_authenticated else None
    return _gate(qs, user, annotation_id, what="annotation", project="task__project_id", own=own)


def access_lead_object(user: Any, model: type[M], object_id: Any, what: str) -> M:
    """A project-owned object (it has ``project_id``) for leads of its project and staff.

    404 when it is missing or the user is not a member of its project; 403 for the
    project's annotators (agreement figures and exports are leads' business).
    """
    qs = model._default_manager.all()
    return _gate(qs, user, object_id, what=what, project="project_id", role=LEAD)


def access_webhooks_of(user: Any, project_id: Any) -> Project:
    """A project whose webhooks the user manages: its leads and staff.

    Its annotators get the same 404 as for a missing project: webhooks carry secrets and
    tell what a project reports where, which is none of their business.
    """
    return _gate(
        Project.objects.all(), user, project_id, what="project", project="pk", role=LEAD, hide=True
    )


def access_webhook(user: Any, webhook_id: Any) -> Webhook:
    """A webhook, for the leads of its project and staff; 404 for everyone else."""
    qs = Webhook.objects.all()
    return _gate(qs, user, webhook_id, what="webhook", project="project_id", role=LEAD, hide=True)


def access_webhook_delivery(user: Any, delivery_id: Any) -> WebhookDelivery:
    """A webhook delivery, for the leads of its project and staff; 404 for everyone else."""
    qs = WebhookDelivery.objects.all()
    return _gate(qs, user, delivery_id, what="delivery", project="project_id", role=LEAD, hide=True)


def page_gate(gate: Callable[..., M], *args: Any, **kwargs: Any) -> M:
    """Call an ``access_*`` gate from a server-rendered page: ``Http404`` / ``PermissionDenied``."""
    try:
        return gate(*args, **kwargs)
    except NotFound as exc:
        raise Http404(exc.message) from None
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from None


# --- the queue's checks (the annotator hot path) -----------------------------------------
#
# next-task, PUT annotation and skip run on every task, so their checks are one portable
# SQL query each (SQLite and PostgreSQL alike), the only form of these checks: building
# an ORM query costs ~0.3 ms of CPU, the database answers in ~0.05 ms. They read only
# integers, strings and JSON text, which both backends return alike, and follow the
# rules of ``_gate``: one query for missing and not-yours, no row or no role -> 404.

_PROJECT_FIELDS = ["id", "guidelines", "lease_minutes"]
# Only table names (model metadata) and enum values are interpolated.
_QUEUE_ACCESS_SQL = f"""
SELECT p.id, p.guidelines, p.lease_minutes,
       (SELECT m.role FROM {Membership._meta.db_table} m
        WHERE m.project_id = p.id AND m.user_id = %s),
       s.id, s.labels, s.level, s.targets, s."values", s.description,
       {policies.CONTEXT_COLUMNS}
FROM {Project._meta.db_table} p
LEFT JOIN {LabelSchema._meta.db_table} s ON s.project_id = p.id AND s.kind = %s AND s.enabled
{policies.CONTEXT_JOINS}
WHERE p.id = %s
"""  # noqa: S608


def access_queue(user: Any, project_id: Any, kind: Any) -> tuple[Project, LabelSchema | None]:
    """``access_project(role=MEMBER)`` plus the project's enabled schema of ``kind``, one query.

    The project carries ``id``, ``guidelines``, ``lease_minutes``, ``viewer_role`` and the
    quality ``queue_context`` of this user (other fields load on access). The schema is
    None when ``kind`` is not enabled: the caller answers that with a 400 naming ``kind``
    (``assignment.enabled_schema``).
    """
    pid = parse_id(project_id, "project")
    if not user.is_authenticated:
        raise NotFound("project not found")
    with connection.cursor() as cur:
        known = kind if is_kind_name(kind) else ""  # never send junk (NUL bytes) to SQL
        cur.execute(_QUEUE_ACCESS_SQL, [user.pk, user.pk, known, user.pk, pid])
        row = cur.fetchone()
    if row is None:
        raise NotFound("project not found")
    found_role = row[3]
    if found_role is None and not _is_staff(user):
        raise NotFound("project not found")
    project = Project.from_db(connection.alias, _PROJECT_FIELDS, row[:3])
    project.viewer_role = found_role  # type: ignore[attr-defined]
    project.queue_context = policies.context_from_row(row[10:])  # type: ignore[attr-defined]
    schema = None
    if row[4] is not None:
        schema = LabelSchema(
            id=row[4],
            project_id=pid,
            kind=kind,
            labels=json.loads(row[5]),
            level=row[6],
            targets=json.loads(row[7]),
            values=json.loads(row[8]) if row[8] is not None else None,
            description=row[9],
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
        WHERE s.project_id = t.project_id AND s.kind = t.kind),
       (SELECT c.id FROM {ControlQuestion._meta.db_table} c WHERE c.task_id = t.id)
FROM {Task._meta.db_table} t
WHERE t.id = %s
"""  # noqa: S608


def access_task_to_annotate(user: Any, task_id: Any) -> tuple[Task, list[str]]:
    """A task of a project the user belongs to (staff: any), to annotate or skip it, and
    the labels of its schema: one query.

    Any member may ask; the queue then decides (lease held, already annotated, skipped)
    with a clear message. The task carries the fields in ``_TASK_FIELDS`` (others load
    on access) and ``control_pk``: the id of its control question, or None.
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
    task.control_pk = row[9]  # type: ignore[attr-defined]
    return task, json.loads(row[8]) if row[8] is not None else []


def is_lead(user: Any, project: Project) -> bool:
    """True when the user leads the project (or is staff); needs ``access_project`` first."""
    return getattr(project, "viewer_role", None) == LEAD or _is_staff(user)


def visible_projects(user: Any) -> QuerySet[Project]:
    """Projects the user may list: staff all, others those they are a member of."""
    qs = Project.objects.all()
    if _is_staff(user):
        return qs
    return qs.filter(Exists(Membership.objects.filter(project_id=OuterRef("pk"), user_id=user.pk)))


def access_staff(user: Any) -> None:
    """Staff only (user management): 403 for everyone else who is signed in."""
    if not _is_staff(user):
        raise Forbidden("only staff manage users")


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


# --- the admin's view of the same rules ---------------------------------------------------


@dataclass(frozen=True)
class Access:
    """One request's view of the labeling data: staff, or the projects led and annotated."""

    user_id: int | None
    is_staff: bool = False
    lead_projects: frozenset[int] = field(default_factory=frozenset)
    annotator_projects: frozenset[int] = field(default_factory=frozenset)

    @property
    def member_projects(self) -> frozenset[int]:
        """Projects this user belongs to in any role."""
        return self.lead_projects | self.annotator_projects

    @property
    def is_member(self) -> bool:
        """True when the user belongs to at least one project."""
        return bool(self.member_projects)

    @property
    def is_lead(self) -> bool:
        """True for staff and for leads of at least one project."""
        return self.is_staff or bool(self.lead_projects)

    def leads(self, project_id: int | None) -> bool:
        """May this user manage (lead) ``project_id``?"""
        return self.is_staff or project_id in self.lead_projects

    def member_of(self, project_id: int | None) -> bool:
        """May this user open ``project_id`` at all?"""
        return self.is_staff or project_id in self.member_projects


def access_for(request: HttpRequest) -> Access:
    """The ``Access`` of ``request.user``, computed once per request (one query)."""
    cached = getattr(request, "_labeling_access", None)
    if cached is not None:
        return cached
    user = request.user
    if not (user.is_authenticated and user.is_active):
        access = Access(user_id=None)
    elif user.is_staff:
        access = Access(user_id=user.pk, is_staff=True)
    else:
        lead: set[int] = set()
        annotator: set[int] = set()
        for project_id, role in Membership.objects.filter(user=user).values_list(
            "project_id", "role"
        ):
            (lead if role == Role.LEAD else annotator).add(project_id)
        access = Access(
            user_id=user.pk, lead_projects=frozenset(lead), annotator_projects=frozenset(annotator)
        )
    request._labeling_access = access  # type: ignore[attr-defined]
    return access


def visible_rows(qs: QuerySet[M], access: Access, *, project: str, own: Q | None) -> QuerySet[M]:
    """The rows of ``qs`` a viewer may list: the rules of the ``access_*`` gates, for lists.

    Staff: all. Leads: every row of the projects they lead. Annotators: the rows matching
    ``own`` (their own work) in the projects they annotate; none when ``own`` is None.
    ``project``: the lookup of the row's project id (``"project_id"``, ``"pk"``, ...).
    """
    if access.is_staff:
        return qs
    visible = Q(**{f"{project}__in": access.lead_projects})
    if own is not None and access.annotator_projects:
        visible |= Q(**{f"{project}__in": access.annotator_projects}) & own
    return qs.filter(visible)
