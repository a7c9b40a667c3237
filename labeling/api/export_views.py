"""REST views of dataset export, streamed or as a background job; leads and staff only.

Access follows ``labeling.access``: 404 for users outside the project (and for
missing objects), 403 for the project's annotators.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.access import LEAD, access_project
from labeling.exceptions import Conflict
from labeling.exporting.job import access_export, start_export
from labeling.exporting.params import ExportParamsSerializer, parse_export_params
from labeling.exporting.records import count_tasks, export_filename, stream_export
from labeling.exporting.writers import CONTENT_TYPES
from labeling.jobs.sweeps import recover_if_dead, take_over_dead_claims
from labeling.models import Export, JobStatus

NOT_FOUND = OpenApiResponse(description="Missing, or not visible to you (the same answer).")
FORBIDDEN = OpenApiResponse(description="A member of the project who is not a lead.")


class ExportFileRenderer(BaseRenderer):
    """Lets ``Accept: <an export's media type>`` through content negotiation.

    The file itself is a ``StreamingHttpResponse`` or ``FileResponse`` that DRF does not
    render; only an error can reach this renderer, and it is written as JSON.
    """

    format = "export"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return JSONRenderer().render(data)


def _file_renderers(*media_types: str) -> list[type[BaseRenderer]]:
    return [JSONRenderer] + [
        type(f"ExportFileRenderer{i}", (ExportFileRenderer,), {"media_type": media_type})
        for i, media_type in enumerate(media_types)
    ]


class ExportStreamView(APIView):
    """Stream the project's dataset: one record per task, as JSONL, CSV or Parquet.

    JSONL and CSV end with a trailer line (record count and SHA-256 of the bytes before
    it) so that a client can tell a cut stream; larger exports go through the job.
    """

    renderer_classes = _file_renderers(*(t.split(";")[0] for t in CONTENT_TYPES.values()))

    @extend_schema(
        parameters=[ExportParamsSerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="A bad parameter; the message names it."),
            409: OpenApiResponse(
                description="More records than LABELING_EXPORT_STREAM_MAX_RECORDS: start an "
                "export job (POST /exports/) with the same parameters."
            ),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, project_id: int) -> StreamingHttpResponse:
        project = access_project(request.user, project_id, role=LEAD)
        fmt, options = parse_export_params(project, request.query_params)
        limit = int(settings.LABELING["EXPORT_STREAM_MAX_RECORDS"])
        if limit and count_tasks(project, options) > limit:
            raise Conflict(
                f"this export covers more than {limit} tasks, too many to stream in one "
                "request; start an export job (POST /api/projects/<id>/exports/ with the same "
                "parameters) and download its file when it is done",
                code="export_too_large",
            )
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


class ProjectExportsView(GenericAPIView):
    """A project's export jobs (GET) and starting one that writes a file (POST)."""

    serializer_class = ExportSerializer
    queryset = Export.objects.none()  # for the schema; requests use the project's exports

    @extend_schema(responses={200: ExportSerializer(many=True), 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        take_over_dead_claims(Export, project_id=project.pk)  # embedded mode only
        exports = Export.objects.filter(project=project).order_by("-id")
        page = self.paginate_queryset(exports)
        data = ExportSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)

    @extend_schema(
        request=ExportParamsSerializer,
        responses={202: ExportSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        fmt, options = parse_export_params(project, request.data)
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
        export = recover_if_dead(access_export(request.user, export_id))
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
