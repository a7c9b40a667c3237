"""Records → documents, sentences and tasks: bulk inserts, idempotent, one transaction.

The same document is not imported twice into a project: a record with an
``external_id`` matches a stored document with that id; a record without one matches
a stored document without one and with the same text (SHA-256 of the text).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import transaction
from django.utils import timezone

from labeling.bulk import insert_rows
from labeling.importing.readers import DocumentRecord, ReadError, RecordError
from labeling.kinds import task_targets
from labeling.models import Document, LabelSchema, Project, Sentence, Task
from labeling.text.segmentation import split_sentences

Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    """What an import did: ids of new documents and of documents that were already there."""

    created: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    n_sentences: int = 0
    n_tasks: int = 0
    n_controls: int = 0


def content_hash(text: str) -> str:
    """SHA-256 hex digest of a document's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def task_specs(schemas: Iterable[LabelSchema]) -> list[tuple[str, str]]:
    """The (kind, target) pairs every sentence gets a task for, in a stable order."""
    return task_targets(schemas)


def exceeds_task_limit(*, project: Project, records: Sequence[DocumentRecord], limit: int) -> bool:
    """Whether importing ``records`` could create more than ``limit`` tasks.

    Counts sentences times tasks per sentence (an upper bound: documents already in the
    project would create none). Texts too short to reach the limit are not segmented.
    """
    per_sentence = len(task_specs(project.schemas.all()))
    if per_sentence == 0 or sum(len(r.text) for r in records) * per_sentence <= limit:
        return False  # a sentence holds at least one character
    n_sentences = 0
    for record in records:
        n_sentences += len(split_sentences(record.text))
        if n_sentences * per_sentence > limit:
            return True
    return False


def _default_title(record: DocumentRecord) -> str:
    if record.title.strip():
        return record.title.strip()[:500]
    first_line = next((line for line in record.text.splitlines() if line.strip()), "")
    return first_line.strip()[:500]


def _chunks(items: Sequence[DocumentRecord], size: int) -> Iterable[Sequence[DocumentRecord]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def import_documents(
    *,
    project: Project,
    records: Sequence[DocumentRecord],
    progress: Progress | None = None,
    chunk_size: int = 200,
    user: Any = None,
) -> ImportResult:
    """Import ``records`` into ``project`` all-or-nothing and return what was created.

    Imports into one project are serialised by a row lock on the project (SQLite
    serialises writers anyway), so concurrent imports of the same file create nothing
    twice. Records' ``controls`` make tasks of their documents (new or already there)
    control questions; a control that names no task or whose value does not fit its
    kind raises ``ReadError`` with the record's line, and nothing is imported.
    """
    result = ImportResult()
    total = len(records)
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).values_list("pk").first()
        specs = task_specs(project.schemas.all())
        seen_ext: dict[str, int | None] = {}
        seen_hash: dict[str, int | None] = {}
        done = 0
        for chunk in _chunks(records, chunk_size):
            new_docs = _new_documents(project, chunk, seen_ext, seen_hash, result)
            created = Document.objects.bulk_create(new_docs)
            for doc in created:
                if doc.external_id:
                    seen_ext[doc.external_id] = doc.pk
                else:
                    seen_hash[doc.content_hash] = doc.pk
            result.created.extend(d.pk for d in created)
            n_sent, n_tasks = _create_sentences_and_tasks(project, created, specs)
            result.n_sentences += n_sent
            result.n_tasks += n_tasks
            done += len(chunk)
            if progress:
                progress(done, total)
        n_controls = _apply_controls(project, records, seen_ext, seen_hash, user)
        result.n_controls = n_controls
    return result


