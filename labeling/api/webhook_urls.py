"""Routes of webhooks and their delivery log, included by ``labeling.api.urls``."""

from django.urls import path

from labeling.api import webhook_views as views

urlpatterns = [
    path(
        "projects/<int:project_id>/webhooks/",
        views.ProjectWebhooksView.as_view(),
        name="project-webhooks",
    ),
    path("webhooks/<int:webhook_id>/", views.WebhookDetailView.as_view(), name="webhook"),
    path(
        "webhooks/<int:webhook_id>/deliveries/",
        views.WebhookDeliveriesView.as_view(),
        name="webhook-deliveries",
    ),
    path(
        "webhook-deliveries/<int:delivery_id>/",
        views.WebhookDeliveryDetailView.as_view(),
        name="webhook-delivery",
    ),
]
