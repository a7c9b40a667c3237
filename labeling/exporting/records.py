"""Dataset export: one record per task streamed from the database with constant queries.

Reading: one streamed query over the selected tasks (with their sentence, document and
gold joined in), one over their annotations and one over the models' predictions, all in
task-id order, merged in Python;
plus a few small set-up queries (documents for the splits, annotator names). The big
queries use ``.iterator(chunk_size=...)`` (server-side cursors on PostgreSQL), so memory
holds one chunk whatever the size of the project. The bytes come from
:mod:`labeling.exporting.writers`.

Record semantics (the dataset card repeats them):

* A task is exported when it has at least one annotation or a gold label, or with
  ``include_unannotated`` whatever it has (``annotations`` then ``[]``).
* ``annotations``: every current annotation of the task. Annotator ids are pseudonyms
  by default: ``annotator-`` + the first 16 hex digits of HMAC-SHA256 keyed with
  ``SECRET_KEY`` over the project and user ids; stable within a project, different
  across projects, not reversible without the key. Real usernames only on request.
* ``gold``: the gold value with ``gold_method`` (``adjudicated`` beats the aggregated
  ``majority`` / ``dawid_skene``) and ``gold_confidence`` (null for adjudicated gold).
* ``modal_share``: the share of the task's annotators who gave the modal value (the same
  value, as the kind's ``value_key`` compares values); null with fewer than two
  annotations. It describes the item itself, so it does not depend on the filters.
* ``updated_at`` of an annotation: ISO 8601 in UTC with microseconds and the offset,
  ``2024-05-01T12:00:00.000000+00:00``, on SQLite and PostgreSQL alike.
* ``split``: document-level, from :func:`labeling.exporting.splits.assign_splits` over all the
  project's documents keyed by external id (or ``#<id>`` without one), so a document's
  split does not depend on the filters either.
* Kind-specific columns (``tokens``, ``bio`` for span kinds) are filled by the kind's
  spec (``KindSpec.export_extras``); other kinds leave them null.
* ``predictions``: the models' predictions of the task (``labeling.predictions``), a
  list of ``{"model", "value", "score"}`` by model name, ``[]`` when none; never part of
  ``annotations``, ``gold`` or ``modal_share``.

Filters select tasks, never parts of a task: ``kind``; ``min_agreement`` (records with
null modal_share are left out); ``only_adjudicated``; ``updated_from``/``updated_to``
(tasks with at least one annotation updated in the range, inclusive); ``annotator``
(tasks this annotator annotated); ``split``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import orjson
import pyarrow as pa
from django.db import connection, transaction
from django.db.models import CharField, Exists, F, Func, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from labeling.exporting.params import ExportOptions
from labeling.exporting.pseudonyms import project_annotators, pseudonym
from labeling.exporting.splits import assign_splits
from labeling.exporting.value_types import value_type
from labeling.exporting.writers import FILE_EXTENSIONS, with_trailer
from labeling.kinds import KindSpec, kind_spec
from labeling.models import (
    Annotation,
    Document,
    GoldMethod,
    LabelSchema,
    Prediction,
    Project,
    Task,
)
from labeling.quality.dataset import regular_tasks

CHUNK_SIZE = 2000
#: ``updated_at`` in every export, on every database: UTC, microseconds, explicit offset.
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f+00:00"


# ------------------------------------------------------------------------- records


def selected_tasks(project: Project, options: ExportOptions) -> QuerySet[Task]:
    """The tasks an export covers, before the filters applied in Python (agreement, split).

    Control questions are not part of the dataset and are never exported.
    """
    qs = regular_tasks(Task.objects.filter(project=project))
    if options.kind:
        qs = qs.filter(kind=options.kind)
    if options.only_adjudicated:
        qs = qs.filter(gold__method=GoldMethod.ADJUDICATED)
    annotation = Annotation.objects.filter(task_id=OuterRef("pk"))
    narrowed = False
    if options.annotator_id is not None:
        qs = qs.filter(Exists(annotation.filter(annotator_id=options.annotator_id)))
        narrowed = True
    if options.updated_from or options.updated_to:
        in_range = annotation
        if options.updated_from:
            in_range = in_range.filter(updated_at__gte=options.updated_from)
        if options.updated_to:
            in_range = in_range.filter(updated_at__lte=options.updated_to)
        qs = qs.filter(Exists(in_range))
        narrowed = True
    if not narrowed and not options.only_adjudicated and not options.include_unannotated:
        qs = qs.filter(Q(Exists(annotation)) | Q(gold__isnull=False))
    return qs


def count_tasks(project: Project, options: ExportOptions) -> int:
    """How many tasks the export reads (an upper bound on its records)."""
    return selected_tasks(project, options).count()


def document_splits(project: Project, options: ExportOptions) -> dict[int, str]:
    """``{document id: split}`` over all the project's documents (one query)."""
    rows = list(
        Document.objects.filter(project=project).order_by().values_list("id", "external_id")
    )
    keys = {doc_id: external_id or f"#{doc_id}" for doc_id, external_id in rows}
    by_key = assign_splits(list(keys.values()), ratios=options.ratios, seed=options.seed)
    return {doc_id: by_key[key] for doc_id, key in keys.items()}


