"""Dataset export: one record per task streamed from the database with constant queries.

Reading: one streamed query over the selected tasks (with their sentence, document and
gold joined in) and one over their annotations, both in task-id order, merged in Python;
plus a few small set-up queries (documents for the splits, annotator names). Both big
queries use ``.iterator(chunk_size=...)`` (server-side cursors on PostgreSQL), so memory
holds one chunk whatever the size of the project. The bytes come from
:mod:`labeling.writers`.

Record semantics (the dataset card repeats them):

* A task is exported when it has at least one annotation or a gold label.
* ``annotations``: every current annotation of the task. Annotator ids are pseudonyms
  by default: ``annotator-`` + the first 16 hex digits of HMAC-SHA256 keyed with
  ``SECRET_KEY`` over the project and user ids; stable within a project, different
  across projects, not reversible without the key. Real usernames only on request.
* ``gold``: the gold value with ``gold_method`` (``adjudicated`` beats the aggregated
  ``majority`` / ``dawid_skene``) and ``gold_confidence`` (null for adjudicated gold).
* ``agreement``: the share of the task's annotators who gave the modal value (the same
  label; for attribution exactly the same set of triples); null with fewer than two
  annotations. It describes the item itself, so it does not depend on the filters.
* ``split``: document-level, from :func:`labeling.splits.assign_splits` over all the
  project's documents keyed by external id (or ``#<id>`` without one), so a document's
  split does not depend on the filters either.
* Attribution: ``tokens`` are the sentence's token offsets in document coordinates and
  ``bio`` the gold triples as BIO tags per role over those tokens (null without gold).

Filters select tasks, never parts of a task: ``kind``; ``min_agreement`` (records with
null agreement are left out); ``only_adjudicated``; ``updated_from``/``updated_to``
(tasks with at least one annotation updated in the range, inclusive); ``annotator``
(tasks this annotator annotated); ``split``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import os
import tempfile
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import connection, transaction
from django.db.models import CharField, Exists, Func, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from labeling.access import access_lead_object
from labeling.exceptions import InvalidInput
from labeling.exporting.splits import DEFAULT_RATIOS, assign_splits, validate_ratios
from labeling.exporting.writers import FILE_EXTENSIONS, FORMATS, write_dataset_card, write_records
from labeling.models import (
    AgreementRun,
    Annotation,
    Document,
    Export,
    ExportFormat,
    GoldMethod,
    JobStatus,
    Kind,
    LabelSchema,
    Project,
    Task,
)
from labeling.tokenization import ROLES, tokenize

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
PSEUDONYM_PREFIX = "annotator-"
PROGRESS_INTERVAL = 1.0  # seconds between progress UPDATEs of an export job
TRUE_VALUES = ("1", "true", "yes", "on")
FALSE_VALUES = ("0", "false", "no", "off", "")

Progress = Callable[[int], None]


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how; every field has a query-parameter twin (see ``PARAMS``)."""

    kind: str | None = None
    min_agreement: float | None = None
    only_adjudicated: bool = False
    updated_from: dt.datetime | None = None
    updated_to: dt.datetime | None = None
    annotator_id: int | None = None
    split: str | None = None
    reveal_annotators: bool = False
    ratios: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored on ``Export.filters``)."""
        return {
            "kind": self.kind,
            "min_agreement": self.min_agreement,
            "only_adjudicated": self.only_adjudicated,
            "updated_from": self.updated_from.isoformat() if self.updated_from else None,
            "updated_to": self.updated_to.isoformat() if self.updated_to else None,
            "annotator_id": self.annotator_id,
            "split": self.split,
            "reveal_annotators": self.reveal_annotators,
            "ratios": self.ratios,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportOptions:
        """The inverse of :meth:`to_json`."""
        values = dict(data)
        for key in ("updated_from", "updated_to"):
            if values.get(key):
                values[key] = dt.datetime.fromisoformat(values[key])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def active_filters(self) -> dict[str, Any]:
        """The filters that differ from "everything" (for the dataset card)."""
        data = self.to_json()
        return {
            key: data[key]
            for key in (
                "kind",
                "min_agreement",
                "only_adjudicated",
                "updated_from",
                "updated_to",
                "annotator_id",
                "split",
            )
            if data[key] not in (None, False)
        }


PARAMS: dict[str, str] = {
    "format": "jsonl (default), csv or parquet",
    "kind": "attribution, verifiability or stance; default: every kind",
    "min_agreement": "a number in [0, 1]: only tasks whose agreement is at least this",
    "only_adjudicated": "true: only tasks with adjudicated gold",
    "updated_from": "ISO 8601 date or datetime: tasks with an annotation updated at or after",
    "updated_to": "ISO 8601 date (the whole day) or datetime: annotation updated at or before",
    "annotator": "username (or pseudonym from an earlier export): tasks this annotator labelled",
    "split": "only this split (train, dev, test by default)",
    "splits": "split ratios, e.g. train:0.8,dev:0.1,test:0.1 (the default)",
    "seed": "integer seed of the document-level split (default 0)",
    "reveal_annotators": "true: real usernames instead of pseudonyms",
}


# ---------------------------------------------------------------------- parameters


def _parse_bool(value: str, name: str) -> bool:
    text = value.strip().lower()
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise InvalidInput(f"must be true or false; got {value!r}", field=name)


def _parse_moment(value: str, name: str, *, end_of_day: bool) -> dt.datetime:
    text = value.strip()
    moment = day = None
    try:
        # A date alone first: parse_datetime would read "2024-05-01" as midnight.
        day = parse_date(text) if len(text) == 10 else None
        moment = None if day else parse_datetime(text)
    except ValueError:
        moment, day = None, None
    if moment is None and day is None:
        raise InvalidInput(
            f"must be an ISO 8601 date or datetime (2024-05-01 or 2024-05-01T12:00:00Z); "
            f"got {value!r}",
            field=name,
        )
    if moment is None:
        assert day is not None
        moment = dt.datetime.combine(day, dt.time.max if end_of_day else dt.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, dt.UTC)
    return moment


def _parse_ratios(value: str) -> dict[str, float]:
    ratios: dict[str, float] = {}
    for part in value.split(","):
        name, sep, number = part.partition(":")
        try:
            if not sep:
                raise ValueError
            ratios[name.strip()] = float(number)
        except ValueError:
            raise InvalidInput(
                f"must look like train:0.8,dev:0.1,test:0.1; got {value!r}", field="splits"
            ) from None
    try:
        return validate_ratios(ratios)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="splits") from None


def pseudonym(project_id: int, user_id: int) -> str:
    """The stable pseudonym of a user within a project (HMAC-SHA256 with SECRET_KEY)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode("utf-8"),
        f"labeling.export:{project_id}:{user_id}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return PSEUDONYM_PREFIX + digest[:16]


