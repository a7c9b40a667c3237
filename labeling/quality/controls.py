"""Control questions: marking tasks as controls, judging answers, pausing on low accuracy.

A control task leaves the regular queue (``regular_tasks``) and the real dataset
(``real_annotations``); its overlap becomes ``CONTROL_OVERLAP`` so every annotator may
answer it once, through the same lease and annotation endpoints as any task.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from labeling.exceptions import InvalidInput
from labeling.models import GoldLabel, GoldMethod, Project, Task
from labeling.quality.models import CONTROL_OVERLAP, ControlQuestion
from labeling.queue.submitting import validate_annotation_value

#: Controls set in one request at most.
MAX_CONTROLS = 10_000


#: A spec's value when none was sent: the task's adjudicated gold answer.
FROM_GOLD: Any = object()


@dataclass(frozen=True)
class ControlSpec:
    """A task and its right answer (``FROM_GOLD``: the task's adjudicated gold)."""

    task_id: int
    value: Any


def parse_controls(data: Any) -> list[ControlSpec]:
    """``[{"task": ID, "value": V}, ...]`` (or one object) → specs; errors name ``[i].field``.

    Without ``value`` the task's adjudicated gold is the answer (``set_controls`` checks).
    """
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InvalidInput("send a non-empty list of {task, value} objects", field="")
    if len(items) > MAX_CONTROLS:
        raise InvalidInput(f"at most {MAX_CONTROLS} controls per request", field="")
    specs = []
    for i, item in enumerate(items):
        prefix = f"[{i}]." if isinstance(data, list) else ""
        if not isinstance(item, dict):
            raise InvalidInput("must be an object with task and value", field=prefix.rstrip("."))
        task = item.get("task")
        if isinstance(task, bool) or not isinstance(task, int) or task <= 0:
            raise InvalidInput("must be a task id (a positive integer)", field=f"{prefix}task")
        specs.append(ControlSpec(task, item.get("value", FROM_GOLD)))
    return specs


def set_controls(
    *, project: Project, specs: Sequence[ControlSpec], user: Any
) -> list[ControlQuestion]:
    """Make the tasks control questions with these answers (again: the answer is replaced).

    A spec without a value takes the task's adjudicated gold (400 if it has none).

    All or nothing: every task must belong to the project and every value must fit its
    schema, else 400 naming ``[i].task`` or ``[i].value...``. The task's overlap becomes
    ``CONTROL_OVERLAP`` (its former overlap is kept to restore on removal).
    """
    ids = [s.task_id for s in specs]
    if len(set(ids)) != len(ids):
        dup = next(i for i, s in enumerate(specs) if ids.count(s.task_id) > 1)
        raise InvalidInput("this task is listed twice", field=f"[{dup}].task")
    with transaction.atomic():
        tasks = {
            t.pk: t for t in Task.objects.select_for_update().filter(project=project, pk__in=ids)
        }
        gold = dict(
            GoldLabel.objects.filter(task_id__in=ids, method=GoldMethod.ADJUDICATED).values_list(
                "task_id", "value"
            )
        )
        clean: list[Any] = []
        for i, spec in enumerate(specs):
            task = tasks.get(spec.task_id)
            if task is None:
                raise InvalidInput("no such task in this project", field=f"[{i}].task")
            if spec.value is FROM_GOLD:
                if task.pk not in gold:
                    raise InvalidInput(
                        "is required: the right answer (this task has no adjudicated gold)",
                        field=f"[{i}].value",
                    )
                clean.append(gold[task.pk])
                continue
            try:
                clean.append(validate_annotation_value(task, spec.value))
            except InvalidInput as exc:
                field = f"[{i}].{exc.field}" if exc.field else f"[{i}].value"
                raise InvalidInput(exc.message, field=field) from exc
        existing = {c.task_id: c for c in ControlQuestion.objects.filter(task_id__in=ids)}
        out = []
        for spec, value in zip(specs, clean, strict=True):
            task = tasks[spec.task_id]
            control = existing.get(task.pk)
            if control is not None:
                control.value = value
                control.save(update_fields=["value"])
            else:
                control = ControlQuestion.objects.create(
                    task=task,
                    project=project,
                    kind=task.kind,
                    value=value,
                    base_overlap=task.overlap,
                    created_by=user if user is not None and user.pk else None,
                )
                Task.objects.filter(pk=task.pk).update(overlap=CONTROL_OVERLAP, is_open=True)
            out.append(control)
    return out


def remove_control(*, control: ControlQuestion) -> None:
    """Return a control task to the real dataset with its former overlap (or more if held)."""
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=control.task_id)
        overlap = max(control.base_overlap, task.n_assigned)
        Task.objects.filter(pk=task.pk).update(overlap=overlap, is_open=task.n_assigned < overlap)
        control.delete()
