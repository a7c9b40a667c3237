"""Request parsing and response shapes of the REST API; builders for the task payload."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labeling.api.offset_units import offset_unit_field
from labeling.kinds import (
    BUILTIN_NAMES,
    VALUE_COMPONENT,
    SchemaError,
    kind_spec,
    parse_kind_name,
    schema_definition_json_schema,
)
from labeling.models import (
    KIND_MAX_LENGTH,
    Annotation,
    AnnotationRevision,
    AnnotatorSettings,
    Assignment,
    AssignmentStatus,
    Document,
    ImportJob,
    LabelSchema,
    Level,
    Membership,
    Project,
    Role,
    Sentence,
    Task,
)
from labeling.offsets import END_HELP, START_HELP, VALUE_HELP
from labeling.predictions.importing import task_predictions
from labeling.task_context.sentence_window import (
    BREAK_HELP,
    BREAKS,
    TOKENS_HELP,
    document_sentences,
    sentence_window,
)
from labeling.task_context.suggestions import task_suggestions

KIND_HELP = (
    "Task kind: a built-in kind (" + ", ".join(BUILTIN_NAMES) + ") or one of the project's "
    "custom kinds (a lowercase identifier)."
)


@extend_schema_field({"$ref": f"#/components/schemas/{VALUE_COMPONENT}"})
class KindValueField(serializers.JSONField):
    """An annotation or gold value; its shape depends on the kind (validated by the kind)."""


@extend_schema_field(schema_definition_json_schema())
class SchemaDefinitionField(serializers.JSONField):
    """One schema definition of ``POST /api/projects/``, validated by the kind registry."""


class KindField(serializers.CharField):
    """A kind name, checked by the registry (whether the project has it is checked later)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", KIND_MAX_LENGTH)
        kwargs.setdefault("help_text", KIND_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return parse_kind_name(value, "")
        except SchemaError as exc:
            raise serializers.ValidationError(exc.message) from exc


# --- projects -------------------------------------------------------------------------


class LabelSchemaSerializer(serializers.ModelSerializer):
    """A kind's label set, level and stance targets."""

    kind = KindField()
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    level = serializers.ChoiceField(choices=Level.choices, required=False)
    values = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        allow_null=True,
        help_text="Each label's number (interval/ratio); null: labels equally spaced.",
    )
    targets = serializers.ListField(child=serializers.CharField(), required=False)
    description = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = LabelSchema
        fields = ["kind", "labels", "level", "values", "targets", "description", "enabled"]
        read_only_fields = ["enabled"]


class ProjectCreateSerializer(serializers.Serializer):
    """``POST /api/projects/``; ``labeling.kinds`` validates schemas (errors name the field)."""

    name = serializers.CharField(max_length=200)
    annotators_per_item = serializers.IntegerField(min_value=1, max_value=100)
    schemas = serializers.ListField(child=SchemaDefinitionField(), min_length=1)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    guidelines = serializers.CharField(required=False, allow_blank=True, default="")
    lease_minutes = serializers.IntegerField(
        min_value=1, max_value=10080, required=False, help_text="Default: LABELING_LEASE_MINUTES."
    )

    class Meta:
        ref_name = "ProjectCreate"


class ProjectSerializer(serializers.ModelSerializer):
    """A project with its schemas and the caller's role in it."""

    schemas = LabelSchemaSerializer(many=True, read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "guidelines",
            "annotators_per_item",
            "lease_minutes",
            "schemas",
            "role",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "annotators_per_item", "created_at", "updated_at"]

    def get_role(self, obj: Project) -> str | None:
        """The caller's role: ``annotator``, ``lead``, or null for staff who are not members."""
        return getattr(obj, "viewer_role", None)