def value_key(kind: str, value: Any) -> Any:
    """A hashable form of an annotation value, equal for equal answers (the kind decides)."""
    return kind_spec(kind).value_key(value)


def item_agreement(kind: str, values: list[Any]) -> float | None:
    """Share of the item's annotations equal to the modal value; None with fewer than two."""
    n = len(values)
    if n < 2:
        return None
    key = kind_spec(kind).value_key
    keys = [key(v) for v in values]
    top = max(keys.count(k) for k in set(keys))  # n is small: counting beats Counter
    return 1.0 if top == n else round(top / n, 6)


TASK_FIELDS = (
    "id",
    "document_id",
    "document__external_id",
    "document__title",
    "sentence_id",
    "position",
    "sentence__start",
    "sentence__end",
    "sentence__text",
    "kind",
    "target",
    "gold_text",
    "gold__method",
    "gold__confidence",
)
ANNOTATION_FIELDS = (
    "task_id",
    "annotator_id",
    "value_text",
    "lead_time_ms",
    "from_suggestion",
    "updated",
)
# Decoded values and item agreements are memoised by their stored text: labels repeat
# endlessly and a task's annotators often give the same spans. Each memo is emptied when
# full, so memory stays bounded whatever the export's size.
MEMO_SIZE = 4096
MEMO_MAX_TEXT = 2048


class PostgresTimestamp(Func):
    """PostgreSQL: a timestamp as :data:`TIMESTAMP_FORMAT` text, formatted by the server.

    Formatting in PostgreSQL saves a datetime and a ``strftime`` per annotation; other
    databases read the datetime and :func:`iso_timestamp` formats it the same way.
    """

    output_field = CharField()
    template = (
        "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    )


def iso_timestamp(value: dt.datetime | str) -> str:
    """A stored timestamp as :data:`TIMESTAMP_FORMAT` (text from PostgreSQL is kept)."""
    if value.__class__ is str:
        return value
    assert isinstance(value, dt.datetime)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return value.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)


def _annotation_rows(tasks: QuerySet[Task], chunk_size: int) -> Iterator[tuple]:
    """Annotations of ``tasks`` ordered by (task, annotator), streamed."""
    updated = (
        PostgresTimestamp("updated_at") if connection.vendor == "postgresql" else F("updated_at")
    )
    return (
        Annotation.objects.filter(task_id__in=tasks.values("id"))
        .annotate(value_text=Cast("value", TextField()), updated=updated)
        .order_by("task_id", "annotator_id")
        .values_list(*ANNOTATION_FIELDS)
        .iterator(chunk_size=chunk_size)
    )


def _prediction_rows(tasks: QuerySet[Task], chunk_size: int) -> Iterator[tuple]:
    """Model predictions of ``tasks`` ordered by (task, model), streamed."""
    return (
        Prediction.objects.filter(task_id__in=tasks.values("id"))
        .annotate(value_text=Cast("value", TextField()))
        .order_by("task_id", "model_name")
        .values_list("task_id", "model_name", "value_text", "score")
        .iterator(chunk_size=chunk_size)
    )


_MISSING: Any = object()


