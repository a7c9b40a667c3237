"""Serializers of agreement runs and the disputed-first review queue (read shapes only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labeling.agreement_runs.runs import SUMMARY_KEYS, annotations_since
from labeling.api.serializers import KindField, KindValueField
from labeling.models import AgreementRun, JobStatus
from labeling.offsets import END_HELP, START_HELP, VALUE_HELP


class AgreementRunRequestSerializer(serializers.Serializer):
    """Body of ``POST /api/projects/{id}/agreement-runs/``."""

    kind = KindField()


class PairSerializer(serializers.Serializer):
    a = serializers.IntegerField(help_text="User id of the first annotator.")
    b = serializers.IntegerField(help_text="User id of the second annotator.")
    a_username = serializers.CharField()
    b_username = serializers.CharField()
    n_shared = serializers.IntegerField(help_text="Items both annotated.")
    alpha = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="few_valid_draws, no_interval, too_few_pairable_values, failing_target, "
        "tasks_left_out"
    )
    message = serializers.CharField()


class IntervalSerializer(serializers.Serializer):
    method = serializers.CharField()
    resampled = serializers.CharField(help_text="items, sentences, documents or tasks")
    n_draws = serializers.IntegerField()
    n_valid = serializers.IntegerField(help_text="Draws where the figure was defined.")
    confidence = serializers.FloatField()


class TargetResultSerializer(serializers.Serializer):
    target = serializers.CharField()
    alpha = serializers.FloatField(allow_null=True)
    alpha_ci95 = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    alpha_interval = IntervalSerializer(allow_null=True)
    n_items = serializers.IntegerField()
    warnings = WarningSerializer(many=True)


class DocumentDisputedSerializer(serializers.Serializer):
    task_id = serializers.IntegerField()
    sentence_id = serializers.IntegerField()
    position = serializers.IntegerField(help_text="The sentence's position in its document.")
    target = serializers.CharField()
    score = serializers.FloatField(help_text="Item disagreement (see definitions).")


class DocumentAgreementSerializer(serializers.Serializer):
    """Agreement within one document: the headline's alpha, interval and warnings."""

    document_id = serializers.IntegerField()
    title = serializers.CharField()
    alpha = serializers.FloatField(allow_null=True)
    alpha_ci95 = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    alpha_interval = IntervalSerializer(allow_null=True)
    n_items = serializers.IntegerField()
    n_pairable_items = serializers.IntegerField()
    n_pairable_values = serializers.IntegerField()
    n_annotations = serializers.IntegerField()
    warnings = WarningSerializer(
        many=True, help_text="too_few_pairable_values when the document cannot tell alpha."
    )
    n_disputed = serializers.IntegerField(help_text="Items with a positive disagreement.")
    disputed = DocumentDisputedSerializer(
        many=True, help_text="The most disputed items of the document first (at most 10)."
    )


class DocumentAgreementDetailSerializer(DocumentAgreementSerializer):
    disputed = serializers.ListField(  # type: ignore[assignment]
        child=serializers.DictField(),
        help_text="The most disputed items first, each with its sentence, current annotations "
        "and gold (the shape of the disputed queue's entries).",
    )


class GroupAgreementSerializer(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True)
    alpha_ci95 = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    alpha_interval = IntervalSerializer(allow_null=True)
    n_items = serializers.IntegerField()
    n_pairable_values = serializers.IntegerField()
    n_annotations = serializers.IntegerField()
    warnings = WarningSerializer(many=True)


class SuggestionSplitSerializer(serializers.Serializer):
    suggested = GroupAgreementSerializer(help_text="Answers that began from a suggestion.")
    not_suggested = GroupAgreementSerializer(help_text="Answers that did not.")
    share_suggested = serializers.FloatField(allow_null=True)