class ProjectUpdateSerializer(serializers.ModelSerializer):
    """Fields a lead may change after creation (``projects.update_project``)."""

    lease_minutes = serializers.IntegerField(min_value=1, max_value=10080, required=False)
    annotators_per_item = serializers.IntegerField(
        min_value=1,
        max_value=100,
        required=False,
        help_text="Applies to every task of the project: raising it reopens tasks for more "
        "annotators; lowering it below what a task already holds (leased or submitted) "
        "is refused with 409.",
    )

    class Meta:
        model = Project
        fields = ["name", "description", "guidelines", "lease_minutes", "annotators_per_item"]
        extra_kwargs = {"name": {"required": False}}


class MemberCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "role", "created_at"]
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    """The signed-in user with their memberships."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    can_create_projects = serializers.BooleanField()
    memberships = serializers.ListField(child=serializers.DictField())


# --- documents ------------------------------------------------------------------------


class ControlInDocumentSerializer(serializers.Serializer):
    """A control question imported with its document: a task and its right answer."""

    kind = KindField()
    target = serializers.CharField(
        required=False, allow_blank=True, help_text="Stance: the target; default: the only one."
    )
    sentence = serializers.IntegerField(
        min_value=0, required=False, help_text="The sentence's 0-based position (or: offset)."
    )
    offset = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="An offset in the document's text inside the sentence (or: sentence); "
        "code points, or UTF-16 code units with offset_unit=utf16.",
    )
    value = KindValueField(
        help_text="The right answer, shaped as the kind's value (spans in document offsets, "
        "in offset_unit)."
    )


class DocumentInSerializer(serializers.Serializer):
    """One document to import; validated by ``readers.parse_record``."""

    title = serializers.CharField(required=False, allow_blank=True)
    text = serializers.CharField()
    external_id = serializers.CharField(required=False, allow_blank=True)
    source_url = serializers.CharField(required=False, allow_blank=True)
    published_at = serializers.DateTimeField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False)
    controls = ControlInDocumentSerializer(
        many=True,
        required=False,
        help_text="Control questions (honeypots) on this document's sentences.",
    )


class ImportResultSerializer(serializers.Serializer):
    """Ids of created documents and of documents that were already there."""

    created = serializers.ListField(child=serializers.IntegerField())
    existing = serializers.ListField(child=serializers.IntegerField())
    n_sentences = serializers.IntegerField()
    n_tasks = serializers.IntegerField()
    n_controls = serializers.IntegerField(help_text="Control questions set by this import.")


class ImportErrorSerializer(serializers.Serializer):
    """One problem of an import: the line of the file (0: the file as a whole) and field."""

    line = serializers.IntegerField()
    field = serializers.CharField(help_text="e.g. text, controls[0].value.label; may be empty.")
    message = serializers.CharField()


class ImportJobSerializer(serializers.ModelSerializer):
    """An import job: status and progress, then counts, or its errors with line numbers."""

    errors = ImportErrorSerializer(many=True, read_only=True)  # type: ignore[assignment]

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "project",
            "format",
            "filename",
            "status",
            "progress",
            "n_documents",
            "n_created",
            "errors",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text=START_HELP)
    end = serializers.IntegerField(help_text=END_HELP)


class SentenceSerializer(serializers.ModelSerializer):
    """A sentence of a task's context (``tokens``: attribution tasks only)."""

    break_before = serializers.ChoiceField(choices=list(BREAKS), help_text=BREAK_HELP)
    tokens = TokenSerializer(
        many=True,
        required=False,
        help_text=TOKENS_HELP + " In the task payload: only for kinds whose values mark "
        "spans (attribution).",
    )

    class Meta:
        model = Sentence
        fields = ["id", "position", "start", "end", "text", "break_before", "tokens"]
        extra_kwargs = {"start": {"help_text": START_HELP}, "end": {"help_text": END_HELP}}


class DocumentSentenceSerializer(SentenceSerializer):
    """A sentence of a whole document, with its tokens."""

    tokens = TokenSerializer(many=True, help_text=TOKENS_HELP)


