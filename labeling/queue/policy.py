"""Queue policy: which tasks an annotator may take next, in what order; every policy.

This is the one place that decides; ``leasing`` only executes the decision. A policy
here is SQL that runs on SQLite and PostgreSQL alike, over the candidate task ``t``,
with named parameters (``%(user)s``, ``%(project)s``, ``%(kind)s``, ``%(target)s`` and
those a window adds):

- ``PAUSE_GATE``: the first step of every lease; a paused annotator gets nothing.
- quality control's arms, in front of reading order (see ``Arms``): control questions
  at the project's rate or for qualification, the annotator's reservations, escalated
  tasks, prioritized documents. Quotas, qualification decisions and the draw are in
  ``labeling.quality.policies``.
- ``eligibility``: conditions every reading-order candidate must meet.
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
    DocumentPriority,
    Escalation,
    EscalationStatus,
    Qualification,
    Reservation,
    Task,
)

T = Task._meta.db_table
A = Assignment._meta.db_table
C = ControlQuestion._meta.db_table
S = AnnotatorState._meta.db_table
R = Reservation._meta.db_table
E = Escalation._meta.db_table
P = DocumentPriority._meta.db_table

#: Unseen control questions one is drawn from at random, per lease.
CONTROL_CANDIDATES = 20

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


# --- quality control's policies, as arms of the same lease ---------------------------
#
# A project with quality control leases through the same statement (PostgreSQL) or the
# same statements (SQLite) as the plain queue, with more arms in front of the reading-
# order windows: the first arm that yields a task wins (COALESCE evaluates lazily). Which
# arms a statement has depends on the project (and whether the annotator has
# reservations), never on the draw: ``%(want_control)s`` (this lease is a control
# question, drawn at the project's rate, or a qualification question) and ``%(real)s``
# (real tasks may be served; false while qualifying) are parameters, so a control lease
# and an ordinary lease run the same SQL text: no statement count or shape tells them
# apart. A reservation already holds its task's slot, so ``leasing`` deletes it instead of
# taking a slot (``reserved_sql``).


@dataclass(frozen=True)
class Arms:
    """Which policy arms a lease statement has, from the project's quality settings."""

    control: bool = False  # control questions at a rate, or qualification
    reserved: bool = False  # the annotator has reservations
    escalated: bool = False  # escalation on and an escalated task waits
    prioritized: bool = False  # some document has a priority

    @property
    def any(self) -> bool:
        return self.control or self.reserved or self.escalated or self.prioritized


def _target_filter(one_target: bool) -> str:
    return "AND t.target = %(target)s" if one_target else ""


def control_sql(one_target: bool, lock: str) -> str:
    """A control question this annotator was never shown (any status), drawn at random
    from the first ``CONTROL_CANDIDATES`` by id; only when ``%(want_control)s``."""
    return f"""SELECT t.id FROM {T} t
WHERE %(want_control)s AND t.is_open {_target_filter(one_target)} AND t.id IN (
    SELECT ctl.task_id FROM {C} ctl
    WHERE ctl.project_id = %(project)s AND ctl.kind = %(kind)s
      AND NOT EXISTS (
          SELECT 1 FROM {A} m WHERE m.task_id = ctl.task_id AND m.annotator_id = %(user)s
      )
    ORDER BY ctl.id LIMIT {CONTROL_CANDIDATES}
)
ORDER BY random() LIMIT 1 {lock}"""  # noqa: S608


def reserved_sql(one_target: bool, lock: str) -> str:
    """The id of the annotator's first reservation in reading order (real tasks only)."""
    target = f"AND EXISTS (SELECT 1 FROM {T} t WHERE t.id = r.task_id AND t.target = %(target)s)"  # noqa: S608
    return f"""SELECT r.id FROM {R} r
WHERE %(real)s AND r.annotator_id = %(user)s AND r.project_id = %(project)s
  AND r.kind = %(kind)s {target if one_target else ""}
ORDER BY r.document_id, r.position, r.id LIMIT 1 {lock.replace(" OF t", "")}"""  # noqa: S608


def escalated_sql(one_target: bool, lock: str) -> str:
    """An escalated task that still needs annotators, oldest escalation first."""
    return f"""SELECT t.id FROM {E} e JOIN {T} t ON t.id = e.task_id
WHERE %(real)s AND e.project_id = %(project)s AND e.kind = %(kind)s
  AND e.status = '{EscalationStatus.OPEN.value}' AND t.is_open {_target_filter(one_target)}
  AND NOT EXISTS (SELECT 1 FROM {A} m WHERE m.task_id = t.id AND m.annotator_id = %(user)s)
ORDER BY e.id LIMIT 1 {lock}"""  # noqa: S608


def prioritized_sql(one_target: bool, lock: str) -> str:
    """The first open task of the highest-priority document with work for the annotator;
    reading order inside a document, documents of equal priority in id order."""
    return f"""SELECT t.id FROM {T} t JOIN {P} dp ON dp.document_id = t.document_id
WHERE %(real)s AND t.project_id = %(project)s AND t.kind = %(kind)s AND t.is_open
  {_target_filter(one_target)}
  AND NOT EXISTS (SELECT 1 FROM {A} m WHERE m.task_id = t.id AND m.annotator_id = %(user)s)
  AND NOT EXISTS (SELECT 1 FROM {C} ctl WHERE ctl.task_id = t.id)
ORDER BY dp.priority DESC, t.document_id, t.position, t.target LIMIT 1 {lock}"""  # noqa: S608


def regular_arms(n_targets: int, lock: str) -> list[str]:
    """The reading-order windows (``windows_in_statement``), only when ``%(real)s``."""
    return [
        candidate_sql(f"{w} AND %(real)s", n_targets, lock=lock) for w in windows_in_statement()
    ]
