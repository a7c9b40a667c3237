"""REST views: parse the request, call one plain function, serialize the answer.

Every view reaches its objects through ``labeling.access`` (404 for missing and
not-yours alike, 403 for members lacking the role). Annotators are blind: the only
annotation values they receive are their own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling import queue
from labeling.access import (
    LEAD,
    CanCreateProject,
    access_annotation,
    access_document,
    access_lead_object,
    access_project,
    access_queue,
    access_task,
    access_task_to_annotate,
    can_create_project,
    is_lead,
    parse_id,
    visible_projects,
)
from labeling.api import serializers as s
from labeling.api.document_bodies import (
    NDJSON,
    DocumentUploadSerializer,
    NDJSONParser,
    Upload,
    UploadParser,
    controls_in_codepoints,
    invalid,
    is_large,
    read_upload,
    request_body,
)
from labeling.api.filters import (
    AnnotationFilter,
    DocumentFilter,
    MembershipFilter,
    OwnAnnotationFilter,
    ProjectFilter,
    TaskFilter,
)
from labeling.api.offset_units import OFFSET_UNIT_PARAM, Offsets, OffsetUnitPageMixin
from labeling.api.parsers import StrictJSONParser
from labeling.exceptions import InvalidInput, NotFound
from labeling.importing.documents import exceeds_task_limit, import_documents
from labeling.importing.job import start_import, start_import_of_records
from labeling.importing.readers import DocumentRecord, ReadError, parse_record
from labeling.jobs.sweeps import recover_if_dead
from labeling.models import (
    Annotation,
    AnnotatorSettings,
    Document,
    ImportJob,
    LabelSchema,
    Membership,
    Project,
    Task,
)
from labeling.projects import add_member, create_project, remove_member, update_project
from labeling.quality.qualification import feedback as qualification_feedback

KIND_PARAM = OpenApiParameter("kind", str, required=True, description=s.KIND_HELP)
TARGET_PARAM = OpenApiParameter(
    "target", str, required=False, description="For kinds with targets; default: any target."
)
NOT_FOUND = OpenApiResponse(description="Missing, or not visible to you (the same answer).")


class MeView(APIView):
    """The signed-in user, their memberships and whether they may create projects."""

    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        memberships = [
            {"project": m["project_id"], "project_name": m["project__name"], "role": m["role"]}
            for m in Membership.objects.filter(user_id=user.pk or 0)  # anonymous: none
            .order_by("project_id")
            .values("project_id", "project__name", "role")
        ]
        return Response(
            {
                "id": user.pk,
                "username": user.get_username(),
                "is_staff": user.is_staff,
                "can_create_projects": can_create_project(user),
                "memberships": memberships,
            }
        )


class AnnotatorSettingsView(APIView):
    """Your workspace settings (every signed-in user); PATCH changes some of them."""

    @extend_schema(responses=s.AnnotatorSettingsSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.AnnotatorSettingsSerializer(annotator_settings(request.user)).data)

    @extend_schema(request=s.AnnotatorSettingsSerializer, responses=s.AnnotatorSettingsSerializer)
    def patch(self, request: Request) -> Response:
        row = annotator_settings(request.user)
        data = s.AnnotatorSettingsSerializer(row, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        data.save()
        return Response(data.data)


def annotator_settings(user: Any) -> AnnotatorSettings:
    """The user's stored settings, or unsaved defaults (no row until they change one)."""
    return AnnotatorSettings.objects.filter(user_id=user.pk).first() or AnnotatorSettings(
        user_id=user.pk
    )


# --- projects -------------------------------------------------------------------------