class DocumentSerializer(serializers.ModelSerializer):
    """A document in a list (no text)."""

    n_sentences = serializers.IntegerField(read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "project",
            "title",
            "external_id",
            "source_url",
            "published_at",
            "metadata",
            "content_hash",
            "n_sentences",
            "created_at",
        ]


class DocumentDetailSerializer(serializers.ModelSerializer):
    """A document with its text and sentences in order (the workspace's whole-document
    context: each sentence with its paragraph break and word tokens)."""

    sentences = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "project",
            "title",
            "text",
            "external_id",
            "source_url",
            "published_at",
            "metadata",
            "content_hash",
            "created_at",
            "sentences",
        ]

    @extend_schema_field(DocumentSentenceSerializer(many=True))
    def get_sentences(self, document: Document) -> list[dict[str, Any]]:
        return document_sentences(document.text, document.sentences.all())


class AnnotatorSettingsSerializer(serializers.ModelSerializer):
    """Your workspace settings; PATCH with any of them (unknown fields are refused)."""

    class Meta:
        model = AnnotatorSettings
        fields = ["confirm_with_enter"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
        return attrs


# --- tasks ----------------------------------------------------------------------------


class TaskSerializer(serializers.ModelSerializer):
    """A task in a lead's list: counters, no annotation values."""

    class Meta:
        model = Task
        fields = [
            "id",
            "kind",
            "target",
            "document",
            "sentence",
            "position",
            "overlap",
            "n_assigned",
            "n_submitted",
            "is_open",
        ]


class TaskDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    source_url = serializers.CharField(
        help_text="Where the document comes from (may be empty). The whole document, "
        "sentence by sentence with paragraph breaks and tokens, is GET /api/documents/{id}/."
    )


class TaskSchemaSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField())
    level = serializers.CharField()
    values = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    targets = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    widget = serializers.CharField(help_text="The workspace widget that answers this kind.")


class LeaseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=AssignmentStatus.choices)
    expires_at = serializers.DateTimeField()


class OwnAnnotationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    value = KindValueField(help_text=VALUE_HELP)
    revision = serializers.IntegerField()
    lead_time_ms = serializers.IntegerField(allow_null=True)
    from_suggestion = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class SuggestionSpanSerializer(serializers.Serializer):
    start = serializers.IntegerField(help_text=START_HELP)
    end = serializers.IntegerField(help_text=END_HELP)


class SuggestionSerializer(serializers.Serializer):
    """A suggested attribution triple: accept it as is (``from_suggestion``) or edit it."""

    source = SuggestionSpanSerializer()  # type: ignore[assignment]  # a declared field; the stubs see the Field attribute
    cue = SuggestionSpanSerializer()
    content = SuggestionSpanSerializer()
    confidence = serializers.FloatField(
        help_text="The rule's prior confidence in [0, 1] (not a calibrated probability)."
    )
    rule = serializers.CharField(
        help_text="The rule that found it, e.g. quote-before-cue, cue-that, according-to; "
        "+pronoun when the source replaces a pronoun (he, she, it, they) by an earlier source."
    )


class GroupMemberSerializer(serializers.Serializer):
    """One task of a sentence group (``next-task?group=sentence``), leased to you."""

    id = serializers.IntegerField()
    target = serializers.CharField()
    lease = LeaseSerializer()


def group_member(lease: Assignment) -> dict[str, Any]:
    """A leased task of a sentence group, as ``GroupMemberSerializer`` shows it."""
    return {
        "id": lease.task_id,
        "target": lease.place[2],  # type: ignore[attr-defined]
        "lease": {"status": lease.status, "expires_at": lease.expires_at},
    }


class TaskPredictionSerializer(serializers.Serializer):
    """A model's prediction for the task, shown beside the rule-based suggestions."""

    model = serializers.CharField()
    value = KindValueField(help_text="Shaped like an annotation value of the task's kind.")
    score = serializers.FloatField(allow_null=True)


