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

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from labeling.exceptions import Conflict, InvalidInput
from labeling.kinds import is_kind_name
from labeling.models import AnnotatorState, Assignment, AssignmentStatus, LabelSchema, Project
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
            THEN 1 ELSE 0 END AS held
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


@dataclass(frozen=True)
class Ahead:
    """What the annotator works on while asking for the task after it (prefetch): one task,
    or with ``sentence`` every task of that task's sentence (a stance group)."""

    task_id: int
    sentence: tuple[int, int] | None = None  # (document, position) of the group

    def covers(self, lease: Assignment) -> bool:
        if self.sentence is not None:
            return tuple(lease.place[:2]) == self.sentence  # type: ignore[attr-defined]
        return bool(lease.task_id == self.task_id)


# The annotator's oldest unexpired lease in the queue, leaving out the one being worked
# on (a task, or a sentence). An index range over their active assignments.
_HELD_SQL = f"""
SELECT a.id, a.status, a.leased_at, a.expires_at, a.task_id, t.document_id, t.position, t.target
FROM {A} a JOIN {T} t ON t.id = a.task_id
WHERE a.annotator_id = %(user)s AND a.status = '{AssignmentStatus.ACTIVE.value}'
  AND a.expires_at > %(now)s AND t.project_id = %(project)s AND t.kind = %(kind)s {{where}}
ORDER BY a.id
LIMIT 1
"""  # noqa: S608
_HELD_FILTERS = {
    (False, False): "",
    (True, False): "AND t.target = %(target)s",
    (False, True): "AND {away}",
    (True, True): "AND t.target = %(target)s AND {away}",
}
_AWAY_FROM_TASK = "t.id <> %(task)s"
_AWAY_FROM_SENTENCE = "NOT (t.document_id = %(document)s AND t.position = %(position)s)"


def other_held(
    user: Any, project: Project, kind: str, target: str | None, away: Ahead | None
) -> Assignment | None:
    """The oldest unexpired lease of the annotator in this queue that ``away`` does not cover."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params: dict[str, Any] = {
        "now": now, "user": user.pk, "project": project.pk, "kind": kind, "target": target
    }  # fmt: skip
    where = _HELD_FILTERS[(bool(target), away is not None)]
    if away is not None:
        if away.sentence is not None:
            where = where.format(away=_AWAY_FROM_SENTENCE)
            params["document"], params["position"] = away.sentence
        else:
            where = where.format(away=_AWAY_FROM_TASK)
            params["task"] = away.task_id
    row = fetchone(_HELD_SQL.format(where=where), params)
    if row is None:
        return None
    pk, status, leased_at, expires_at, task_id, document_id, position, task_target = row
    lease = Assignment.from_db(
        connection.alias,
        ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at"],
        [pk, task_id, user.pk, status, aware(leased_at), aware(expires_at)],
    )
    return _place(lease, document_id, position, task_target)


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


def one_statement() -> bool:
    """True when the backend runs a whole lease as ONE statement: data-modifying CTEs
    (PostgreSQL). SQLite has no INSERT or UPDATE inside WITH, so it runs the same pieces
    (cursor, candidate, slot, lease) one after the other in an IMMEDIATE transaction,
    which takes the write lock first: the same outcome, serialised."""
    return connection.vendor == "postgresql"


@lru_cache(maxsize=64)
def _statement_sql(n_targets: int, one_target: bool, lock: str) -> str:
    """The whole lease in one statement (PostgreSQL): read the cursor, answer the held
    lease if any, else pick the first candidate in reading order (``policy``), lease it
    and take its slot.

    The candidate row is locked (``SKIP LOCKED``) and its ``is_open`` re-checked on the
    latest version, so its slot is free when the UPDATE runs; the CHECK
    ``n_assigned <= overlap`` still guards it (a violation fails the whole statement).
    The lease comes first: when a concurrent request of the same annotator leased the
    task, the upsert returns no row and no slot is taken (``lost``). Answers one row:
    ``paused``, ``held``, ``leased`` or ``lost``; none when no task is left. SQL text only.
    """
    cursor = _CURSOR_ONE_TARGET if one_target else _CURSOR_ANY_TARGET
    arms = [policy.candidate_sql(w, n_targets, lock=lock) for w in policy.windows_in_statement()]
    first = ", ".join(f"({arm})" for arm in arms)
    insert = _LEASE_SQL.replace("VALUES (%(task)s,", "SELECT cand.id,").replace(
        "%(expires)s, NULL)", "%(expires)s, NULL FROM cand WHERE cand.id IS NOT NULL"
    )
    # Only SQL written in this package is interpolated; values are parameters.
    return f"""
