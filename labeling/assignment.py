"""The task queue: leases on the next task in reading order, overlap, expiry, skipping.

Invariant: ``Task.n_assigned`` counts the task's active and submitted assignments and
never exceeds ``Task.overlap`` (a database CHECK). Every change of ``n_assigned`` is a
conditional UPDATE, so concurrent callers can never over-assign: a slot is taken with
``UPDATE ... WHERE n_assigned < overlap`` and given back exactly once, by the caller
whose conditional UPDATE moved the assignment out of ``active``. ``is_open`` mirrors
``n_assigned < overlap`` so the partial index ``task_queue_idx`` serves the queue.

Reading order is ``(document_id, position)``. Candidate queries are bounded by the
partial index and a LIMIT, and start from the annotator's cursor (their most recent
assignment), so their cost does not grow with the project's size. On PostgreSQL the
candidate row is locked with ``FOR UPDATE SKIP LOCKED`` so concurrent annotators take
different tasks instead of queueing on one row; SQLite serialises writers (IMMEDIATE
transactions) and the conditional UPDATE alone is enough there.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from labeling.exceptions import Conflict, InvalidInput
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    LabelSchema,
    Membership,
    Project,
    Task,
)

#: How many expired leases one ``next_task`` call releases at most (the job does the rest).
LAZY_RELEASE_LIMIT = 50
#: Candidates fetched per query. One suffices (a locked or serialised open task always
#: has room); a second is a cheap guard should ``is_open`` ever lag behind.
CANDIDATES = 2


@dataclass(frozen=True)
class Cursor:
    """Where the annotator is in reading order: their most recent task's place."""

    document_id: int
    position: int


def take_slot_update() -> dict[str, Any]:
    """The UPDATE assignments that take one slot; SET expressions see the old row."""
    return {
        "n_assigned": F("n_assigned") + 1,
        "is_open": Case(
            When(n_assigned__lt=F("overlap") - 1, then=Value(True)), default=Value(False)
        ),
    }


def take_slot(task_id: int) -> bool:
    """Take one slot of the task if it has room; False when it is full."""
    return bool(
        Task.objects.filter(pk=task_id, n_assigned__lt=F("overlap")).update(**take_slot_update())
    )


def give_back_slots(task_id: int, n: int = 1) -> None:
    """Return ``n`` slots; call only after moving ``n`` assignments out of active."""
    Task.objects.filter(pk=task_id).update(n_assigned=F("n_assigned") - n, is_open=True)


def enabled_schema(project: Project, kind: Any, target: Any = None) -> LabelSchema:
    """The enabled schema of ``kind`` in the project; 400 naming ``kind``/``target`` if not."""
    if not isinstance(kind, str) or not kind:
        raise InvalidInput("is required: one of the project's kinds", field="kind")
    schema = LabelSchema.objects.filter(project=project, kind=kind, enabled=True).first()
    if schema is None:
        kinds = list(
            LabelSchema.objects.filter(project=project, enabled=True).values_list("kind", flat=True)
        )
        raise InvalidInput(
            f"{kind!r} is not enabled in this project; use one of {', '.join(kinds) or '(none)'}",
            field="kind",
        )
    if target not in (None, "") and target not in (schema.targets or []):
        raise InvalidInput(
            f"{target!r} is not a target of {kind}; use one of "
            f"{', '.join(schema.targets) or '(none)'}",
            field="target",
        )
    return schema


def release_expired_leases(
    *, project_id: int | None = None, kind: str | None = None, limit: int = 1000
) -> int:
    """Expire active assignments whose lease ran out and return their slots to the pool.

    Returns how many were released. Each assignment is moved out of ``active`` by a
    conditional UPDATE on rows locked here, so its slot is given back exactly once.
    """
    now = timezone.now()
    qs = Assignment.objects.filter(status=AssignmentStatus.ACTIVE, expires_at__lt=now)
    if project_id is not None:
        qs = qs.filter(task__project_id=project_id)
    if kind is not None:
        qs = qs.filter(task__kind=kind)
    if not qs.exists():  # the common case: no transaction, one index probe
        return 0
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        rows = list(qs.order_by("expires_at").values_list("pk", "task_id")[:limit])
        if not rows:
            return 0
        ids = [pk for pk, _ in rows]
        released = Assignment.objects.filter(pk__in=ids, status=AssignmentStatus.ACTIVE).update(
            status=AssignmentStatus.EXPIRED, finished_at=now
        )
        if released != len(ids):  # cannot happen while the rows are locked
            raise RuntimeError("expired leases changed while locked")
        for task_id, n in sorted(Counter(task_id for _, task_id in rows).items()):
            give_back_slots(task_id, n)
    return released


