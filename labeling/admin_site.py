"""The admin site class and the per-request access summary it and the admin pages share.

Kept apart from ``labeling.admin`` (which registers the model pages) because Django
imports ``LabelingAdminSite`` while it builds the default site, and registering models
during that import would land them on a site object that is then discarded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver

from labeling.models import Membership, Project, Role

# ---------------------------------------------------------------------------------------
# Who may see what


@dataclass(frozen=True)
class Access:
    """One request's view of the labeling data: staff, or the projects led and annotated."""

    user_id: int | None
    is_staff: bool = False
    lead_projects: frozenset[int] = field(default_factory=frozenset)
    annotator_projects: frozenset[int] = field(default_factory=frozenset)

    @property
    def member_projects(self) -> frozenset[int]:
        """Projects this user belongs to in any role."""
        return self.lead_projects | self.annotator_projects

    @property
    def is_member(self) -> bool:
        """True when the user belongs to at least one project."""
        return bool(self.member_projects)

    @property
    def is_lead(self) -> bool:
        """True for staff and for leads of at least one project."""
        return self.is_staff or bool(self.lead_projects)

    def leads(self, project_id: int | None) -> bool:
        """May this user manage (lead) ``project_id``?"""
        return self.is_staff or project_id in self.lead_projects

    def member_of(self, project_id: int | None) -> bool:
        """May this user open ``project_id`` at all?"""
        return self.is_staff or project_id in self.member_projects


def access_for(request: HttpRequest) -> Access:
    """The ``Access`` of ``request.user``, computed once per request."""
    cached = getattr(request, "_labeling_access", None)
    if cached is not None:
        return cached
    user = request.user
    if not (user.is_authenticated and user.is_active):
        access = Access(user_id=None)
    elif user.is_staff:
        access = Access(user_id=user.pk, is_staff=True)
    else:
        lead: set[int] = set()
        annotator: set[int] = set()
        for project_id, role in Membership.objects.filter(user=user).values_list(
            "project_id", "role"
        ):
            (lead if role == Role.LEAD else annotator).add(project_id)
        access = Access(
            user_id=user.pk, lead_projects=frozenset(lead), annotator_projects=frozenset(annotator)
        )
    request._labeling_access = access  # type: ignore[attr-defined]
    return access


class MemberAuthenticationForm(AdminAuthenticationForm):
    """The admin log-in form, open to staff and to active members of any project."""

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
        from labeling import admin_views

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
