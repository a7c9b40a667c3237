"""Webhooks and their delivery log as the REST API shows them; the secret only once."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labeling import events
from labeling.webhooks.models import URL_MAX_LENGTH, Webhook, WebhookDelivery
from labeling.webhooks.signing import SecretError, check_secret

EVENT_HELP = (
    "Events to receive: any of "
    + ", ".join(f"`{name}`" for name in sorted(events.NAMES))
    + " (see the README's Webhooks section for each payload's `data`)."
)
SIGNING_HELP = (
    "`whsec_` + base64 of at least 24 random bytes, used to sign every delivery "
    "(Standard Webhooks). Write-only: leave it out on creation to have one generated; the "
    "creation answer shows it once, nothing shows it again. PATCH it to rotate."
)


class WebhookSerializer(serializers.ModelSerializer):
    """A webhook as leads read it: never its secret."""

    url = serializers.CharField(
        max_length=URL_MAX_LENGTH,
        help_text="http:// or https:// URL that receives the POSTs; loopback and private "
        "addresses only when the server allows them.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(events.NAMES)),
        allow_empty=False,
        max_length=len(events.NAMES),
        help_text=EVENT_HELP,
    )
    secret = serializers.CharField(
        write_only=True, required=False, max_length=200, help_text=SIGNING_HELP
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "project",
            "url",
            "events",
            "active",
            "description",
            "secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "project", "created_at", "updated_at"]

    def validate_url(self, value: str) -> str:
        from labeling.webhooks.delivering import check_target
        from labeling.webhooks.targets import UnsafeTarget

        try:
            check_target(value)
        except UnsafeTarget as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate_events(self, value: list[str]) -> list[str]:
        return sorted(set(value))

    def validate_secret(self, value: str) -> str:
        try:
            return check_secret(value)
        except SecretError as exc:
            raise serializers.ValidationError(str(exc)) from None


class WebhookCreatedSerializer(WebhookSerializer):
    """The answer to a creation: the webhook and, this once, its secret."""

    secret = serializers.CharField(read_only=True, help_text="Shown this once; store it now.")


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One event sent to a webhook: the outcome of its last try and when the next one is due."""

    attempts = serializers.IntegerField(read_only=True, help_text="Tries made so far.")
    last_error = serializers.CharField(source="error", read_only=True)
    next_attempt_at = serializers.SerializerMethodField(
        help_text="When the next try is due (null once done or failed)."
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook",
            "event",
            "message_id",
            "status",
            "attempts",
            "max_attempts",
            "response_status",
            "last_error",
            "duration_ms",
            "last_attempt_at",
            "next_attempt_at",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_attempt_at(self, obj: WebhookDelivery) -> Any:
        if obj.status != "queued":
            return None
        when = obj.run_after or obj.created_at
        return serializers.DateTimeField().to_representation(when)


class WebhookDeliveryDetailSerializer(WebhookDeliverySerializer):
    """A delivery with the body it sends and the start of the receiver's last answer."""

    class Meta(WebhookDeliverySerializer.Meta):
        fields = [*WebhookDeliverySerializer.Meta.fields, "payload", "response_body"]
        read_only_fields = fields
