"""Leasing: hand an annotator the next task of a queue (project, kind, target).

Invariant: ``Task.n_assigned`` counts the task's active and submitted assignments and
never exceeds ``Task.overlap`` (a database CHECK). Every change of ``n_assigned`` is a
conditional UPDATE, so concurrent callers can never over-assign: a slot is taken with
``UPDATE ... WHERE n_assigned < overlap`` and given back exactly once, by the caller
whose conditional UPDATE moved the assignment out of ``active`` (``releasing``).
``is_open`` mirrors ``n_assigned < overlap`` so the partial index ``task_queue_idx``
serves the queue.

One implementation on SQLite and PostgreSQL, every policy included (``policy``: the
pause gate, quality control's arms, reading order). On PostgreSQL a lease is ONE
statement (data-modifying CTEs: gate, cursor, held lease, candidate, lease, slot); on
SQLite the same pieces run in one IMMEDIATE transaction. The slot is taken by an
``UPDATE task`` and the lease written by an upsert of the assignment (``INSERT ... ON
CONFLICT DO UPDATE ... WHERE status = 'expired'``, which also renews a lease this
annotator let expire). Candidate queries start from the annotator's cursor (their
newest assignment, through the ``(annotator, -id)`` index) and are index ranges with a
LIMIT, so their cost does not grow with the project. A control question and an
ordinary task are leased by the same SQL (the draw is a parameter). Expired leases are
swept lazily (``releasing.sweep``) and always before answering "nothing left".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache, partial
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
    (PostgreSQL). SQLite has no INSERT, UPDATE or DELETE inside WITH, so it runs the same
    pieces one after the other in an IMMEDIATE transaction, which takes the write lock
    first: the same outcome, serialised (``_lease_in_sequence``)."""
    return connection.vendor == "postgresql"


def _candidate(arms: policy.Arms, n_targets: int, one_target: bool, lock: str, chosen: str) -> str:
    """COALESCE over the arms after ``chosen`` (control or reservation): escalated,
    prioritized, then the reading-order windows; the first arm with a task wins."""
    parts = [chosen] if chosen else []
    if arms.escalated:
        parts.append(f"({policy.escalated_sql(one_target, lock)})")
    if arms.prioritized:
        parts.append(f"({policy.prioritized_sql(one_target, lock)})")
    parts += [f"({arm})" for arm in policy.regular_arms(n_targets, lock)]
    return f"COALESCE({', '.join(parts)})"


@lru_cache(maxsize=128)
def _statement_sql(arms: policy.Arms, n_targets: int, one_target: bool, lock: str) -> str:
    """The whole lease in one statement (PostgreSQL): behind the pause gate
    (``policy.PAUSE_GATE``), read the cursor, answer the held lease if any, else pick the
    first candidate of the policy arms (``policy``), lease it and take its slot (or pass
    on the reservation's slot).

    A candidate row is locked (``SKIP LOCKED``) and its ``is_open`` re-checked on the
    latest version, so its slot is free when the UPDATE runs; the CHECK
    ``n_assigned <= overlap`` still guards it (a violation fails the whole statement).
    The lease comes first: when a concurrent request of the same annotator leased the
    task, the upsert returns no row and no slot is taken (``lost``; a reserved slot goes
    back to the pool). Answers ``paused``, ``held``, ``leased`` or ``lost``; no row when
    no task is left. SQL text only: which arms depend on the project, never on the draw.
    """
    cursor = _CURSOR_ONE_TARGET if one_target else _CURSOR_ANY_TARGET
    insert = _LEASE_SQL.replace("VALUES (%(task)s,", "SELECT cand.id,").replace(
        "%(expires)s, NULL)", "%(expires)s, NULL FROM cand WHERE cand.id IS NOT NULL"
    )
    ctes = [
        f"gate AS ({policy.PAUSE_GATE})",
        f"cur AS MATERIALIZED ({cursor})",
        f"""go AS MATERIALIZED (
    SELECT 1 AS ok WHERE NOT EXISTS (SELECT 1 FROM gate WHERE gate.status = '{policy.PAUSED}')
      AND NOT EXISTS (SELECT 1 FROM cur WHERE cur.held = 1)
)""",  # noqa: S608
    ]
    chosen = []
    if arms.control:
        ctes.append(
            f"ctl AS MATERIALIZED (SELECT ({policy.control_sql(one_target, lock)}) AS id FROM go)"  # noqa: S608
        )
        chosen.append("(SELECT ctl.id FROM ctl)")
    if arms.reserved:
        no_control = (
            "AND NOT EXISTS (SELECT 1 FROM ctl WHERE ctl.id IS NOT NULL)" if arms.control else ""
        )
        ctes.append(
            f"""res AS (
    DELETE FROM {policy.R} WHERE id = ({policy.reserved_sql(one_target, lock)})
      AND EXISTS (SELECT 1 FROM go) {no_control}
    RETURNING task_id
)"""  # noqa: S608
        )
        chosen.append("(SELECT res.task_id FROM res)")
    candidate = _candidate(arms, n_targets, one_target, lock, ", ".join(chosen))
    ctes.append(f"cand AS MATERIALIZED (SELECT {candidate} AS id FROM go)")  # noqa: S608
    ctes.append(f"lease AS ({insert.replace('RETURNING id', 'RETURNING id, task_id')})")
    reserved = "AND NOT EXISTS (SELECT 1 FROM res)" if arms.reserved else ""
    ctes.append(
        f"""slot AS (
    UPDATE {T} SET n_assigned = n_assigned + 1, is_open = (n_assigned + 1 < overlap)
    WHERE id = (SELECT lease.task_id FROM lease) {reserved}
    RETURNING id
)"""  # noqa: S608
    )
    if arms.reserved:  # reserved, but they hold the task already: its slot goes back
        ctes.append(
            f"""back AS (
    UPDATE {T} SET n_assigned = n_assigned - 1, is_open = TRUE
    WHERE id = (SELECT res.task_id FROM res) AND NOT EXISTS (SELECT 1 FROM lease)
    RETURNING id
)"""  # noqa: S608
        )
    # Only SQL written in this package is interpolated; values are parameters.
    with_clause = ",\n".join(ctes)
    return f"""
WITH {with_clause}
SELECT 'paused', NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM gate WHERE gate.status = '{policy.PAUSED}'
UNION ALL
SELECT 'held', cur.id, cur.task_id, cur.document_id, cur.position, cur.target,
       cur.leased_at, cur.expires_at
FROM cur WHERE cur.held = 1
UNION ALL
SELECT 'leased', lease.id, t.id, t.document_id, t.position, t.target, NULL, NULL
FROM lease JOIN {T} t ON t.id = lease.task_id
UNION ALL
SELECT 'lost', NULL, cand.id, NULL, NULL, NULL, NULL, NULL
FROM cand WHERE cand.id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lease)
"""  # noqa: S608