def project_annotators(project: Project) -> dict[int, str]:
    """``{user id: username}`` of everyone with an annotation in the project (one query)."""
    annotated = Annotation.objects.filter(task__project=project, annotator_id=OuterRef("pk"))
    return dict(
        get_user_model().objects.filter(Exists(annotated)).order_by().values_list("pk", "username")
    )


def _resolve_annotator(project: Project, value: str) -> int:
    text = value.strip()
    people = project_annotators(project)
    for user_id, username in people.items():
        if text == username or text == pseudonym(project.pk, user_id):
            return user_id
    raise InvalidInput(f"no annotations by {value!r} in this project", field="annotator")


def parse_export_params(
    project: Project, params: Mapping[str, str], *, default_format: str = "jsonl"
) -> tuple[str, ExportOptions]:
    """Validate export query parameters; errors are 400s naming the parameter."""
    unknown = sorted(set(params) - set(PARAMS))
    if unknown:
        raise InvalidInput(f"unknown parameter; allowed: {', '.join(PARAMS)}", field=unknown[0])
    fmt = (params.get("format") or default_format).strip().lower()
    if fmt not in FORMATS:
        raise InvalidInput(f"must be one of {', '.join(FORMATS)}; got {fmt!r}", field="format")
    kind = params.get("kind") or None
    if kind is not None and kind not in Kind.values:
        raise InvalidInput(f"must be one of {', '.join(Kind.values)}; got {kind!r}", field="kind")
    min_agreement = None
    if params.get("min_agreement") not in (None, ""):
        try:
            min_agreement = float(params["min_agreement"])
        except ValueError:
            min_agreement = math.nan
        if not 0.0 <= min_agreement <= 1.0:
            raise InvalidInput(
                f"must be a number between 0 and 1; got {params['min_agreement']!r}",
                field="min_agreement",
            )
    updated_from = updated_to = None
    if params.get("updated_from"):
        updated_from = _parse_moment(params["updated_from"], "updated_from", end_of_day=False)
    if params.get("updated_to"):
        updated_to = _parse_moment(params["updated_to"], "updated_to", end_of_day=True)
    if updated_from and updated_to and updated_from > updated_to:
        raise InvalidInput("must not be before updated_from", field="updated_to")
    ratios = dict(DEFAULT_RATIOS)
    if params.get("splits"):
        ratios = _parse_ratios(params["splits"])
    split = params.get("split") or None
    if split is not None and split not in ratios:
        raise InvalidInput(f"must be one of {', '.join(ratios)}; got {split!r}", field="split")
    seed = 0
    if params.get("seed"):
        try:
            seed = int(params["seed"])
        except ValueError:
            raise InvalidInput(
                f"must be an integer; got {params['seed']!r}", field="seed"
            ) from None
    options = ExportOptions(
        kind=kind,
        min_agreement=min_agreement,
        only_adjudicated=_parse_bool(params.get("only_adjudicated", ""), "only_adjudicated"),
        updated_from=updated_from,
        updated_to=updated_to,
        annotator_id=(
            _resolve_annotator(project, params["annotator"]) if params.get("annotator") else None
        ),
        split=split,
        reveal_annotators=_parse_bool(params.get("reveal_annotators", ""), "reveal_annotators"),
        ratios=ratios,
        seed=seed,
    )
    return fmt, options


