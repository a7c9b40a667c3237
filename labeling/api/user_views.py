"""``/api/users/``: staff list users and create them with their project roles.

A new user gets a random initial password shown once in the answer, or (``credentials:
"reset_link"``) an unusable password and a link to the admin's set-a-new-password page.
Existing users join projects through ``POST /api/projects/{id}/members/``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.access import access_staff
from labeling.accounts.people import (
    CREDENTIALS,
    PASSWORD,
    PeopleError,
    Person,
    Welcome,
    add_people,
    check_username,
)
from labeling.models import Role


class ProjectRoleSerializer(serializers.Serializer):
    project = serializers.IntegerField(min_value=1)
    role = serializers.ChoiceField(choices=Role.choices)


class UserCreateSerializer(serializers.Serializer):
    """A new user; ``projects`` gives their roles."""

    username = serializers.CharField(max_length=150, help_text="Letters, digits and @.+-_")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    credentials = serializers.ChoiceField(
        choices=list(CREDENTIALS),
        default=PASSWORD,
        help_text="`password`: a random initial password, in this answer only. `reset_link`: "
        "no password; a link to set one (valid once, for PASSWORD_RESET_TIMEOUT seconds).",
    )
    projects = serializers.ListField(child=ProjectRoleSerializer(), required=False, max_length=100)


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    is_staff = serializers.BooleanField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    date_joined = serializers.DateTimeField(read_only=True)


class UserCreatedSerializer(UserSerializer):
    """The new user with their memberships and, once only, their credentials."""

    password = serializers.CharField(
        allow_null=True, read_only=True, help_text="The initial password (credentials=password)."
    )
    reset_link = serializers.URLField(
        allow_null=True, read_only=True, help_text="Where they set a password (reset_link)."
    )
    projects = ProjectRoleSerializer(many=True, read_only=True)


def _field(column: str, index: int, has_projects: bool) -> str:
    if column in ("project", "role") and has_projects:
        return f"projects[{index}].{column}"
    return column or "projects"


class UserListView(generics.ListAPIView):
    """Users (staff). POST creates one, with a password or a reset link, in projects."""

    serializer_class = UserSerializer

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return get_user_model().objects.none()
        access_staff(self.request.user)
        return get_user_model().objects.order_by("id")

    @extend_schema(request=UserCreateSerializer, responses={201: UserCreatedSerializer})
    def post(self, request: Request) -> Response:
        access_staff(request.user)
        data = UserCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        username = fields["username"]
        if problem := check_username(username):
            raise ValidationError({"username": [problem]})
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError({"username": ["is taken: add the user with …/members/"]})
        roles = fields.get("projects") or []
        people = [
            Person(username, fields["email"], r["role"], r["project"], line=i + 1)
            for i, r in enumerate(roles)
        ] or [Person(username, fields["email"])]
        try:
            (welcome,) = add_people(
                people,
                credentials=fields["credentials"],
                base_url=request.build_absolute_uri("/"),
            )
        except PeopleError as exc:
            errors: dict[str, list[str]] = {}
            for e in exc.errors:
                errors.setdefault(_field(e.column, e.line - 1, bool(roles)), []).append(e.message)
            raise ValidationError(errors) from exc
        return Response(_created(welcome), status=status.HTTP_201_CREATED)


def _created(welcome: Welcome) -> dict[str, Any]:
    user = welcome.user
    return {
        **UserSerializer(user).data,
        "password": welcome.password,
        "reset_link": welcome.reset_link,
        "projects": [{"project": m.project_id, "role": m.role} for m in welcome.memberships],
    }
