"""Importing the same documents from several threads at once creates them once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from labeling.importing.documents import import_documents
from labeling.importing.readers import DocumentRecord
from labeling.models import Document, Sentence, Task
from tests.factories import make_project

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_imports_of_the_same_file_create_each_document_once():
    project = make_project()
    records = [
        DocumentRecord(title=f"T{i}", text=f"Story {i} begins. It ends here.", external_id=f"e{i}")
        for i in range(20)
    ] + [DocumentRecord(title="plain", text="No id here. Only text.")]
    results, errors = [], []
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            barrier.wait()
            results.append(import_documents(project=project, records=records, chunk_size=5))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Document.objects.filter(project=project).count() == 21
    assert sum(len(r.created) for r in results) == 21
    assert all(len(r.created) + len(r.existing) == 21 for r in results)
    assert Sentence.objects.count() == 42
    assert Task.objects.count() == 42 * 4