# ------------------------------------------------------------------------- records


def selected_tasks(project: Project, options: ExportOptions) -> QuerySet[Task]:
    """The tasks an export covers, before the filters applied in Python (agreement, split)."""
    qs = Task.objects.filter(project=project)
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
    if not narrowed and not options.only_adjudicated:
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


def _triple_key(triple: Mapping[str, Any]) -> tuple[int, ...]:
    return tuple(triple[r][p] for r in ROLES for p in ("start", "end"))


def value_key(kind: str, value: Any) -> Any:
    """A hashable form of an annotation value, equal for equal answers."""
    if not isinstance(value, dict):
        return None
    if kind == Kind.ATTRIBUTION:
        return tuple(sorted(_triple_key(t) for t in value.get("attributions") or []))
    return value.get("label")


def item_agreement(kind: str, values: list[Any]) -> float | None:
    """Share of the item's annotations equal to the modal value; None with fewer than two."""
    n = len(values)
    if n < 2:
        return None
    keys = [value_key(kind, v) for v in values]
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
    "gold__value",
    "gold__method",
    "gold__confidence",
)
ANNOTATION_FIELDS = ("task_id", "annotator_id", "value_text", "lead_time_ms", "updated")
VALUE_CACHE_SIZE = 1024
VALUE_CACHE_MAX_TEXT = 64  # label values; spans vary too much to repeat


class IsoTimestamp(Func):
    """A timestamp as ISO 8601 text in UTC, formatted by the database where it can."""

    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Formatting in PostgreSQL saves parsing into datetime and isoformat() per row.
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', "
            '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\')',
            **extra,
        )

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        if connection.vendor != "postgresql" and "template" not in extra:
            return compiler.compile(self.source_expressions[0])
        return super().as_sql(compiler, connection, **extra)


def _annotation_rows(tasks: QuerySet[Task], chunk_size: int) -> Iterator[tuple]:
    """Annotations of ``tasks`` ordered by (task, annotator), streamed."""
    return (
        Annotation.objects.filter(task_id__in=tasks.values("id"))
        .annotate(value_text=Cast("value", TextField()), updated=IsoTimestamp("updated_at"))
        .order_by("task_id", "annotator_id")
        .values_list(*ANNOTATION_FIELDS)
        .iterator(chunk_size=chunk_size)
    )


ATTRIBUTION = Kind.ATTRIBUTION.value