class ProjectListView(generics.ListAPIView):
    """Projects you are a member of (staff: all). POST creates one (staff, leads, add_project)."""

    serializer_class = s.ProjectSerializer
    filterset_class = ProjectFilter
    permission_classes = [CanCreateProject]

    def get_queryset(self) -> QuerySet[Project]:
        role = Membership.objects.filter(
            project_id=OuterRef("pk"),
            user_id=self.request.user.pk or 0,  # anonymous: none
        ).values("role")[:1]
        return (
            visible_projects(self.request.user)
            .annotate(viewer_role=Subquery(role))
            .prefetch_related("schemas")
            .order_by("id")
        )

    @extend_schema(request=s.ProjectCreateSerializer, responses={201: s.ProjectSerializer})
    def post(self, request: Request) -> Response:
        data = s.ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        project = create_project(created_by=request.user, **data.validated_data)
        project = access_project(request.user, project.pk)
        return Response(s.ProjectSerializer(project).data, status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    """One project: members read it, leads change or delete it."""

    @extend_schema(responses={200: s.ProjectSerializer, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id)
        return Response(s.ProjectSerializer(project).data)

    @extend_schema(
        request=s.ProjectUpdateSerializer,
        responses={
            200: s.ProjectSerializer,
            409: OpenApiResponse(description="annotators_per_item below what tasks hold."),
        },
    )
    def patch(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        data = s.ProjectUpdateSerializer(project, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        update_project(project=project, changes=data.validated_data)
        return Response(s.ProjectSerializer(project).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        project.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberListView(generics.ListAPIView):
    """Members of a project (leads); POST adds a member or changes their role."""

    serializer_class = s.MembershipSerializer
    filterset_class = MembershipFilter

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return Membership.objects.none()
        project = access_project(self.request.user, self.kwargs["project_id"], role=LEAD)
        return Membership.objects.filter(project=project).select_related("user").order_by("id")

    @extend_schema(
        request=s.MemberCreateSerializer,
        responses={201: s.MembershipSerializer, 200: s.MembershipSerializer},
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        data = s.MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            membership, created = add_member(project=project, **data.validated_data)
        except NotFound as exc:  # an unknown username is a bad request body, not a missing URL
            raise InvalidInput(exc.message, field="username") from exc
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(s.MembershipSerializer(membership).data, status=code)


class MemberDetailView(APIView):
    """Remove a member (leads); their annotations stay."""

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request: Request, project_id: int, user_id: int) -> Response:
        project = access_project(request.user, project_id, role=LEAD)
        remove_member(project=project, user_id=parse_id(user_id, "member"))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- documents ------------------------------------------------------------------------


def parse_documents(data: Any) -> list:
    """One object or a list of objects → records; all-or-nothing, errors name ``[i].field``."""
    items = data if isinstance(data, list) else [data]
    if not items:
        raise InvalidInput("send one document object or a non-empty list of them", field="")
    records: list[DocumentRecord] = []
    errors: dict[str, list[str]] = {}
    for i, item in enumerate(items):
        prefix = f"[{i}]" if isinstance(data, list) else ""
        try:
            records.append(parse_record(item, line=i + 1))
        except ReadError as exc:
            for err in exc.errors:
                name = f"{prefix}.{err.field}" if prefix and err.field else (prefix or err.field)
                errors.setdefault(name, []).append(err.message)
    if errors:
        raise ValidationError(errors)
    return records


class DocumentListView(generics.ListAPIView):
    """Documents of a project (members). POST imports one object or a list (leads)."""

    serializer_class = s.DocumentSerializer
    filterset_class = DocumentFilter

    def get_queryset(self) -> QuerySet[Document]:
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()
        project = access_project(self.request.user, self.kwargs["project_id"])
        return (
            Document.objects.filter(project=project)
            .annotate(n_sentences=Count("sentences"))
            .order_by("id")
        )

    parser_classes = [StrictJSONParser, NDJSONParser, UploadParser]

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        request={
            "application/json": s.DocumentInSerializer,
            NDJSON: OpenApiTypes.BINARY,
            "multipart/form-data": DocumentUploadSerializer,
        },
        responses={
            201: s.ImportResultSerializer,
            200: s.ImportResultSerializer,
            202: s.ImportJobSerializer,
        },
    )
    def post(self, request: Request, project_id: int) -> Response:
        """Import documents: 201 when any was created, 200 when all were already there.

        Three bodies: JSON (one document object, or a JSON list of them), JSON Lines
        (`Content-Type: application/x-ndjson`, one document object per line) or a
        multipart upload of a `.txt`, `.jsonl` or `.csv` file in the field `file`. Uploads
        are read like the admin upload: the same fields, all or nothing, a 400 naming each
        bad line, a 413 above `LABELING_MAX_UPLOAD_BYTES`. (The schema below shows the
        JSON body as one object: generated clients cannot dispatch a JSON list beside the
        other two bodies; send batches as JSON Lines or a file.)

        An upload larger than `LABELING_MAX_SYNC_IMPORT_BYTES`, or a request that could
        create more than `LABELING_MAX_REQUEST_TASKS` tasks, becomes an import job
        instead: 202 with the job; poll `GET /api/import-jobs/{id}/` for its progress.
        """
        project = access_project(request.user, project_id, role=LEAD)
        body = request_body(request)
        offsets = Offsets.of(request)
        if isinstance(body, Upload) and is_large(body):
            if offsets.utf16:
                raise InvalidInput(
                    "uploads imported by a job (over LABELING_MAX_SYNC_IMPORT_BYTES) take "
                    "code point offsets only",
                    field="offset_unit",
                )
            job = start_import(
                project=project,
                data=body.data,
                filename=body.filename,
                format=body.format,
                user=request.user,
            )
            job.refresh_from_db()  # in eager mode the job has already run
            return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        records = read_upload(body) if isinstance(body, Upload) else parse_documents(body)
        try:
            records = controls_in_codepoints(records, offsets)
        except ReadError as exc:
            raise invalid(exc, body) from exc
        limit = settings.LABELING["MAX_REQUEST_TASKS"]
        if exceeds_task_limit(project=project, records=records, limit=limit):
            job = start_import_of_records(project=project, records=records, user=request.user)
            job.refresh_from_db()  # in eager mode the job has already run
            return Response(s.ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
        try:
            result = import_documents(project=project, records=records, user=request.user)
        except ReadError as exc:  # control questions that name no task or a wrong answer
            raise invalid(exc, body) from exc
        answer = {
            "created": result.created,
            "existing": result.existing,
            "n_sentences": result.n_sentences,
            "n_tasks": result.n_tasks,
            "n_controls": result.n_controls,
        }
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(answer, status=code)


class ImportJobDetailView(APIView):
    """One import job (an uploaded file or a large request): status, progress, counts, errors."""

    @extend_schema(responses={200: s.ImportJobSerializer, 404: NOT_FOUND})
    def get(self, request: Request, job_id: int) -> Response:
        job = recover_if_dead(access_lead_object(request.user, ImportJob, job_id, "import job"))
        return Response(s.ImportJobSerializer(job).data)


class DocumentDetailView(APIView):
    """A document with its sentences (members); leads may delete it with its tasks."""

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        responses={200: s.DocumentDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, document_id: int) -> Response:
        offsets = Offsets.of(request)
        document = access_document(request.user, document_id)
        document = Document.objects.filter(pk=document.pk).prefetch_related("sentences").get()
        offsets.load([document.pk], texts={document.pk: document.text})
        return Response(offsets.out(s.DocumentDetailSerializer(document).data, document.pk))

    @extend_schema(responses={204: None, 404: NOT_FOUND})
    def delete(self, request: Request, document_id: int) -> Response:
        document = access_document(request.user, document_id, role=LEAD)
        document.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- tasks and the queue --------------------------------------------------------------


class TaskListView(generics.ListAPIView):
    """Tasks of a project with their counters (leads)."""

    serializer_class = s.TaskSerializer
    filterset_class = TaskFilter

    def get_queryset(self) -> QuerySet[Task]:
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        project = access_project(self.request.user, self.kwargs["project_id"], role=LEAD)
        return Task.objects.filter(project=project).order_by(
            "document_id", "position", "kind", "target", "id"
        )


AFTER_PARAM = OpenApiParameter(
    "after",
    int,
    required=False,
    description="Prefetch: the id of the task you are working on (with group=sentence, any "
    "task of its sentence). You get the task to show after it, leased ahead of time: your "
    "other held lease in this queue if any, else the next task in reading order. You hold "
    "at most one lease (or sentence group) beyond the current one.",
)
GROUP_PARAM = OpenApiParameter(
    "group",
    str,
    enum=["sentence"],
    required=False,
    description="sentence: lease every task of the next sentence in this queue that you may "
    "take (e.g. all stance targets) together; they are listed in `group`.",
)


def _after(request: Request, project: Project, kind: str, group: bool) -> queue.Ahead | None:
    raw = request.query_params.get("after")
    if raw in (None, ""):
        return None
    try:
        task_id = int(raw)
    except ValueError:
        raise InvalidInput(f"must be a task id (an integer); got {raw!r}", field="after") from None
    if task_id <= 0:
        raise InvalidInput("must be a positive task id", field="after")
    if not group:
        return queue.Ahead(task_id)
    place = (
        Task.objects.filter(pk=task_id, project_id=project.pk, kind=kind)
        .values_list("document_id", "position")
        .first()
    )
    return queue.Ahead(task_id, place) if place is not None else None


class NextTaskView(APIView):
    """Lease the next task of ``kind`` in reading order; 204 when nothing is left for you."""

    @extend_schema(
        parameters=[KIND_PARAM, TARGET_PARAM, AFTER_PARAM, GROUP_PARAM, OFFSET_UNIT_PARAM],
        responses={
            200: s.TaskPayloadSerializer,
            204: OpenApiResponse(description="Nothing left for you in this queue."),
            404: NOT_FOUND,
        },
    )
    def get(self, request: Request, project_id: int) -> Response:
        offsets = Offsets.of(request)
        kind = request.query_params.get("kind")
        target = request.query_params.get("target") or None
        group = request.query_params.get("group")
        if group not in (None, "", "sentence"):
            raise InvalidInput(f"must be 'sentence'; got {group!r}", field="group")
        project, schema = access_queue(request.user, project_id, kind)
        after = _after(request, project, str(kind), bool(group))
        held = queue.next_task(
            user=request.user,
            project=project,
            kind=kind,
            target=target,
            schema=schema,
            after=after,
        )
        if held is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        members = (
            queue.lease_sentence_group(user=request.user, project=project, lease=held)
            if group
            else None
        )
        # A leased task has no annotation of this annotator yet (submitting ends the lease).
        body = s.task_payload(
            task_id=held.task_id,
            user=request.user,
            project=project,
            assignment=held,
            schema=held.schema,
            own_annotation=False,
            kind=kind,
        )
        if members is not None:
            body["group"] = [s.group_member(m) for m in members]
        return Response(offsets.out(body, body["document"]["id"]))


class TaskDetailView(APIView):
    """A task as its annotator sees it (annotators: only tasks they held or annotated)."""

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM], responses={200: s.TaskPayloadSerializer, 404: NOT_FOUND}
    )
    def get(self, request: Request, task_id: int) -> Response:
        offsets = Offsets.of(request)
        task = access_task(request.user, task_id)
        body = s.task_payload(task_id=task.pk, user=request.user, project=task.project)
        return Response(offsets.out(body, task.document_id))


class AnnotationView(APIView):
    """Your annotation of a task: PUT submits or edits it (edits keep revisions)."""

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        responses={200: s.AnnotationDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, task_id: int) -> Response:
        offsets = Offsets.of(request)
        task = access_task(request.user, task_id)
        annotation = get_object_or_404(
            Annotation.objects.select_related("task", "annotator").prefetch_related("revisions"),
            task=task,
            annotator_id=request.user.pk,
        )
        return Response(
            offsets.out(s.AnnotationDetailSerializer(annotation).data, task.document_id)
        )

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        request=s.AnnotationWriteSerializer,
        responses={200: s.AnnotationSerializer, 404: NOT_FOUND},
    )
    def put(self, request: Request, task_id: int) -> Response:
        """Submit (first time) or edit your value; 200 either way, ``revision`` tells which."""
        offsets = Offsets.of(request, request.data)
        task, labels = access_task_to_annotate(request.user, task_id)
        data = s.AnnotationWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = queue.submit_annotation(
            user=request.user,
            task=task,
            value=offsets.into(data.validated_data["value"], task.document_id),
            lead_time_ms=data.validated_data.get("lead_time_ms"),
            labels=labels,
            from_suggestion=data.validated_data["from_suggestion"],
        )
        body = s.annotation_body(result.annotation, task, request.user)
        if result.control_answer is not None and result.control_answer.qualification:
            body["feedback"] = qualification_feedback(result.control_answer)
        return Response(offsets.out(body, task.document_id))


class SkipView(APIView):
    """Give the task back; it is not offered to you again."""

    @extend_schema(request=None, responses={200: s.SkipResultSerializer, 404: NOT_FOUND})
    def post(self, request: Request, task_id: int) -> Response:
        task, _labels = access_task_to_annotate(request.user, task_id)
        held = queue.skip_task(user=request.user, task=task)
        return Response({"task": task.pk, "status": held.status})


class UndoView(APIView):
    """Undo your submit or skip of this task while its lease holds: the task is yours again.

    After a submit your annotation is withdrawn (send it again, changed or not); after a
    skip the task takes a slot again. 409 once the lease has run out, when the annotation
    was edited since, when others filled the task after a skip, or for a control question.
    """

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                "group",
                str,
                enum=["sentence"],
                required=False,
                description="sentence: list your leases on this task's sentence in `group`.",
            ),
            OFFSET_UNIT_PARAM,
        ],
        responses={
            200: s.TaskPayloadSerializer,
            404: NOT_FOUND,
            409: OpenApiResponse(description="Too late, edited since, filled, or a control."),
        },
    )
    def post(self, request: Request, task_id: int) -> Response:
        offsets = Offsets.of(request)
        group = request.query_params.get("group")
        if group not in (None, "", "sentence"):
            raise InvalidInput(f"must be 'sentence'; got {group!r}", field="group")
        task, _labels = access_task_to_annotate(request.user, task_id)
        lease = queue.undo_task(user=request.user, task=task)
        body = s.task_payload(task_id=task.pk, user=request.user, project=task.project)
        if group:
            lease.place = (task.document_id, task.position, task.target)  # type: ignore[attr-defined]
            lease.schema = LabelSchema.objects.get(project_id=task.project_id, kind=task.kind)
            members = queue.lease_sentence_group(
                user=request.user, project=task.project, lease=lease
            )
            body["group"] = [s.group_member(m) for m in members]
        return Response(offsets.out(body, task.document_id))