#: The cursor given by the caller (a lease ahead of the one held there).
_FIXED_CURSOR = "SELECT %(cur_document)s AS document_id, %(cur_position)s AS position"


@lru_cache(maxsize=128)
def _sequence_sql(
    arms: policy.Arms, n_targets: int, one_target: bool, lock: str, fixed_cursor: bool
) -> tuple[str, str, str]:
    """The lease's statements for SQLite (run in order in one IMMEDIATE transaction):
    the control draw, the reservation taken, and the slot UPDATE over the candidate (with
    ``%(chosen)s``: the control or reserved task, if any; ``%(delta)s``: 0 when the slot
    is the reservation's). SQL text only."""
    cursor = _CURSOR_ONE_TARGET if one_target else _CURSOR_ANY_TARGET
    if fixed_cursor:
        cursor = _FIXED_CURSOR
    control = policy.control_sql(one_target, lock)
    reserve = (
        f"DELETE FROM {policy.R} WHERE id = ({policy.reserved_sql(one_target, lock)}) "  # noqa: S608
        "AND NOT %(drawn)s RETURNING task_id"
    )
    candidate = _candidate(arms, n_targets, one_target, lock, "%(chosen)s")
    slot = (
        f"WITH cur AS ({cursor}) "  # noqa: S608
        f"UPDATE {T} SET n_assigned = n_assigned + %(delta)s, "
        "is_open = (n_assigned + %(delta)s < overlap) "
        f"WHERE id = {candidate} AND n_assigned + %(delta)s <= overlap "
        "RETURNING id, document_id, position, target"
    )
    return control, reserve, slot


def _params(
    user: Any, project: Project, schema: LabelSchema, target: str | None, **flags: Any
) -> tuple[dict[str, Any], Any, Any]:
    now = timezone.now()
    expires = now + timedelta(minutes=project.lease_minutes)
    adapt = connection.ops.adapt_datetimefield_value
    targets = _targets(schema, target)
    params = {
        "user": user.pk,
        "project": project.pk,
        "kind": schema.kind,
        "target": target,
        "now": adapt(now),
        "expires": adapt(expires),
        **{f"target{i}": t for i, t in enumerate(targets)},
        **flags,
    }
    return params, now, expires


def _leased(
    user: Any, pk: int, task_id: int, place: tuple[int, int, str], leased_at: Any, expires: Any
) -> Assignment:
    assignment = Assignment.from_db(
        connection.alias,
        ["id", "task_id", "annotator_id", "status", "leased_at", "expires_at"],
        [pk, task_id, user.pk, AssignmentStatus.ACTIVE, leased_at, expires],
    )
    return _place(assignment, *place)


