"""REST interface of webhooks: register, read, change, delete; the delivery log. Leads only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.access import access_webhook, access_webhook_delivery, access_webhooks_of
from labeling.api.webhook_serializers import (
    WebhookCreatedSerializer,
    WebhookDeliveryDetailSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)
from labeling.webhooks.delivering import forget_webhooks, resume_due_deliveries
from labeling.webhooks.models import Webhook, WebhookDelivery
from labeling.webhooks.signing import new_secret


class ProjectWebhooksView(GenericAPIView):
    """A project's webhooks (GET) and registering one (POST); its secret is shown only then."""

    serializer_class = WebhookSerializer
    queryset = Webhook.objects.none()  # for the schema; requests use the project's webhooks

    @extend_schema(responses=WebhookSerializer(many=True))
    def get(self, request: Request, project_id: int) -> Response:
        project = access_webhooks_of(request.user, project_id)
        page = self.paginate_queryset(Webhook.objects.filter(project=project).order_by("id"))
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def post(self, request: Request, project_id: int) -> Response:
        project = access_webhooks_of(request.user, project_id)
        body = WebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(body.validated_data)
        data.setdefault("secret", new_secret())
        creator = request.user if request.user.is_authenticated else None
        hook = Webhook.objects.create(project=project, created_by=creator, **data)
        forget_webhooks(project.pk)
        return Response(WebhookCreatedSerializer(hook).data, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    """One webhook: read, change (url, events, active, description, secret) or delete."""

    @extend_schema(responses=WebhookSerializer)
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(WebhookSerializer(access_webhook(request.user, webhook_id)).data)

    @extend_schema(request=WebhookSerializer, responses=WebhookSerializer)
    def patch(self, request: Request, webhook_id: int) -> Response:
        hook = access_webhook(request.user, webhook_id)
        body = WebhookSerializer(hook, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        body.save()
        forget_webhooks(hook.project_id)
        return Response(WebhookSerializer(hook).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, webhook_id: int) -> Response:
        hook = access_webhook(request.user, webhook_id)
        hook.delete()
        forget_webhooks(hook.project_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(GenericAPIView):
    """The delivery log of a webhook, newest first: status, tries, last error, next try."""

    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()  # for the schema; requests use the webhook's

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    def get(self, request: Request, webhook_id: int) -> Response:
        hook = access_webhook(request.user, webhook_id)
        resume_due_deliveries(webhook_id=hook.pk)  # embedded mode only
        page = self.paginate_queryset(
            WebhookDelivery.objects.filter(webhook=hook).defer("payload", "response_body")
        )
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookDeliveryDetailView(APIView):
    """One delivery with its body and the start of the receiver's last answer."""

    @extend_schema(responses=WebhookDeliveryDetailSerializer)
    def get(self, request: Request, delivery_id: int) -> Response:
        delivery = access_webhook_delivery(request.user, delivery_id)
        return Response(WebhookDeliveryDetailSerializer(delivery).data)
