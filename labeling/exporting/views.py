"""REST views of dataset export, streamed or as a background job; leads and staff only.

Access follows ``labeling.access``: 404 for users outside the project (and for
missing objects), 403 for the project's annotators.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.access import LEAD, access_project
from labeling.exceptions import Conflict, InvalidInput
from labeling.exporting.records import (
    PARAMS,
    access_export,
    export_filename,
    parse_export_params,
    start_export,
    stream_export,
)
from labeling.exporting.writers import CONTENT_TYPES, FORMATS
from labeling.models import Export, JobStatus, Kind

NOT_FOUND = OpenApiResponse(description="Missing, or not visible to you (the same answer).")
FORBIDDEN = OpenApiResponse(description="A member of the project who is not a lead.")
EXPORT_PARAMS = [
    OpenApiParameter(
        name,
        OpenApiTypes.STR,
        enum=list(FORMATS) if name == "format" else (Kind.values if name == "kind" else None),
        description=description,
    )
    for name, description in PARAMS.items()
]


class ExportFileRenderer(BaseRenderer):
    """Lets ``Accept: <an export's media type>`` through content negotiation.

    The file itself is a ``StreamingHttpResponse`` or ``FileResponse`` that DRF does not
    render; only an error can reach this renderer, and it is written as JSON.
    """

    format = "export"
    charset = None

    def render(self, data: Any, accepted_media_type: str | None = None, **kwargs: Any) -> bytes:
        return JSONRenderer().render(data)


def _file_renderers(*media_types: str) -> list[type[BaseRenderer]]:
    return [JSONRenderer] + [
        type(f"ExportFileRenderer{i}", (ExportFileRenderer,), {"media_type": media_type})
        for i, media_type in enumerate(media_types)
    ]


def _query_dict(data: Any) -> dict[str, str]:
    """Request body values as the strings the query-parameter parser expects."""
    if not isinstance(data, dict):
        raise InvalidInput("must be a JSON object of export parameters", field="body")
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, dict) and key == "splits":
            out[key] = ",".join(f"{name}:{ratio}" for name, ratio in value.items())
        elif value is not None:
            out[key] = str(value)
    return out


class ExportStreamView(APIView):
    """Stream the project's dataset: one record per task, as JSONL, CSV or Parquet."""

    renderer_classes = _file_renderers(*(t.split(";")[0] for t in CONTENT_TYPES.values()))

    @extend_schema(
        parameters=EXPORT_PARAMS,
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="A bad parameter; the message names it."),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, project_id: int) -> StreamingHttpResponse:
        project = access_project(request.user, project_id, role=LEAD)
        fmt, options = parse_export_params(project, request.query_params)
        response = StreamingHttpResponse(
            stream_export(project, fmt, options), content_type=CONTENT_TYPES[fmt]
        )
        filename = export_filename(project, fmt, options)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        response["X-Accel-Buffering"] = "no"  # nginx: pass bytes on as they come
        return response


class ExportSerializer(serializers.ModelSerializer):
    """An export job: status and progress, then its download URL."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "project",
            "format",
            "filters",
            "status",
            "progress",
            "n_records",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: Export) -> str | None:
        if obj.status != JobStatus.DONE or not obj.file:
            return None
        path = f"/api/exports/{obj.pk}/download/"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportRequestSerializer(serializers.Serializer):
    """The body of ``POST /exports/``: the streaming endpoint's parameters as JSON."""

    format = serializers.ChoiceField(choices=list(FORMATS), default="jsonl")
    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    min_agreement = serializers.FloatField(required=False, min_value=0, max_value=1)
    only_adjudicated = serializers.BooleanField(required=False)
    updated_from = serializers.CharField(required=False)
    updated_to = serializers.CharField(required=False)
    annotator = serializers.CharField(required=False)
    split = serializers.CharField(required=False)
    splits = serializers.CharField(required=False, help_text="e.g. train:0.8,dev:0.1,test:0.1")
    seed = serializers.IntegerField(required=False)
    reveal_annotators = serializers.BooleanField(required=False)


class ProjectExportsView(GenericAPIView):
    """A project's export jobs (GET) and starting one that writes a file (POST)."""

    serializer_class = ExportSerializer
    queryset = Export.objects.none()  # for the schema; requests use the project's exports

    @extend_schema(responses={200: ExportSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        exports = Export.objects.filter(project=project).order_by("-id")
        page = self.paginate_queryset(exports)
        data = ExportSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=ExportRequestSerializer,
        responses={202: ExportSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        fmt, options = parse_export_params(project, _query_dict(request.data))
        export = start_export(project=project, fmt=fmt, options=options, user=request.user)
        export.refresh_from_db()  # in eager mode the job has already run
        return Response(
            ExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ExportDetailView(APIView):
    """One export job: status, progress, and when done its download URL."""

    @extend_schema(responses={200: ExportSerializer, 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request: Request, export_id: int) -> Response:
        export = access_export(request.user, export_id)
        return Response(ExportSerializer(export, context={"request": request}).data)


class ExportDownloadView(APIView):
    """The file of a finished export, streamed from storage."""

    renderer_classes = _file_renderers(
        "application/octet-stream", *(t.split(";")[0] for t in CONTENT_TYPES.values())
    )

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: OpenApiResponse(description="The export is not finished."),
        }
    )
    def get(self, request: Request, export_id: int) -> FileResponse:
        export = access_export(request.user, export_id)
        if export.status != JobStatus.DONE or not export.file:
            raise Conflict(f"the export is {export.status}, not done", field="status")
        name = export.file.name.rsplit("/", 1)[-1]
        response = FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=name,
            content_type=CONTENT_TYPES.get(export.format, "application/octet-stream"),
        )
        response["Cache-Control"] = "no-store"
        return response