class AgreementResultSerializer(serializers.Serializer):
    """The documented part of a finished run's result (more keys may be present)."""

    kind = serializers.CharField()
    level = serializers.CharField(required=False)
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha.")
    alpha_ci95 = serializers.ListField(
        child=serializers.FloatField(),
        allow_null=True,
        help_text="Bootstrap 95% interval [low, high] (items resampled).",
    )
    percent_agreement = serializers.FloatField(allow_null=True)
    n_items = serializers.IntegerField()
    n_annotations = serializers.IntegerField()
    cohen_kappa = serializers.FloatField(allow_null=True, required=False)
    fleiss_kappa = serializers.FloatField(allow_null=True, required=False)
    scott_pi = serializers.FloatField(allow_null=True, required=False)
    gwet_ac1 = serializers.FloatField(allow_null=True, required=False)
    pairwise = PairSerializer(many=True)
    per_label = serializers.JSONField(help_text="One-vs-rest agreement per label.")
    coincidence = serializers.JSONField(required=False, help_text="Coincidence matrix.")
    annotators = serializers.ListField(child=serializers.DictField())
    most_disputed = serializers.ListField(
        child=serializers.DictField(), help_text="Most disputed tasks first, with every value."
    )
    per_target = TargetResultSerializer(
        many=True,
        required=False,
        help_text="Stance: the metrics per target, in schema order (the headline pools them).",
    )
    alpha_interval = IntervalSerializer(
        allow_null=True, required=False, help_text="How alpha_ci95 was drawn."
    )
    warnings = WarningSerializer(many=True, help_text="Machine-readable caveats of this result.")
    definitions = serializers.DictField(
        child=serializers.DictField(), help_text="Each figure's definition and source."
    )
    unitizing_alpha = serializers.DictField(
        required=False, help_text="Attribution: Krippendorff's alpha_U overall, per role, CI."
    )
    gamma = serializers.DictField(
        required=False, help_text="Attribution: Mathet's gamma overall, per role, CI."
    )
    triple_f1 = serializers.DictField(
        required=False, help_text="Attribution: pairwise F1 of whole triples (exact, overlap)."
    )
    models = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Each model with imported predictions of this kind, compared from outside "
        "(never part of the figures above): `model`, `n_predictions`, `mean_score`, and "
        "`vs_majority`, `vs_annotators`, `vs_gold`, each `{n, accuracy, accuracy_ci95, "
        "kappa, kappa_ci95, interval}` (kappa null for span kinds).",
    )
    per_document = DocumentAgreementSerializer(
        many=True,
        required=False,
        help_text="Alpha per document (document order); sorted and paged at "
        "agreement-runs/{id}/documents/.",
    )
    by_suggestion = SuggestionSplitSerializer(
        required=False,
        help_text="Alpha of the answers that began from a suggestion and of the others "
        "(pairs within each group only); present when some did.",
    )
    per_annotator = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="Per annotator: leave-one-out alpha_without and alpha_delta, and "
        "dawid_skene_accuracy (Dawid & Skene 1979).",
    )


class AgreementRunSerializer(serializers.ModelSerializer):
    """A run with its status and progress, and its result once it is done."""

    result = serializers.SerializerMethodField()
    annotations_since = serializers.SerializerMethodField(
        help_text="Annotations saved or edited after this run read them (null until done): "
        "the result does not include them."
    )

    class Meta:
        model = AgreementRun
        fields = [
            "id",
            "project",
            "kind",
            "status",
            "progress",
            "trigger",
            "error",
            "timings",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "annotations_since",
            "result",
        ]
        read_only_fields = fields

    @extend_schema_field(AgreementResultSerializer(allow_null=True))
    def get_result(self, run: AgreementRun) -> dict[str, Any] | None:
        return run.result if run.status == JobStatus.DONE else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_annotations_since(self, run: AgreementRun) -> int | None:
        return annotations_since(run)


class AgreementSummarySerializer(serializers.Serializer):
    alpha = serializers.FloatField(allow_null=True)
    alpha_ci95 = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    percent_agreement = serializers.FloatField(allow_null=True)
    n_items = serializers.IntegerField(allow_null=True)
    n_annotations = serializers.IntegerField(allow_null=True)


class AgreementRunListSerializer(serializers.ModelSerializer):
    """A run in the history: status and headline figures, not the whole result."""

    summary = serializers.SerializerMethodField()

    class Meta:
        model = AgreementRun
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "trigger",
            "error",
            "timings",
            "created_at",
            "started_at",
            "finished_at",
            "summary",
        ]
        read_only_fields = fields

    @extend_schema_field(AgreementSummarySerializer(allow_null=True))
    def get_summary(self, run: AgreementRun) -> dict[str, Any] | None:
        if run.status != JobStatus.DONE:
            return None
        return {k: getattr(run, f"summary_{k}", None) for k in SUMMARY_KEYS}


class DisputedSentenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    position = serializers.IntegerField()
    start = serializers.IntegerField(help_text=START_HELP)
    end = serializers.IntegerField(help_text=END_HELP)
    text = serializers.CharField()


class DisputedAnnotationSerializer(serializers.Serializer):
    annotator = serializers.IntegerField()
    username = serializers.CharField()
    value = KindValueField(help_text=VALUE_HELP)


class DisputedTaskSerializer(serializers.Serializer):
    """A task of the review queue, most disputed first."""

    task_id = serializers.IntegerField()
    kind = serializers.CharField()
    target = serializers.CharField()
    document_id = serializers.IntegerField()
    sentence = DisputedSentenceSerializer()
    score = serializers.FloatField(help_text="Disagreement of the task in the ranking run.")
    run_id = serializers.IntegerField(help_text="The agreement run that ranked it.")
    annotations = DisputedAnnotationSerializer(many=True)
    gold = serializers.JSONField(
        allow_null=True, help_text="{value, method, confidence}; spans as in annotations."
    )