class TaskPayloadSerializer(serializers.Serializer):
    """Everything a frontend needs to show one task (documentation of ``task_payload``)."""

    id = serializers.IntegerField()
    project = serializers.IntegerField()
    kind = KindField()
    target = serializers.CharField()
    sentence = SentenceSerializer()
    previous = SentenceSerializer(many=True)
    next = SentenceSerializer(many=True)
    document = TaskDocumentSerializer()
    schema = TaskSchemaSerializer()
    guidelines = serializers.CharField()
    lease = LeaseSerializer(allow_null=True)
    annotation = OwnAnnotationSerializer(allow_null=True)
    suggestions = SuggestionSerializer(
        many=True,
        help_text="Attribution tasks: triples suggested by rules (reporting verbs, quotation "
        "marks, the speaker's noun phrase), most confident first, in document offsets like "
        "the value; empty for other kinds and when no rule fires.",
    )
    group = GroupMemberSerializer(
        many=True,
        required=False,
        help_text="With group=sentence: every task of this sentence leased to you in this "
        "queue (this one included), in target order. Submit each with its own PUT.",
    )
    predictions = TaskPredictionSerializer(
        many=True,
        help_text="Predictions imported by the project's leads (POST …/predictions/), best "
        "score first; offsets like the value. Empty when no model answered this task.",
    )


def _sentence(row: Sentence) -> dict[str, Any]:
    return {
        "id": row.pk,
        "position": row.position,
        "start": row.start,
        "end": row.end,
        "text": row.text,
    }


def task_payload(
    *,
    task_id: int,
    user: Any,
    project: Project,
    assignment: Assignment | None = None,
    schema: LabelSchema | None = None,
    own_annotation: bool = True,
    kind: str | None = None,
) -> dict[str, Any]:
    """The task as the annotator sees it: sentence, neighbours, schema, lease, own value.

    ``project`` must be loaded (its guidelines are shown). The next-task view passes what
    it knows (the assignment with its ``place``, the schema, ``kind``,
    ``own_annotation=False`` for a fresh lease): then the payload is ONE query.
    """
    place = getattr(assignment, "place", None)
    if place is None or kind is None:
        task = Task.objects.only(
            "id", "project_id", "kind", "target", "document_id", "position"
        ).get(pk=task_id)
        kind, place = task.kind, (task.document_id, task.position, task.target)
    document_id, position, target = place
    spec = kind_spec(kind)
    window, document = sentence_window(document_id, position, tokens=spec.marks_spans)
    if schema is None:
        schema = LabelSchema.objects.get(project_id=project.pk, kind=kind)
    if assignment is None:
        assignment = Assignment.objects.filter(task_id=task_id, annotator_id=user.pk).first()
    own = (
        Annotation.objects.filter(task_id=task_id, annotator_id=user.pk)
        .values("id", "value", "revision", "lead_time_ms", "from_suggestion", "updated_at")
        .first()
        if own_annotation
        else None
    )
    sentence = next(s for s in window if s["position"] == position)
    return {
        "id": task_id,
        "project": project.pk,
        "kind": kind,
        "target": target,
        "sentence": sentence,
        "previous": [s for s in window if s["position"] < position],
        "next": [s for s in window if s["position"] > position],
        "document": {"id": document_id, **document},
        "schema": {
            "labels": schema.labels,
            "level": schema.level,
            "values": schema.values,
            "targets": schema.targets,
            "description": schema.description,
            "widget": spec.widget,
        },
        "guidelines": project.guidelines,
        "lease": (
            {"status": assignment.status, "expires_at": assignment.expires_at}
            if assignment is not None
            else None
        ),
        "annotation": own,
        "suggestions": task_suggestions(kind, document_id, sentence),
        "predictions": task_predictions(project.pk, task_id),
    }


class SkipResultSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    status = serializers.ChoiceField(choices=AssignmentStatus.choices)


# --- annotations ----------------------------------------------------------------------


