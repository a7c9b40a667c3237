"""Each model against the annotators and against gold, for an agreement run's result.

Loads the predictions of a (project, kind), the annotations and gold of the tasks they
answer (two or three streamed queries) and hands codes to the pure
``labeling.agreement.predictions``. Values are compared by the kind's ``value_key`` (the
label; for attribution every triple's offsets, i.e. exact match). The result's ``models``
list is separate from the human figures, which never include a model.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from labeling.agreement.predictions import compare_with_reference, majority_codes
from labeling.kinds import kind_spec
from labeling.kinds.base import SchemaLike
from labeling.models import Annotation, GoldLabel, Prediction
from labeling.quality.dataset import real_annotations

MAX_DRAWS = 200  # bootstrap draws of the model figures (each a pass over the pairs)


def compare_models(
    *, project_id: int, schema: SchemaLike, draws: int, seed: int = 0
) -> list[dict[str, Any]]:
    """One entry per model that predicted tasks of this kind: vs majority, annotators, gold."""
    spec = kind_spec(schema.kind)
    predictions = Prediction.objects.filter(project_id=project_id, task__kind=schema.kind)
    rows = list(predictions.values_list("model_name", "task_id", "value", "score").order_by())
    if not rows:
        return []
    answered = predictions.values("task_id")
    categorical = bool(spec.categorical_gold)
    codes: dict[Hashable, int] = {}
    if categorical:
        for label in spec.label_set(schema):
            codes.setdefault(label, len(codes))

    def code(value: Any) -> int:
        key = spec.value_key(value)
        if key is None:
            return -1
        return codes.setdefault(key, len(codes))

    item_of: dict[int, int] = {}
    for _, task_id, _, _ in rows:
        item_of.setdefault(task_id, len(item_of))
    n_items = len(item_of)
    votes = (
        real_annotations(Annotation.objects.filter(task_id__in=answered))
        .values_list("task_id", "value")
        .order_by()
        .iterator(chunk_size=5000)
    )
    ann_items, ann_codes = [], []
    for task_id, value in votes:
        ann_items.append(item_of[task_id])
        ann_codes.append(code(value))
    gold = np.full(n_items, -1, dtype=np.int64)
    for task_id, value in GoldLabel.objects.filter(task_id__in=answered).values_list(
        "task_id", "value"
    ):
        gold[item_of[task_id]] = code(value)
    by_model: dict[str, list[tuple[int, int, float | None]]] = {}
    for model, task_id, value, score in rows:
        by_model.setdefault(model, []).append((item_of[task_id], code(value), score))
    n_categories = max(len(codes), 1)
    items = np.asarray(ann_items, dtype=np.int64)
    answers = np.asarray(ann_codes, dtype=np.int64)
    majority = majority_codes(items, answers, n_items, n_categories)
    draws = min(max(int(draws), 0), MAX_DRAWS)
    out = []
    for model in sorted(by_model):
        predicted = np.full(n_items, -1, dtype=np.int64)
        scores = []
        for item, value_code, score in by_model[model]:
            predicted[item] = value_code
            if score is not None:
                scores.append(score)
        options: dict[str, Any] = {
            "n_categories": n_categories,
            "categorical": categorical,
            "draws": draws,
        }
        out.append(
            {
                "model": model,
                "n_predictions": len(by_model[model]),
                "mean_score": float(np.mean(scores)) if scores else None,
                "vs_majority": compare_with_reference(predicted, majority, seed=seed, **options),
                "vs_annotators": compare_with_reference(
                    predicted[items] if items.size else items,
                    answers,
                    clusters=items,
                    seed=seed,
                    **options,
                ),
                "vs_gold": compare_with_reference(predicted, gold, seed=seed, **options),
            }
        )
    return out
