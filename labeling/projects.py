"""All writes of projects, their schemas and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, F, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce

from labeling.exceptions import Conflict, InvalidInput, NotFound
from labeling.kinds import SchemaError, SchemaSpec, parse_schemas
from labeling.models import LabelSchema, Membership, Project, Role, Task
from labeling.quality.dataset import regular_tasks
from labeling.quality.models import ControlQuestion, Escalation
from labeling.quality.reservations import release_for


def _schema_error(exc: SchemaError) -> InvalidInput:
    return InvalidInput(exc.message, field=exc.field)


def create_project(
    *,
    name: str,
    annotators_per_item: int,
    schemas: Any,
    created_by: User | AnonymousUser | None = None,
    description: str = "",
    guidelines: str = "",
    lease_minutes: int | None = None,
) -> Project:
    """Create a project with its label schemas; the creator becomes its lead.

    ``lease_minutes`` defaults to the ``LABELING_LEASE_MINUTES`` setting.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("must be a non-empty string", field="name")
    _check_overlap(annotators_per_item)
    if lease_minutes is None:
        lease_minutes = int(settings.LABELING["LEASE_MINUTES"])
    if not 1 <= lease_minutes <= 7 * 24 * 60:
        raise InvalidInput("must be between 1 and 10080 (one week)", field="lease_minutes")
    try:
        specs = parse_schemas(schemas)
    except SchemaError as exc:
        raise _schema_error(exc) from exc
    creator = created_by if isinstance(created_by, User) and created_by.pk else None
    with transaction.atomic():
        project = Project.objects.create(
            name=name.strip(),
            description=description,
            guidelines=guidelines,
            annotators_per_item=annotators_per_item,
            lease_minutes=lease_minutes,
            created_by=creator,
        )
        LabelSchema.objects.bulk_create(_schema_rows(project, specs))
        if creator is not None and not creator.is_staff:
            Membership.objects.create(project=project, user=creator, role=Role.LEAD)
    return project


def _check_overlap(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be an integer", field="annotators_per_item")
    if not 1 <= value <= 100:
        raise InvalidInput("must be between 1 and 100", field="annotators_per_item")
    return value


def overlap_blockers(*, project: Project, annotators_per_item: int) -> tuple[int, int]:
    """Tasks holding more annotators (leased or submitted) than ``annotators_per_item``, and
    the most any task holds: lowering the overlap below that would drop someone's work.
    """
    row = (
        _pooled_tasks(project)
        .annotate(extra=_extra())
        .aggregate(
            over=Count("id", filter=Q(n_assigned__gt=annotators_per_item + F("extra"))),
            most=Max(F("n_assigned") - F("extra")),
        )
    )
    return row["over"], row["most"] or 0


def _pooled_tasks(project: Project) -> Any:
    """Tasks whose overlap follows the project's: control questions keep their own."""
    return regular_tasks(Task.objects.filter(project_id=project.pk))


def _extra() -> Any:
    """A task's escalation extra (0 when it was never escalated)."""
    extra = Escalation.objects.filter(task_id=OuterRef("pk")).values("extra")[:1]
    return Coalesce(Subquery(extra), Value(0))


def _refuse_lowering(over: int, most: int, wanted: int) -> Conflict:
    return Conflict(
        f"cannot lower to {wanted}: {over} task(s) already have up to {most} annotators "
        f"(leased or submitted); use {most} or more",
        field="annotators_per_item",
        code="overlap_in_use",
    )


def check_annotators_per_item(*, project: Project, annotators_per_item: Any) -> int:
    """Validate a new overlap for ``project`` (400 / 409 naming the field); returns it."""
    wanted = _check_overlap(annotators_per_item)
    over, most = overlap_blockers(project=project, annotators_per_item=wanted)
    if over:
        raise _refuse_lowering(over, most, wanted)
    return wanted


def set_annotators_per_item(*, project: Project, annotators_per_item: Any) -> int:
    """Change how many annotators label each task, for the project AND all its tasks.

    Every task of the project gets the new overlap at once (one UPDATE), so tasks never
    disagree with their project: raising it reopens tasks, complete ones included, for the
    extra annotators; lowering it closes tasks that now have enough. Escalated tasks keep
    their extra annotators on top; control questions keep their own overlap (they get the
    new one back when removed). Lowering below what a task already holds (leased or
    submitted) is refused with 409 naming the field. Returns how many tasks were updated.
    """
    wanted = check_annotators_per_item(project=project, annotators_per_item=annotators_per_item)
    try:
        with transaction.atomic():
            # Escalated tasks keep their extra annotators above the new overlap.
            effective = Value(wanted) + _extra()
            updated = _pooled_tasks(project).update(
                overlap=effective,
                is_open=Case(
                    When(n_assigned__lt=effective, then=Value(True)), default=Value(False)
                ),
            )
            Escalation.objects.filter(project=project).update(base_overlap=wanted)
            ControlQuestion.objects.filter(project=project).update(base_overlap=wanted)
    except IntegrityError:
        # A lease taken meanwhile breaks the "never over-assigned" CHECK: refuse as above.
        over, most = overlap_blockers(project=project, annotators_per_item=wanted)
        raise _refuse_lowering(max(over, 1), max(most, wanted + 1), wanted) from None
    project.annotators_per_item = wanted
    project.save(update_fields=["annotators_per_item", "updated_at"])
    return updated


#: Project fields a lead may change after creation (``update_project``).
EDITABLE_FIELDS = ("name", "description", "guidelines", "lease_minutes", "annotators_per_item")


def update_project(*, project: Project, changes: dict[str, Any]) -> Project:
    """Apply a lead's changes to ``EDITABLE_FIELDS``, all or nothing (API and admin alike).

    A new ``annotators_per_item`` goes to every task too (``set_annotators_per_item``).
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput("cannot be changed after creation", field=sorted(unknown)[0])
    with transaction.atomic():
        overlap = changes.get("annotators_per_item")
        if overlap is not None and overlap != project.annotators_per_item:
            set_annotators_per_item(project=project, annotators_per_item=overlap)
        rest = {k: v for k, v in changes.items() if k != "annotators_per_item"}
        for name, value in rest.items():
            setattr(project, name, value)
        if rest:
            project.save(update_fields=[*rest, "updated_at"])
    return project


def _schema_rows(project: Project, specs: Sequence[SchemaSpec]) -> list[LabelSchema]:
    return [
        LabelSchema(
            project=project,
            kind=s.kind,
            labels=s.labels,
            level=s.level,
            targets=s.targets,
            values=s.values,
            description=s.description,
        )
        for s in specs
    ]


def add_member(*, project: Project, username: str, role: str) -> tuple[Membership, bool]:
    """Add ``username`` to ``project`` with ``role`` (or change their role).

    Returns the membership and whether it was created.
    """
    if role not in Role.values:
        raise InvalidInput(f"must be one of {', '.join(Role.values)}", field="role")
    if not isinstance(username, str) or not username:
        raise InvalidInput("is required", field="username")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"no active user named {username!r}", field="username")
    membership, created = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership, created


def remove_member(*, project: Project, user_id: int) -> None:
    """Remove a member; their annotations stay (they are the project's data), the tasks
    reserved for them go back to the pool."""
    with transaction.atomic():
        deleted, _ = Membership.objects.filter(project=project, user_id=user_id).delete()
        if not deleted:
            raise NotFound("not a member of this project", field="user")
        release_for(project=project, user_id=user_id)
