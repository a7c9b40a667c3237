"""``bulk.read_int_columns``: integer columns of a queryset as one numpy array (rows packed by
PostgreSQL), and the agreement matrix built from it."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from django.db.models import F

from labeling.bulk import read_int_columns, unpack_int8_rows
from labeling.models import Annotation, Task
from tests.factories import add_documents, make_project
from tests.test_agreement_runs import load_label_matrix

pytestmark = pytest.mark.django_db


def test_unpacks_big_endian_int64_rows():
    rows = [(1, -1, 2**40), (7, 0, -(2**62))]
    blobs = [struct.pack(">3q", *rows[0]), struct.pack(">3q", *rows[1])]
    np.testing.assert_array_equal(unpack_int8_rows(blobs, 3), np.array(rows))
    assert unpack_int8_rows([], 3).shape == (0, 3)
    with pytest.raises(ValueError, match="int64"):
        unpack_int8_rows([blobs[0][:-1]], 3)


def test_reads_integer_columns_of_a_queryset(make_user):
    annotators = [make_user(f"ann{i}") for i in range(2)]
    project = make_project(annotators=annotators, overlap=2)
    add_documents(project, ["One 😀.\nTwo 東京."])
    tasks = list(Task.objects.filter(project=project, kind="verifiability").order_by("id"))
    for task in tasks:
        for user in annotators:
            Annotation.objects.create(task=task, annotator=user, value={"label": "verifiable"})
    qs = (
        Annotation.objects.filter(task__project=project, task__kind="verifiability")
        .order_by("id")
        .annotate(c_task=F("task_id"), c_doc=F("task__document_id"))
        .values_list("c_task", "annotator_id", "c_doc")
    )
    got = read_int_columns(qs)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.array(list(qs)))
    assert read_int_columns(qs.filter(pk__lt=0)).shape == (0, 3)


def test_the_matrix_keeps_targets_the_schema_dropped(make_user):
    annotators = [make_user(f"ann{i}") for i in range(2)]
    project = make_project(annotators=annotators, overlap=2)
    add_documents(project, ["One sentence.\nTwo sentences."])
    stance = list(Task.objects.filter(project=project, kind="stance").order_by("id"))
    schema = project.schemas.get(kind="stance")
    kept = list(schema.targets)
    # One task's target is no longer in the schema (the lead edited the targets).
    Task.objects.filter(pk=stance[0].pk).update(target="Old target")
    for task in stance:
        for user in annotators:
            Annotation.objects.create(task=task, annotator=user, value={"label": "favor"})
    Annotation.objects.create(task=stance[1], annotator=make_user("ann9"), value={"label": "?"})
    matrix = load_label_matrix(project_id=project.pk, kind="stance")
    assert matrix.target_names == [*kept, "Old target"]
    row = list(matrix.task_ids).index(stance[0].pk)
    assert matrix.target_names[matrix.targets[row]] == "Old target"
    assert matrix.n_unknown_labels == 1
    assert matrix.clusters is not None
    np.testing.assert_array_equal(matrix.documents, [stance[0].document_id] * len(stance))
