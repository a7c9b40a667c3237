"""REST views of agreement runs and the disputed-first review queue; leads and staff only.

Access follows ``labeling.access``: 404 for users outside the project (and for
missing objects), 403 for the project's annotators, who must not learn agreement.
"""

from __future__ import annotations

from typing import Any, Literal, overload

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.access import LEAD, access_project
from labeling.agreement_runs.runs import (
    access_agreement_run,
    compute_pending_runs,
    request_agreement_run,
    run_history,
)
from labeling.api.agreement_serializers import (
    AgreementRunListSerializer,
    AgreementRunRequestSerializer,
    AgreementRunSerializer,
    DisputedTaskSerializer,
    DocumentAgreementDetailSerializer,
    DocumentAgreementSerializer,
)
from labeling.api.offset_units import OFFSET_UNIT_PARAM, Offsets
from labeling.api.serializers import KIND_HELP
from labeling.exceptions import InvalidInput
from labeling.jobs.sweeps import recover_if_dead, take_over_dead_claims
from labeling.kinds import SchemaError, parse_kind_name
from labeling.models import AgreementRun, DisputedItem, JobStatus, Task
from labeling.review.disputed import (
    describe_disputed,
    disputed_filter,
    disputed_items,
    page_rows,
)

KIND_PARAM = OpenApiParameter("kind", str, description=KIND_HELP)
KIND_REQUIRED = OpenApiParameter("kind", str, required=True, description=KIND_HELP)


@overload
def _kind_param(request: Request, *, required: Literal[True]) -> str: ...
@overload
def _kind_param(request: Request, *, required: bool) -> str | None: ...
def _kind_param(request: Request, *, required: bool) -> str | None:
    kind = request.query_params.get("kind") or None
    if kind is None and required:
        raise InvalidInput("is required: one of the project's kinds", field="kind")
    if kind is not None:
        try:
            parse_kind_name(kind)
        except SchemaError as exc:
            raise InvalidInput(exc.message, field="kind") from exc
    return kind


