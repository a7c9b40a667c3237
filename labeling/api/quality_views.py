"""REST views of quality control (leads and staff): controls, annotators, assignments, settings."""

from __future__ import annotations

from typing import Any

from django.db.models import Avg, Case, Count, FloatField, QuerySet, When
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.access import LEAD, access_project, parse_id
from labeling.api import quality_serializers as s
from labeling.api.offset_units import OFFSET_UNIT_PARAM, Offsets, OffsetUnitPageMixin
from labeling.exceptions import NotFound
from labeling.models import Membership, Task
from labeling.quality import reservations
from labeling.quality.controls import ControlSpec, parse_controls, remove_control, set_controls
from labeling.quality.escalation import escalation_counts
from labeling.quality.models import ControlQuestion, QualitySettings
from labeling.quality.priorities import list_priorities, parse_priorities, set_priorities
from labeling.quality.reports import annotator_report
from labeling.quality.status import update_annotator

NOT_FOUND = OpenApiResponse(description="Missing, or not visible to you (the same answer).")


class ControlListView(OffsetUnitPageMixin, generics.ListAPIView):
    """Control questions of a project with how often they were answered right (leads).

    POST a list of ``{"task", "value"}`` to make those tasks control questions.
    """

    serializer_class = s.ControlSerializer

    def get_queryset(self) -> QuerySet[ControlQuestion]:
        if getattr(self, "swagger_fake_view", False):
            return ControlQuestion.objects.none()
        project = access_project(self.request.user, self.kwargs["project_id"], role=LEAD)
        return (
            ControlQuestion.objects.filter(project=project)
            .select_related("task")
            .annotate(
                n_answers=Count("answers"),
                accuracy=Avg(
                    Case(When(answers__correct=True, then=1.0), default=0.0),
                    output_field=FloatField(),
                ),
            )
            .order_by("id")
        )

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        request=s.ControlInSerializer(many=True),
        responses={201: s.ControlSerializer(many=True)},
    )
    def post(self, request: Request, project_id: int) -> Response:
        """Values with spans are read (and answered) in ``offset_unit``."""
        project = access_project(request.user, project_id, role=LEAD)
        offsets = Offsets.of(request)
        specs = parse_controls(request.data)
        if offsets.utf16:
            documents = dict(
                Task.objects.filter(project=project, pk__in=[c.task_id for c in specs]).values_list(
                    "pk", "document_id"
                )
            )
            specs = [
                ControlSpec(
                    c.task_id, offsets.into(c.value, documents[c.task_id], field=f"[{i}].value")
                )
                if c.task_id in documents
                else c
                for i, c in enumerate(specs)
            ]
        controls = set_controls(project=project, specs=specs, user=request.user)
        body = offsets.out_items([s.control_body(c) for c in controls], "document")
        return Response(body, status=status.HTTP_201_CREATED)


class ControlDetailView(APIView):
    """Remove a control question (leads): the task returns to the real dataset."""

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request: Request, project_id: int, control_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        control = ControlQuestion.objects.filter(
            project=project, pk=parse_id(control_id, "control")
        ).first()
        if control is None:
            raise NotFound("control not found")
        remove_control(control=control)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AnnotatorReportView(APIView):
    """Every annotator's report: output, lead times, skips, control accuracy, drift (leads)."""

    @extend_schema(responses={200: s.AnnotatorReportSerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        return Response(annotator_report(project=project))


def _member(project: Any, user_id: Any) -> Any:
    uid = parse_id(user_id, "annotator")
    membership = (
        Membership.objects.filter(project=project, user_id=uid).select_related("user").first()
    )
    if membership is None:
        raise NotFound("annotator not found")
    return membership.user


class AnnotatorDetailView(APIView):
    """Pause or resume an annotator, set their quotas or qualification (leads)."""

    @extend_schema(
        request=s.AnnotatorUpdateSerializer,
        responses={200: s.AnnotatorReportSerializer, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int, user_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        user = _member(project, user_id)
        data = s.AnnotatorUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        update_annotator(project_id=project.pk, user_id=user.pk, **data.validated_data)
        rows = annotator_report(project=project, include=[user.pk])
        row = next(r for r in rows if r["user"] == user.pk)
        return Response(row)


class AssignmentListView(APIView):
    """Standing reservations per annotator (GET); POST reserves work for one (leads)."""

    @extend_schema(responses={200: s.ReservationSummarySerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        return Response(reservations.summary(project=project))

    @extend_schema(request=s.AssignmentInSerializer, responses={201: s.AssignmentResultSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        data = s.AssignmentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        user = reservations.member_by_username(project, v["username"])
        result = reservations.reserve(
            project=project,
            user=user,
            by=request.user,
            documents=v.get("documents"),
            count=v.get("count"),
            share=v.get("share"),
            kind=v.get("kind"),
        )
        body = {
            "user": user.pk,
            "username": user.get_username(),
            "reserved": result.reserved,
            "already_reserved": result.already_reserved,
            "full": result.full,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class AssignmentDetailView(APIView):
    """Release every standing reservation of one annotator (leads)."""

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request: Request, project_id: int, user_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        reservations.release(project=project, user=_member(project, user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class QualitySettingsView(APIView):
    """A project's quality policy (leads): control rate, thresholds, qualification, escalation."""

    @extend_schema(responses={200: s.QualitySettingsSerializer, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        found = QualitySettings.objects.filter(project=project).first()
        return Response(s.QualitySettingsSerializer(found or QualitySettings()).data)

    @extend_schema(
        request=s.QualitySettingsSerializer,
        responses={200: s.QualitySettingsSerializer, 404: NOT_FOUND},
    )
    def patch(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        found, _ = QualitySettings.objects.get_or_create(project=project)
        data = s.QualitySettingsSerializer(found, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(data.data)


class EscalationCountsView(APIView):
    """How many tasks were escalated for low agreement and how it ended (leads)."""

    @extend_schema(responses={200: s.EscalationCountsSerializer, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        return Response(escalation_counts(project=project))


class PriorityListView(APIView):
    """Prioritized documents (GET); PUT a list of ``{"document", "priority"}`` (leads)."""

    @extend_schema(responses={200: s.PrioritySerializer(many=True), 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        return Response(list_priorities(project=project))

    @extend_schema(
        request=s.PriorityInSerializer(many=True),
        responses={200: s.PrioritySerializer(many=True), 404: NOT_FOUND},
    )
    def put(self, request: Request, project_id: int) -> Response:
        """Priority 0 removes a document's priority; higher comes first."""
        project = access_project(request.user, project_id, role=LEAD)
        set_priorities(project=project, pairs=parse_priorities(request.data))
        return Response(list_priorities(project=project))
