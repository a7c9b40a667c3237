"""Annotator pseudonyms in exports: stable per project, not reversible without the secret key."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from labeling.models import Annotation, Project

PSEUDONYM_PREFIX = "annotator-"


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


def resolve_annotator(project: Project, value: str) -> int | None:
    """The id of the project's annotator named ``value`` (username or pseudonym), or None."""
    text = value.strip()
    for user_id, username in project_annotators(project).items():
        if text == username or text == pseudonym(project.pk, user_id):
            return user_id
    return None
