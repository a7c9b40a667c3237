"""Test data built through the real domain functions."""

from __future__ import annotations

from labeling.importing.documents import import_documents
from labeling.importing.readers import DocumentRecord
from labeling.models import Project, Role
from labeling.projects import add_member, create_project

DEFAULT_SCHEMAS = [
    {"kind": "verifiability", "labels": ["verifiable", "unverifiable", "not_a_claim"]},
    {
        "kind": "stance",
        "labels": ["against", "neutral", "favor"],
        "level": "ordinal",
        "targets": ["Ukrainian government", "Russian government"],
    },
    {"kind": "attribution"},
]

SAMPLE_TEXT = (
    "Officials met in Geneva on Monday.\n"
    "“We will not back down,” the minister said.\n"
    "The deal covers 1,844 tonnes of grain, according to Reuters. Talks resume in May."
)


def make_project(
    *, lead=None, annotators=(), overlap: int = 2, schemas=None, name: str = "Project"
) -> Project:
    """A project with schemas, a lead and annotators as members."""
    project = create_project(
        name=name,
        annotators_per_item=overlap,
        schemas=schemas if schemas is not None else DEFAULT_SCHEMAS,
        created_by=lead,
    )
    if lead is not None:
        add_member(project=project, username=lead.username, role=Role.LEAD)
    for user in annotators:
        add_member(project=project, username=user.username, role=Role.ANNOTATOR)
    return project


def add_documents(project: Project, texts: list[str] | None = None, **kwargs) -> list[int]:
    """Import documents (default: one sample text) and return their ids."""
    texts = texts or [SAMPLE_TEXT]
    records = [
        DocumentRecord(title=f"Doc {i}", text=text, external_id=f"doc-{i}")
        for i, text in enumerate(texts)
    ]
    return import_documents(project=project, records=records, **kwargs).created
