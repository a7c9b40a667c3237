"""Routes of model predictions, included by ``labeling.api.urls``."""

from django.urls import path

from labeling.predictions import views

urlpatterns = [
    path(
        "projects/<int:project_id>/predictions/",
        views.ProjectPredictionsView.as_view(),
        name="project-predictions",
    ),
]
