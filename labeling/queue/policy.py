"""Queue policy of the regular queue: which tasks an annotator may take next, in what order.

This is the one place that decides for the regular queue; ``leasing`` only executes the
decision. Quality control's policies run before it (``labeling.quality.policies``:
pause, qualification, quotas, control questions, reservations, escalated tasks) and
lease through the same slot accounting (``leasing.take_slot``). A policy here is SQL
that runs on SQLite and PostgreSQL alike, over the candidate task ``t``, with named
parameters (``%(user)s``, ``%(project)s``, ``%(kind)s``, ``%(target)s`` and those a
window adds):

- ``eligibility``: conditions every candidate must meet. Add a condition to keep a
  task from an annotator (e.g. documents reserved for someone else).
- ``ORDER``: reading order. It must stay a prefix-compatible order of the queue index
  ``task_queue_idx`` (project, kind, target, document, position) or the candidate
  query stops being an index range and its cost grows with the project.
- ``windows``: where in reading order to look, nearest first (stay in the annotator's
  document, then later documents, then from the start).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labeling.models import (
    AnnotatorState,
    AnnotatorStatus,
    Assignment,
    AssignmentStatus,
    ControlQuestion,
    Qualification,
    Task,
)

T = Task._meta.db_table
A = Assignment._meta.db_table
C = ControlQuestion._meta.db_table
S = AnnotatorState._meta.db_table

#: Reading order of candidates (an index range of ``task_queue_idx``).
ORDER = "t.document_id, t.position"


@dataclass(frozen=True)
class Cursor:
    """Where the annotator is in reading order: their most recent task's place."""

    document_id: int
    position: int


# The pause gate, the first step of every lease (parameters ``%(project)s``, ``%(user)s``,
# ``%(now)s``): it locks the annotator's state row in the project (made on their first
# lease) and answers 'paused' when a lead paused them, reading the row's latest committed
# version even inside a statement that started earlier (ON CONFLICT DO UPDATE does). A
# pause updates that row before it releases the annotator's leases, so either the pause
# commits first and the lease sees it, or the lease holds the row and the pause waits for
# it to commit, then releases the new lease: a paused annotator never keeps a task. A row
# not paused is locked, not written. Only table names and enum values are interpolated.
PAUSE_GATE = f"""
INSERT INTO {S} (project_id, user_id, status, paused_reason, paused_at, qualification,
                 quota_total, quota_per_day, updated_at)
VALUES (%(project)s, %(user)s, '{AnnotatorStatus.ACTIVE.value}', '', NULL,
        '{Qualification.PENDING.value}', NULL, NULL, %(now)s)
ON CONFLICT (project_id, user_id) DO UPDATE SET status = {S}.status
WHERE {S}.status = '{AnnotatorStatus.PAUSED.value}'
RETURNING status
"""  # noqa: S608
PAUSED = AnnotatorStatus.PAUSED.value


def eligibility() -> list[str]:
    """Conditions on a candidate task ``t`` for the annotator ``%(user)s``.

    A task of this queue (project, kind, target) with room for another annotator, that
    this annotator never submitted, skipped or holds, and that is not a control question
    (those are served by ``quality.policies`` at the project's rate). A task whose lease
    they let expire is eligible again (the lease is renewed, see ``leasing``).
    """
    # Only table names (model metadata) and enum values are interpolated.
    return [
        "t.project_id = %(project)s",
        "t.kind = %(kind)s",
        "t.target = %(target)s",
        "t.is_open",  # room left: mirrors n_assigned < overlap (the partial index)
        f"""NOT EXISTS (
            SELECT 1 FROM {A} m
            WHERE m.task_id = t.id AND m.annotator_id = %(user)s
              AND m.status <> '{AssignmentStatus.EXPIRED.value}'
        )""",  # noqa: S608
        f"NOT EXISTS (SELECT 1 FROM {C} ctl WHERE ctl.task_id = t.id)",  # noqa: S608
    ]


def windows(cursor: Cursor | None) -> list[tuple[str, dict[str, Any]]]:
    """Reading-order windows, nearest first: (condition on ``t``, its parameters).

    From the cursor: the rest of its document and later documents (one row comparison,
    an index range), then from the start (earlier documents still open).
    """
    start: tuple[str, dict[str, Any]] = ("TRUE", {})
    if cursor is None:
        return [start]
    here = (
        "(t.document_id, t.position) >= (%(document)s, %(position)s)",
        {"document": cursor.document_id, "position": cursor.position},
    )
    return [here, start]


#: Where reading order resumes when the cursor is read in the same statement: the
#: ``cur`` CTE of ``leasing`` (one row or none; with none the window is empty).
CURSOR_WINDOW = (
    "(t.document_id, t.position) >= "
    "((SELECT cur.document_id FROM cur), (SELECT cur.position FROM cur))"
)


def windows_in_statement() -> list[str]:
    """``windows`` for a statement that reads the cursor itself (CTE ``cur``): the rest of
    the cursor's document and later documents, then from the start. Scalar subqueries,
    not a join, so each window stays an index range in reading order."""
    return [CURSOR_WINDOW, "TRUE"]


def candidate_sql(window: str, n_targets: int, *, lock: str) -> str:
    """The id of the first eligible task in ``window`` in reading order, over ``n_targets``.

    One index range per target (parameters ``%(target0)s``, ``%(target1)s``, ...), each
    giving its first candidate; the earliest of them wins (sentence, then target).
    ``lock``: the backend's ``FOR UPDATE OF t SKIP LOCKED`` (PostgreSQL: concurrent
    annotators take different tasks instead of queueing on one row) or "" (SQLite
    serialises writers, so nothing is locked there).
    """
    arms = []
    for i in range(n_targets):
        where = " AND ".join([*eligibility(), window]).replace("%(target)s", f"%(target{i})s")
        arms.append(
            f"SELECT * FROM (SELECT t.id, t.document_id, t.position, t.target FROM {T} t "  # noqa: S608
            f"WHERE {where} ORDER BY {ORDER} LIMIT 1 {lock}) c{i}"
        )
    union = " UNION ALL ".join(arms)
    # Only SQL written in this module is interpolated; values are parameters.
    return f"SELECT c.id FROM ({union}) c ORDER BY c.document_id, c.position, c.target LIMIT 1"  # noqa: S608