def _loads(text: str) -> Any:
    """A stored value's JSON text, decoded (orjson; json for what orjson refuses)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # e.g. integers beyond 64 bits
        return json.loads(text)


def iter_records(
    project: Project, options: ExportOptions, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[dict[str, Any]]:
    """Yield the export records of ``project`` in task-id order, one dict per task.

    Queries: documents (splits), annotator names when revealed, then two streamed
    reads; the count does not depend on the number of records. On PostgreSQL the reads
    run inside a transaction: its server-side cursors then stream rows as the executor
    produces them, whereas outside one they are ``WITH HOLD`` and the whole result is
    materialised before the first row (a second per million annotations). SQLite is
    left in autocommit: a transaction there would take the write lock.
    """
    if connection.vendor == "postgresql":
        with transaction.atomic():
            yield from _records(project, options, chunk_size)
    else:
        yield from _records(project, options, chunk_size)


def _records(project: Project, options: ExportOptions, chunk_size: int) -> Iterator[dict[str, Any]]:
    """The body of :func:`iter_records`."""
    splits = document_splits(project, options)
    names = project_annotators(project) if options.reveal_annotators else {}
    project_id = project.pk
    tasks_qs = selected_tasks(project, options)
    if options.split is not None:  # read only the split's documents
        tasks_qs = tasks_qs.filter(
            document_id__in=[doc for doc, split in splits.items() if split == options.split]
        )
    task_rows = (
        tasks_qs.annotate(gold_text=Cast("gold__value", TextField()))
        .order_by("id")
        .values_list(*TASK_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    annotation_rows = _annotation_rows(tasks_qs, chunk_size * 4)
    prediction_rows = _prediction_rows(tasks_qs, chunk_size)
    next_prediction = next(prediction_rows, None)
    # Records share the decoded dicts, which nothing downstream mutates.
    decoded: dict[str, Any] = {}
    agreements: dict[tuple[str, ...], float | None] = {}
    annotator_names: dict[int, str] = {}
    specs: dict[str, KindSpec] = {}

    def annotator_name(user_id: int) -> str:
        name = annotator_names.get(user_id)
        if name is None:
            name = (
                names.get(user_id, f"user-{user_id}")
                if options.reveal_annotators
                else pseudonym(project_id, user_id)
            )
            annotator_names[user_id] = name
        return name

    min_agreement = options.min_agreement
    only_split = options.split
    pending = next(annotation_rows, None)
    for row in task_rows:
        (
            task_id,
            document_id,
            external_id,
            title,
            sentence_id,
            position,
            start,
            end,
            text,
            kind,
            target,
            gold_text,
            gold_method,
            gold_confidence,
        ) = row
        gold = None
        if gold_text is not None:
            gold = decoded.get(gold_text)
            if gold is None:
                gold = _loads(gold_text)
                if len(gold_text) <= MEMO_MAX_TEXT:
                    if len(decoded) >= MEMO_SIZE:
                        decoded.clear()
                    decoded[gold_text] = gold
        while pending is not None and pending[0] < task_id:
            pending = next(annotation_rows, None)  # defensive: both streams share the filter
        annotations = []
        values = []
        raws = []
        while pending is not None and pending[0] == task_id:
            _, user_id, raw, lead_time_ms, from_suggestion, updated_at = pending
            value = decoded.get(raw)
            if value is None:
                value = _loads(raw)
                if len(raw) <= MEMO_MAX_TEXT:
                    if len(decoded) >= MEMO_SIZE:
                        decoded.clear()
                    decoded[raw] = value
            raws.append(raw)
            annotations.append(
                {
                    "annotator": annotator_names.get(user_id) or annotator_name(user_id),
                    "value": value,
                    "lead_time_ms": lead_time_ms,
                    "from_suggestion": from_suggestion,
                    "updated_at": updated_at
                    if updated_at.__class__ is str
                    else iso_timestamp(updated_at),
                }
            )
            values.append(value)
            pending = next(annotation_rows, None)
        predictions = []
        while next_prediction is not None and next_prediction[0] <= task_id:
            if next_prediction[0] == task_id:
                _, model_name, raw, score = next_prediction
                predictions.append({"model": model_name, "value": _loads(raw), "score": score})
            next_prediction = next(prediction_rows, None)
        split = splits.get(document_id)
        if only_split is not None and split != only_split:
            continue
        memo_key = (kind, *raws)
        agreement = agreements.get(memo_key, _MISSING)
        if agreement is _MISSING:
            agreement = item_agreement(kind, values)
            if len(agreements) >= MEMO_SIZE:
                agreements.clear()
            agreements[memo_key] = agreement
        if min_agreement is not None and (agreement is None or agreement < min_agreement):
            continue
        spec = specs.get(kind)
        if spec is None:
            spec = specs[kind] = kind_spec(kind)
        tokens = bio = None
        if spec.export_fields:
            tokens, bio = spec.export_extras(text=text, start=start, gold=gold)
        yield {
            "task_id": task_id,
            "document_id": document_id,
            "document_external_id": external_id,
            "document_title": title,
            "sentence_id": sentence_id,
            "sentence_position": position,
            "sentence_start": start,
            "sentence_end": end,
            "sentence_text": text,
            "kind": kind,
            "target": target,
            "split": split,
            "annotations": annotations,
            "gold": gold,
            "gold_method": gold_method,
            "gold_confidence": gold_confidence,
            "modal_share": agreement,
            "tokens": tokens,
            "bio": bio,
            "predictions": predictions,
        }


def export_value_type(project: Project, options: ExportOptions) -> pa.DataType | None:
    """The Arrow type of values and gold in this export's Parquet file (None: JSON text)."""
    if options.kind:
        kinds = [options.kind]
    else:
        schemas = LabelSchema.objects.filter(project=project).order_by("id")
        kinds = list(schemas.values_list("kind", flat=True))
    return value_type(kinds)


def stream_export(
    project: Project, fmt: str, options: ExportOptions, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The export file's bytes with the completeness trailer, as the records are read.

    Constant memory; JSONL and CSV end with the trailer line of
    :func:`labeling.exporting.writers.with_trailer`.
    """
    extra = {"value_type": export_value_type(project, options)} if fmt == "parquet" else {}
    return with_trailer(iter_records(project, options, chunk_size=chunk_size), fmt, **extra)


def export_filename(project: Project, fmt: str, options: ExportOptions) -> str:
    """A descriptive, filesystem-safe file name for an export."""
    parts = [f"project-{project.pk}"]
    if options.kind:
        parts.append(options.kind)
    if options.split:
        parts.append(options.split)
    parts.append(timezone.now().strftime("%Y%m%dT%H%M%SZ"))
    return "-".join(parts) + FILE_EXTENSIONS[fmt]
