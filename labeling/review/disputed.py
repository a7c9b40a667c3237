"""Disputed-first review: which tasks a lead should adjudicate, from the latest run.

Every finished agreement run stores each task it found disputed (disagreement above 0)
as a ``DisputedItem`` row. The queue is the rows of the latest finished run of a
(project, kind), most disputed first (ties by task id), filtered and paged in SQL:
by stance target, by document, adjudicated or not. A page costs a constant number of
queries whatever its size (count, page, annotations), and the next or previous item of
the queue one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet, Subquery

from labeling.exceptions import InvalidInput
from labeling.models import AgreementRun, Annotation, DisputedItem, GoldMethod, JobStatus
from labeling.review.staleness import stale_since

#: Rows written per INSERT when a run stores its disputed tasks.
STORE_BATCH = 5000


@dataclass(frozen=True)
class DisputedFilter:
    """Which disputed items to list. ``adjudicated``: False (default) only those still open,
    True only those a lead decided, None both."""

    target: str | None = None
    document_id: int | None = None
    adjudicated: bool | None = False

    def as_query(self) -> dict[str, str]:
        """The filter as URL query parameters (for links that keep it)."""
        out = {}
        if self.target is not None:
            out["target"] = self.target
        if self.document_id is not None:
            out["document"] = str(self.document_id)
        out["adjudicated"] = {False: "false", True: "true", None: "any"}[self.adjudicated]
        return out


ADJUDICATED_VALUES = {"true": True, "false": False, "any": None}


def disputed_filter(params: Any) -> DisputedFilter:
    """The queue's filters from query parameters; a bad value is a 400 naming it."""
    document = params.get("document")
    document_id = None
    if document not in (None, ""):
        try:
            document_id = int(document)
        except ValueError:
            raise InvalidInput(
                f"must be a document id (an integer); got {document[:40]!r}", field="document"
            ) from None
    raw = (params.get("adjudicated") or "").lower()
    if raw and raw not in ADJUDICATED_VALUES:
        raise InvalidInput(
            f"must be one of true, false, any; got {raw[:40]!r}", field="adjudicated"
        )
    include = (params.get("include_adjudicated") or "").lower() in {"1", "true"}
    adjudicated = ADJUDICATED_VALUES[raw] if raw else (None if include else False)
    target = params.get("target")
    return DisputedFilter(
        target=target if target not in (None, "") else None,
        document_id=document_id,
        adjudicated=adjudicated,
    )


def store_disputed(run_id: int, disputed: Iterable[tuple[int, float]]) -> None:
    """Replace the run's rows with (task id, score) pairs (a retried job writes them again)."""
    rows = [DisputedItem(run_id=run_id, task_id=t, score=s) for t, s in disputed if s > 0]
    with transaction.atomic():
        DisputedItem.objects.filter(run_id=run_id).delete()
        DisputedItem.objects.bulk_create(rows, batch_size=STORE_BATCH)


def prune_disputed(run_id: int) -> int:
    """Drop the rows of older runs of the same (project, kind) once ``run_id`` is done.

    Only the latest finished run's rows are ever read; this keeps the table at about one
    run's disputed tasks per (project, kind). Returns the number of rows deleted.
    """
    run = AgreementRun.objects.filter(pk=run_id).values("project_id", "kind").first()
    if run is None:
        return 0
    deleted, _ = DisputedItem.objects.filter(
        run__project_id=run["project_id"], run__kind=run["kind"], run_id__lt=run_id
    ).delete()
    return deleted


def _latest_run_id(project_id: int, kind: str) -> Subquery:
    return Subquery(
        AgreementRun.objects.filter(project_id=project_id, kind=kind, status=JobStatus.DONE)
        .order_by("-id")
        .values("id")[:1]
    )


def _filtered(qs: QuerySet[DisputedItem], filters: DisputedFilter) -> QuerySet[DisputedItem]:
    if filters.target is not None:
        qs = qs.filter(task__target=filters.target)
    if filters.document_id is not None:
        qs = qs.filter(task__document_id=filters.document_id)
    decided = Q(task__gold__method=GoldMethod.ADJUDICATED)
    if filters.adjudicated is True:
        qs = qs.filter(decided)
    elif filters.adjudicated is False:
        qs = qs.exclude(decided)
    return qs