class ProjectAgreementRunsView(GenericAPIView):
    """History of a project's agreement runs (GET) and starting a run (POST)."""

    serializer_class = AgreementRunListSerializer
    queryset = AgreementRun.objects.none()  # for the schema; requests use run_history()

    @extend_schema(parameters=[KIND_PARAM], responses=AgreementRunListSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        kind = _kind_param(request, required=False)
        compute_pending_runs(project_id=project.pk, kind=kind)  # embedded mode only
        take_over_dead_claims(AgreementRun, project_id=project.pk)  # embedded mode only
        runs = run_history(project_id=project.pk, kind=kind)
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(AgreementRunListSerializer(page, many=True).data)

    @extend_schema(request=AgreementRunRequestSerializer, responses={202: AgreementRunSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        body = AgreementRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = request_agreement_run(
            project=project, kind=body.validated_data["kind"], user=request.user
        )
        run.refresh_from_db()  # in eager mode the job has already run
        return Response(AgreementRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class AgreementRunDetailView(GenericAPIView):
    """One run: status and progress while it works, the whole result when done."""

    serializer_class = AgreementRunSerializer
    queryset = AgreementRun.objects.none()  # for the schema; requests use access_agreement_run()

    @extend_schema(parameters=[OFFSET_UNIT_PARAM])
    def get(self, request: Request, run_id: int) -> Response:
        offsets = Offsets.of(request)
        run = recover_if_dead(access_agreement_run(request.user, run_id))
        body = AgreementRunSerializer(run).data
        if body.get("result") and offsets.utf16:
            disputed = body["result"].get("most_disputed", [])
            body["result"]["most_disputed"] = offsets.out_items(disputed, "document_id")
        return Response(body)


DISPUTED_PARAMS = [
    KIND_REQUIRED,
    OpenApiParameter("target", str, description="Only tasks of this stance target."),
    OpenApiParameter("document", int, description="Only tasks of this document (its id)."),
    OpenApiParameter(
        "adjudicated",
        str,
        enum=["false", "true", "any"],
        description="false (default): tasks no lead has decided yet; true: only decided "
        "ones; any: both.",
    ),
    OpenApiParameter(
        "include_adjudicated",
        bool,
        description="Also list tasks a lead already decided (the same as adjudicated=any).",
    ),
    OFFSET_UNIT_PARAM,
]
DISPUTED_PER_DOCUMENT = 50  # a document's disputed sentences listed by its detail view

DOCUMENT_ORDERINGS = {
    "alpha": ("alpha", False),
    "-alpha": ("alpha", True),
    "n_items": ("n_items", False),
    "-n_items": ("n_items", True),
    "n_disputed": ("n_disputed", False),
    "-n_disputed": ("n_disputed", True),
    "document": ("document_id", False),
    "-document": ("document_id", True),
}


def _per_document(run: AgreementRun) -> list[dict[str, Any]]:
    if run.status != JobStatus.DONE or not isinstance(run.result, dict):
        raise InvalidInput("the run has not finished", field="run")
    entries = run.result.get("per_document")
    if entries is None:
        raise InvalidInput("this run has no per-document figures (run it again)", field="run")
    return list(entries)


class AgreementRunDocumentsView(GenericAPIView):
    """Agreement per document of a finished run, sortable; paged."""

    serializer_class = DocumentAgreementSerializer
    queryset = AgreementRun.objects.none()  # for the schema; requests use access_agreement_run()

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ordering",
                str,
                enum=list(DOCUMENT_ORDERINGS),
                description="Sort key; undefined alphas sort last either way. Default: alpha "
                "(the least reliable documents first).",
            )
        ],
        responses=DocumentAgreementSerializer(many=True),
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = access_agreement_run(request.user, run_id)
        entries = _per_document(run)
        ordering = request.query_params.get("ordering") or "alpha"
        if ordering not in DOCUMENT_ORDERINGS:
            raise InvalidInput(
                f"must be one of {', '.join(DOCUMENT_ORDERINGS)}; got {ordering!r}",
                field="ordering",
            )
        key, descending = DOCUMENT_ORDERINGS[ordering]
        known = [e for e in entries if e.get(key) is not None]
        known.sort(key=lambda e: (e[key], e["document_id"]), reverse=descending)
        ordered = known + [e for e in entries if e.get(key) is None]
        page = self.paginate_queryset(ordered)  # type: ignore[arg-type]
        return self.get_paginated_response(page)


class AgreementRunDocumentView(GenericAPIView):
    """One document's agreement in a run, with its disputed sentences (most disputed first):
    sentence, every current annotation and the gold label, read now."""

    serializer_class = DocumentAgreementDetailSerializer
    queryset = AgreementRun.objects.none()

    @extend_schema(parameters=[OFFSET_UNIT_PARAM])
    def get(self, request: Request, run_id: int, document_id: int) -> Response:
        offsets = Offsets.of(request)
        run = access_agreement_run(request.user, run_id)
        entry = next((e for e in _per_document(run) if e["document_id"] == document_id), None)
        if entry is None:
            raise NotFound("This document has no annotations in this run.")
        rows = page_rows(
            DisputedItem.objects.filter(run_id=run.pk, task__document_id=document_id).order_by(
                "-score", "task_id"
            )
        )[:DISPUTED_PER_DOCUMENT]
        disputed = describe_disputed(list(rows))
        body = {**entry, "disputed": offsets.out_items(disputed, "document_id")}
        return Response(body)


class DisputedTasksView(GenericAPIView):
    """Every disputed task of a kind, most disputed first (per the latest finished run).

    A task is disputed when its disagreement in the run is above 0. Filter by target,
    document and whether a lead adjudicated it; page with ``page`` and ``page_size``.
    """

    serializer_class = DisputedTaskSerializer
    queryset = Task.objects.none()  # for the schema; requests use review.disputed_items()

    @extend_schema(parameters=DISPUTED_PARAMS, responses=DisputedTaskSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        offsets = Offsets.of(request)
        project = access_project(request.user, project_id, role=LEAD)
        kind = _kind_param(request, required=True)
        filters = disputed_filter(request.query_params)
        items = disputed_items(project_id=project.pk, kind=kind, filters=filters)
        page = self.paginate_queryset(page_rows(items)) or []
        items_out = DisputedTaskSerializer(describe_disputed(page), many=True).data
        # many=True: .data is a ReturnList; the stubs type it as one object's ReturnDict.
        return self.get_paginated_response(offsets.out_items(items_out, "document_id"))  # type: ignore[arg-type]
