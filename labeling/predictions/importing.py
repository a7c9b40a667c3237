"""Import model predictions: checked like annotations, all or nothing, re-imports replace.

Each prediction is ``{"task": ID, "model": NAME, "value": V, "score"?: number}``: ``V`` is
validated by the task kind's spec (``labeling.kinds``) exactly like an annotation value,
spans in document code points. A request (a JSON list, or JSON Lines) imports at most
``MAX_PREDICTIONS`` in one transaction; any error refuses all of it with a 400 naming
the item (``[3].value.label``, or ``line 4.value.label`` for JSON Lines).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.functions import Length
from django.utils import timezone
from rest_framework.exceptions import ParseError, ValidationError

from labeling.api.parsers import loads_strict
from labeling.exceptions import InvalidInput
from labeling.kinds import Bounds, SchemaError, kind_spec
from labeling.models import LabelSchema, Prediction, Project, Task
from labeling.predictions.models import MODEL_NAME_MAX_LENGTH

MAX_PREDICTIONS = 10_000
FIELDS = frozenset({"task", "model", "value", "score"})
#: How long a process trusts "this project has no predictions" (the task payload skips
#: its query then); an import or delete in the same process forgets it at once.
NONE_CACHED_SECONDS = 60


def has_predictions_key(project_id: int) -> str:
    return f"labeling:has-predictions:{project_id}"


@dataclass(frozen=True)
class Item:
    """One checked prediction, before its value is validated against its task."""

    where: str
    task_id: int
    model: str
    value: Any
    score: float | None


def read_jsonl(raw: bytes) -> tuple[list[Any], list[str]]:
    """The objects of a JSON Lines body and how errors name each (``line N``); blank lines skip."""
    items: list[Any] = []
    names: list[str] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(loads_strict(line))
        except ParseError as exc:
            raise InvalidInput(
                f"is not valid JSON ({exc.detail})", field=f"line {number}"
            ) from None
        except ValidationError as exc:  # NUL, lone surrogates, duplicate keys, too deep
            detail = exc.detail if isinstance(exc.detail, dict) else {"": exc.detail}
            where, problems = next(iter(detail.items()))
            message = problems[0] if isinstance(problems, list) else problems
            field = f"line {number}" + (f".{where}" if where and where != "body" else "")
            raise InvalidInput(str(message), field=field) from None
        names.append(f"line {number}")
    return items, names


def _check_item(item: Any, where: str) -> Item:
    if not isinstance(item, dict):
        raise InvalidInput(
            "must be an object with task, model, value and optionally score", field=where
        )
    for key in item:
        if key not in FIELDS:
            raise InvalidInput(
                "unknown field (allowed: task, model, value, score)", field=f"{where}.{key}"
            )
    task = item.get("task")
    if isinstance(task, bool) or not isinstance(task, int) or task <= 0:
        raise InvalidInput("must be the id of a task of this project", field=f"{where}.task")
    model = item.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidInput("must be the model's name (a non-empty string)", field=f"{where}.model")
    if model != model.strip() or len(model) > MODEL_NAME_MAX_LENGTH:
        raise InvalidInput(
            f"must be at most {MODEL_NAME_MAX_LENGTH} characters without surrounding spaces",
            field=f"{where}.model",
        )
    if "value" not in item:
        raise InvalidInput(
            "is required: the predicted value, shaped like an annotation's", field=f"{where}.value"
        )
    score = item.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    ):
        raise InvalidInput("must be a finite number or null", field=f"{where}.score")
    return Item(where, task, model, item["value"], None if score is None else float(score))


def import_predictions(
    *,
    project: Project,
    items: Any,
    names: Sequence[str] | None = None,
    to_codepoints: Callable[[Any, int, str], Any] | None = None,
) -> dict[str, int]:
    """Store ``items`` (a list of prediction objects) for ``project``; ``{"created", "updated"}``.

    ``names``: how errors name each item (default ``[i]``). ``to_codepoints(value,
    document_id, field)`` converts a value sent in UTF-16 offsets (``offset_unit``).
    """
    if not isinstance(items, list):
        items = [items] if isinstance(items, dict) else items
    if not isinstance(items, list) or not items:
        raise InvalidInput("must be a prediction object or a non-empty list of them", field="body")
    if len(items) > MAX_PREDICTIONS:
        raise InvalidInput(
            f"holds {len(items)} predictions; send at most {MAX_PREDICTIONS} per request",
            field="body",
        )
    labels = list(names) if names is not None else [f"[{i}]" for i in range(len(items))]
    checked = [_check_item(item, where) for item, where in zip(items, labels, strict=True)]
    seen: dict[tuple[int, str], str] = {}
    for item in checked:
        first = seen.setdefault((item.task_id, item.model), item.where)
        if first != item.where:
            raise InvalidInput(
                f"repeats the prediction of {first} (same task and model)", field=item.where
            )
    tasks = {
        row["id"]: row
        for row in Task.objects.filter(project=project, pk__in={i.task_id for i in checked})
        .annotate(doc_length=Length("document__text"))
        .values("id", "kind", "document_id", "sentence__start", "sentence__end", "doc_length")
    }
    schemas = {s.kind: s for s in LabelSchema.objects.filter(project=project)}
    rows = []
    now = timezone.now()
    for item in checked:
        task = tasks.get(item.task_id)
        if task is None:
            raise InvalidInput(
                f"task {item.task_id} is not a task of this project", field=f"{item.where}.task"
            )
        value = item.value
        if to_codepoints is not None:
            value = to_codepoints(value, task["document_id"], f"{item.where}.value")
        try:
            clean = kind_spec(task["kind"]).validate_value(
                value,
                schema=schemas[task["kind"]],
                bounds=Bounds(task["doc_length"], task["sentence__start"], task["sentence__end"]),
            )
        except SchemaError as exc:
            raise InvalidInput(exc.message, field=f"{item.where}.{exc.field}") from exc
        rows.append(
            Prediction(
                project=project,
                task_id=item.task_id,
                model_name=item.model,
                value=clean,
                score=item.score,
                created_at=now,
                updated_at=now,
            )
        )
    with transaction.atomic():
        existing = set(
            Prediction.objects.filter(
                project=project, task_id__in=tasks, model_name__in={i.model for i in checked}
            ).values_list("task_id", "model_name")
        )
        Prediction.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["task", "model_name"],
            update_fields=["value", "score", "updated_at"],
        )
    cache.delete(has_predictions_key(project.pk))
    updated = sum((row.task_id, row.model_name) in existing for row in rows)
    return {"created": len(rows) - updated, "updated": updated}


def delete_predictions(*, project: Project, model: str | None = None) -> int:
    """Remove the project's predictions (of one model); how many were removed."""
    qs = Prediction.objects.filter(project=project)
    if model is not None:
        qs = qs.filter(model_name=model)
    deleted, _ = qs.delete()
    cache.delete(has_predictions_key(project.pk))
    return deleted


def task_predictions(project_id: int, task_id: int) -> list[dict[str, Any]]:
    """A task's predictions for its payload, best score first: ``[{"model", "value", "score"}]``.

    No query while this process knows the project has none (``NONE_CACHED_SECONDS``), so
    projects without predictions keep the annotator's hot path as it was.
    """
    key = has_predictions_key(project_id)
    known = cache.get(key)
    if known == 0:
        return []
    rows = list(
        Prediction.objects.filter(task_id=task_id).values_list("model_name", "value", "score")
    )
    if not rows:
        if known is None:
            some = Prediction.objects.filter(project_id=project_id).exists()
            cache.set(key, int(some), NONE_CACHED_SECONDS)
        return []
    rows.sort(key=lambda r: (r[2] is None, -(r[2] or 0.0), r[0]))
    return [{"model": m, "value": v, "score": s} for m, v, s in rows]