def disputed_items(
    *, project_id: int, kind: str, filters: DisputedFilter = DisputedFilter()
) -> QuerySet[DisputedItem]:
    """The queue as a query: the latest run's rows, filtered, most disputed first.

    Page it (count + page: 2 queries) and describe a page with ``describe_disputed``.
    """
    qs = DisputedItem.objects.filter(run_id=_latest_run_id(project_id, kind))
    return _filtered(qs, filters).order_by("-score", "task_id")


def neighbour(
    *, project_id: int, kind: str, task_id: int, filters: DisputedFilter, forward: bool = True
) -> int | None:
    """The task after (or before) ``task_id`` in the filtered queue, or None (2-3 queries).

    Forward wraps around: after the last item comes the first one still listed (other
    than ``task_id``), so deciding items in any order walks every open one. A task
    outside the queue (not disputed in the latest run) has the queue's first item after it.
    """
    items = disputed_items(project_id=project_id, kind=kind, filters=filters)
    here = (
        DisputedItem.objects.filter(run_id=_latest_run_id(project_id, kind), task_id=task_id)
        .values_list("score", flat=True)
        .first()
    )
    if here is None:
        return items.values_list("task_id", flat=True).first() if forward else None
    if forward:
        after = Q(score__lt=here) | Q(score=here, task_id__gt=task_id)
        found = items.filter(after).values_list("task_id", flat=True).first()
        if found is None:  # wrap around to the first item still listed
            found = items.exclude(task_id=task_id).values_list("task_id", flat=True).first()
        return found
    before = Q(score__gt=here) | Q(score=here, task_id__lt=task_id)
    return (
        items.filter(before).order_by("score", "-task_id").values_list("task_id", flat=True).first()
    )


def position(*, project_id: int, kind: str, task_id: int, filters: DisputedFilter) -> int | None:
    """1-based place of ``task_id`` in the filtered queue, or None (2 queries)."""
    here = (
        DisputedItem.objects.filter(run_id=_latest_run_id(project_id, kind), task_id=task_id)
        .values_list("score", flat=True)
        .first()
    )
    items = disputed_items(project_id=project_id, kind=kind, filters=filters)
    if here is None or not items.filter(task_id=task_id).exists():
        return None
    ahead = Q(score__gt=here) | Q(score=here, task_id__lt=task_id)
    return items.filter(ahead).count() + 1


def page_rows(items: QuerySet[DisputedItem]) -> QuerySet[DisputedItem]:
    """The columns a page shows, with its task, sentence and gold (one query)."""
    return items.select_related("task__sentence", "task__gold").only(
        "id",
        "run_id",
        "score",
        "task__id",
        "task__kind",
        "task__target",
        "task__document_id",
        "task__sentence__id",
        "task__sentence__position",
        "task__sentence__start",
        "task__sentence__end",
        "task__sentence__text",
        "task__gold__value",
        "task__gold__method",
        "task__gold__confidence",
        "task__gold__decided_at",
        "task__gold__updated_at",
    )


def describe_disputed(rows: Sequence[DisputedItem]) -> list[dict[str, Any]]:
    """Each row (from ``page_rows``) with its sentence, every annotation and its gold.

    One query beyond the rows themselves (the annotations of the page).
    """
    ids = [row.task_id for row in rows]
    if not ids:
        return []
    annotations: dict[int, list[dict[str, Any]]] = {}
    saved_at: dict[int, list[datetime]] = {}
    username_field = f"annotator__{get_user_model().USERNAME_FIELD}"
    for task_id, annotator_id, username, value, updated_at in (
        Annotation.objects.filter(task_id__in=ids)
        .order_by("task_id", "annotator_id")
        .values_list("task_id", "annotator_id", username_field, "value", "updated_at")
    ):
        annotations.setdefault(task_id, []).append(
            {"annotator": annotator_id, "username": username, "value": value}
        )
        saved_at.setdefault(task_id, []).append(updated_at)
    out = []
    for row in rows:
        task = row.task
        s = task.sentence
        gold = getattr(task, "gold", None)
        out.append(
            {
                "task_id": task.pk,
                "kind": task.kind,
                "target": task.target,
                "document_id": task.document_id,
                "sentence": {
                    "id": s.pk,
                    "position": s.position,
                    "start": s.start,
                    "end": s.end,
                    "text": s.text,
                },
                "score": row.score,
                "run_id": row.run_id,
                "annotations": annotations.get(task.pk, []),
                "gold": None
                if gold is None
                else {
                    "value": gold.value,
                    "method": gold.method,
                    "confidence": gold.confidence,
                    **stale_since(gold, saved_at.get(task.pk, [])),
                },
            }
        )
    return out