def release_all_expired_leases(*, batch: int = 1000) -> int:
    """Release every expired lease in batches (the periodic job); returns the count."""
    total = 0
    while n := release_expired_leases(limit=batch):
        total += n
    return total


def _held_or_cursor(
    user: Any, project: Project, kind: str, target: str | None
) -> tuple[Assignment | None, Cursor | None]:
    """The annotator's unexpired lease in this queue, else the cursor of their last task."""
    qs = Assignment.objects.filter(annotator_id=user.pk, task__project=project, task__kind=kind)
    if target:
        qs = qs.filter(task__target=target)
    last = (
        qs.order_by("-id")
        .select_related("task")
        .only(
            "id",
            "status",
            "expires_at",
            "leased_at",
            "task_id",
            "annotator_id",
            "task__document_id",
            "task__position",
        )
        .first()
    )
    if last is None:
        return None, None
    if last.status == AssignmentStatus.ACTIVE and last.expires_at > timezone.now():
        return last, None
    return None, Cursor(last.task.document_id, last.task.position)


def _candidates(
    user: Any, project: Project, kind: str, target: str | None, where: Q, *, lock: bool
) -> QuerySet[Task]:
    mine = Assignment.objects.filter(task_id=OuterRef("pk"), annotator_id=user.pk).exclude(
        status=AssignmentStatus.EXPIRED
    )
    mine_expired = Assignment.objects.filter(
        task_id=OuterRef("pk"), annotator_id=user.pk, status=AssignmentStatus.EXPIRED
    )
    qs = (
        Task.objects.filter(where, project=project, kind=kind, is_open=True)
        .filter(~Exists(mine))
        .annotate(mine_expired=Exists(mine_expired))
    )
    if target is not None:
        qs = qs.filter(target=target)
    qs = qs.order_by("document_id", "position", "target")
    if lock:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def _windows(cursor: Cursor | None) -> list[Q]:
    """Reading-order windows: rest of the current document, later documents, then all."""
    if cursor is None:
        return [Q()]
    return [
        Q(document_id=cursor.document_id, position__gte=cursor.position),
        Q(document_id__gt=cursor.document_id),
        Q(),
    ]


def _targets(schema: LabelSchema, target: str | None) -> list[str | None]:
    # With several stance targets and none asked for, one query per target keeps each
    # query on the (project, kind, target, document, position) index; merged below.
    if target:
        return [target]
    if schema.targets:
        return list(schema.targets)
    return [""]


def _find_and_take(
    user: Any, project: Project, schema: LabelSchema, target: str | None, cursor: Cursor | None
) -> Task | None:
    """Take a slot on the first candidate in reading order; None when nothing is left."""
    lock = connection.features.has_select_for_update_skip_locked
    targets = _targets(schema, target)
    for where in _windows(cursor):
        found: list[Task] = []
        for t in targets:
            qs = _candidates(user, project, schema.kind, t, where, lock=lock)
            found.extend(qs.only("id", "document_id", "position", "target")[:CANDIDATES])
        found.sort(key=lambda c: (c.document_id, c.position, c.target))
        for candidate in found:
            if take_slot(candidate.pk):
                return candidate
    return None


def next_task(*, user: Any, project: Project, kind: Any, target: Any = None) -> Assignment | None:
    """Lease the annotator's next task of ``kind`` (and ``target``), or None if none is left.

    Asking again while holding an unexpired lease returns the same assignment. Expired
    leases of this queue are released first (bounded). Never offers a task the
    annotator submitted, skipped or holds; may re-offer one whose lease they let expire.
    """
    schema = enabled_schema(project, kind, target)
    target = target or None
    release_expired_leases(project_id=project.pk, kind=schema.kind, limit=LAZY_RELEASE_LIMIT)
    leased = _lease(user, project, schema, target)
    if leased is not None:
        leased.schema = schema  # type: ignore[attr-defined]  # saves the payload a query
    return leased


def _lease(
    user: Any, project: Project, schema: LabelSchema, target: str | None
) -> Assignment | None:
    held, cursor = _held_or_cursor(user, project, schema.kind, target)
    if held is not None:
        return held
    now = timezone.now()
    expires = now + timedelta(minutes=project.lease_minutes)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                task = _find_and_take(user, project, schema, target, cursor)
                if task is None:
                    return None
                if task.mine_expired:  # type: ignore[attr-defined]
                    assignment = Assignment.objects.get(task_id=task.pk, annotator_id=user.pk)
                    assignment.status = AssignmentStatus.ACTIVE
                    assignment.leased_at, assignment.expires_at = now, expires
                    assignment.finished_at = None
                    assignment.save(
                        update_fields=["status", "leased_at", "expires_at", "finished_at"]
                    )
                else:
                    assignment = Assignment.objects.create(
                        task_id=task.pk, annotator_id=user.pk, leased_at=now, expires_at=expires
                    )
                return assignment
        except IntegrityError:
            # The same annotator asked twice at once and the other call won this task.
            held, cursor = _held_or_cursor(user, project, schema.kind, target)
            if held is not None:
                return held
    raise Conflict("the queue is busy; please ask again", code="busy")


