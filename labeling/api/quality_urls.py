"""Routes of quality control, included by ``labeling.api.urls``."""

from django.urls import path

from labeling.api import quality_views as views

urlpatterns = [
    path("projects/<int:project_id>/controls/", views.ControlListView.as_view(), name="controls"),
    path(
        "projects/<int:project_id>/controls/<int:control_id>/",
        views.ControlDetailView.as_view(),
        name="control",
    ),
    path(
        "projects/<int:project_id>/annotators/",
        views.AnnotatorReportView.as_view(),
        name="annotators",
    ),
    path(
        "projects/<int:project_id>/annotators/<int:user_id>/",
        views.AnnotatorDetailView.as_view(),
        name="annotator",
    ),
    path(
        "projects/<int:project_id>/assignments/",
        views.AssignmentListView.as_view(),
        name="assignments",
    ),
    path(
        "projects/<int:project_id>/assignments/<int:user_id>/",
        views.AssignmentDetailView.as_view(),
        name="assignment",
    ),
    path(
        "projects/<int:project_id>/quality/",
        views.QualitySettingsView.as_view(),
        name="quality-settings",
    ),
    path(
        "projects/<int:project_id>/escalations/",
        views.EscalationCountsView.as_view(),
        name="escalations",
    ),
    path(
        "projects/<int:project_id>/priorities/",
        views.PriorityListView.as_view(),
        name="priorities",
    ),
]
