"""Every list endpoint answers in a fixed number of queries, whatever the data size."""

from __future__ import annotations

import pytest

from labeling.queue import next_task, submit_annotation
from tests.api_helpers import client_for
from tests.factories import add_documents, make_project

pytestmark = pytest.mark.django_db

#: endpoint -> exact query count (token auth and the access check included).
ENDPOINTS = {
    "projects": ("/api/projects/", 4),
    "members": ("/api/projects/{p}/members/", 4),
    "documents": ("/api/projects/{p}/documents/", 4),
    "tasks": ("/api/projects/{p}/tasks/", 4),
    "annotations": ("/api/projects/{p}/annotations/", 4),
    "my-annotations": ("/api/projects/{p}/my-annotations/", 4),
    "document": ("/api/documents/{d}/", 4),  # token, access (one query), document, sentences
    "progress": ("/api/projects/{p}/progress/", 5),
}


def build(make_user, size: int):
    """A lead's project with ``size`` documents, annotators and annotations per annotator."""
    lead = make_user(f"lead{size}")
    annotators = [make_user(f"ann{size}-{i}") for i in range(size)]
    project = make_project(
        lead=lead, annotators=annotators, overlap=size, schemas=[{"kind": "verifiability"}]
    )
    for extra in range(size):  # more projects visible to the lead
        make_project(lead=lead, name=f"extra {extra}")
    texts = [" ".join(f"Sentence {j} of doc {i}." for j in range(size * 2)) for i in range(size)]
    docs = add_documents(project, texts)
    for user in annotators:
        for _ in range(size):
            held = next_task(user=user, project=project, kind="verifiability")
            submit_annotation(user=user, task=held.task, value={"label": "verifiable"})
    return lead, annotators[0], project, docs


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_list_endpoint_query_count_does_not_grow(make_user, django_assert_num_queries, name):
    path, expected = ENDPOINTS[name]
    for size in (2, 6):
        lead, annotator, project, docs = build(make_user, size)
        client = client_for(annotator if name == "my-annotations" else lead)
        url = path.format(p=project.pk, d=docs[-1])
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert response.status_code == 200
