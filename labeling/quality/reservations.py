"""Reserving work for an annotator: documents, or a number or share of the remaining tasks.

A reservation takes one slot of the task at once (the same conditional UPDATE as a lease),
so no one else can ever take it; the annotator's next-task turns it into a lease first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, QuerySet

from labeling.exceptions import InvalidInput
from labeling.models import Assignment, Document, Membership, Project, Task
from labeling.quality.models import ControlQuestion, Reservation
from labeling.queue.leasing import take_slot
from labeling.queue.releasing import give_back_slots

#: Tasks reserved in one request at most.
MAX_RESERVED = 100_000


@dataclass
class ReserveResult:
    """What a reservation request did: reserved task ids and why others were not."""

    user_id: int
    reserved: list[int] = field(default_factory=list)
    already_reserved: int = 0
    already_taken: int = 0
    full: int = 0


def member_by_username(project: Project, username: Any) -> Any:
    """The project member with this username, or 400 naming ``username``."""
    if not isinstance(username, str) or not username:
        raise InvalidInput("is required: the annotator's username", field="username")
    user = get_user_model().objects.filter(username=username).first()
    if user is None or not Membership.objects.filter(project=project, user=user).exists():
        raise InvalidInput(f"{username!r} is not a member of this project", field="username")
    return user


def _candidate_tasks(project: Project, user: Any, kind: str | None) -> QuerySet[Task]:
    """Tasks of the project the annotator never touched, controls left out, reading order."""
    qs = (
        Task.objects.filter(project=project)
        .filter(~Exists(Assignment.objects.filter(task_id=OuterRef("pk"), annotator_id=user.pk)))
        .filter(~Exists(ControlQuestion.objects.filter(task_id=OuterRef("pk"))))
    )
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("document_id", "position", "kind", "target", "id")


def reserve(
    *,
    project: Project,
    user: Any,
    by: Any,
    documents: list[int] | None = None,
    count: int | None = None,
    share: float | None = None,
    kind: str | None = None,
) -> ReserveResult:
    """Reserve tasks for ``user``: all of ``documents``, or ``count`` / ``share`` of the open ones.

    Tasks they already hold, did, skipped or have reserved are left out, and so are full
    tasks (counted in the result). Documents must belong to the project (400 naming
    ``documents[i]``).
    """
    result = ReserveResult(user_id=user.pk)
    qs = _candidate_tasks(project, user, kind)
    if documents is not None:
        found = set(
            Document.objects.filter(project=project, pk__in=documents).values_list("pk", flat=True)
        )
        for i, doc in enumerate(documents):
            if doc not in found:
                raise InvalidInput("no such document in this project", field=f"documents[{i}]")
        qs = qs.filter(document_id__in=documents)
    else:
        qs = qs.filter(is_open=True)
        if share is not None:
            count = round(share * qs.count())
    limit = MAX_RESERVED if count is None else min(count, MAX_RESERVED)
    rows = list(qs.values_list("pk", "kind", "document_id", "position")[:limit])
    mine = set(
        Reservation.objects.filter(annotator=user, task_id__in=[r[0] for r in rows]).values_list(
            "task_id", flat=True
        )
    )
    with transaction.atomic():
        new = []
        for task_id, task_kind, document_id, position in rows:
            if task_id in mine:
                result.already_reserved += 1
                continue
            if not take_slot(task_id):
                result.full += 1
                continue
            new.append(
                Reservation(
                    task_id=task_id,
                    project=project,
                    annotator=user,
                    kind=task_kind,
                    document_id=document_id,
                    position=position,
                    created_by=by if by is not None and by.pk else None,
                )
            )
            result.reserved.append(task_id)
        Reservation.objects.bulk_create(new, batch_size=1000)
    return result


def release(*, project: Project, user: Any) -> int:
    """End every standing reservation of ``user`` in the project; their slots go back."""
    return release_for(project=project, user_id=user.pk)


def release_for(*, project: Project, user_id: int) -> int:
    """``release`` by user id; returns how many reservations ended."""
    with transaction.atomic():
        rows = list(
            Reservation.objects.select_for_update()
            .filter(project=project, annotator_id=user_id)
            .values_list("pk", "task_id")
        )
        for pk, task_id in rows:
            if Reservation.objects.filter(pk=pk).delete()[0]:
                give_back_slots(task_id)
    return len(rows)


def summary(*, project: Project) -> list[dict[str, Any]]:
    """Standing reservations per annotator of the project, by username."""
    return [
        {
            "user": row["annotator_id"],
            "username": row["annotator__username"],
            "n_reserved": row["n"],
        }
        for row in Reservation.objects.filter(project=project)
        .values("annotator_id", "annotator__username")
        .annotate(n=Count("id"))
        .order_by("annotator__username")
    ]
