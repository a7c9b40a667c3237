"""The task queue: leases on the next task in reading order, overlap, expiry, skipping.

Invariant: ``Task.n_assigned`` counts the task's active and submitted assignments and
never exceeds ``Task.overlap`` (a database CHECK). Every change of ``n_assigned`` is a
conditional UPDATE, so concurrent callers can never over-assign: a slot is taken with
``UPDATE ... WHERE n_assigned < overlap`` and given back exactly once, by the caller
whose conditional UPDATE moved the assignment out of ``active``. ``is_open`` mirrors
``n_assigned < overlap`` so the partial index ``task_queue_idx`` serves the queue.

Reading order is ``(document_id, position)``. Candidate queries are bounded by the
partial index and a LIMIT, and start from the annotator's cursor (their most recent
assignment, found through the ``(annotator, -id)`` index), so their cost does not grow
with the project's size. On PostgreSQL the candidate row is locked with ``FOR UPDATE
SKIP LOCKED`` so concurrent annotators take different tasks instead of queueing on one
row; SQLite serialises writers (IMMEDIATE transactions) and the conditional UPDATE alone
is enough there.

The hot path (``next_task`` for one target) is a few hand-written statements: on
PostgreSQL the lease is ONE statement (lock the candidate, take the slot, insert the
assignment), atomic on its own in autocommit, so it needs no BEGIN/COMMIT round trips;
a unique violation rolls all of it back. Everything else (several stance targets,
re-leasing a task whose lease this annotator let expire, SQLite) goes through the ORM
path in a transaction, ``_find_and_take``. Expired leases are swept lazily at most every
``LAZY_RELEASE_SECONDS`` per (project, kind) and process, and always before answering
"nothing left"; the periodic job (``release_all_expired_leases``) does the rest.
"""

from __future__ import annotations

from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, QuerySet, Sum, Value, When
from django.utils import timezone

from labeling.exceptions import Conflict, InvalidInput
from labeling.kinds import is_kind_name
from labeling.models import (
    Annotation,
    Assignment,
    AssignmentStatus,
    ControlQuestion,
    LabelSchema,
    Membership,
    Project,
    Task,
)
from labeling.quality import policies
from labeling.quality.dataset import regular_tasks

#: How many expired leases one ``next_task`` call releases at most (the job does the rest).
LAZY_RELEASE_LIMIT = 50
#: A lazy sweep of expired leases runs at most this often per (project, kind) and process.
LAZY_RELEASE_SECONDS = 5
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


def enabled_schema(
    project: Project, kind: Any, target: Any = None, *, schema: LabelSchema | None = None
) -> LabelSchema:
    """The enabled schema of ``kind`` in the project; 400 naming ``kind``/``target`` if not.

    ``schema``: the enabled schema of ``kind`` when the caller already read it.
    """
    if not isinstance(kind, str) or not kind:
        raise InvalidInput("is required: one of the project's kinds", field="kind")
    if schema is None and is_kind_name(kind):
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


_A, _T = Assignment._meta.db_table, Task._meta.db_table
_C = ControlQuestion._meta.db_table
# The newest assignment that is held, or else not of a control question: a control
# leaves the annotator's place in reading order where it was.
# Only table names (model metadata) and enum values are interpolated.
_CURSOR_SQL = f"""
SELECT a.id, a.status, a.leased_at, a.expires_at, a.task_id, t.document_id, t.position, t.target,
       CASE WHEN a.status = 'active' AND a.expires_at > %s THEN 1 ELSE 0 END
FROM {_A} a JOIN {_T} t ON t.id = a.task_id
WHERE a.annotator_id = %s AND t.project_id = %s AND t.kind = %s {{target}}
  AND ((a.status = 'active' AND a.expires_at > %s)
       OR NOT EXISTS (SELECT 1 FROM {_C} c WHERE c.task_id = a.task_id))
ORDER BY a.id DESC
LIMIT 1
"""  # noqa: S608
_CURSOR_ANY_TARGET, _CURSOR_ONE_TARGET = (
    _CURSOR_SQL.format(target=""),
    _CURSOR_SQL.format(target="AND t.target = %s"),
)


def _datetime(value: Any) -> Any:
    """A timestamp read by raw SQL, made aware as the ORM would (SQLite returns it naive)."""
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    return convert(value, None, connection) if convert is not None else value


