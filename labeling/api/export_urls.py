"""Routes of dataset export (streamed, and as a background job), included by ``api.urls``."""

from django.urls import path

from labeling.api import export_views as views

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
]
