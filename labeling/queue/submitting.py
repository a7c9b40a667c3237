"""Submitting: all writes of annotations, first submissions and edits with revisions kept.

One implementation on SQLite and PostgreSQL, in one transaction: a first submission
on an active lease is three portable statements (claim the lease, count the
submission, insert the annotation); edits and submissions after an expired lease take
the ORM branches of the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models.functions import Length
from django.utils import timezone

from labeling import events
from labeling.exceptions import Conflict, Forbidden, InvalidInput
from labeling.kinds import Bounds, SchemaError, SchemaSpec, kind_spec
from labeling.kinds.base import SchemaLike
from labeling.models import (
    Annotation,
    AnnotationRevision,
    Assignment,
    AssignmentStatus,
    ControlQuestion,
    LabelSchema,
    Sentence,
    Task,
)
from labeling.quality.answers import record_control_answer
from labeling.queue.leasing import one_statement, take_slot
from labeling.queue.sql import aware, fetchone

#: Lead times above this (one day) are not plausible and are refused.
MAX_LEAD_TIME_MS = 24 * 60 * 60 * 1000


@dataclass(frozen=True)
class SubmitResult:
    """The stored annotation, whether this call created it (False: an edit), and when the
    task is a control question answered for the first time, the judged answer."""

    annotation: Annotation
    created: bool
    control_answer: Any = None


def validate_annotation_value(task: Task, value: Any, *, labels: list | None = None) -> dict:
    """Validate ``value`` against the task's schema; 400 naming the field if it does not fit.

    ``labels``: the schema's labels when the caller already read them.
    """
    spec = kind_spec(task.kind)
    schema: SchemaLike = SchemaSpec(kind=task.kind, labels=labels or [])
    if labels is None:
        stored = (
            LabelSchema.objects.filter(project_id=task.project_id, kind=task.kind)
            .only("kind", "labels", "level", "targets")
            .first()
        )
        schema = stored or schema
    bounds = None
    if spec.needs_bounds:
        row = (
            Sentence.objects.filter(pk=task.sentence_id)
            .annotate(doc_length=Length("document__text"))
            .values("doc_length", "start", "end")
            .get()
        )
        bounds = Bounds(row["doc_length"], row["start"], row["end"])
    try:
        return spec.validate_value(value, schema=schema, bounds=bounds)
    except SchemaError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc


def _lead_time(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("must be an integer number of milliseconds", field="lead_time_ms")
    if not 0 <= value <= MAX_LEAD_TIME_MS:
        raise InvalidInput(f"must be between 0 and {MAX_LEAD_TIME_MS}", field="lead_time_ms")
    return value


def _from_suggestion(task: Task, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("must be true or false", field="from_suggestion")
    if value and not kind_spec(task.kind).suggests:
        raise InvalidInput(
            f"{task.kind} tasks come without suggestions: only attribution tasks have them",
            field="from_suggestion",
        )
    return value


def submit_annotation(
    *,
    user: Any,
    task: Task,
    value: Any,
    lead_time_ms: Any = None,
    labels: list | None = None,
    from_suggestion: Any = False,
) -> SubmitResult:
    """Store the annotator's value for ``task``: a first submission or an edit.

    A first submission needs the annotator's lease: an active one, or an expired one
    when the task still has room (the slot is taken again), else 409. Skipped tasks
    cannot be annotated. An edit copies the previous value into ``AnnotationRevision``
    and bumps ``revision``. Without ``lead_time_ms`` the time since the lease began is
    recorded for a first submission. ``labels``: the schema's labels if already read.
    ``from_suggestion``: the value started from a suggestion of the task (attribution).
    """
    result = _submit(user, task, value, lead_time_ms, labels, from_suggestion)
    if not result.created:
        return result
    control_pk = getattr(task, "control_pk", _UNKNOWN)
    if control_pk is _UNKNOWN:
        control_pk = ControlQuestion.objects.filter(task_id=task.pk).values_list("pk").first()
        control_pk = control_pk[0] if control_pk else None
    if control_pk is None:
        return result
    answer = record_control_answer(
        user=user, task=task, control_id=control_pk, annotation=result.annotation
    )
    return SubmitResult(result.annotation, created=True, control_answer=answer)


_UNKNOWN: Any = object()


def _submit(
    user: Any,
    task: Task,
    value: Any,
    lead_time_ms: Any,
    labels: list | None,
    from_suggestion: Any,
) -> SubmitResult:
    lead_time = _lead_time(lead_time_ms)
    suggested = _from_suggestion(task, from_suggestion)
    clean = validate_annotation_value(task, value, labels=labels)
    now = timezone.now()
    if one_statement():
        first = _first_submission(user, task, clean, lead_time, suggested, now)
        if first is not None:
            return first
    with transaction.atomic():
        # Holding an active lease means there is no annotation yet; whoever moves the
        # assignment out of ``active`` owns its slot, so we keep it here.
        at = adapt_now(now)
        with connection.cursor() as cur:
            claimed = fetchone(_CLAIM_SQL, {"now": at, "task": task.pk, "user": user.pk}, cur)
            if claimed is not None:
                leased_at = aware(claimed[0])
            else:
                existing = (
                    Annotation.objects.select_for_update()
                    .filter(task_id=task.pk, annotator_id=user.pk)
                    .first()
                )
                if existing is not None:
                    _published(task, user, created=False)
                    edited = _edit(existing, clean, lead_time, now, suggested)
                    return SubmitResult(edited, created=False)
                held = Assignment.objects.filter(task_id=task.pk, annotator_id=user.pk).first()
                _retake_for_submit(held, task, now)
                leased_at = held.leased_at  # type: ignore[union-attr]
            if lead_time is None:
                lead_time = min(int((now - leased_at).total_seconds() * 1000), MAX_LEAD_TIME_MS)
            lead_time = max(lead_time, 0)
            completed = bool(fetchone(_COUNT_SQL, [task.pk], cur)[0])  # type: ignore[index]
            row = fetchone(
                _INSERT_SQL,
                {
                    "task": task.pk,
                    "user": user.pk,
                    "value": _VALUE.get_db_prep_save(clean, connection),
                    "lead_time": lead_time,
                    "suggested": suggested,
                    "now": at,
                },
                cur,
            )
        _published(task, user, created=True, completed=completed)
    annotation = Annotation.from_db(
        connection.alias,
        ["id", "task_id", "annotator_id", "value", "lead_time_ms", "from_suggestion", "revision"],
        [row[0], task.pk, user.pk, None, lead_time, suggested, 1],  # type: ignore[index]
    )
    annotation.value = clean
    annotation.created_at = annotation.updated_at = now
    return SubmitResult(annotation, created=True)


def _first_submission(
    user: Any, task: Task, clean: dict, lead_time: int | None, suggested: bool, now: Any
) -> SubmitResult | None:
    """A first submission on an active lease as ONE statement (``_SUBMIT_SQL``); None when
    the annotator holds no active lease (an edit, an expired lease: the ORM branches)."""
    row = fetchone(
        _SUBMIT_SQL,
        {
            "task": task.pk,
            "user": user.pk,
            "value": _VALUE.get_db_prep_save(clean, connection),
            "lead_time": lead_time,
            "suggested": suggested,
            "now": adapt_now(now),
        },
    )
    if row is None:
        return None
    pk, stored_lead_time, completed = row
    _published(task, user, created=True, completed=bool(completed))
    annotation = Annotation.from_db(
        connection.alias,
        ["id", "task_id", "annotator_id", "value", "lead_time_ms", "from_suggestion", "revision"],
        [pk, task.pk, user.pk, None, stored_lead_time, suggested, 1],
    )
    annotation.value = clean
    annotation.created_at = annotation.updated_at = now
    return SubmitResult(annotation, created=True)


def _published(task: Task, user: Any, *, created: bool, completed: bool = False) -> None:
    """Announce the saved annotation, and a task just completed, once it commits."""
    events.publish(
        events.ANNOTATION_SUBMITTED if created else events.ANNOTATION_EDITED,
        project_id=task.project_id,
        kind=task.kind,
        task_id=task.pk,
        annotator_id=user.pk,
    )
    if completed:
        events.publish(
            events.TASK_COMPLETED, project_id=task.project_id, kind=task.kind, task_id=task.pk
        )


_A, _T, _N = Assignment._meta.db_table, Task._meta.db_table, Annotation._meta.db_table
_VALUE = Annotation._meta.get_field("value")
# Only table names (model metadata) and enum values are interpolated.
_CLAIM_SQL = f"""
UPDATE {_A} SET status = '{AssignmentStatus.SUBMITTED.value}', finished_at = %(now)s
WHERE task_id = %(task)s AND annotator_id = %(user)s AND status = '{AssignmentStatus.ACTIVE.value}'
RETURNING leased_at
"""  # noqa: S608
# Count the submission, and learn whether it completed the task (``events.TASK_COMPLETED``).
_COUNT_SQL = (
    f"UPDATE {_T} SET n_submitted = n_submitted + 1 WHERE id = %s "  # noqa: S608
    "RETURNING n_submitted >= overlap"
)
_INSERT_SQL = f"""
INSERT INTO {_N} (task_id, annotator_id, value, lead_time_ms, from_suggestion, revision,
                  created_at, updated_at)
