"""All writes of projects, their schemas and memberships."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from labeling.exceptions import InvalidInput, NotFound
from labeling.label_schemas import SchemaError, SchemaSpec, parse_schemas
from labeling.models import LabelSchema, Membership, Project, Role


def _schema_error(exc: SchemaError) -> InvalidInput:
    return InvalidInput(exc.message, field=exc.field)


def create_project(
    *,
    name: str,
    annotators_per_item: int,
    schemas: Any,
    created_by: AbstractBaseUser | None = None,
    description: str = "",
    guidelines: str = "",
    lease_minutes: int | None = None,
) -> Project:
    """Create a project with its label schemas; the creator becomes its lead.

    ``lease_minutes`` defaults to the ``LABELING_LEASE_MINUTES`` setting.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("must be a non-empty string", field="name")
    if isinstance(annotators_per_item, bool) or not isinstance(annotators_per_item, int):
        raise InvalidInput("must be an integer", field="annotators_per_item")
    if not 1 <= annotators_per_item <= 100:
        raise InvalidInput("must be between 1 and 100", field="annotators_per_item")
    if lease_minutes is None:
        lease_minutes = int(settings.LABELING["LEASE_MINUTES"])
    if not 1 <= lease_minutes <= 7 * 24 * 60:
        raise InvalidInput("must be between 1 and 10080 (one week)", field="lease_minutes")
    try:
        specs = parse_schemas(schemas)
    except SchemaError as exc:
        raise _schema_error(exc) from exc
    with transaction.atomic():
        project = Project.objects.create(
            name=name.strip(),
            description=description,
            guidelines=guidelines,
            annotators_per_item=annotators_per_item,
            lease_minutes=lease_minutes,
            created_by=created_by if created_by and created_by.pk else None,
        )
        LabelSchema.objects.bulk_create(_schema_rows(project, specs))
        if created_by is not None and created_by.pk and not created_by.is_staff:
            Membership.objects.create(project=project, user=created_by, role=Role.LEAD)
    return project


def _schema_rows(project: Project, specs: Sequence[SchemaSpec]) -> list[LabelSchema]:
    return [
        LabelSchema(project=project, kind=s.kind, labels=s.labels, level=s.level, targets=s.targets)
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
    """Remove a member; their annotations stay (they are the project's data)."""
    deleted, _ = Membership.objects.filter(project=project, user_id=user_id).delete()
    if not deleted:
        raise NotFound("not a member of this project", field="user")
