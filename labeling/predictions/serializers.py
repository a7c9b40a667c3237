"""Predictions as the REST API reads and writes them."""

from __future__ import annotations

from rest_framework import serializers

from labeling.api.serializers import KindValueField
from labeling.predictions.models import MODEL_NAME_MAX_LENGTH, Prediction


class PredictionInSerializer(serializers.Serializer):
    """One prediction to import (documentation; ``importing`` checks the body itself)."""

    task = serializers.IntegerField(min_value=1, help_text="A task of this project.")
    model = serializers.CharField(max_length=MODEL_NAME_MAX_LENGTH, help_text="The model's name.")
    value = KindValueField(
        help_text="Shaped like an annotation value of the task's kind, checked the same way; "
        "offsets in code points unless offset_unit=utf16."
    )
    score = serializers.FloatField(
        required=False, allow_null=True, help_text="The model's confidence, any finite number."
    )


class PredictionImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField(help_text="Predictions of the same task and model replaced.")


class PredictionSerializer(serializers.ModelSerializer):
    """A stored prediction."""

    model = serializers.CharField(source="model_name")
    kind = serializers.CharField(source="task.kind")
    document = serializers.IntegerField(source="task.document_id")
    value = KindValueField()

    class Meta:
        model = Prediction
        fields = ["id", "task", "kind", "document", "model", "value", "score", "updated_at"]
        read_only_fields = fields


class PredictionDeleteResultSerializer(serializers.Serializer):
    deleted = serializers.IntegerField()
