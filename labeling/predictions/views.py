"""REST interface of predictions: import (JSON or JSON Lines), list and delete. Leads only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.access import LEAD, access_project
from labeling.api.offset_units import OFFSET_UNIT_PARAM, Offsets, OffsetUnitPageMixin
from labeling.api.parsers import StrictJSONParser
from labeling.exceptions import InvalidInput
from labeling.models import Prediction
from labeling.predictions.importing import delete_predictions, import_predictions, read_jsonl
from labeling.predictions.serializers import (
    PredictionDeleteResultSerializer,
    PredictionImportResultSerializer,
    PredictionInSerializer,
    PredictionSerializer,
)

NDJSON = "application/x-ndjson"
MODEL_PARAM = OpenApiParameter("model", str, description="Only this model's predictions.")
KIND_PARAM = OpenApiParameter("kind", str, description="Only predictions of tasks of this kind.")


class JSONLinesBody:
    """A JSON Lines body, kept as bytes until the view reads it (``read_jsonl``)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


class JSONLinesParser(BaseParser):
    """``application/x-ndjson``: one prediction object per line (size bounded by the middleware)."""

    media_type = NDJSON

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        return JSONLinesBody(stream.read() if stream is not None else b"")


class ProjectPredictionsView(OffsetUnitPageMixin, GenericAPIView):
    """A project's model predictions: list (GET), import (POST), remove (DELETE)."""

    serializer_class = PredictionSerializer
    queryset = Prediction.objects.none()  # for the schema; requests use the project's
    parser_classes = [StrictJSONParser, JSONLinesParser]

    @extend_schema(
        parameters=[MODEL_PARAM, KIND_PARAM, OFFSET_UNIT_PARAM],
        responses=PredictionSerializer(many=True),
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        qs = Prediction.objects.filter(project=project).select_related("task").order_by("id")
        model, kind = request.query_params.get("model"), request.query_params.get("kind")
        if model:
            qs = qs.filter(model_name=model)
        if kind:
            qs = qs.filter(task__kind=kind)
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(PredictionSerializer(page, many=True).data)

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        request={
            "application/json": PredictionInSerializer(many=True),
            NDJSON: OpenApiTypes.BINARY,
        },
        responses={201: PredictionImportResultSerializer},
        description="Import predictions: a JSON list (or one object) or JSON Lines "
        "(`Content-Type: application/x-ndjson`), each `{task, model, value, score?}`. All "
        "or nothing; a prediction of the same task and model replaces the earlier one.",
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        offsets = Offsets.of(request)
        names = None
        items: Any = request.data
        if isinstance(items, JSONLinesBody):
            items, names = read_jsonl(items.raw)
        counts = import_predictions(
            project=project,
            items=items,
            names=names,
            to_codepoints=(
                (lambda value, doc, field: offsets.into(value, doc, field=field))
                if offsets.utf16
                else None
            ),
        )
        return Response(counts, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "model", str, required=True, description="The model whose predictions go."
            )
        ],
        responses=PredictionDeleteResultSerializer,
    )
    def delete(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        model = request.query_params.get("model")
        if not model:
            raise InvalidInput("is required: the model whose predictions to remove", field="model")
        return Response({"deleted": delete_predictions(project=project, model=model)})
