"""Documents and their sentences.

Offsets are character offsets (code points) into ``Document.text``, half-open
(``text[start:end]``).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from labeling.models.projects import Project


class Document(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField()
    external_id = models.CharField(max_length=255, blank=True)
    source_url = models.URLField(max_length=2000, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the text.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"],
                condition=~Q(external_id=""),
                name="document_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["project", "content_hash"],
                condition=Q(external_id=""),
                name="document_unique_content_without_external_id",
            ),
        ]
        indexes = [models.Index(fields=["project", "content_hash"], name="document_hash_idx")]

    def __str__(self) -> str:
        return self.title or f"Document {self.pk}"


class Sentence(models.Model):
    """A sentence of a document; ``document.text[start:end] == text``."""

    # Indexed by the unique (document, position) constraint.
    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="sentences", db_index=False
    )
    position = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField()

    class Meta:
        ordering = ["document_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "position"], name="sentence_unique_position"
            ),
            models.CheckConstraint(
                condition=Q(start__lt=F("end")), name="sentence_start_before_end"
            ),
        ]

    def __str__(self) -> str:
        return self.text[:80]