class AnnotationWriteSerializer(serializers.Serializer):
    """``PUT /api/tasks/{id}/annotation/``: the value is validated against the schema."""

    value = KindValueField(help_text=VALUE_HELP)
    lead_time_ms = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=24 * 60 * 60 * 1000
    )
    from_suggestion = serializers.BooleanField(
        required=False,
        default=False,
        help_text="True when the value started from one of the task's suggestions (accepted "
        "as is or edited); attribution tasks only. Stored with the annotation so agreement "
        "and exports can be split by it.",
    )
    offset_unit = offset_unit_field()


class AnnotationSerializer(serializers.ModelSerializer):
    """An annotation with where it belongs; who made it is shown to leads and its author."""

    username = serializers.CharField(source="annotator.username", read_only=True)
    value = KindValueField(read_only=True, help_text=VALUE_HELP)
    kind = serializers.CharField(source="task.kind", read_only=True)
    target = serializers.CharField(source="task.target", read_only=True)
    document = serializers.IntegerField(source="task.document_id", read_only=True)
    sentence = serializers.IntegerField(source="task.sentence_id", read_only=True)
    position = serializers.IntegerField(source="task.position", read_only=True)

    class Meta:
        model = Annotation
        fields = [
            "id",
            "task",
            "kind",
            "target",
            "document",
            "sentence",
            "position",
            "annotator",
            "username",
            "value",
            "lead_time_ms",
            "from_suggestion",
            "revision",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {"value": {"help_text": VALUE_HELP}}


def annotation_body(annotation: Annotation, task: Task, user: Any) -> dict[str, Any]:
    """``AnnotationSerializer``'s shape as a plain dict, for the submit response (hot path)."""
    return {
        "id": annotation.pk,
        "task": task.pk,
        "kind": task.kind,
        "target": task.target,
        "document": task.document_id,
        "sentence": task.sentence_id,
        "position": task.position,
        "annotator": user.pk,
        "username": user.get_username(),
        "value": annotation.value,
        "lead_time_ms": annotation.lead_time_ms,
        "from_suggestion": annotation.from_suggestion,
        "revision": annotation.revision,
        "created_at": annotation.created_at,
        "updated_at": annotation.updated_at,
    }


class AnnotationRevisionSerializer(serializers.ModelSerializer):
    value = KindValueField(read_only=True, help_text=VALUE_HELP)

    class Meta:
        model = AnnotationRevision
        fields = ["revision", "value", "lead_time_ms", "from_suggestion", "created_at"]
        extra_kwargs = {"value": {"help_text": VALUE_HELP}}


class AnnotationDetailSerializer(AnnotationSerializer):
    """An annotation with its earlier revisions, oldest first."""

    revisions = AnnotationRevisionSerializer(many=True, read_only=True)

    class Meta(AnnotationSerializer.Meta):
        fields = [*AnnotationSerializer.Meta.fields, "revisions"]
        read_only_fields = fields


# --- progress -------------------------------------------------------------------------


class KindProgressSerializer(serializers.Serializer):
    kind = serializers.CharField()
    target = serializers.CharField()
    n_tasks = serializers.IntegerField()
    n_complete = serializers.IntegerField(help_text="Tasks with as many annotations as overlap.")
    n_annotations = serializers.IntegerField()
    n_annotations_needed = serializers.IntegerField()
    n_active_leases = serializers.IntegerField()


class AnnotatorKindProgressSerializer(serializers.Serializer):
    kind = serializers.CharField()
    done = serializers.IntegerField()
    skipped = serializers.IntegerField()
    active = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="Tasks of this kind not done or skipped.")


class AnnotatorProgressSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    by_kind = AnnotatorKindProgressSerializer(many=True)


class ProgressSerializer(serializers.Serializer):
    """Project totals by kind and target; per annotator by kind (annotators: only their own)."""

    project = serializers.IntegerField()
    by_kind = KindProgressSerializer(many=True)
    annotators = AnnotatorProgressSerializer(many=True)