def bio_tags_by_role(
    tokens: Sequence[tuple[int, int]], attributions: Iterable[Mapping[str, Any]]
) -> dict[str, list[str]]:
    """:func:`labeling.tokenization.role_bio_tags` in O(tokens + spans log tokens).

    Same tags: each span, in sorted order, marks its first overlapping token ``B`` and
    the following overlapping tokens ``I`` where they are still ``O``. ``tokens`` are
    sorted and disjoint, as :func:`~labeling.tokenization.tokenize` returns them.
    """
    ends = [end for _, end in tokens]
    n = len(tokens)
    out: dict[str, list[str]] = {}
    items = list(attributions)
    for role in ROLES:
        tags = ["O"] * n
        spans = sorted((a[role]["start"], a[role]["end"]) for a in items if a.get(role))
        for span_start, span_end in spans:
            i = bisect_right(ends, span_start)  # first token ending after the span starts
            first = True
            while i < n and tokens[i][0] < span_end:
                if first:
                    tags[i] = "B"
                    first = False
                elif tags[i] == "O":
                    tags[i] = "I"
                i += 1
        out[role] = tags
    return out


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
    task_rows = tasks_qs.order_by("id").values_list(*TASK_FIELDS).iterator(chunk_size=chunk_size)
    annotation_rows = _annotation_rows(tasks_qs, chunk_size * 4)
    # Label values repeat endlessly ({"label": "favor"}): decode each distinct text once.
    # Records share the decoded dicts, which nothing downstream mutates.
    decoded: dict[str, Any] = {}
    loads = json.loads
    annotator_names: dict[int, str] = {}

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
            gold,
            gold_method,
            gold_confidence,
        ) = row
        while pending is not None and pending[0] < task_id:
            pending = next(annotation_rows, None)  # defensive: both streams share the filter
        annotations = []
        values = []
        while pending is not None and pending[0] == task_id:
            _, user_id, raw, lead_time_ms, updated_at = pending
            value = decoded.get(raw)
            if value is None:
                value = loads(raw)
                if len(raw) <= VALUE_CACHE_MAX_TEXT and len(decoded) < VALUE_CACHE_SIZE:
                    decoded[raw] = value
            annotations.append(
                {
                    "annotator": annotator_names.get(user_id) or annotator_name(user_id),
                    "value": value,
                    "lead_time_ms": lead_time_ms,
                    "updated_at": updated_at
                    if updated_at.__class__ is str
                    else updated_at.isoformat(),
                }
            )
            values.append(value)
            pending = next(annotation_rows, None)
        split = splits.get(document_id)
        if only_split is not None and split != only_split:
            continue
        agreement = item_agreement(kind, values)
        if min_agreement is not None and (agreement is None or agreement < min_agreement):
            continue
        tokens = bio = None
        if kind == ATTRIBUTION:
            spans = tokenize(text, offset=start)
            tokens = [[s, e] for s, e in spans]
            if isinstance(gold, dict):
                bio = bio_tags_by_role(spans, gold.get("attributions") or [])
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
            "agreement": agreement,
            "tokens": tokens,
            "bio": bio,
        }


def stream_export(
    project: Project, fmt: str, options: ExportOptions, *, chunk_size: int = CHUNK_SIZE
) -> Iterator[bytes]:
    """The export file's bytes, produced as the records are read (constant memory)."""
    return write_records(iter_records(project, options, chunk_size=chunk_size), fmt)


def export_filename(project: Project, fmt: str, options: ExportOptions) -> str:
    """A descriptive, filesystem-safe file name for an export."""
    parts = [f"project-{project.pk}"]
    if options.kind:
        parts.append(options.kind)
    if options.split:
        parts.append(options.split)
    parts.append(timezone.now().strftime("%Y%m%dT%H%M%SZ"))
    return "-".join(parts) + FILE_EXTENSIONS[fmt]


# ------------------------------------------------------------- files and dataset card


