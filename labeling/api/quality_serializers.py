"""Request and response shapes of the quality-control API."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from labeling.api.serializers import KindValueField
from labeling.quality.models import (
    AnnotatorStatus,
    ControlQuestion,
    Qualification,
    QualitySettings,
)


class QualitySettingsSerializer(serializers.ModelSerializer):
    """A project's quality policy; every field optional on PATCH."""

    control_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    warn_below = serializers.FloatField(min_value=0, max_value=1, allow_null=True, required=False)
    pause_below = serializers.FloatField(min_value=0, max_value=1, allow_null=True, required=False)
    qualification_accuracy = serializers.FloatField(min_value=0, max_value=1, required=False)
    escalation_threshold = serializers.FloatField(min_value=0, max_value=1, required=False)
    escalation_thresholds = serializers.DictField(
        child=serializers.FloatField(min_value=0, max_value=1), required=False
    )
    escalation_step = serializers.IntegerField(min_value=1, max_value=100, required=False)
    escalation_max_extra = serializers.IntegerField(min_value=0, max_value=100, required=False)
    qualification_size = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    min_control_answers = serializers.IntegerField(min_value=1, max_value=10000, required=False)

    class Meta:
        model = QualitySettings
        fields = [
            "control_rate",
            "warn_below",
            "pause_below",
            "min_control_answers",
            "qualification_size",
            "qualification_accuracy",
            "escalation_enabled",
            "escalation_threshold",
            "escalation_thresholds",
            "escalation_step",
            "escalation_max_extra",
            "quota_total",
            "quota_per_day",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        # Null until a lead first saves the project's settings (the defaults are shown).
        extra_kwargs = {"updated_at": {"allow_null": True}}


class ControlInSerializer(serializers.Serializer):
    """One control question to set: a task of the project and its right answer."""

    task = serializers.IntegerField()
    value = KindValueField(
        required=False, help_text="The right answer; default: the task's adjudicated gold."
    )


class ControlSerializer(serializers.ModelSerializer):
    target = serializers.CharField(source="task.target", read_only=True)
    document = serializers.IntegerField(source="task.document_id", read_only=True)
    n_answers = serializers.IntegerField(read_only=True)
    accuracy = serializers.FloatField(read_only=True, allow_null=True)
    value = KindValueField(read_only=True, help_text="The right answer.")

    class Meta:
        model = ControlQuestion
        fields = [
            "id",
            "task",
            "kind",
            "target",
            "document",
            "value",
            "n_answers",
            "accuracy",
            "created_at",
        ]
        read_only_fields = fields


def control_body(control: ControlQuestion) -> dict[str, Any]:
    """A control as ``ControlSerializer`` shows it, for one just set (no answers yet read)."""
    return {
        "id": control.pk,
        "task": control.task_id,
        "kind": control.kind,
        "target": control.task.target,
        "document": control.task.document_id,
        "value": control.value,
        "n_answers": getattr(control, "n_answers", 0),
        "accuracy": getattr(control, "accuracy", None),
        "created_at": control.created_at,
    }


class AnnotatorUpdateSerializer(serializers.Serializer):
    """What a lead changes about one annotator: pause or resume, quotas, qualification."""

    status = serializers.ChoiceField(choices=AnnotatorStatus.choices, required=False)
    paused_reason = serializers.CharField(max_length=500, required=False, allow_blank=True)
    quota_total = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    quota_per_day = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    qualification = serializers.ChoiceField(choices=Qualification.choices, required=False)


class DayCountSerializer(serializers.Serializer):
    date = serializers.DateField()
    n = serializers.IntegerField()


class LabelAccuracySerializer(serializers.Serializer):
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field; the stubs see the Field attribute
    n = serializers.IntegerField()
    accuracy = serializers.FloatField()


class QualificationReportSerializer(serializers.Serializer):
    required = serializers.BooleanField()  # type: ignore[assignment]  # a declared field; the stubs see the Field attribute
    status = serializers.ChoiceField(choices=Qualification.choices)
    n_answered = serializers.IntegerField()
    n_right = serializers.IntegerField()
    wrong_tasks = serializers.ListField(child=serializers.IntegerField())


class PairwiseAgreementSerializer(serializers.Serializer):
    kind = serializers.CharField()
    run = serializers.IntegerField(help_text="The agreement run it comes from (the latest done).")
    alpha_without = serializers.FloatField(
        allow_null=True, help_text="Leave-one-out: the others' alpha without this annotator."
    )
    alpha_delta = serializers.FloatField(
        allow_null=True, help_text="The overall alpha minus alpha_without (their contribution)."
    )
    pairwise_alpha = serializers.FloatField(
        allow_null=True, help_text="Alpha with each other annotator, weighted by the items shared."
    )


class DawidSkeneAccuracySerializer(serializers.Serializer):
    kind = serializers.CharField()
    job = serializers.IntegerField(help_text="The gold job it comes from (the latest done).")
    accuracy = serializers.FloatField(allow_null=True)


class AnnotatorReportSerializer(serializers.Serializer):
    """One annotator's report (documentation of ``reports.annotator_report``)."""

    user = serializers.IntegerField()
    username = serializers.CharField()
    status = serializers.ChoiceField(choices=AnnotatorStatus.choices)
    paused_reason = serializers.CharField()
    n_annotations = serializers.IntegerField(help_text="Annotations of real tasks (no controls).")
    n_skipped = serializers.IntegerField()
    lead_time_median_ms = serializers.IntegerField(allow_null=True)
    lead_time_p90_ms = serializers.IntegerField(allow_null=True)
    throughput = DayCountSerializer(many=True, help_text="Annotations per day, last 14 days.")
    n_control_answers = serializers.IntegerField()
    control_accuracy = serializers.FloatField(
        allow_null=True, help_text="Share of right first answers; null before any."
    )
    control_accuracy_ci95 = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="Wilson interval."
    )
    control_per_label = LabelAccuracySerializer(many=True)
    warning = serializers.BooleanField(help_text="Control accuracy below the warning threshold.")
    drift = serializers.BooleanField(
        help_text="The last 20 control answers are clearly worse than the earlier ones."
    )
    agreement_with_others = PairwiseAgreementSerializer(many=True)
    dawid_skene_accuracy = DawidSkeneAccuracySerializer(many=True)
    qualification = QualificationReportSerializer()
    quota_total = serializers.IntegerField(allow_null=True)
    quota_per_day = serializers.IntegerField(allow_null=True)


