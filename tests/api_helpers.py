"""Helpers shared by the REST API tests: token clients and a small project world."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import SAMPLE_TEXT, add_documents, make_project


def client_for(user: Any | None) -> APIClient:
    """An API client authenticated with the user's token (anonymous for None)."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@dataclass
class World:
    """Two projects with their people; ``project`` is the one under test."""

    project: Any
    other: Any
    lead: Any
    annotator: Any
    annotator2: Any
    other_lead: Any
    other_annotator: Any
    staff: Any
    document_ids: list[int]
    other_document_ids: list[int]


def make_world(make_user, *, overlap: int = 2, texts: list[str] | None = None) -> World:
    """Project A (lead, two annotators) and project B (its own lead and annotator), plus staff."""
    lead = make_user("lead")
    annotator = make_user("ann")
    annotator2 = make_user("ann2")
    other_lead = make_user("olead")
    other_annotator = make_user("oann")
    staff = make_user("staff", is_staff=True)
    project = make_project(lead=lead, annotators=[annotator, annotator2], overlap=overlap)
    other = make_project(lead=other_lead, annotators=[other_annotator], overlap=overlap, name="B")
    docs = add_documents(project, texts or [SAMPLE_TEXT])
    other_docs = add_documents(other, [SAMPLE_TEXT])
    return World(
        project=project,
        other=other,
        lead=lead,
        annotator=annotator,
        annotator2=annotator2,
        other_lead=other_lead,
        other_annotator=other_annotator,
        staff=staff,
        document_ids=docs,
        other_document_ids=other_docs,
    )
