"""Every model of the labeling app, split by concept; no business logic.

``from labeling.models import X`` is the one way to import a model. The app label is
``labeling`` for every module here, so the migrations do not see the split.

- ``projects``: Project, Membership, LabelSchema (and the Level and Role choices)
- ``documents``: Document, Sentence
- ``tasks``: Task, Assignment (a labelling task and the annotators' leases on it)
- ``annotations``: Annotation, AnnotationRevision
- ``annotator_settings``: AnnotatorSettings (an annotator's workspace preferences)
- ``gold``: GoldLabel
- ``background_jobs``: the rows run by ``labeling.jobs``: AgreementRun, Export,
  ImportJob, GoldJob
- quality control's models live in ``labeling.quality.models``, webhooks' in
  ``labeling.webhooks.models``, predictions' in ``labeling.predictions.models`` and the
  review queue's DisputedItem in ``labeling.review.models``; all are registered here.
"""

from labeling.models.annotations import Annotation, AnnotationRevision
from labeling.models.annotator_settings import AnnotatorSettings
from labeling.models.background_jobs import (
    AgreementRun,
    BackgroundJob,
    Export,
    ExportFormat,
    GoldJob,
    GoldJobOperation,
    ImportJob,
    JobStatus,
)
from labeling.models.documents import Document, Sentence
from labeling.models.gold import GoldLabel, GoldMethod
from labeling.models.projects import KIND_MAX_LENGTH, LabelSchema, Level, Membership, Project, Role
from labeling.models.tasks import Assignment, AssignmentStatus, Task

# Predictions, quality control and webhooks live in their capability packages; importing
# their models here registers them.
from labeling.predictions.models import Prediction
from labeling.quality.models import (
    AnnotatorState,
    AnnotatorStatus,
    ControlAnswer,
    ControlQuestion,
    DocumentPriority,
    Escalation,
    EscalationStatus,
    Qualification,
    QualitySettings,
    Reservation,
)
from labeling.review.models import DisputedItem
from labeling.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "KIND_MAX_LENGTH",
    "AgreementRun",
    "Annotation",
    "AnnotationRevision",
    "AnnotatorSettings",
    "AnnotatorState",
    "AnnotatorStatus",
    "Assignment",
    "AssignmentStatus",
    "BackgroundJob",
    "ControlAnswer",
    "ControlQuestion",
    "DisputedItem",
    "Document",
    "DocumentPriority",
    "Escalation",
    "EscalationStatus",
    "Export",
    "ExportFormat",
    "GoldJob",
    "GoldJobOperation",
    "GoldLabel",
    "GoldMethod",
    "ImportJob",
    "JobStatus",
    "LabelSchema",
    "Level",
    "Membership",
    "Prediction",
    "Project",
    "Qualification",
    "QualitySettings",
    "Reservation",
    "Role",
    "Sentence",
    "Task",
    "Webhook",
    "WebhookDelivery",
]