def _place(assignment: Assignment, document_id: int, position: int, target: str) -> Assignment:
    """Remember where the task is, so the payload needs no query to find it."""
    assignment.place = (document_id, position, target)  # type: ignore[attr-defined]
    return assignment


def _held_or_cursor(
    user: Any, project: Project, kind: str, target: str | None
) -> tuple[Assignment | None, Cursor | None]:
    """The annotator's unexpired lease in this queue, else the cursor of their last task.

    One indexed query: the annotator's newest assignment in the queue.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: list[Any] = [now, user.pk, project.pk, kind]
    if target:
        params.append(target)
    params.append(now)
    with connection.cursor() as cur:
        cur.execute(_CURSOR_ONE_TARGET if target else _CURSOR_ANY_TARGET, params)
        row = cur.fetchone()
    if row is None:
        return None, None
    pk, status, leased_at, expires_at, task_id, document_id, position, task_target, held = row
    if held:
        lease = Assignment.from_db(
            connection.alias,
            ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at"],
            [pk, task_id, user.pk, status, _datetime(leased_at), _datetime(expires_at)],
        )
        return _place(lease, document_id, position, task_target), None
    return None, Cursor(document_id, position)


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
        .filter(~Exists(ControlQuestion.objects.filter(task_id=OuterRef("pk"))))
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


def _sweep(project_id: int, kind: str, *, force: bool = False) -> int:
    """Release expired leases of the queue, at most every ``LAZY_RELEASE_SECONDS`` unless forced."""
    key = f"labeling:lease-sweep:{project_id}:{kind}"
    if not cache.add(key, 1, timeout=LAZY_RELEASE_SECONDS) and not force:
        return 0
    return release_expired_leases(project_id=project_id, kind=kind, limit=LAZY_RELEASE_LIMIT)


def next_task(
    *,
    user: Any,
    project: Project,
    kind: Any,
    target: Any = None,
    schema: LabelSchema | None = None,
) -> Assignment | None:
    """Lease the annotator's next task of ``kind`` (and ``target``), or None if none is left.

    Asking again while holding an unexpired lease returns the same assignment. Expired
    leases of this queue are released first (bounded, rate-limited per process) and
    always before None is answered. Never offers a task the annotator submitted, skipped
    or holds; may re-offer one whose lease they let expire. ``schema``: the enabled
    schema of ``kind`` when the caller already read it (``access.access_queue``).
    """
    schema = enabled_schema(project, kind, target, schema=schema)
    target = target or None
    ctx = policies.context_for(user, project)
    policies.check_may_work(ctx)
    swept = _sweep(project.pk, schema.kind)
    leased = _lease(user, project, schema, target, ctx)
    if leased is None and not swept and _sweep(project.pk, schema.kind, force=True):
        leased = _lease(user, project, schema, target, ctx)
    if leased is not None:
        leased.schema = schema  # type: ignore[attr-defined]  # saves the payload a query
    return leased


def _lease(
    user: Any,
    project: Project,
    schema: LabelSchema,
    target: str | None,
    ctx: policies.QueueContext,
) -> Assignment | None:
    held, cursor = _held_or_cursor(user, project, schema.kind, target)
    if held is not None:
        return held
    if ctx.plain:
        return _lease_regular(user, project, schema, target, cursor)
    return policies.lease_with_policies(
        user=user,
        project=project,
        kind=schema.kind,
        target=target,
        ctx=ctx,
        regular=lambda: _lease_regular(user, project, schema, target, cursor),
    )


def _lease_regular(
    user: Any, project: Project, schema: LabelSchema, target: str | None, cursor: Cursor | None
) -> Assignment | None:
    """Lease the first task in reading order from the cursor (the regular queue)."""
    now = timezone.now()
    expires = now + timedelta(minutes=project.lease_minutes)
    targets = _targets(schema, target)
    for _attempt in range(3):
        try:
            if connection.vendor == "postgresql" and len(targets) == 1:
                leased = _lease_in_one_statement(user, project, schema.kind, targets[0], cursor)
                if leased is not _SLOW_PATH:
                    return leased
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
                return _place(assignment, task.document_id, task.position, task.target)
        except IntegrityError:
            # The same annotator asked twice at once and the other call won this task.
            held, cursor = _held_or_cursor(user, project, schema.kind, target)
            if held is not None:
                return held
    raise Conflict("the queue is busy; please ask again", code="busy")


#: ``_lease_in_one_statement`` could not decide: take the ORM path.
_SLOW_PATH: Any = object()

# One statement: the first open candidate in the window, locked (SKIP LOCKED), its slot
# taken by a conditional UPDATE and the assignment inserted. Every part commits or none
# does (a unique violation on the assignment rolls back the slot too). A candidate the
# annotator already has an (expired) assignment on is returned untouched: the ORM path
# re-activates that assignment.
# Only table names (model metadata) and enum values are interpolated.
_LEASE_SQL = f"""
WITH c AS (
    SELECT t.id, t.document_id, t.position, t.target,
           EXISTS (SELECT 1 FROM {_A} m WHERE m.task_id = t.id AND m.annotator_id = %(user)s)
               AS mine
    FROM {_T} t
    WHERE t.project_id = %(project)s AND t.kind = %(kind)s AND t.target = %(target)s
      AND t.is_open {{window}}
      AND NOT EXISTS (
          SELECT 1 FROM {_A} m
          WHERE m.task_id = t.id AND m.annotator_id = %(user)s
            AND m.status <> '{AssignmentStatus.EXPIRED.value}'
      )
      AND NOT EXISTS (SELECT 1 FROM {_C} ctl WHERE ctl.task_id = t.id)
    ORDER BY t.document_id, t.position
    LIMIT 1
    FOR UPDATE OF t SKIP LOCKED
), taken AS (
    UPDATE {_T} t SET n_assigned = t.n_assigned + 1, is_open = t.n_assigned + 1 < t.overlap
    FROM c
    WHERE t.id = c.id AND NOT c.mine AND t.n_assigned < t.overlap
    RETURNING t.id
), created AS (
    INSERT INTO {_A} (task_id, annotator_id, status, leased_at, expires_at, finished_at)
    SELECT taken.id, %(user)s, '{AssignmentStatus.ACTIVE.value}', %(now)s, %(expires)s, NULL
    FROM taken
    RETURNING id
)
SELECT c.id, c.document_id, c.position, c.target, c.mine, (SELECT id FROM created) FROM c
"""  # noqa: S608
# Reading order from the cursor: the rest of its document, then later documents (one
# row comparison, an index range on the queue index), then from the start.
_LEASE_FROM_CURSOR = _LEASE_SQL.format(
    window="AND (t.document_id, t.position) >= (%(document)s, %(position)s)"
)
_LEASE_FROM_START = _LEASE_SQL.format(window="")


def _lease_in_one_statement(
    user: Any, project: Project, kind: str, target: str, cursor: Cursor | None
) -> Assignment | None:
    """PostgreSQL, one target: lease in one autocommit statement per reading-order window.

    Returns the assignment, None when no window has a candidate, or ``_SLOW_PATH``.
    """
    now = timezone.now()
    expires = now + timedelta(minutes=project.lease_minutes)
    params = {
        "user": user.pk,
        "project": project.pk,
        "kind": kind,
        "target": target,
        "now": now,
        "expires": expires,
        "document": cursor.document_id if cursor else None,
        "position": cursor.position if cursor else None,
    }
    windows = [_LEASE_FROM_CURSOR, _LEASE_FROM_START] if cursor else [_LEASE_FROM_START]
    for sql in windows:
        # Inside a caller's transaction a failing statement must not abort it: savepoint.
        savepoint = transaction.atomic() if connection.in_atomic_block else nullcontext()
        with savepoint, connection.cursor() as cur:
            cur.execute(sql, params)
            row = cur.fetchone()
        if row is None:
            continue
        task_id, document_id, position, task_target, mine, assignment_id = row
        if assignment_id is None:  # an expired lease of this annotator (or a lost race)
            return _SLOW_PATH
        assignment = Assignment.from_db(
            connection.alias,
            ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at", "finished_at"],
            [assignment_id, task_id, user.pk, AssignmentStatus.ACTIVE, now, expires, None],
        )
        return _place(assignment, document_id, position, task_target)
    return None


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

    Control questions are left out: they are not part of the dataset.

    A fixed number of aggregate queries, whatever the project's size.
    """
    totals = (
        regular_tasks(Task.objects.filter(project=project))
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
    rows = Assignment.objects.filter(task__project=project).filter(
        ~Exists(ControlQuestion.objects.filter(task_id=OuterRef("task_id")))
    )
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
