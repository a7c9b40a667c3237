"""Admin pages of webhooks and their delivery log: leads see their projects', never a secret."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.safestring import SafeString

from labeling.admin.model_admins import ScopedAdmin, excerpt, pretty_json
from labeling.webhooks.delivering import forget_webhooks
from labeling.webhooks.models import Webhook, WebhookDelivery


@admin.register(Webhook)
class WebhookAdmin(ScopedAdmin):
    """Registered through the API; here leads pause (``active``), describe or delete them."""

    list_display = ("id", "project", "url", "event_list", "active", "n_deliveries", "created_at")
    list_filter = ("active", ("project", RelatedOnlyFieldListFilter))
    list_select_related = ("project",)
    fields = ("project", "url", "event_list", "active", "description", "created_by", "created_at")
    readonly_fields = ("project", "url", "event_list", "created_by", "created_at")
    lead_can_change = True
    lead_can_delete = True

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).annotate(n_deliveries=Count("deliveries"))

    def save_model(self, request: HttpRequest, obj: Webhook, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        forget_webhooks(obj.project_id)

    def delete_model(self, request: HttpRequest, obj: Webhook) -> None:
        super().delete_model(request, obj)
        forget_webhooks(obj.project_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        projects = set(queryset.values_list("project_id", flat=True))
        super().delete_queryset(request, queryset)
        for project_id in projects:
            forget_webhooks(project_id)

    @admin.display(description="events")
    def event_list(self, obj: Webhook) -> str:
        return ", ".join(obj.events or [])

    @admin.display(description="deliveries", ordering="n_deliveries")
    def n_deliveries(self, obj: Webhook) -> int:
        return int(getattr(obj, "n_deliveries", 0))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdmin):
    """The delivery log: every event sent to a webhook, its tries, last error and next try."""

    list_display = (
        "id",
        "webhook",
        "event",
        "status",
        "attempts",
        "response_status",
        "short_error",
        "next_attempt",
        "last_attempt_at",
    )
    list_filter = ("status", "event", ("webhook", RelatedOnlyFieldListFilter))
    list_select_related = ("webhook",)
    fields = (
        "webhook",
        "event",
        "message_id",
        "status",
        "attempts",
        "max_attempts",
        "response_status",
        "error",
        "response_body",
        "duration_ms",
        "last_attempt_at",
        "next_attempt",
        "created_at",
        "finished_at",
        "payload_pretty",
    )
    readonly_fields = fields

    @admin.display(description="last error")
    def short_error(self, obj: WebhookDelivery) -> str:
        return excerpt(obj.error, 80) if obj.error else "—"

    @admin.display(description="next try", ordering="run_after")
    def next_attempt(self, obj: WebhookDelivery) -> object:
        return (obj.run_after or obj.created_at) if obj.status == "queued" else "—"

    @admin.display(description="payload")
    def payload_pretty(self, obj: WebhookDelivery) -> SafeString:
        import json

        return pretty_json(json.loads(obj.payload) if obj.payload else None)
