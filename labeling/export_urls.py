"""Routes of dataset export, gold labels and annotator accuracy, included by ``labeling.urls``."""

from django.urls import path

from labeling import export_views as views

urlpatterns = [
    path("projects/<int:project_id>/export/", views.ExportStreamView.as_view(), name="export"),
    path(
        "projects/<int:project_id>/exports/",
        views.ProjectExportsView.as_view(),
        name="project-exports",
    ),
    path("exports/<int:export_id>/", views.ExportDetailView.as_view(), name="export-detail"),
    path(
        "exports/<int:export_id>/download/",
        views.ExportDownloadView.as_view(),
        name="export-download",
    ),
    path(
        "projects/<int:project_id>/gold/aggregate/",
        views.GoldAggregateView.as_view(),
        name="gold-aggregate",
    ),
    path("tasks/<int:task_id>/gold/", views.TaskGoldView.as_view(), name="task-gold"),
    path(
        "projects/<int:project_id>/annotator-accuracy/",
        views.AnnotatorAccuracyView.as_view(),
        name="annotator-accuracy",
    ),
]