def _lease_in_one_statement(
    user: Any,
    project: Project,
    schema: LabelSchema,
    target: str | None,
    arms: policy.Arms,
    *,
    want_control: bool,
    real: bool,
) -> Assignment | None:
    """The lease as one statement (``_statement_sql``): one round trip, no transaction
    of its own. Retried when the same annotator's concurrent request won."""
    n_targets = len(_targets(schema, target))
    sql = _statement_sql(arms, n_targets, bool(target), _lock_clause())
    for _attempt in range(3):
        params, now, expires = _params(
            user, project, schema, target, want_control=want_control, real=real
        )
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
            leased_at, expires = aware(leased_at), aware(expires_at)
        else:
            leased_at = now
        return _leased(user, pk, task_id, (document_id, position, task_target), leased_at, expires)
    raise Conflict("the queue is busy; please ask again", code="busy")


def _lease_in_sequence(
    user: Any,
    project: Project,
    schema: LabelSchema,
    target: str | None,
    arms: policy.Arms,
    *,
    want_control: bool,
    real: bool,
    after_place: tuple[int, int] | None = None,
) -> Assignment | None:
    """The lease as the same pieces in one transaction (SQLite; on PostgreSQL for a lease
    ahead): the held lease, then behind the pause gate the control draw, the reservation,
    the slot over the candidate and the lease. The statements are the same whatever the
    draw. ``after_place``: lease after this place (document, position) in reading order,
    without answering the lease held there (prefetch)."""
    n_targets = len(_targets(schema, target))
    sqls = _sequence_sql(arms, n_targets, bool(target), _lock_clause(), after_place is not None)
    control, reserve, slot = sqls
    for _attempt in range(3):
        # A held lease is answered as is: the pause released every lease it found, and
        # the gate below keeps new ones from a paused annotator.
        if after_place is None:
            held, _cursor = held_or_cursor(user, project, schema.kind, target)
            if held is not None:
                return held
        params, now, expires = _params(
            user, project, schema, target, want_control=want_control, real=real
        )
        if after_place is not None:
            params["cur_document"], params["cur_position"] = after_place
        try:
            with transaction.atomic(), connection.cursor() as cur:
                pass_pause_gate(user, project, cur)
                drawn = fetchone(control, params, cur) if arms.control else None
                params["drawn"] = drawn is not None
                reserved = fetchone(reserve, params, cur) if arms.reserved else None
                params["chosen"] = (drawn or reserved or [None])[0]
                params["delta"] = 0 if reserved is not None else 1
                taken = fetchone(slot, params, cur)
                if taken is None:
                    return None
                task_id, document_id, position, task_target = taken
                lease = fetchone(_LEASE_SQL, {**params, "task": task_id}, cur)
                if lease is None:  # rolls back the slot and the reservation
                    raise _LostRace
        except (_LostRace, IntegrityError):
            continue  # the same annotator asked twice at once and the other call won
        return _leased(user, lease[0], task_id, (document_id, position, task_target), now, expires)
    raise Conflict("the queue is busy; please ask again", code="busy")


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


def _arms(ctx: policies.QueueContext) -> policy.Arms:
    return policy.Arms(
        control=bool(ctx.control_rate or ctx.qualification_size),
        reserved=ctx.has_reservations,
        escalated=ctx.escalation,
        prioritized=ctx.has_priorities,
    )


def _lease(
    user: Any,
    project: Project,
    schema: LabelSchema,
    target: str | None,
    ctx: policies.QueueContext,
    after: Ahead | None = None,
) -> Assignment | None:
    """Quality control's order, then the statement: qualification questions while
    qualifying; quotas end the queue; a control at the project's rate; reservations,
    escalated tasks, prioritized documents and reading order (the statement's arms).

    ``after`` (prefetch, see ``next_task``): when the annotator's newest lease is the one
    they work on, answer their other held lease, or lease the next task after it.
    """
    arms = _arms(ctx)
    lease: Any = _lease_in_one_statement if one_statement() else _lease_in_sequence
    if after is not None:
        held, _cursor = held_or_cursor(user, project, schema.kind, target)
        if held is not None:
            if not after.covers(held):
                return held  # asking again, or the lease taken ahead earlier
            other = other_held(user, project, schema.kind, target, after)
            if other is not None:
                return other
            place = held.place[:2]  # type: ignore[attr-defined]
            lease = partial(_lease_in_sequence, after_place=place)
    if ctx.must_qualify:
        leased = lease(user, project, schema, target, arms, want_control=True, real=False)
        if leased is not None:
            return leased
        policies.qualification_ran_out(user, project, schema.kind)  # passed, or raises
    want_control = policies.draw_control(ctx)
    if not ctx.has_quota:
        return lease(user, project, schema, target, arms, want_control=want_control, real=True)
    with transaction.atomic():
        if policies.quota_reached_now(user, project, ctx):
            return None
        return lease(user, project, schema, target, arms, want_control=want_control, real=True)


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