def _apply_controls(
    project: Project,
    records: Sequence[DocumentRecord],
    seen_ext: dict[str, int | None],
    seen_hash: dict[str, int | None],
    user: Any,
) -> int:
    """Make the records' control questions (``quality.controls.set_controls``); their count.

    Each control is resolved to its task on the record's document (by sentence position
    or by an offset inside a sentence, then kind and target). Every problem is collected
    with its record's line; any problem raises ``ReadError``.
    """
    from labeling.exceptions import InvalidInput
    from labeling.quality.controls import ControlSpec, set_controls

    wanted = [
        (r, seen_ext.get(r.external_id) if r.external_id else seen_hash.get(content_hash(r.text)))
        for r in records
        if r.controls
    ]
    if not wanted:
        return 0
    doc_ids = {pk for _, pk in wanted if pk is not None}
    sentences: dict[int, list[tuple[int, int, int, int]]] = {}
    for sid, did, pos, start, end in (
        Sentence.objects.filter(document_id__in=doc_ids)
        .order_by("document_id", "position")
        .values_list("pk", "document_id", "position", "start", "end")
    ):
        sentences.setdefault(did, []).append((sid, pos, start, end))
    tasks = {
        (sid, kind, target): pk
        for pk, sid, kind, target in Task.objects.filter(document_id__in=doc_ids).values_list(
            "pk", "sentence_id", "kind", "target"
        )
    }
    targets: dict[tuple[int, str], list[str]] = {}
    for sid, kind, target in tasks:
        targets.setdefault((sid, kind), []).append(target)
    errors: list[RecordError] = []
    specs: list[ControlSpec] = []
    where: list[tuple[int, str]] = []
    for record, doc_id in wanted:
        doc_sentences = sentences.get(doc_id or 0, [])
        for control in record.controls:
            name = f"controls[{control.index}]"

            def err(field_name: str, message: str, line: int = record.line) -> None:
                errors.append(RecordError(line, field_name, message))

            sentence_id = _control_sentence(control.sentence, control.offset, doc_sentences)
            if sentence_id is None:
                if control.sentence is not None:
                    err(
                        f"{name}.sentence",
                        f"the document has {len(doc_sentences)} sentences "
                        f"(positions 0 to {len(doc_sentences) - 1})",
                    )
                elif (control.offset or 0) >= len(record.text):
                    size = f"{len(record.text):,} code points"
                    err(f"{name}.offset", f"is past the end of the text ({size})")
                else:
                    err(f"{name}.offset", "falls between sentences (on whitespace)")
                continue
            choices = sorted(targets.get((sentence_id, control.kind), []))
            if not choices:
                err(f"{name}.kind", f"this project has no {control.kind!r} tasks")
                continue
            target = control.target
            if not target and len(choices) == 1:
                target = choices[0]
            task_id = tasks.get((sentence_id, control.kind, target))
            if task_id is None:
                err(f"{name}.target", f"must be one of {', '.join(map(repr, choices))}")
                continue
            specs.append(ControlSpec(task_id, control.value))
            where.append((record.line, name))
    if not errors and specs:
        seen_tasks: dict[int, int] = {}
        for i, spec in enumerate(specs):
            if spec.task_id in seen_tasks:
                line, name = where[i]
                errors.append(RecordError(line, name, "names the same task as another control"))
            seen_tasks[spec.task_id] = i
    if not errors and specs:
        try:
            set_controls(project=project, specs=specs, user=user)
        except InvalidInput as exc:
            # set_controls names the spec as "[i].value..."; give its record's line instead.
            index, _, rest = exc.field.partition("]")
            line, name = where[int(index.lstrip("["))] if index.startswith("[") else (0, "")
            errors.append(RecordError(line, f"{name}{rest}" if name else exc.field, exc.message))
    if errors:
        raise ReadError(errors[:100], max(0, len(errors) - 100))
    return len(specs)


def _control_sentence(
    position: int | None, offset: int | None, sentences: Sequence[tuple[int, int, int, int]]
) -> int | None:
    """The id of the sentence at ``position``, or of the one holding code point ``offset``."""
    for sid, pos, start, end in sentences:
        if position is not None and pos == position:
            return sid
        if offset is not None and start <= offset < end:
            return sid
    return None