VALUES (%(task)s, %(user)s, %(value)s, %(lead_time)s, %(suggested)s, 1, %(now)s, %(now)s)
RETURNING id
"""  # noqa: S608

# The three statements above as one (PostgreSQL, data-modifying CTEs): claim the lease,
# count the submission, insert the annotation; no row when no active lease was claimed.
# Without ``lead_time`` the time since the lease began, in whole ms, within bounds.
_SUBMIT_SQL = f"""
WITH claim AS ({_CLAIM_SQL}),
counted AS (
    UPDATE {_T} SET n_submitted = n_submitted + 1
    WHERE id = %(task)s AND EXISTS (SELECT 1 FROM claim)
    RETURNING n_submitted >= overlap AS completed
),
inserted AS (
    INSERT INTO {_N} (task_id, annotator_id, value, lead_time_ms, from_suggestion, revision,
                      created_at, updated_at)
    SELECT %(task)s, %(user)s, %(value)s,
           COALESCE(%(lead_time)s, LEAST(GREATEST(
               FLOOR(EXTRACT(EPOCH FROM (%(now)s - claim.leased_at)) * 1000), 0
           ), {MAX_LEAD_TIME_MS})::integer),
           %(suggested)s, 1, %(now)s, %(now)s
    FROM claim
    RETURNING id, lead_time_ms
)
SELECT inserted.id, inserted.lead_time_ms, counted.completed FROM inserted, counted
"""  # noqa: S608


def adapt_now(now: Any) -> Any:
    """A timestamp as the backend stores it (text on SQLite, as is on PostgreSQL)."""
    return connection.ops.adapt_datetimefield_value(now)


def _retake_for_submit(assignment: Assignment | None, task: Task, now: Any) -> None:
    """Submit without an active lease: re-take a slot after expiry, or refuse clearly."""
    if assignment is None:
        raise Forbidden("you do not hold this task: get a task from next-task before annotating it")
    if assignment.status == AssignmentStatus.SKIPPED:
        raise Conflict("you skipped this task; it can no longer be annotated by you")
    if assignment.status != AssignmentStatus.EXPIRED:
        raise Conflict("this task changed meanwhile; send the annotation again")
    # The lease expired and its slot went back to the pool: take one again if any is left.
    if not take_slot(task.pk):
        raise Conflict(
            "your lease on this task expired and other annotators have filled it; "
            "ask next-task for a new one",
            code="lease_expired",
        )
    Assignment.objects.filter(pk=assignment.pk, status=AssignmentStatus.EXPIRED).update(
        status=AssignmentStatus.SUBMITTED, finished_at=now
    )


def _edit(
    annotation: Annotation, value: dict, lead_time: int | None, now: Any, suggested: bool
) -> Annotation:
    """Keep the current value as a revision and store the new one."""
    AnnotationRevision.objects.create(
        annotation=annotation,
        revision=annotation.revision,
        value=annotation.value,
        lead_time_ms=annotation.lead_time_ms,
        from_suggestion=annotation.from_suggestion,
        created_at=annotation.updated_at,
    )
    annotation.value = value
    annotation.revision += 1
    annotation.from_suggestion = suggested
    if lead_time is not None:
        annotation.lead_time_ms = lead_time
    annotation.save(
        update_fields=["value", "revision", "lead_time_ms", "from_suggestion", "updated_at"]
    )
    return annotation