class AssignmentInSerializer(serializers.Serializer):
    """Reserve work for one annotator: ``documents``, or ``count``, or ``share`` of open tasks."""

    username = serializers.CharField(max_length=150)
    documents = serializers.ListField(
        child=serializers.JSONField(), required=False, min_length=1, help_text="Document ids."
    )
    count = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    share = serializers.FloatField(min_value=0, max_value=1, required=False)
    kind = serializers.CharField(max_length=64, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("documents", "count", "share") if k in attrs]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"documents": ["send exactly one of documents, count or share"]}
            )
        for i, doc in enumerate(attrs.get("documents") or []):
            if isinstance(doc, bool) or not isinstance(doc, int) or doc < 1:
                raise serializers.ValidationError({f"documents[{i}]": ["must be a document id"]})
        return attrs


class AssignmentResultSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    username = serializers.CharField()
    reserved = serializers.ListField(child=serializers.IntegerField(), help_text="Task ids.")
    already_reserved = serializers.IntegerField()
    full = serializers.IntegerField(help_text="Tasks left out: no slot was free.")


class ReservationSummarySerializer(serializers.Serializer):
    user = serializers.IntegerField()
    username = serializers.CharField()
    n_reserved = serializers.IntegerField(help_text="Standing reservations (not yet leased).")


class EscalationKindSerializer(serializers.Serializer):
    kind = serializers.CharField()
    n_escalated = serializers.IntegerField()
    n_open = serializers.IntegerField(help_text="Still waiting for their extra annotators.")
    n_resolved = serializers.IntegerField(help_text="The extra annotations agreed.")
    n_unresolved = serializers.IntegerField(help_text="Maximum reached, still disagreeing.")


class EscalationCountsSerializer(serializers.Serializer):
    """Escalated tasks of a project, in total and by kind."""

    n_escalated = serializers.IntegerField()
    n_open = serializers.IntegerField()
    n_resolved = serializers.IntegerField()
    n_unresolved = serializers.IntegerField()
    by_kind = EscalationKindSerializer(many=True)


class PriorityInSerializer(serializers.Serializer):
    document = serializers.IntegerField()
    priority = serializers.IntegerField(min_value=0, help_text="Higher first; 0 removes it.")


class PrioritySerializer(serializers.Serializer):
    document = serializers.IntegerField()
    title = serializers.CharField()
    priority = serializers.IntegerField()