@dataclass
class _Tally:
    """Counts gathered while records stream past, for progress and the dataset card."""

    progress: Progress | None = None
    n_records: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    gold_methods: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))

    def watch(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for record in records:
            self.n_records += 1
            self.counts[record["split"]][record["kind"]] += 1
            if record["gold_method"]:
                self.gold_methods[record["kind"]][record["gold_method"]] += 1
            if self.progress is not None:
                self.progress(self.n_records)
            yield record


def write_export_file(
    project: Project,
    fmt: str,
    options: ExportOptions,
    path: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> int:
    """Write the export to ``path`` chunk by chunk; returns the number of records."""
    tally = _Tally(progress=progress)
    with open(path, "wb") as fh:
        for chunk in write_records(tally.watch(iter_records(project, options)), fmt):
            fh.write(chunk)
    return tally.n_records


def _card_context(project: Project) -> dict[str, Any]:
    schemas = list(LabelSchema.objects.filter(project=project, enabled=True))
    label_sets: dict[str, list[str]] = {}
    levels: dict[str, str] = {}
    targets: dict[str, list[str]] = {}
    for schema in schemas:
        if schema.kind == Kind.ATTRIBUTION:
            label_sets[schema.kind] = list(ROLES)
        else:
            label_sets[schema.kind] = list(schema.labels)
            levels[schema.kind] = schema.level
        if schema.kind == Kind.STANCE:
            targets[schema.kind] = list(schema.targets)
    agreement: dict[str, dict[str, Any]] = {}
    for schema in schemas:
        run = (
            AgreementRun.objects.filter(project=project, kind=schema.kind, status=JobStatus.DONE)
            .order_by("-id")
            .values_list("result", flat=True)
            .first()
        )
        if run:
            agreement[schema.kind] = {
                key: run.get(key)
                for key in ("alpha", "alpha_ci95", "percent_agreement", "n_items")
                if key in run
            }
    return {"label_sets": label_sets, "levels": levels, "targets": targets, "agreement": agreement}


CARD_DEFINITIONS = (
    "## How values are computed",
    "",
    "- `annotator`: a pseudonym per project (HMAC-SHA256 of the user id keyed with the "
    "server's secret), unless the export was made with `reveal_annotators`.",
    "- `gold_method`: `adjudicated` (decided by a lead; never overwritten by aggregation, "
    "`gold_confidence` null) beats `majority` (plurality vote, ties left undecided; "
    "confidence = winning share) and `dawid_skene` (confidence = posterior probability). "
    "Attribution gold by majority: the majority of annotators says whether there is an "
    "attribution, then the triples marked identically by more than half are kept.",
    "- `agreement`: share of the item's annotators who gave the most common value "
    "(attribution: exactly the same triples); null with fewer than two annotations.",
    "- `bio`: the gold triples as BIO tags over `tokens` (null without gold).",
    "",
)


def dataset_card(
    project: Project,
    fmt: str,
    options: ExportOptions,
    tally: _Tally,
    *,
    split_files: Mapping[str, str] | None = None,
) -> str:
    """The README.md of a folder export."""
    splits = list(options.ratios) if options.split is None else [options.split]
    counts = {split: dict(tally.counts.get(split, {})) for split in splits}
    card = write_dataset_card(
        project_name=project.name,
        export_format=fmt,
        exported_at=timezone.now().replace(microsecond=0),
        counts=counts,
        gold_methods={kind: dict(c) for kind, c in sorted(tally.gold_methods.items())},
        split_ratios=options.ratios,
        split_seed=options.seed,
        filters=options.active_filters(),
        data_file=next(iter(split_files.values())) if split_files else None,
        description=project.description,
        **_card_context(project),
    )
    if split_files:
        # The writer's card describes one data file; a folder has one file per split.
        card = card.replace(
            "The split is a column, `split`, of the one data file.",
            "Each split is its own file (below); every record also has the `split` column.",
        )
        loading = card.find("## Loading")
        if loading >= 0:
            card = card[:loading]
        loader = "json" if fmt == "jsonl" else fmt
        files = ", ".join(f'"{s}": "{name}"' for s, name in split_files.items())
        card += "\n".join(
            [
                *CARD_DEFINITIONS,
                "## Files",
                "",
                *(f"- `{name}`: the {split} split" for split, name in split_files.items()),
                "",
                "## Loading",
                "",
                "```python",
                "from datasets import load_dataset",
                "",
                "# this folder (dev is loaded as the validation split):",
                'ds = load_dataset("path/to/this/folder")',
                "# or naming the files:",
                f"ds = load_dataset({loader!r}, data_files={{{files}}})",
                "```",
                "",
            ]
        )
    return card


def write_export_folder(
    project: Project,
    fmt: str,
    options: ExportOptions,
    folder: str | os.PathLike[str],
    *,
    progress: Progress | None = None,
) -> dict[str, Path]:
    """Write one data file per split and a dataset card ``README.md`` into ``folder``.

    Each split is one streamed pass (constant memory); returns ``{split or "README":
    path}``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    splits = list(options.ratios) if options.split is None else [options.split]
    tally = _Tally(progress=progress)  # counts records over all splits
    written: dict[str, Path] = {}
    for split in splits:
        path = out / f"{split}{FILE_EXTENSIONS[fmt]}"
        records = tally.watch(iter_records(project, replace(options, split=split)))
        with open(path, "wb") as fh:
            for chunk in write_records(records, fmt):
                fh.write(chunk)
        written[split] = path
    readme = out / "README.md"
    readme.write_text(
        dataset_card(
            project, fmt, options, tally, split_files={s: p.name for s, p in written.items()}
        ),
        encoding="utf-8",
    )
    written["README"] = readme
    return written


# ------------------------------------------------------------------- background jobs


def start_export(*, project: Project, fmt: str, options: ExportOptions, user: Any) -> Export:
    """Record an Export and start its job once the row is committed."""
    from labeling.jobs import run_export

    if fmt not in ExportFormat.values:
        raise InvalidInput(f"must be one of {', '.join(FORMATS)}; got {fmt!r}", field="format")
    with transaction.atomic():
        export = Export.objects.create(
            project=project,
            format=fmt,
            filters=options.to_json(),
            requested_by=user if user is not None and user.pk else None,
        )
        export_id = export.pk
        transaction.on_commit(lambda: _enqueue(export_id, run_export))
    return export


def _enqueue(export_id: int, job: Any) -> None:
    """Send the job; if the broker refuses, the export is marked failed rather than stuck."""
    try:
        job.delay(export_id)
    except Exception as exc:
        logger.exception("could not start export %s", export_id)
        Export.objects.filter(pk=export_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED,
            error=f"could not start the job: {type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )


class _ExportProgress:
    """Writes an export's progress in short UPDATEs, at most every ``interval`` seconds."""

    def __init__(self, export_id: int, total: int, interval: float = PROGRESS_INTERVAL) -> None:
        self.export_id = export_id
        self.total = max(total, 1)
        self.interval = interval
        self.last = time.monotonic()

    def __call__(self, n_records: int) -> None:
        now = time.monotonic()
        if now - self.last < self.interval:
            return
        self.last = now
        Export.objects.filter(pk=self.export_id, status=JobStatus.RUNNING).update(
            progress=min(n_records / self.total, 0.99), n_records=n_records
        )


def run_export_job(export_id: int) -> None:
    """Write an Export's file and record its outcome; a no-op when done, failed or deleted.

    Must not be called inside a transaction: progress UPDATEs must commit as they happen.
    The file is written to a temporary file first and stored once complete, so a retry
    after a crash starts afresh and no half-written file is ever offered for download.
    """
    claimed = Export.objects.filter(
        pk=export_id, status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).update(status=JobStatus.RUNNING, progress=0.0, error="")
    if not claimed:
        logger.info("export %s is finished or gone; nothing to do", export_id)
        return
    export = Export.objects.select_related("project").filter(pk=export_id).first()
    if export is None:
        return
    try:
        options = ExportOptions.from_json(export.filters)
        total = count_tasks(export.project, options)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "export"
            n_records = write_export_file(
                export.project,
                export.format,
                options,
                path,
                progress=_ExportProgress(export_id, total),
            )
            name = export_filename(export.project, export.format, options)
            with open(path, "rb") as fh:
                export.file.save(f"{export_id}-{name}", File(fh), save=False)
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        Export.objects.filter(pk=export_id).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:4000],
            finished_at=timezone.now(),
        )
        return
    Export.objects.filter(pk=export_id, status=JobStatus.RUNNING).update(
        status=JobStatus.DONE,
        file=export.file.name,
        n_records=n_records,
        progress=1.0,
        error="",
        finished_at=timezone.now(),
    )


def access_export(user: Any, export_id: Any) -> Export:
    """The export if ``user`` leads its project or is staff (404 / 403 like projects)."""
    return access_lead_object(user, Export, export_id, "export")
