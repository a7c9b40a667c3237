"""Leasing: hand an annotator the next task of a queue (project, kind, target).

Invariant: ``Task.n_assigned`` counts the task's active and submitted assignments and
never exceeds ``Task.overlap`` (a database CHECK). Every change of ``n_assigned`` is a
conditional UPDATE, so concurrent callers can never over-assign: a slot is taken with
``UPDATE ... WHERE n_assigned < overlap`` and given back exactly once, by the caller
whose conditional UPDATE moved the assignment out of ``active`` (``releasing``).
``is_open`` mirrors ``n_assigned < overlap`` so the partial index ``task_queue_idx``
serves the queue.

One implementation on SQLite and PostgreSQL: portable SQL in one transaction. The
candidate (``policy``) is chosen, its slot taken and the lease written by two
statements: ``UPDATE task ... WHERE id = (candidate) RETURNING`` and an upsert of the
assignment (``INSERT ... ON CONFLICT DO UPDATE ... WHERE status = 'expired'``, which
also renews a lease this annotator let expire). Candidate queries start from the
annotator's cursor (their newest assignment, through the ``(annotator, -id)`` index)
and are index ranges with a LIMIT, so their cost does not grow with the project.
Expired leases are swept lazily (``releasing.sweep``) and always before answering
"nothing left". Quality control's policies (``labeling.quality.policies``) decide
before the regular queue whenever a project uses them.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from labeling.exceptions import Conflict, InvalidInput
from labeling.kinds import is_kind_name
from labeling.models import Assignment, AssignmentStatus, LabelSchema, Project
from labeling.quality import policies
from labeling.queue import policy, releasing
from labeling.queue.policy import Cursor
from labeling.queue.sql import aware, fetchone

A, T = Assignment._meta.db_table, policy.T


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


def _targets(schema: LabelSchema, target: str | None) -> list[str]:
    if target:
        return [target]
    return list(schema.targets) if schema.targets else [""]


# The newest assignment that is held, or else not of a control question: a control
# leaves the annotator's place in reading order where it was.
# Only table names (model metadata) and enum values are interpolated.
_CURSOR_SQL = f"""
SELECT a.id, a.status, a.leased_at, a.expires_at, a.task_id, t.document_id, t.position, t.target,
       CASE WHEN a.status = '{AssignmentStatus.ACTIVE.value}' AND a.expires_at > %(now)s
            THEN 1 ELSE 0 END
FROM {A} a JOIN {T} t ON t.id = a.task_id
WHERE a.annotator_id = %(user)s AND t.project_id = %(project)s AND t.kind = %(kind)s {{target}}
  AND ((a.status = '{AssignmentStatus.ACTIVE.value}' AND a.expires_at > %(now)s)
       OR NOT EXISTS (SELECT 1 FROM {policy.C} c WHERE c.task_id = a.task_id))
ORDER BY a.id DESC
LIMIT 1
"""  # noqa: S608
_CURSOR_ANY_TARGET = _CURSOR_SQL.format(target="")
_CURSOR_ONE_TARGET = _CURSOR_SQL.format(target="AND t.target = %(target)s")


def _place(assignment: Assignment, document_id: int, position: int, target: str) -> Assignment:
    """Remember where the task is, so the payload needs no query to find it."""
    assignment.place = (document_id, position, target)  # type: ignore[attr-defined]
    return assignment


def held_or_cursor(
    user: Any, project: Project, kind: str, target: str | None
) -> tuple[Assignment | None, Cursor | None]:
    """The annotator's unexpired lease in this queue, else the cursor of their last task.

    One indexed query: the annotator's newest assignment in the queue.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = {"now": now, "user": user.pk, "project": project.pk, "kind": kind, "target": target}
    row = fetchone(_CURSOR_ONE_TARGET if target else _CURSOR_ANY_TARGET, params)
    if row is None:
        return None, None
    pk, status, leased_at, expires_at, task_id, document_id, position, task_target, held = row
    if held:
        lease = Assignment.from_db(
            connection.alias,
            ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at"],
            [pk, task_id, user.pk, status, aware(leased_at), aware(expires_at)],
        )
        return _place(lease, document_id, position, task_target), None
    return None, Cursor(document_id, position)


