"""API tokens: get one (``POST /api/auth/token/``), revoke it (``POST /api/auth/logout/``)."""

from __future__ import annotations

from django.contrib.auth import logout
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.api.authentication import is_expired
from labeling.api.parsers import StrictJSONParser


class ObtainTokenView(ObtainAuthToken):
    """``{"username", "password"}`` -> ``{"token": KEY}``; an expired token is replaced.

    JSON only, like the rest of the API (DRF's view also took forms, which nothing used and
    which the login checks in ``labeling.api.middleware`` do not read).
    """

    parser_classes = [StrictJSONParser]

    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        """The user's token, a new one when they had none or theirs outlived its lifetime."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        with transaction.atomic():
            token, _created = Token.objects.select_for_update().get_or_create(user=user)
            if is_expired(token.created):
                token.delete()
                token = Token.objects.create(user=user)
        return Response({"token": token.key})


class LogoutView(APIView):
    """Revoke the caller's token: it stops working at once (a session is ended too)."""

    @extend_schema(request=None, responses={204: OpenApiResponse(description="Revoked.")})
    def post(self, request: Request) -> Response:
        """Delete the caller's token (the next ``POST /api/auth/token/`` makes a new one)."""
        Token.objects.filter(user_id=request.user.pk or 0).delete()  # anonymous: none
        if request.auth is None:  # signed in with a session
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
