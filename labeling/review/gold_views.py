"""REST views of gold labels and annotator accuracy, for leads and staff.

Access follows ``labeling.access``: 404 for users outside the project (and for
missing objects), 403 for the project's annotators.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.access import LEAD, access_project, access_task
from labeling.api.offset_units import OFFSET_UNIT_PARAM, Offsets, offset_unit_field
from labeling.exceptions import InvalidInput, NotFound
from labeling.gold import (
    adjudicate,
    aggregate_gold,
    clear_adjudication,
    estimate_annotator_accuracy,
)
from labeling.models import GoldLabel, GoldMethod
from labeling.offsets import VALUE_HELP
from labeling.serializers import KIND_HELP, KindField, KindValueField

NOT_FOUND = OpenApiResponse(description="Missing, or not visible to you (the same answer).")
FORBIDDEN = OpenApiResponse(description="A member of the project who is not a lead.")


class AggregateRequestSerializer(serializers.Serializer):
    """Which kind to aggregate and how."""

    kind = KindField()
    method = serializers.ChoiceField(
        choices=[GoldMethod.MAJORITY.value, GoldMethod.DAWID_SKENE.value],
        default=GoldMethod.MAJORITY.value,
    )


class AnnotatorAccuracySerializer(serializers.Serializer):
    annotator_id = serializers.IntegerField()
    username = serializers.CharField()
    accuracy = serializers.FloatField()
    n_annotations = serializers.IntegerField()


class AggregationResultSerializer(serializers.Serializer):
    """What an aggregation did; adjudicated gold is counted but never changed."""

    kind = serializers.CharField()
    method = serializers.CharField()
    n_items = serializers.IntegerField()
    n_created = serializers.IntegerField()
    n_updated = serializers.IntegerField()
    n_unchanged = serializers.IntegerField()
    n_deleted = serializers.IntegerField()
    n_undecided = serializers.IntegerField()
    n_adjudicated = serializers.IntegerField()
    converged = serializers.BooleanField(allow_null=True)
    n_iter = serializers.IntegerField(allow_null=True)
    annotator_accuracy = AnnotatorAccuracySerializer(many=True)


class GoldAggregateView(APIView):
    """Compute aggregated gold for a kind (majority vote or Dawid-Skene) and store it."""

    @extend_schema(
        request=AggregateRequestSerializer,
        responses={200: AggregationResultSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        body = AggregateRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = aggregate_gold(project=project, **body.validated_data)
        return Response(result.as_dict())


class GoldSerializer(serializers.ModelSerializer):
    """A task's gold label and who decided it."""

    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = GoldLabel
        fields = ["task", "value", "method", "confidence", "decided_by", "note", "updated_at"]
        read_only_fields = fields
        extra_kwargs = {"value": {"help_text": VALUE_HELP}}


class AdjudicationSerializer(serializers.Serializer):
    """The lead's decision: a value shaped like an annotation's, and an optional note."""

    value = KindValueField(
        help_text="Shaped like an annotation's value; offsets in Unicode code points "
        "(UTF-16 code units with offset_unit=utf16)."
    )
    note = serializers.CharField(required=False, allow_blank=True, default="")
    offset_unit = offset_unit_field()


class TaskGoldView(APIView):
    """A task's gold label: read it, adjudicate it (PUT), or withdraw an adjudication."""

    def _task(self, request: Request, task_id: int) -> Any:
        return access_task(request.user, task_id, role=LEAD)  # 403 for annotators

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        responses={200: GoldSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request: Request, task_id: int) -> Response:
        offsets = Offsets.of(request)
        task = self._task(request, task_id)
        gold = GoldLabel.objects.filter(task=task).select_related("decided_by").first()
        if gold is None:
            raise NotFound("this task has no gold label yet")
        return Response(offsets.out(GoldSerializer(gold).data, task.document_id))

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        request=AdjudicationSerializer,
        responses={200: GoldSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def put(self, request: Request, task_id: int) -> Response:
        offsets = Offsets.of(request, request.data)
        task = self._task(request, task_id)
        body = AdjudicationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        gold = adjudicate(
            task=task,
            value=offsets.into(body.validated_data["value"], task.document_id),
            user=request.user,
            note=body.validated_data["note"],
        )
        return Response(offsets.out(GoldSerializer(gold).data, task.document_id))

    @extend_schema(responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    def delete(self, request: Request, task_id: int) -> Response:
        task = self._task(request, task_id)
        clear_adjudication(task=task)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnnotatorEstimateSerializer(AnnotatorAccuracySerializer):
    confusion = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField()),
        help_text="confusion[true label][answered label]",
    )


class AnnotatorAccuracyReportSerializer(serializers.Serializer):
    """Dawid-Skene estimates for one kind."""

    kind = serializers.CharField()
    method = serializers.CharField()
    labels = serializers.ListField(child=serializers.CharField())
    n_items = serializers.IntegerField()
    n_annotations = serializers.IntegerField()
    converged = serializers.BooleanField()
    n_iter = serializers.IntegerField()
    class_priors = serializers.DictField(child=serializers.FloatField())
    annotators = AnnotatorEstimateSerializer(many=True)


class AnnotatorAccuracyView(APIView):
    """Each annotator's estimated accuracy on a kind (Dawid-Skene), for leads."""

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, required=True, description=KIND_HELP)
        ],
        responses={200: AnnotatorAccuracyReportSerializer, 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        kind = request.query_params.get("kind")
        if not kind:
            raise InvalidInput("is required: one of the project's kinds", field="kind")
        return Response(estimate_annotator_accuracy(project=project, kind=kind))
