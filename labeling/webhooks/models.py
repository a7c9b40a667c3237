"""Models of webhooks; imported by ``labeling.models`` so the app label stays ``labeling``.

A ``WebhookDelivery`` is one event sent to one webhook: a background job row
(``labeling.jobs.lifecycle``) whose ``attempts`` counts the tries, ``error`` holds the
last failure, ``run_after`` the next try while it is ``queued`` again, and whose
``payload`` is the exact body sent on every try (only the signature's timestamp moves).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from labeling.models import BackgroundJob, JobStatus, Project

URL_MAX_LENGTH = 2000


class Webhook(models.Model):
    """A URL of a project that receives the events it subscribes to, signed with ``secret``."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=URL_MAX_LENGTH)
    # Needed in clear to sign; never shown again after creation (API, admin).
    secret = models.CharField(max_length=200)
    events = models.JSONField(default=list, help_text="Event names (labeling.events.NAMES).")
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "active"], name="webhook_project_active_idx")]

    def __str__(self) -> str:
        return f"webhook #{self.pk} → {self.url}"


class WebhookDelivery(BackgroundJob):
    """One event sent (or being sent) to one webhook, with the outcome of its last try."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=64)
    message_id = models.CharField(max_length=64)  # the webhook-id header, same on every try
    payload = models.TextField()
    max_attempts = models.PositiveSmallIntegerField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the start of the last answer
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="webhookdelivery_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["webhook", "-id"], name="delivery_log_idx")]

    def __str__(self) -> str:
        return f"{self.event} → webhook #{self.webhook_id} ({self.status})"
