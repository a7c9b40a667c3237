"""Document priorities: the queue hands out higher-priority documents first."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from labeling.exceptions import InvalidInput
from labeling.models import Document, Project
from labeling.quality.models import DocumentPriority

#: Largest priority accepted.
MAX_PRIORITY = 1_000_000


def parse_priorities(data: Any) -> list[tuple[int, int]]:
    """``[{"document": ID, "priority": N}, ...]`` → pairs; 400 naming ``[i].field``."""
    if not isinstance(data, list) or not data:
        raise InvalidInput("send a non-empty list of {document, priority} objects", field="")
    pairs = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise InvalidInput("must be an object with document and priority", field=f"[{i}]")
        doc, priority = item.get("document"), item.get("priority")
        if isinstance(doc, bool) or not isinstance(doc, int) or doc <= 0:
            raise InvalidInput("must be a document id", field=f"[{i}].document")
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise InvalidInput("must be an integer (0: no priority)", field=f"[{i}].priority")
        if not 0 <= priority <= MAX_PRIORITY:
            raise InvalidInput(f"must be between 0 and {MAX_PRIORITY}", field=f"[{i}].priority")
        pairs.append((doc, priority))
    return pairs


def set_priorities(*, project: Project, pairs: list[tuple[int, int]]) -> None:
    """Set each document's priority (0 removes it); all or nothing."""
    ids = [doc for doc, _ in pairs]
    found = set(Document.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
    for i, doc in enumerate(ids):
        if doc not in found:
            raise InvalidInput("no such document in this project", field=f"[{i}].document")
    with transaction.atomic():
        for doc, priority in pairs:
            if priority == 0:
                DocumentPriority.objects.filter(document_id=doc).delete()
            else:
                DocumentPriority.objects.update_or_create(
                    document_id=doc, defaults={"project": project, "priority": priority}
                )


def list_priorities(*, project: Project) -> list[dict[str, Any]]:
    """The project's prioritized documents, highest first."""
    return [
        {"document": doc, "title": title, "priority": priority}
        for doc, title, priority in DocumentPriority.objects.filter(project=project)
        .order_by("-priority", "document_id")
        .values_list("document_id", "document__title", "priority")
    ]
