"""Routes of gold labels and annotator accuracy, included by ``labeling.api.urls``."""

from django.urls import path

from labeling.api import gold_views as views

urlpatterns = [
    path(
        "projects/<int:project_id>/gold/aggregate/",
        views.GoldAggregateView.as_view(),
        name="gold-aggregate",
    ),
    path("gold-jobs/<int:job_id>/", views.GoldJobDetailView.as_view(), name="gold-job"),
    path(
        "projects/<int:project_id>/gold/status/",
        views.GoldStatusView.as_view(),
        name="gold-status",
    ),
    path(
        "projects/<int:project_id>/gold/reaggregate/",
        views.GoldReaggregateView.as_view(),
        name="gold-reaggregate",
    ),
    path("tasks/<int:task_id>/gold/", views.TaskGoldView.as_view(), name="task-gold"),
    path(
        "projects/<int:project_id>/annotator-accuracy/",
        views.AnnotatorAccuracyView.as_view(),
        name="annotator-accuracy",
    ),
]
