"""REST API routes, mounted under /api/. Other route modules are included at the end."""

from django.urls import include, path

from labeling.api import views
from labeling.api.auth_views import LogoutView, ObtainTokenView

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", LogoutView.as_view(), name="api-logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("me/settings/", views.AnnotatorSettingsView.as_view(), name="me-settings"),
    path("projects/", views.ProjectListView.as_view(), name="projects"),
    path("projects/<int:project_id>/", views.ProjectDetailView.as_view(), name="project"),
    path("projects/<int:project_id>/members/", views.MemberListView.as_view(), name="members"),
    path(
        "projects/<int:project_id>/members/<int:user_id>/",
        views.MemberDetailView.as_view(),
        name="member",
    ),
    path(
        "projects/<int:project_id>/documents/",
        views.DocumentListView.as_view(),
        name="documents",
    ),
    path("documents/<int:document_id>/", views.DocumentDetailView.as_view(), name="document"),
    path("import-jobs/<int:job_id>/", views.ImportJobDetailView.as_view(), name="import-job"),
    path("projects/<int:project_id>/tasks/", views.TaskListView.as_view(), name="tasks"),
    path("projects/<int:project_id>/next-task/", views.NextTaskView.as_view(), name="next-task"),
    path(
        "projects/<int:project_id>/annotations/",
        views.ProjectAnnotationListView.as_view(),
        name="project-annotations",
    ),
    path(
        "projects/<int:project_id>/my-annotations/",
        views.MyAnnotationListView.as_view(),
        name="my-annotations",
    ),
    path("projects/<int:project_id>/progress/", views.ProgressView.as_view(), name="progress"),
    path("tasks/<int:task_id>/", views.TaskDetailView.as_view(), name="task"),
    path("tasks/<int:task_id>/annotation/", views.AnnotationView.as_view(), name="annotation"),
    path("tasks/<int:task_id>/skip/", views.SkipView.as_view(), name="skip"),
    path("tasks/<int:task_id>/undo/", views.UndoView.as_view(), name="undo"),
    path(
        "annotations/<int:annotation_id>/",
        views.AnnotationDetailView.as_view(),
        name="annotation-detail",
    ),
    # Other concerns' routes:
    path("", include("labeling.api.agreement_urls")),
    path("", include("labeling.api.export_urls")),
    path("", include("labeling.api.gold_urls")),
    path("", include("labeling.api.quality_urls")),
    path("", include("labeling.api.webhook_urls")),
    path("", include("labeling.api.user_urls")),
    path("", include("labeling.predictions.urls")),
]
