"""The admin site class: who may log in, the labeling pages, the index of one's projects.

Kept apart from ``model_admins`` (which registers the model pages) because Django imports
``LabelingAdminSite`` while it builds the default site, and registering models during that
import would land them on a site object that is then discarded. For the same reason the
package's ``__init__`` registers nothing: ``LabelingConfig.ready`` imports ``model_admins``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver

from labeling.access import access_for
from labeling.lockout import locked_for, lockout_message
from labeling.models import Membership, Project


class MemberAuthenticationForm(AdminAuthenticationForm):
    """The admin log-in form, open to staff and to active members of any project."""

    def clean(self) -> dict[str, Any]:
        """Say so when the username is locked after too many failures (``lockout``)."""
        seconds = locked_for(self.data.get("username"))
        if seconds:
            raise ValidationError(lockout_message(seconds), code="locked")
        return super().clean()

    def confirm_login_allowed(self, user: Any) -> None:
        """Refuse inactive users, and users who are neither staff nor project members."""
        if not user.is_active:
            raise ValidationError(self.error_messages["inactive"], code="inactive")
        if not (user.is_staff or Membership.objects.filter(user=user).exists()):
            raise ValidationError(
                "This account is not a member of any project yet: ask a project lead to add "
                "you, then log in again.",
                code="not_member",
            )


class LabelingAdminSite(admin.AdminSite):
    """The admin site: staff as usual, plus every active project member; labeling pages."""

    site_header = "Labeling admin"
    site_title = "Labeling admin"
    index_title = "Annotation projects"
    index_template = "admin/labeling/index.html"
    login_form = MemberAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff, and active members of any project, may use the admin."""
        access = access_for(request)
        return access.user_id is not None and (access.is_staff or access.is_member)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        """The labeling pages first: the admin's catch-all view comes last."""
        from labeling.admin import views as admin_views

        return admin_views.site_urls(self) + super().get_urls()

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        """The index lists the user's projects with a link per task kind to annotate."""
        access = access_for(request)
        projects = Project.objects.prefetch_related("schemas").order_by("name", "id")
        if not access.is_staff:
            projects = projects.filter(pk__in=access.member_projects)
        rows = [
            {
                "project": p,
                "leads": access.leads(p.pk),
                "kinds": [
                    s.kind for s in sorted(p.schemas.all(), key=lambda s: s.kind) if s.enabled
                ],
            }
            for p in projects[:50]
        ]
        return super().index(request, {**(extra_context or {}), "lb_projects": rows})

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        """Add the user's role so templates can show the right navigation."""
        context = super().each_context(request)
        access = access_for(request)
        context["labeling_access"] = access
        context["labeling_is_lead"] = access.is_lead
        return context