WITH gate AS ({policy.PAUSE_GATE}),
cur AS MATERIALIZED ({cursor}),
cand AS MATERIALIZED (
    SELECT COALESCE({first}) AS id
    WHERE NOT EXISTS (SELECT 1 FROM gate WHERE gate.status = '{policy.PAUSED}')
      AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.held = 1)
),
lease AS ({insert.replace("RETURNING id", "RETURNING id, task_id")}),
slot AS (
    UPDATE {T} SET n_assigned = n_assigned + 1, is_open = (n_assigned + 1 < overlap)
    WHERE id = (SELECT lease.task_id FROM lease)
    RETURNING id, document_id, position, target
)
SELECT 'paused', NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM gate WHERE gate.status = '{policy.PAUSED}'
UNION ALL
SELECT 'held', cur.id, cur.task_id, cur.document_id, cur.position, cur.target,
       cur.leased_at, cur.expires_at
FROM cur WHERE cur.held = 1
UNION ALL
SELECT 'leased', lease.id, slot.id, slot.document_id, slot.position, slot.target, NULL, NULL
FROM lease JOIN slot ON slot.id = lease.task_id
UNION ALL
SELECT 'lost', NULL, cand.id, NULL, NULL, NULL, NULL, NULL
FROM cand WHERE cand.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lease)
"""  # noqa: S608


def raise_paused(user: Any, project: Project) -> None:
    """The pause gate closed: 403 ``annotator_paused`` with the lead's reason."""
    reason = (
        AnnotatorState.objects.filter(project_id=project.pk, user_id=user.pk)
        .values_list("paused_reason", flat=True)
        .first()
    )
    policies.check_may_work(policies.QueueContext(paused=True, paused_reason=reason or ""))


def pass_pause_gate(user: Any, project: Project, cur: Any) -> None:
    """The pause gate as a statement of the caller's transaction (``policy.PAUSE_GATE``):
    call it first, inside ``transaction.atomic``; 403 when the annotator is paused."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    row = fetchone(policy.PAUSE_GATE, {"project": project.pk, "user": user.pk, "now": now}, cur)
    if row is not None and row[0] == policy.PAUSED:
        raise_paused(user, project)


def _lease_in_one_statement(
    user: Any, project: Project, schema: LabelSchema, target: str | None
) -> Assignment | None:
    """The regular queue's lease as one statement (``_statement_sql``): no transaction
    around it, one round trip. Retried when the same annotator's concurrent request won."""
    targets = _targets(schema, target)
    sql = _statement_sql(len(targets), bool(target), _lock_clause())
    adapt = connection.ops.adapt_datetimefield_value
    for _attempt in range(3):
        now = timezone.now()
        expires = now + timedelta(minutes=project.lease_minutes)
        params = {
            "user": user.pk,
            "project": project.pk,
            "kind": schema.kind,
            "target": target,
            "now": adapt(now),
            "expires": adapt(expires),
            **{f"target{i}": t for i, t in enumerate(targets)},
        }
        try:
            with connection.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
        except IntegrityError:  # the slot CHECK: the statement changed nothing
            continue
        if not rows:
            return None
        if rows[0][0] == "paused":  # the first arm: nothing else was done
            raise_paused(user, project)
        what, pk, task_id, document_id, position, task_target, leased_at, expires_at = rows[0]
        if what == "lost":
            continue  # the same annotator's concurrent request leased it: find theirs
        if what == "held":
            leased_at, expires_at = aware(leased_at), aware(expires_at)
        else:
            leased_at, expires_at = now, expires
        assignment = Assignment.from_db(
            connection.alias,
            ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at"],
            [pk, task_id, user.pk, AssignmentStatus.ACTIVE, leased_at, expires_at],
        )
        if what == "leased":
            assignment.finished_at = None
        return _place(assignment, document_id, position, task_target)
    raise Conflict("the queue is busy; please ask again", code="busy")


