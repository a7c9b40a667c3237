"""The lead's Disputed page in the admin: every disputed item, filtered and paged.

The same queue as ``GET /api/projects/{id}/disputed/`` (``review.disputed``), a page of
25 at a time in a constant number of queries; each row links to the adjudication page
with the filters kept, so J/K there walk the same filtered list.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from labeling.access import LEAD, access_project, page_gate
from labeling.exceptions import InvalidInput
from labeling.kinds import kind_spec, kinds_in
from labeling.models import Document
from labeling.review.disputed import (
    DisputedFilter,
    describe_disputed,
    disputed_filter,
    disputed_items,
    page_rows,
)

PAGE_SIZE = 25


def queue_query(kind: str, filters: DisputedFilter) -> str:
    """The query string that names a filtered queue (kept across the lead's pages)."""
    return urlencode({"kind": kind, **filters.as_query()})


def disputed_view(
    request: HttpRequest, project_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """Every disputed item of a kind, most disputed first, with filters and pages."""
    project = page_gate(access_project, request.user, project_id, role=LEAD)
    schemas = list(project.schemas.all())
    kinds = kinds_in(schemas)
    values = [k for k, _ in kinds]
    kind = request.GET.get("kind", "")
    kind = kind if kind in values else (values[0] if values else "")
    try:
        filters = disputed_filter(request.GET)
    except InvalidInput as exc:
        messages.error(request, f"{exc.field}: {exc.message}")
        filters = DisputedFilter()
    items = disputed_items(project_id=project.pk, kind=kind, filters=filters)
    page = Paginator(page_rows(items), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = describe_disputed(list(page.object_list))
    summarize = kind_spec(kind).value_summary if kind else str
    query = queue_query(kind, filters)
    for row in rows:
        for annotation in row["annotations"]:
            annotation["summary"] = summarize(annotation["value"])
        row["url"] = reverse("admin:labeling_adjudicate", args=[row["task_id"]]) + f"?{query}"
    schema = next((s for s in schemas if s.kind == kind), None)
    targets = list(schema.targets or []) if schema is not None else []
    documents = list(
        Document.objects.filter(
            pk__in=disputed_items(
                project_id=project.pk, kind=kind, filters=DisputedFilter(adjudicated=None)
            ).values("task__document_id")
        )
        .order_by("pk")
        .values_list("pk", "title")[:500]
    )
    base = reverse("admin:labeling_disputed", args=[project.pk])
    context: dict[str, Any] = {
        **(site or admin.site).each_context(request),
        "title": f"Disputed items · {project.name}",
        "project": project,
        "kinds": kinds,
        "kind": kind,
        "filters": filters,
        "adjudicated": filters.as_query()["adjudicated"],
        "targets": targets,
        "documents": documents,
        "page": page,
        "rows": rows,
        "page_query": f"{base}?{query}&page=",
        "queue_query": query,
    }
    return render(request, "admin/labeling/disputed.html", context)
