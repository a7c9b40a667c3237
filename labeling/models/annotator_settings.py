"""An annotator's workspace preferences, stored per user (they follow them across browsers)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AnnotatorSettings(models.Model):
    """Per-user workspace settings; a user without a row has the defaults."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotator_settings"
    )
    confirm_with_enter = models.BooleanField(
        default=False,
        help_text="Label kinds: a label key only picks the label and Enter submits "
        "(default: the label key submits and advances at once).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"workspace settings of {self.user}"