def skip_task(*, user: Any, task: Task) -> Assignment:
    """Give the task back; it is never offered to this annotator again.

    Works on a held, an expired or a never-held task; a submitted task cannot be skipped.
    """
    now = timezone.now()
    with transaction.atomic():
        assignment = Assignment.objects.filter(task_id=task.pk, annotator_id=user.pk).first()
        if assignment is None:
            if Annotation.objects.filter(task_id=task.pk, annotator_id=user.pk).exists():
                raise Conflict("you already annotated this task; it cannot be skipped")
            return Assignment.objects.create(
                task_id=task.pk,
                annotator_id=user.pk,
                status=AssignmentStatus.SKIPPED,
                leased_at=now,
                expires_at=now,
                finished_at=now,
            )
        if assignment.status == AssignmentStatus.SUBMITTED:
            raise Conflict("you already annotated this task; it cannot be skipped")
        if assignment.status == AssignmentStatus.SKIPPED:
            return assignment
        moved = Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.ACTIVE).update(
            status=AssignmentStatus.SKIPPED, finished_at=now
        )
        if moved:
            give_back_slots(task.pk)
        else:  # expired meanwhile: its slot was already given back
            Assignment.objects.filter(pk=assignment.pk).update(
                status=AssignmentStatus.SKIPPED, finished_at=now
            )
        assignment.refresh_from_db()
    return assignment


def project_progress(*, project: Project, user: Any, all_annotators: bool) -> dict[str, Any]:
    """Totals by kind and target, and per annotator by kind (only ``user`` unless leading).

    A fixed number of aggregate queries, whatever the project's size.
    """
    totals = (
        Task.objects.filter(project=project)
        .values("kind", "target")
        .annotate(
            n_tasks=Count("id"),
            n_complete=Count("id", filter=Q(n_submitted__gte=F("overlap"))),
            n_annotations=Sum("n_submitted"),
            n_needed=Sum("overlap"),
            n_held=Sum(F("n_assigned") - F("n_submitted")),
        )
        .order_by("kind", "target")
    )
    by_kind = [
        {
            "kind": row["kind"],
            "target": row["target"],
            "n_tasks": row["n_tasks"],
            "n_complete": row["n_complete"],
            "n_annotations": row["n_annotations"] or 0,
            "n_annotations_needed": row["n_needed"] or 0,
            "n_active_leases": row["n_held"] or 0,
        }
        for row in totals
    ]
    tasks_per_kind: Counter[str] = Counter()
    for row in by_kind:
        tasks_per_kind[row["kind"]] += row["n_tasks"]
    rows = Assignment.objects.filter(task__project=project)
    members = Membership.objects.filter(project=project)
    if not all_annotators:
        rows = rows.filter(annotator_id=user.pk)
        members = members.filter(user_id=user.pk)
    counts = rows.values("annotator_id", "task__kind", "status").annotate(n=Count("id"))
    people: dict[int, dict[str, Any]] = {
        m["user_id"]: {"user": m["user_id"], "username": m["user__username"], "role": m["role"]}
        for m in members.values("user_id", "user__username", "role")
    }
    stats: dict[int, dict[str, Counter[str]]] = {}
    for row in counts:
        stats.setdefault(row["annotator_id"], {}).setdefault(row["task__kind"], Counter())[
            row["status"]
        ] += row["n"]
    missing = set(stats) - set(people)
    if missing:  # former members or staff who annotated
        for u in get_user_model().objects.filter(pk__in=missing).values("pk", "username"):
            people[u["pk"]] = {"user": u["pk"], "username": u["username"], "role": None}
    if not all_annotators and user.pk not in people:
        people[user.pk] = {"user": user.pk, "username": user.get_username(), "role": None}
    annotators = []
    for uid in sorted(people):
        kinds = stats.get(uid, {})
        by = []
        for kind in sorted(tasks_per_kind):
            c = kinds.get(kind, Counter())
            done, skipped = c[AssignmentStatus.SUBMITTED], c[AssignmentStatus.SKIPPED]
            by.append(
                {
                    "kind": kind,
                    "done": done,
                    "skipped": skipped,
                    "active": c[AssignmentStatus.ACTIVE],
                    "remaining": max(tasks_per_kind[kind] - done - skipped, 0),
                }
            )
        annotators.append({**people[uid], "by_kind": by})
    return {"project": project.pk, "by_kind": by_kind, "annotators": annotators}
