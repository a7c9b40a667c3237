"""Routes of agreement runs and the review queue, included by ``labeling.api.urls``."""

from django.urls import path

from labeling.api.agreement_views import (
    AgreementRunDetailView,
    AgreementRunDocumentsView,
    AgreementRunDocumentView,
    DisputedTasksView,
    ProjectAgreementRunsView,
)

urlpatterns = [
    path(
        "projects/<int:project_id>/agreement-runs/",
        ProjectAgreementRunsView.as_view(),
        name="project-agreement-runs",
    ),
    path("agreement-runs/<int:run_id>/", AgreementRunDetailView.as_view(), name="agreement-run"),
    path(
        "agreement-runs/<int:run_id>/documents/",
        AgreementRunDocumentsView.as_view(),
        name="agreement-run-documents",
    ),
    path(
        "agreement-runs/<int:run_id>/documents/<int:document_id>/",
        AgreementRunDocumentView.as_view(),
        name="agreement-run-document",
    ),
    path(
        "projects/<int:project_id>/disputed/",
        DisputedTasksView.as_view(),
        name="project-disputed",
    ),
]