def _new_documents(
    project: Project,
    chunk: Sequence[DocumentRecord],
    seen_ext: dict[str, int | None],
    seen_hash: dict[str, int | None],
    result: ImportResult,
) -> list[Document]:
    """Documents of ``chunk`` not stored yet; duplicates go to ``result.existing``."""
    hashes = [content_hash(r.text) for r in chunk]
    ext_ids = [r.external_id for r in chunk if r.external_id and r.external_id not in seen_ext]
    if ext_ids:
        seen_ext.update(
            Document.objects.filter(project=project, external_id__in=ext_ids).values_list(
                "external_id", "pk"
            )
        )
    plain = [h for r, h in zip(chunk, hashes, strict=True) if not r.external_id]
    plain = [h for h in plain if h not in seen_hash]
    if plain:
        seen_hash.update(
            Document.objects.filter(
                project=project, external_id="", content_hash__in=plain
            ).values_list("content_hash", "pk")
        )
    docs: list[Document] = []
    for record, digest in zip(chunk, hashes, strict=True):
        seen = seen_ext if record.external_id else seen_hash
        key = record.external_id or digest
        if key in seen:
            if seen[key] is not None:
                result.existing.append(seen[key])  # type: ignore[arg-type]
            continue
        seen[key] = None  # a later duplicate inside this batch is skipped
        docs.append(
            Document(
                project=project,
                title=_default_title(record),
                text=record.text,
                external_id=record.external_id,
                source_url=record.source_url,
                published_at=record.published_at,
                metadata=dict(record.metadata),
                content_hash=digest,
            )
        )
    return docs


def _create_sentences_and_tasks(
    project: Project, documents: Sequence[Document], specs: Sequence[tuple[str, str]]
) -> tuple[int, int]:
    """Insert the documents' sentences, read their ids back, insert one task per spec."""
    if not documents:
        return 0, 0
    insert_rows(
        Sentence,
        ("document", "position", "start", "end", "text"),
        (
            (doc.pk, i, start, end, doc.text[start:end])
            for doc in documents
            for i, (start, end) in enumerate(split_sentences(doc.text))
        ),
    )
    sentences = list(
        Sentence.objects.filter(document__in=[d.pk for d in documents])
        .order_by("document_id", "position")
        .values_list("pk", "document_id", "position")
    )
    insert_rows(Task, _TASK_FIELDS, _task_rows(project, sentences, specs))
    return len(sentences), len(sentences) * len(specs)


_TASK_FIELDS = (
    "project",
    "sentence",
    "document",
    "position",
    "kind",
    "target",
    "overlap",
    "n_assigned",
    "n_submitted",
    "is_open",
    "created_at",
)


def _task_rows(
    project: Project,
    sentences: Iterable[tuple[int, int, int]],
    specs: Sequence[tuple[str, str]],
    existing: set[tuple[int, str, str]] | None = None,
) -> list[tuple]:
    """Rows in ``_TASK_FIELDS`` order: one task per (sentence, spec) not in ``existing``."""
    now = timezone.now()
    overlap = project.annotators_per_item
    return [
        (project.pk, sid, did, pos, kind, target, overlap, 0, 0, True, now)
        for sid, did, pos in sentences
        for kind, target in specs
        if existing is None or (sid, kind, target) not in existing
    ]


def ensure_tasks(*, project: Project) -> int:
    """Create the tasks that enabled schemas call for but do not exist yet (e.g. a new target).

    Returns how many were created. Existing tasks and their annotations are kept.
    """
    specs = task_specs(project.schemas.all())
    if not specs:
        return 0
    created = 0
    with transaction.atomic():
        existing = set(
            Task.objects.filter(project=project).values_list("sentence_id", "kind", "target")
        )
        sentences = (
            Sentence.objects.filter(document__project=project)
            .values_list("pk", "document_id", "position")
            .iterator(chunk_size=5000)
        )
        while chunk := list(islice(sentences, 5000)):
            rows = _task_rows(project, chunk, specs, existing)
            insert_rows(Task, _TASK_FIELDS, rows)
            created += len(rows)
    return created