def take_slot_sql(where: str) -> str:
    """``UPDATE`` taking one slot of the task ``where`` selects, if it has room."""
    return (
        f"UPDATE {T} SET n_assigned = n_assigned + 1, "  # noqa: S608
        "is_open = (n_assigned + 1 < overlap) "
        f"WHERE id = ({where}) AND n_assigned < overlap "
        "RETURNING id, document_id, position, target"
    )


def take_slot(task_id: int) -> bool:
    """Take one slot of the task if it has room; False when it is full."""
    return fetchone(take_slot_sql("%s"), [task_id]) is not None


# The lease: a new assignment, or the renewal of this annotator's expired one (the
# candidate query let it through). Any other existing assignment means a concurrent
# request of the same annotator took the task: no row, and the transaction rolls back.
_LEASE_SQL = f"""
INSERT INTO {A} (task_id, annotator_id, status, leased_at, expires_at, finished_at)
VALUES (%(task)s, %(user)s, '{AssignmentStatus.ACTIVE.value}', %(now)s, %(expires)s, NULL)
ON CONFLICT (task_id, annotator_id) DO UPDATE
SET status = '{AssignmentStatus.ACTIVE.value}', leased_at = excluded.leased_at,
    expires_at = excluded.expires_at, finished_at = NULL
WHERE {A}.status = '{AssignmentStatus.EXPIRED.value}'
RETURNING id
"""  # noqa: S608


class _LostRace(Exception):
    """The same annotator's concurrent request leased this task first."""


def _lock_clause() -> str:
    if not connection.features.has_select_for_update_skip_locked:
        return ""
    return "FOR UPDATE OF t SKIP LOCKED"


@lru_cache(maxsize=64)
def _take_sql(condition: str, n_targets: int, lock: str) -> str:
    """The slot-taking UPDATE over the policy's candidate (SQL text only: values are params)."""
    return take_slot_sql(policy.candidate_sql(condition, n_targets, lock=lock))


def _lease_in_window(
    user: Any, project: Project, kind: str, targets: list[str], window: tuple[str, dict]
) -> Assignment | None:
    """Take a slot on the first candidate of ``window`` and lease it; None if none is left.

    Call inside ``transaction.atomic``: the slot and the lease commit together.
    """
    condition, extra = window
    now = timezone.now()
    expires = now + timedelta(minutes=project.lease_minutes)
    params = {"user": user.pk, "project": project.pk, "kind": kind, **extra}
    params.update({f"target{i}": t for i, t in enumerate(targets)})
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cur:
        taken = fetchone(_take_sql(condition, len(targets), _lock_clause()), params, cur)
        if taken is None:
            return None
        task_id, document_id, position, target = taken
        lease = fetchone(
            _LEASE_SQL,
            {"task": task_id, "user": user.pk, "now": adapt(now), "expires": adapt(expires)},
            cur,
        )
    if lease is None:
        raise _LostRace
    assignment = Assignment.from_db(
        connection.alias,
        ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at", "finished_at"],
        [lease[0], task_id, user.pk, AssignmentStatus.ACTIVE, now, expires, None],
    )
    return _place(assignment, document_id, position, target)


def _lease(
    user: Any,
    project: Project,
    schema: LabelSchema,
    target: str | None,
    ctx: policies.QueueContext,
) -> Assignment | None:
    held, cursor = held_or_cursor(user, project, schema.kind, target)
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
    """Lease the first eligible task in reading order from the cursor (``policy``)."""
    targets = _targets(schema, target)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                for window in policy.windows(cursor):
                    leased = _lease_in_window(user, project, schema.kind, targets, window)
                    if leased is not None:
                        return leased
                return None
        except (_LostRace, IntegrityError):
            # The same annotator asked twice at once and the other call won this task.
            held, cursor = held_or_cursor(user, project, schema.kind, target)
            if held is not None:
                return held
    raise Conflict("the queue is busy; please ask again", code="busy")


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
    swept = releasing.sweep(project.pk, schema.kind)
    leased = _lease(user, project, schema, target, ctx)
    if leased is None and not swept and releasing.sweep(project.pk, schema.kind, force=True):
        leased = _lease(user, project, schema, target, ctx)
    if leased is not None:
        leased.schema = schema  # saves the payload a query
    return leased