def _lease(
    user: Any,
    project: Project,
    schema: LabelSchema,
    target: str | None,
    ctx: policies.QueueContext,
    after: Ahead | None = None,
) -> Assignment | None:
    if ctx.plain and one_statement() and after is None:
        return _lease_in_one_statement(user, project, schema, target)
    for _attempt in range(3):
        # A held lease is answered as is: the pause released every lease it found, and
        # the gate below keeps new ones from a paused annotator.
        held, cursor = held_or_cursor(user, project, schema.kind, target)
        if held is not None:
            if after is None or not after.covers(held):
                return held  # asking again, or the lease taken ahead earlier
            # The newest lease is the one being worked on (``after``): answer another
            # held one, or lease the next task after it in reading order.
            other = other_held(user, project, schema.kind, target, after)
            if other is not None:
                return other
            document_id, position, _target = held.place  # type: ignore[attr-defined]
            cursor = Cursor(document_id, position)
        try:
            with transaction.atomic():
                with connection.cursor() as cur:
                    pass_pause_gate(user, project, cur)
                if ctx.plain:
                    return _lease_in_windows(user, project, schema, target, cursor)
                return policies.lease_with_policies(
                    user=user,
                    project=project,
                    kind=schema.kind,
                    target=target,
                    ctx=ctx,
                    regular=lambda c=cursor: _lease_regular(user, project, schema, target, c),
                )
        except (_LostRace, IntegrityError):
            continue  # the same annotator asked twice at once and the other call won
    raise Conflict("the queue is busy; please ask again", code="busy")


def _lease_in_windows(
    user: Any, project: Project, schema: LabelSchema, target: str | None, cursor: Cursor | None
) -> Assignment | None:
    """Lease the first eligible task of the first window that has one (in a transaction)."""
    targets = _targets(schema, target)
    for window in policy.windows(cursor):
        leased = _lease_in_window(user, project, schema.kind, targets, window)
        if leased is not None:
            return leased
    return None


def _lease_regular(
    user: Any, project: Project, schema: LabelSchema, target: str | None, cursor: Cursor | None
) -> Assignment | None:
    """Lease the first eligible task in reading order from the cursor (``policy``); the
    quality policies' last resort, in a savepoint of their transaction."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _lease_in_windows(user, project, schema, target, cursor)
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
    after: Ahead | None = None,
) -> Assignment | None:
    """Lease the annotator's next task of ``kind`` (and ``target``), or None if none is left.

    Asking again while holding an unexpired lease returns the same assignment (the
    newest, when one was leased ahead). ``after``: the task (or sentence) the annotator
    is working on, to lease the one after it ahead of time (prefetch): their other held
    lease if any (the oldest), else the next task in reading order; so at most one lease
    beyond the current task (or sentence) is held, and none is forgotten. Expired
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
    leased = _lease(user, project, schema, target, ctx, after)
    if leased is None and not swept and releasing.sweep(project.pk, schema.kind, force=True):
        leased = _lease(user, project, schema, target, ctx, after)
    if leased is not None:
        leased.schema = schema  # saves the payload a query
    return leased


def lease_sentence_group(*, user: Any, project: Project, lease: Assignment) -> list[Assignment]:
    """Every task of ``lease``'s sentence in its queue that the annotator may take, leased
    with it (a stance group: all targets of one sentence on one screen), target order.

    Takes the slots of the sentence's other eligible tasks (``policy``, the same slot
    accounting) and returns the annotator's unexpired leases on that sentence.
    """
    schema = lease.schema
    document_id, position, _target = lease.place  # type: ignore[attr-defined]
    targets = _targets(schema, None)
    window = (
        "t.document_id = %(document)s AND t.position = %(position)s",
        {"document": document_id, "position": position},
    )
    with transaction.atomic():
        for _ in targets:
            if _lease_in_window(user, project, schema.kind, targets, window) is None:
                break
    rows = Assignment.objects.filter(
        annotator_id=user.pk,
        status=AssignmentStatus.ACTIVE,
        expires_at__gt=timezone.now(),
        task__project_id=schema.project_id,
        task__kind=schema.kind,
        task__document_id=document_id,
        task__position=position,
    ).values_list("id", "status", "leased_at", "expires_at", "task_id", "task__target")
    group = []
    for pk, status, leased_at, expires_at, task_id, target in sorted(rows, key=lambda r: r[5]):
        held = Assignment.from_db(
            connection.alias,
            ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at"],
            [pk, task_id, user.pk, status, leased_at, expires_at],
        )
        held.schema = schema
        group.append(_place(held, document_id, position, target))
    return group
