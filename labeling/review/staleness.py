"""Stale gold: annotations saved or edited after a gold label was decided.

A gold label rests on the annotations read when it was aggregated, or on the lead's
decision (``GoldLabel.decided_at``; ``updated_at`` for rows from before that field). An
annotation of its task saved or edited later (``Annotation.updated_at``) makes it stale:
``annotations_since`` counts them and ``stale`` is ``annotations_since > 0``. Computed on
read from the two timestamps, so no event can be missed; re-aggregating (a GoldJob) sets
``decided_at`` on every aggregated row of the kind, and adjudicating on that row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from labeling.models import Annotation, GoldJob, GoldJobOperation, GoldLabel, GoldMethod, JobStatus


def with_annotations_since(gold: QuerySet[GoldLabel]) -> QuerySet[GoldLabel]:
    """``gold`` annotated with ``annotations_since`` (one correlated count per row)."""
    newer = (
        Annotation.objects.filter(
            task_id=OuterRef("task_id"),
            updated_at__gt=Coalesce(OuterRef("decided_at"), OuterRef("updated_at")),
        )
        .order_by()
        .values("task_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return gold.annotate(
        annotations_since=Coalesce(Subquery(newer, output_field=IntegerField()), 0)
    )


def staleness(row: Any) -> dict[str, Any]:
    """``{"stale", "annotations_since"}`` of a row from :func:`with_annotations_since`."""
    since = int(getattr(row, "annotations_since", 0) or 0)
    return {"stale": since > 0, "annotations_since": since}


def stale_since(gold: GoldLabel, saved_at: Iterable[datetime]) -> dict[str, Any]:
    """``{"stale", "annotations_since"}`` of ``gold`` from its task's annotation save times
    already in hand (no query): the same rule as :func:`with_annotations_since`."""
    decided = gold.decided_at or gold.updated_at
    since = sum(1 for at in saved_at if at > decided)
    return {"stale": since > 0, "annotations_since": since}


def gold_status(*, project_id: int, kind: str) -> dict[str, Any]:
    """How many gold labels of (project, kind) exist, how many are stale, and the method a
    re-aggregation would use (the latest aggregation's, else majority). Three queries."""
    gold = GoldLabel.objects.filter(task__project_id=project_id, task__kind=kind).order_by()
    # Only the stale rows come back (usually few). Not .aggregate(): Django drops the
    # subquery annotation from the inner query when aggregating over it with a filter.
    stale = list(
        with_annotations_since(gold)  # type: ignore[misc]  # annotated above; django-stubs cannot see it
        .filter(annotations_since__gt=0)
        .values_list("method", "annotations_since")
    )
    counts = {
        "n_gold": gold.count(),
        "n_stale": len(stale),
        "n_stale_adjudicated": sum(1 for method, _ in stale if method == GoldMethod.ADJUDICATED),
        "annotations_since": sum(int(n) for _, n in stale),
    }
    latest = (
        GoldJob.objects.filter(
            project_id=project_id,
            kind=kind,
            operation=GoldJobOperation.AGGREGATE,
            status=JobStatus.DONE,
        )
        .order_by("-id")
        .values("id", "method", "finished_at")
        .first()
    )
    return {
        "kind": kind,
        "n_gold": counts["n_gold"] or 0,
        "n_stale": counts["n_stale"] or 0,
        "n_stale_adjudicated": counts["n_stale_adjudicated"] or 0,
        "annotations_since": counts["annotations_since"] or 0,
        "latest_aggregation": latest,
        "reaggregate_method": (latest["method"] if latest else "") or GoldMethod.MAJORITY,
    }
