"""REST views of gold labels and annotator accuracy, for leads and staff.

Access follows ``labeling.access``: 404 for users outside the project (and for
missing objects), 403 for the project's annotators.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.access import LEAD, access_project, access_task
from labeling.api.offset_units import OFFSET_UNIT_PARAM, Offsets, offset_unit_field
from labeling.api.serializers import KindField, KindValueField
from labeling.exceptions import NotFound
from labeling.jobs.sweeps import recover_if_dead
from labeling.kinds.lookup import project_schema
from labeling.models import GoldJob, GoldJobOperation, GoldLabel, GoldMethod
from labeling.offsets import VALUE_HELP
from labeling.review.gold import adjudicate, clear_adjudication
from labeling.review.gold_jobs import access_gold_job, start_gold_job
from labeling.review.staleness import gold_status, staleness, with_annotations_since

KIND_REQUIRED_PARAM = OpenApiParameter(
    "kind", str, required=True, description="A kind of the project."
)
NOT_FOUND = OpenApiResponse(description="Missing, or not visible to you (the same answer).")
FORBIDDEN = OpenApiResponse(description="A member of the project who is not a lead.")


class AggregateRequestSerializer(serializers.Serializer):
    """Which kind to aggregate and how."""

    kind = KindField()
    method = serializers.ChoiceField(
        choices=[GoldMethod.MAJORITY.value, GoldMethod.DAWID_SKENE.value],
        default=GoldMethod.MAJORITY.value,
    )


class GoldJobSerializer(serializers.ModelSerializer):
    """A gold job: status and progress, then ``result`` (an aggregation or accuracy report)."""

    result = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = GoldJob
        fields = [
            "id",
            "project",
            "operation",
            "kind",
            "method",
            "status",
            "progress",
            "error",
            "created_at",
            "finished_at",
            "result",
        ]
        read_only_fields = fields


class AccuracyRequestSerializer(serializers.Serializer):
    """Which kind to estimate annotator accuracy on (Dawid-Skene)."""

    kind = KindField()


def _gold_job_response(request: Request, project_id: int, operation: str) -> Response:
    project = access_project(request.user, project_id, role=LEAD)
    body = (
        AggregateRequestSerializer(data=request.data)
        if operation == GoldJobOperation.AGGREGATE
        else AccuracyRequestSerializer(data=request.data)
    )
    body.is_valid(raise_exception=True)
    job = start_gold_job(
        project=project, operation=operation, user=request.user, **body.validated_data
    )
    job.refresh_from_db()  # in eager mode the job has already run
    return Response(GoldJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class GoldAggregateView(APIView):
    """Start aggregating gold for a kind (majority vote or Dawid-Skene): 202, then poll the job.

    The job's ``result`` is ``gold.AggregationResult.as_dict()``.
    """

    @extend_schema(
        request=AggregateRequestSerializer,
        responses={202: GoldJobSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        return _gold_job_response(request, project_id, GoldJobOperation.AGGREGATE)


class AnnotatorAccuracyView(APIView):
    """Start estimating each annotator's accuracy on a kind (Dawid-Skene): 202, then poll.

    The job's ``result`` is what ``gold.estimate_annotator_accuracy`` returns.
    """

    @extend_schema(
        request=AccuracyRequestSerializer,
        responses={202: GoldJobSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        return _gold_job_response(request, project_id, GoldJobOperation.ACCURACY)


class GoldJobDetailView(APIView):
    """One gold job: status and progress while it works, its ``result`` when done."""

    @extend_schema(responses={200: GoldJobSerializer, 403: FORBIDDEN, 404: NOT_FOUND})
    def get(self, request: Request, job_id: int) -> Response:
        job = recover_if_dead(access_gold_job(request.user, job_id))
        return Response(GoldJobSerializer(job).data)


class GoldSerializer(serializers.ModelSerializer):
    """A task's gold label and who decided it."""

    value = KindValueField(read_only=True, help_text=VALUE_HELP)

    decided_by: serializers.SlugRelatedField[User] = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="The lead who adjudicated; null for aggregated gold.",
    )

    stale = serializers.SerializerMethodField(
        help_text="True when annotations of the task were saved or edited after this gold "
        "was decided (aggregated or adjudicated): re-aggregate, or review the adjudication."
    )
    annotations_since = serializers.SerializerMethodField(
        help_text="How many annotations of the task were saved or edited after decided_at."
    )

    class Meta:
        model = GoldLabel
        fields = [
            "task",
            "value",
            "method",
            "confidence",
            "decided_by",
            "note",
            "updated_at",
            "decided_at",
            "stale",
            "annotations_since",
        ]
        read_only_fields = fields
        extra_kwargs = {"value": {"help_text": VALUE_HELP}}

    def get_stale(self, gold: GoldLabel) -> bool:
        return bool(staleness(gold)["stale"])

    def get_annotations_since(self, gold: GoldLabel) -> int:
        return int(staleness(gold)["annotations_since"])


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
        gold = (
            with_annotations_since(GoldLabel.objects.filter(task=task))
            .select_related("decided_by")
            .first()
        )
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
        gold = with_annotations_since(GoldLabel.objects.filter(pk=gold.pk)).get()
        return Response(offsets.out(GoldSerializer(gold).data, task.document_id))

    @extend_schema(responses={204: None, 403: FORBIDDEN, 404: NOT_FOUND})
    def delete(self, request: Request, task_id: int) -> Response:
        task = self._task(request, task_id)
        clear_adjudication(task=task)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GoldStatusSerializer(serializers.Serializer):
    kind = serializers.CharField()
    n_gold = serializers.IntegerField()
    n_stale = serializers.IntegerField(
        help_text="Gold labels with annotations saved or edited after they were decided."
    )
    n_stale_adjudicated = serializers.IntegerField(
        help_text="Of those, adjudicated ones (re-aggregating never overwrites them)."
    )
    annotations_since = serializers.IntegerField(
        help_text="Annotations saved or edited after the gold of their task was decided."
    )
    latest_aggregation = serializers.DictField(allow_null=True)
    reaggregate_method = serializers.CharField(
        help_text="The method a re-aggregation uses: the latest aggregation's, else majority."
    )


class GoldStatusView(APIView):
    """How fresh a kind's gold is: how many labels are stale since their aggregation."""

    @extend_schema(
        parameters=[KIND_REQUIRED_PARAM],
        responses={
            200: GoldStatusSerializer,
            400: OpenApiResponse(),
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        body = AccuracyRequestSerializer(data=request.query_params)
        body.is_valid(raise_exception=True)
        kind = project_schema(project.pk, body.validated_data["kind"]).kind
        return Response(gold_status(project_id=project.pk, kind=kind))


class GoldReaggregateView(APIView):
    """Re-aggregate a kind's gold with the method of its latest aggregation (majority if
    none): 202 with the GoldJob, then poll it. Adjudicated gold is never touched."""

    @extend_schema(
        request=AccuracyRequestSerializer,
        responses={202: GoldJobSerializer, 400: OpenApiResponse(), 403: FORBIDDEN, 404: NOT_FOUND},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        body = AccuracyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        kind = project_schema(project.pk, body.validated_data["kind"]).kind
        method = gold_status(project_id=project.pk, kind=kind)["reaggregate_method"]
        job = start_gold_job(
            project=project,
            operation=GoldJobOperation.AGGREGATE,
            kind=kind,
            method=method,
            user=request.user,
        )
        job.refresh_from_db()  # in eager mode the job has already run
        return Response(GoldJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