# --- annotations ----------------------------------------------------------------------


def _annotations() -> QuerySet[Annotation]:
    return Annotation.objects.select_related("task", "annotator")


@extend_schema_view(get=extend_schema(parameters=[OFFSET_UNIT_PARAM]))
class ProjectAnnotationListView(OffsetUnitPageMixin, generics.ListAPIView):
    """All annotations of a project, newest first (leads)."""

    serializer_class = s.AnnotationSerializer
    filterset_class = AnnotationFilter

    def get_queryset(self) -> QuerySet[Annotation]:
        if getattr(self, "swagger_fake_view", False):
            return Annotation.objects.none()
        project = access_project(self.request.user, self.kwargs["project_id"], role=LEAD)
        return _annotations().filter(task__project=project).order_by("-updated_at", "-id")


@extend_schema_view(get=extend_schema(parameters=[OFFSET_UNIT_PARAM]))
class MyAnnotationListView(OffsetUnitPageMixin, generics.ListAPIView):
    """Your own annotations in a project, newest first (to go back to earlier tasks)."""

    serializer_class = s.AnnotationSerializer
    filterset_class = OwnAnnotationFilter

    def get_queryset(self) -> QuerySet[Annotation]:
        if getattr(self, "swagger_fake_view", False):
            return Annotation.objects.none()
        project = access_project(self.request.user, self.kwargs["project_id"])
        return (
            _annotations()
            .filter(task__project=project, annotator_id=self.request.user.pk)
            .order_by("-updated_at", "-id")
        )


class AnnotationDetailView(APIView):
    """One annotation with its revisions: its author, leads of its project, staff."""

    @extend_schema(
        parameters=[OFFSET_UNIT_PARAM],
        responses={200: s.AnnotationDetailSerializer, 404: NOT_FOUND},
    )
    def get(self, request: Request, annotation_id: int) -> Response:
        offsets = Offsets.of(request)
        annotation = access_annotation(request.user, annotation_id)
        body = s.AnnotationDetailSerializer(annotation).data
        return Response(offsets.out(body, annotation.task.document_id))


class ProgressView(APIView):
    """Progress by kind and per annotator; annotators see only their own row."""

    @extend_schema(responses={200: s.ProgressSerializer, 404: NOT_FOUND})
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project(request.user, project_id)
        body = queue.project_progress(
            project=project, user=request.user, all_annotators=is_lead(request.user, project)
        )
        return Response(body)
