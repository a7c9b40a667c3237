"""The labeling pages of the admin: annotate, create a project, import, members, progress,
agreement dashboard and adjudication.

Built the way ``UserAdmin`` builds its password page: URLs from the site's ``get_urls``,
each view wrapped in ``admin_site.admin_view`` and rendered with ``each_context`` from a
template under ``admin/labeling/``. Views only parse and render; the work is done by the
same plain functions the REST API calls (``create_project``, ``add_member``,
``start_import``, ``adjudicate``). The annotator workspace and the dashboard's
"recompute now" talk to the REST API from JavaScript.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Avg, Count, F, Max, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET

from labeling.access import (
    LEAD,
    CanCreateProject,
    access_for,
    access_lead_object,
    access_project,
    access_task,
    can_create_project,
    page_gate,
)
from labeling.admin.quality_views import quality_view
from labeling.exceptions import DomainError, InvalidInput
from labeling.importing.uploads import too_large_message, upload_too_large
from labeling.kinds import BUILTIN, KindSpec, kind_spec, kinds_in
from labeling.models import (
    KIND_MAX_LENGTH,
    AgreementRun,
    Annotation,
    AnnotatorSettings,
    Assignment,
    AssignmentStatus,
    GoldLabel,
    GoldMethod,
    ImportJob,
    JobStatus,
    LabelSchema,
    Level,
    Membership,
    Project,
    Role,
    Task,
)
from labeling.offsets import Utf16Index, to_utf16
from labeling.quality.dataset import real_annotations, regular_tasks
from labeling.review.admin_views import disputed_view, queue_query
from labeling.review.disputed import (
    DisputedFilter,
    describe_disputed,
    disputed_filter,
    disputed_items,
    neighbour,
    page_rows,
    position,
)
from labeling.task_context.sentence_window import sentence_window


def site_urls(site: admin.AdminSite) -> list[URLPattern]:
    """The labeling pages, mounted by ``LabelingAdminSite.get_urls`` under /admin/labeling/."""

    def view(func: Any, route: str, name: str) -> URLPattern:
        return path(f"labeling/{route}", site.admin_view(func), {"site": site}, name=name)

    return [
        view(annotate_view, "annotate/", "labeling_annotate"),
        view(project_create_view, "project/new/", "labeling_project_create"),
        view(import_view, "project/<int:project_id>/import/", "labeling_import"),
        view(members_view, "project/<int:project_id>/members/", "labeling_members"),
        view(progress_view, "project/<int:project_id>/progress/", "labeling_progress"),
        view(agreement_view, "project/<int:project_id>/agreement/", "labeling_agreement"),
        view(import_status_view, "import-job/<int:job_id>/status/", "labeling_import_status"),
        view(adjudicate_view, "task/<int:task_id>/adjudicate/", "labeling_adjudicate"),
        view(quality_view, "project/<int:project_id>/quality/", "labeling_quality"),
        view(disputed_view, "project/<int:project_id>/disputed/", "labeling_disputed"),
    ]


def _site(site: admin.AdminSite | None) -> admin.AdminSite:
    return site or admin.site


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], site: admin.AdminSite | None
) -> HttpResponse:
    ctx = {**_site(site).each_context(request), **context}
    return render(request, f"admin/labeling/{template}", ctx)


def _led_project(request: HttpRequest, project_id: int) -> Project:
    """A project the requester leads (staff: any): ``access_project`` answered as a page."""
    return page_gate(access_project, request.user, project_id, role=LEAD)


def _kind_choices(project: Project) -> list[tuple[str, str]]:
    return kinds_in(list(project.schemas.all()))


def _kind_config(schemas: Any, kind: str) -> dict[str, Any]:
    """The browser configuration of ``kind`` (from its spec) given the project's schemas."""
    schema = next((s for s in schemas if s.kind == kind), None)
    return kind_spec(kind).workspace_config(schema) if schema is not None else {}


def _pick_kind(request: HttpRequest, kinds: list[tuple[str, str]]) -> str:
    wanted = request.GET.get("kind", "")
    values = [k for k, _ in kinds]
    return wanted if wanted in values else (values[0] if values else "")


# ---------------------------------------------------------------------------------------
# Annotate


#: Session key: projects whose lead said yes to annotating in the workspace.
LEAD_ANNOTATES_KEY = "labeling_lead_annotates"


def annotate_view(request: HttpRequest, site: admin.AdminSite | None = None) -> HttpResponse:
    """The annotator workspace: pick a project and kind; the page's JavaScript does the rest."""
    access = access_for(request)
    visible = (
        Project.objects.all()
        if access.is_staff
        else Project.objects.filter(pk__in=access.member_projects)
    )
    projects = list(visible.prefetch_related("schemas").order_by("name", "id"))
    project = None
    wanted = request.GET.get("project", "")
    if wanted.isdigit():
        project = next((p for p in projects if p.pk == int(wanted)), None)
    if project is None and len(projects) == 1:
        project = projects[0]
    kinds: list[tuple[str, str]] = []
    kind = ""
    if project is not None:
        kinds = kinds_in(list(project.schemas.all()))
        kind = _pick_kind(request, kinds)
    kind_config = _kind_config(project.schemas.all(), kind) if project and kind else {}
    ask_lead = False
    if project is not None and kind and access.leads(project.pk):
        # A lead (or staff) opening the workspace would be leased a task (for 30 minutes,
        # most disputed first for routing) and annotate: ask once per project and session.
        agreed = set(request.session.get(LEAD_ANNOTATES_KEY, []))
        if request.GET.get("as_annotator") == "1":
            agreed.add(project.pk)
            request.session[LEAD_ANNOTATES_KEY] = sorted(agreed)
        ask_lead = project.pk not in agreed
    return _render(
        request,
        "annotate.html",
        {
            "title": "Annotate",
            "ask_lead": ask_lead,
            "disputed_url": reverse("admin:labeling_disputed", args=[project.pk]) + f"?kind={kind}"
            if project is not None
            else "",
            "projects": projects,
            "project": project,
            "kinds": kinds,
            "kind": kind,
            "kind_config": kind_config,
            "workspace_config": {
                "projectId": project.pk if project else None,
                "kind": kind,
                "kindLabel": dict(kinds).get(kind, kind),
                "kindConfig": kind_config,
                "api": "/api/",
                "username": request.user.get_username(),
                "confirmWithEnter": AnnotatorSettings.objects.filter(
                    user_id=request.user.pk or 0, confirm_with_enter=True
                ).exists(),
            },
        },
        site,
    )


# ---------------------------------------------------------------------------------------
# Create a project with its schemas


def _split_names(text: str) -> list[str]:
    parts = [p.strip() for line in text.splitlines() for p in line.split(",")]
    return [p for p in parts if p]


def _split_numbers(text: str) -> list[Any] | None:
    """Comma-separated numbers; a non-number is kept as text so the schema check names it."""
    out: list[Any] = []
    for part in _split_names(text):
        try:
            number = float(part)
        except ValueError:
            out.append(part)
        else:
            out.append(int(number) if number.is_integer() else number)
    return out or None


VALUES_HELP = (
    "Interval/ratio: each label's number, comma-separated, in label order (required for "
    "ratio; leave empty on interval when the labels are equally spaced)."
)


def _schema_form_fields(prefix: str, spec: KindSpec, *, custom: bool) -> dict[str, forms.Field]:
    """The form fields of one schema: those of ``spec.schema_fields`` the form can show."""
    fields: dict[str, forms.Field] = {}
    wanted = spec.schema_fields
    if "labels" in wanted:
        default = ", ".join(getattr(spec, "default_labels", []))
        fields[f"{prefix}labels"] = forms.CharField(
            required=False,
            initial=default,
            label="Labels",
            help_text="In order, comma-separated; the order matters for ordinal alpha.",
        )
    if "level" in wanted and "labels" in wanted:
        fields[f"{prefix}level"] = forms.ChoiceField(
            choices=Level.choices,
            initial=getattr(spec, "form_level", Level.NOMINAL),
            required=False,
            help_text="Matters for alpha: ordinal uses the label order; interval and ratio "
            "use the values.",
        )
    if "values" in wanted:
        fields[f"{prefix}values"] = forms.CharField(
            required=False, label="Values", help_text=VALUES_HELP
        )
    if "targets" in wanted:
        fields[f"{prefix}targets"] = forms.CharField(
            required=False,
            widget=forms.Textarea(attrs={"rows": 2}),
            label="Targets",
            help_text="One per line (or comma-separated). One task per sentence and target.",
        )
    if custom and "description" in wanted:
        fields[f"{prefix}description"] = forms.CharField(
            required=False,
            label="Question",
            help_text="What annotators answer, e.g. “Does the sentence contain a number?”",
        )
    return fields


def _schema_from_fields(data: dict[str, Any], prefix: str, kind: str) -> dict[str, Any]:
    """One schema in the API's shape from the cleaned fields starting with ``prefix``."""
    schema: dict[str, Any] = {"kind": kind}
    if f"{prefix}labels" in data:
        schema["labels"] = _split_names(data.get(f"{prefix}labels") or "")
    if data.get(f"{prefix}level"):
        schema["level"] = data[f"{prefix}level"]
    if data.get(f"{prefix}values"):
        schema["values"] = _split_numbers(data[f"{prefix}values"])
    if f"{prefix}targets" in data:
        schema["targets"] = _split_names(data.get(f"{prefix}targets") or "")
    if data.get(f"{prefix}description"):
        schema["description"] = data[f"{prefix}description"]
    return schema


class ProjectCreateForm(forms.Form):
    """A project and one schema per built-in kind (fields made from the kind registry)."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    guidelines = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text="Shown to annotators beside every task.",
    )
    annotators_per_item = forms.IntegerField(min_value=1, max_value=100, initial=3)
    lease_minutes = forms.IntegerField(
        min_value=1, max_value=10080, initial=lambda: settings.LABELING["LEASE_MINUTES"]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, spec in BUILTIN.items():
            self.fields[f"{name}_enabled"] = forms.BooleanField(
                required=False, initial=True, label=spec.title
            )
            self.fields.update(_schema_form_fields(f"{name}_", spec, custom=False))

    def schemas(self) -> list[dict[str, Any]]:
        """The built-in kinds' part of the ``schemas`` list, in the API's shape."""
        data = self.cleaned_data
        return [
            _schema_from_fields(data, f"{name}_", name)
            for name in BUILTIN
            if data.get(f"{name}_enabled")
        ]

    def kind_fieldsets(self) -> list[dict[str, Any]]:
        """One fieldset per built-in kind for the template."""
        return [
            {
                "kind": name,
                "question": spec.question,
                "enabled": self[f"{name}_enabled"],
                "fields": [
                    self[f]
                    for f in self.fields
                    if f.startswith(f"{name}_") and f != f"{name}_enabled"
                ],
            }
            for name, spec in BUILTIN.items()
        ]


class CustomKindForm(forms.Form):
    """One custom single-label question of a project (an empty row is ignored)."""

    kind = forms.CharField(
        required=False,
        max_length=KIND_MAX_LENGTH,
        label="Name",
        help_text="A lowercase identifier, e.g. has_number.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(_schema_form_fields("", kind_spec("custom"), custom=True))
        self.fields["labels"].initial = ""

    def schema(self) -> dict[str, Any] | None:
        """The schema in the API's shape, or None for an untouched row."""
        data = getattr(self, "cleaned_data", {})
        if not data.get("kind") and not data.get("labels"):
            return None
        return _schema_from_fields(data, "", data.get("kind", ""))


CustomKindFormSet = forms.formset_factory(CustomKindForm, extra=3, max_num=20)


def _place_error(
    exc: DomainError,
    form: ProjectCreateForm,
    customs: list[tuple[CustomKindForm, dict[str, Any]]],
    n_builtin: int,
    schemas: list[dict[str, Any]],
) -> None:
    """Show an error of ``create_project`` on the form field it names (``schemas[3].values``)."""
    field = exc.field
    if field in form.fields:
        form.add_error(field, exc.message)
        return
    if field.startswith("schemas[") and "]" in field:
        index = field[len("schemas[") : field.index("]")]
        rest = field[field.index("]") + 2 :].split("[")[0]
        if index.isdigit() and int(index) < len(schemas):
            i = int(index)
            if i >= n_builtin:
                custom = customs[i - n_builtin][0]
                if rest in custom.fields:
                    custom.add_error(rest, exc.message)
                    return
            else:
                target = f"{schemas[i]['kind']}_{rest}"
                if target in form.fields:
                    form.add_error(target, exc.message)
                    return
    form.add_error(None, f"{field}: {exc.message}" if field else exc.message)


def project_create_view(request: HttpRequest, site: admin.AdminSite | None = None) -> HttpResponse:
    """Create a project and its label schemas through ``create_project``."""
    from labeling.projects import create_project

    if not can_create_project(request.user):
        raise PermissionDenied(CanCreateProject.message)
    form = ProjectCreateForm(request.POST or None)
    # A POST without the custom rows' management form (a script) simply has no custom kinds.
    posted_customs = "custom-TOTAL_FORMS" in request.POST
    customs_formset = CustomKindFormSet(request.POST if posted_customs else None, prefix="custom")
    customs_valid = not posted_customs or customs_formset.is_valid()
    if request.method == "POST" and form.is_valid() and customs_valid:
        builtin = form.schemas()
        rows = customs_formset.forms if posted_customs else []
        customs = [(f, sch) for f in rows if (sch := f.schema()) is not None]
        schemas = builtin + [sch for _, sch in customs]
        try:
            project = create_project(
                name=form.cleaned_data["name"],
                annotators_per_item=form.cleaned_data["annotators_per_item"],
                lease_minutes=form.cleaned_data["lease_minutes"],
                description=form.cleaned_data["description"],
                guidelines=form.cleaned_data["guidelines"],
                schemas=schemas,
                created_by=request.user,
            )
        except DomainError as exc:
            _place_error(exc, form, customs, len(builtin), schemas)
        else:
            messages.success(request, f"Project “{project.name}” created. Now import documents.")
            return HttpResponseRedirect(reverse("admin:labeling_import", args=[project.pk]))
    return _render(
        request,
        "project_create.html",
        {
            "title": "New project",
            "form": form,
            "kinds_fields": form.kind_fieldsets(),
            "custom_kinds": customs_formset,
        },
        site,
    )


# ---------------------------------------------------------------------------------------
# Import documents


class ImportForm(forms.Form):
    """An uploaded file and its format."""

    file = forms.FileField(help_text="Plain text (.txt), JSON Lines (.jsonl) or CSV (.csv).")
    format = forms.ChoiceField(
        choices=[("", "from the file name"), ("txt", "text"), ("jsonl", "JSONL"), ("csv", "CSV")],
        required=False,
    )


def _job_json(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.pk,
        "filename": job.filename,
        "format": job.format,
        "status": job.status,
        "progress": job.progress,
        "n_documents": job.n_documents,
        "n_created": job.n_created,
        "errors": job.errors,
        "error": job.error,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }


def import_view(
    request: HttpRequest, project_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """Upload a file into a project; ``start_import`` queues the job, the page polls it."""
    from labeling.importing.job import start_import

    project = _led_project(request, project_id)
    form = ImportForm(request.POST or None, request.FILES or None)
    too_large = upload_too_large(request) if request.method == "POST" else None
    if too_large is not None:
        form.is_valid()  # the file was skipped: report why, not "this field is required"
        form.errors["file"] = form.error_class([f"The file {too_large_message(too_large)}."])
    elif request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = start_import(
                project=project,
                data=upload,
                filename=upload.name,
                format=form.cleaned_data["format"],
                user=request.user,
            )
        except DomainError as exc:
            form.add_error("format" if exc.field == "format" else "file", exc.message)
        else:
            url = reverse("admin:labeling_import", args=[project.pk])
            return HttpResponseRedirect(f"{url}?job={job.pk}")
    jobs = list(ImportJob.objects.filter(project=project).order_by("-id")[:10])
    current = None
    wanted = request.GET.get("job", "")
    if wanted.isdigit():
        current = next((j for j in jobs if j.pk == int(wanted)), None)
    counts = project.documents.aggregate(n=Count("id"))
    response = _render(
        request,
        "import.html",
        {
            "title": f"Import documents · {project.name}",
            "project": project,
            "form": form,
            "jobs": jobs,
            "current_job": _job_json(current) if current else None,
            "n_documents": counts["n"],
        },
        site,
    )
    if too_large is not None:
        response.status_code = 413
    return response


@require_GET
def import_status_view(
    request: HttpRequest, job_id: int, site: admin.AdminSite | None = None
) -> JsonResponse:
    """One ImportJob's status and progress as JSON, for the import page to poll."""
    job = page_gate(access_lead_object, request.user, ImportJob, job_id, "import job")
    return JsonResponse(_job_json(job))


# ---------------------------------------------------------------------------------------
# Members


class MemberForm(forms.Form):
    """A username and a role."""

    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.ANNOTATOR)


def members_view(
    request: HttpRequest, project_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """List members; add one, change a role, or remove one (``add_member``/``remove_member``)."""
    from labeling.projects import add_member, remove_member

    project = _led_project(request, project_id)
    form = MemberForm(request.POST if request.POST.get("action") == "add" else None)
    url = reverse("admin:labeling_members", args=[project.pk])
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" and form.is_valid():
                membership, created = add_member(
                    project=project,
                    username=form.cleaned_data["username"],
                    role=form.cleaned_data["role"],
                )
                verb = "added as" if created else "is now"
                messages.success(request, f"{membership.user} {verb} {membership.role}.")
                return HttpResponseRedirect(url)
            if action in ("role", "remove"):
                found = (
                    Membership.objects.select_related("user")
                    .filter(project=project, pk=request.POST.get("membership", "0") or 0)
                    .first()
                )
                if found is None:
                    raise Http404("No such member.")
                membership = found
                if action == "remove":
                    remove_member(project=project, user_id=membership.user_id)
                    messages.success(request, f"{membership.user} removed from the project.")
                else:
                    add_member(
                        project=project,
                        username=membership.user.get_username(),
                        role=request.POST.get("role", ""),
                    )
                    messages.success(request, f"{membership.user}'s role changed.")
                return HttpResponseRedirect(url)
        except DomainError as exc:
            if action == "add":
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.error(request, exc.message)
                return HttpResponseRedirect(url)
    members = list(
        Membership.objects.filter(project=project)
        .select_related("user")
        .annotate(
            n_annotations=Count(
                "user__annotations", filter=Q(user__annotations__task__project=project)
            )
        )
        .order_by("role", "user__username")
    )
    return _render(
        request,
        "members.html",
        {
            "title": f"Members · {project.name}",
            "project": project,
            "form": form,
            "members": members,
            "roles": Role.choices,
        },
        site,
    )


# ---------------------------------------------------------------------------------------
# Progress


def progress_view(
    request: HttpRequest, project_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """Progress per kind and per annotator and kind, in a handful of grouped queries.

    Control questions and their answers are not part of the dataset and are left out.
    """
    project = _led_project(request, project_id)
    kinds = _kind_choices(project)
    per_kind = {
        row["kind"]: row
        for row in regular_tasks(Task.objects.filter(project=project))
        .values("kind")
        .annotate(
            n_tasks=Count("id"),
            n_full=Count("id", filter=Q(n_submitted__gte=F("overlap"))),
            n_needed=Sum("overlap"),
        )
        .order_by()
    }
    submitted = dict(
        real_annotations(Annotation.objects.filter(task__project=project))
        .values_list("task__kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    gold = dict(
        GoldLabel.objects.filter(task__project=project)
        .values_list("task__kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    kind_rows = []
    for kind, label in kinds:
        row = per_kind.get(kind, {"n_tasks": 0, "n_full": 0, "n_needed": 0})
        needed = row["n_needed"] or 0
        n_sub = submitted.get(kind, 0)
        kind_rows.append(
            {
                "kind": kind,
                "label": label,
                "n_tasks": row["n_tasks"],
                "n_annotations": n_sub,
                "n_needed": needed,
                "pct": round(100 * n_sub / needed, 1) if needed else 0.0,
                "n_full": row["n_full"],
                "n_gold": gold.get(kind, 0),
            }
        )
    stats: dict[tuple[int, str], dict[str, Any]] = defaultdict(dict)
    for row in (
        real_annotations(Annotation.objects.filter(task__project=project))
        .values("annotator_id", "task__kind")
        .annotate(n=Count("id"), lead=Avg("lead_time_ms"), last=Max("updated_at"))
        .order_by()
    ):
        stats[(row["annotator_id"], row["task__kind"])].update(
            n=row["n"], lead=row["lead"], last=row["last"]
        )
    for row in (
        Assignment.objects.filter(task__project=project, status=AssignmentStatus.SKIPPED)
        .values("annotator_id", "task__kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        stats[(row["annotator_id"], row["task__kind"])]["skipped"] = row["n"]
    members = list(
        Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    )
    users = {m.user_id: m for m in members}
    extra_ids = {uid for uid, _ in stats} - set(users)
    from django.contrib.auth import get_user_model

    extra_users = {u.pk: u for u in get_user_model().objects.filter(pk__in=extra_ids)}
    totals = {r["kind"]: r["n_tasks"] for r in kind_rows}
    annotator_rows = []
    for uid in [m.user_id for m in members] + sorted(extra_ids):
        member = users.get(uid)
        user = member.user if member else extra_users.get(uid)
        cells = []
        for kind, _ in kinds:
            s = stats.get((uid, kind), {})
            n = s.get("n", 0)
            total = totals.get(kind, 0)
            cells.append(
                {
                    "n": n,
                    "skipped": s.get("skipped", 0),
                    "pct": round(100 * n / total, 1) if total else 0.0,
                    "lead_s": round(s["lead"] / 1000, 1) if s.get("lead") else None,
                    "last": s.get("last"),
                }
            )
        annotator_rows.append(
            {"user": user, "role": member.role if member else "former member", "cells": cells}
        )
    return _render(
        request,
        "progress.html",
        {
            "title": f"Progress · {project.name}",
            "project": project,
            "kinds": kinds,
            "kind_rows": kind_rows,
            "annotator_rows": annotator_rows,
        },
        site,
    )


# ---------------------------------------------------------------------------------------
# Agreement dashboard


DASHBOARD_DISPUTED = 10  # rows of the review queue on the dashboard


def _run_point(run: AgreementRun) -> dict[str, Any]:
    result = run.result if isinstance(run.result, dict) else {}
    return {
        "id": run.pk,
        "status": run.status,
        "trigger": run.trigger,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "alpha": result.get("alpha"),
        "alpha_ci95": result.get("alpha_ci95"),
        "n_items": result.get("n_items"),
        "n_annotations": result.get("n_annotations"),
    }


DOCUMENT_ROWS = 50  # documents listed on the dashboard (the API pages through all)


def _document_rows(result: dict[str, Any] | None, order: str) -> list[dict[str, Any]]:
    """The dashboard's per-document table: least reliable (or most disputed) first."""
    entries = list((result or {}).get("per_document") or [])
    if order == "disputed":
        entries.sort(key=lambda e: (-e.get("n_disputed", 0), e["document_id"]))
    else:
        entries.sort(
            key=lambda e: (e.get("alpha") is None, e.get("alpha") or 0.0, e["document_id"])
        )
    rows = entries[:DOCUMENT_ROWS]
    for row in rows:
        for d in row.get("disputed", []):
            d["adjudicate_url"] = reverse("admin:labeling_adjudicate", args=[d["task_id"]])
    return rows


def _gold_status(project_id: int, kind: str) -> dict[str, Any] | None:
    """How many gold labels of the kind are stale (for the dashboard's gold card)."""
    from labeling.review.staleness import gold_status

    return gold_status(project_id=project_id, kind=kind) if kind else None


def agreement_view(
    request: HttpRequest, project_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """Agreement per kind: alpha over runs, pairwise heatmap, confusion, per label, disputes."""
    from labeling.agreement_runs.runs import annotations_since, compute_pending_runs

    project = _led_project(request, project_id)
    kinds = _kind_choices(project)
    kind = _pick_kind(request, kinds)
    compute_pending_runs(project_id=project.pk, kind=kind)  # embedded mode: nobody else does
    kind_config = _kind_config(project.schemas.all(), kind) if kind else {}
    runs = list(
        AgreementRun.objects.filter(project=project, kind=kind)
        .defer("result")
        .order_by("-id")[:200]
    )
    latest = (
        AgreementRun.objects.filter(project=project, kind=kind, status=JobStatus.DONE)
        .order_by("-id")
        .first()
    )
    # Only the few result keys the chart needs, not every stored result in full.
    summaries = {
        row["pk"]: row
        for row in AgreementRun.objects.filter(
            pk__in=[r.pk for r in runs if r.status == JobStatus.DONE]
        ).values(
            "pk",
            "result__alpha",
            "result__alpha_ci95",
            "result__n_items",
            "result__n_annotations",
        )
    }
    points = []
    for run in reversed(runs):
        summary = summaries.get(run.pk)
        if summary is None:
            continue
        run.result = {
            "alpha": summary["result__alpha"],
            "alpha_ci95": summary["result__alpha_ci95"],
            "n_items": summary["result__n_items"],
            "n_annotations": summary["result__n_annotations"],
        }
        points.append(_run_point(run))
    result = latest.result if latest and isinstance(latest.result, dict) else None
    # The first open (not adjudicated) items of the review queue; the Disputed page has all.
    queue = disputed_items(project_id=project.pk, kind=kind) if kind else None
    disputed = describe_disputed(list(page_rows(queue)[:DASHBOARD_DISPUTED])) if queue else []
    summarize = kind_spec(kind).value_summary if kind else str
    query = queue_query(kind, DisputedFilter())
    for item in disputed:
        item["text"] = item["sentence"]["text"]
        item["gold_method"] = (item["gold"] or {}).get("method")
        for annotation in item.get("annotations", []):
            annotation["summary"] = summarize(annotation.get("value"))
        item["adjudicate_url"] = (
            reverse("admin:labeling_adjudicate", args=[item["task_id"]]) + f"?{query}"
        )
    pending = next((r for r in runs if r.status in (JobStatus.QUEUED, JobStatus.RUNNING)), None)
    roles = ("source", "cue", "content")
    span_rows = {}
    if result is not None and isinstance(result.get("unitizing_alpha"), dict):
        per_u = result["unitizing_alpha"].get("per_role") or {}
        per_g = (result.get("gamma") or {}).get("per_role") or {}
        span_rows = {
            "unitizing": [(r, per_u.get(r)) for r in roles],
            "gamma": [(r, (per_g.get(r) or {}).get("gamma")) for r in roles],
        }
    return _render(
        request,
        "agreement.html",
        {
            "title": f"Agreement · {project.name}",
            "project": project,
            "kinds": kinds,
            "kind": kind,
            "latest": latest,
            "annotations_since": annotations_since(latest) if latest else None,
            "result": result,
            "disputed": disputed,
            "disputed_open": queue.count() if queue is not None else 0,
            "disputed_url": reverse("admin:labeling_disputed", args=[project.pk]) + f"?{query}",
            "kind_config": kind_config,
            "span_roles": roles,
            "span_rows": span_rows,
            "documents": _document_rows(result, request.GET.get("documents", "alpha")),
            "gold_status": _gold_status(project.pk, kind),
            "documents_order": request.GET.get("documents", "alpha"),
            "suggestion_groups": [
                (name, ((result or {}).get("by_suggestion") or {}).get(key) or {})
                for name, key in (("suggested", "suggested"), ("not suggested", "not_suggested"))
            ],
            "dashboard": {
                "projectId": project.pk,
                "kind": kind,
                "config": kind_config,
                "api": "/api/",
                "history": points,
                "result": {
                    k: v
                    for k, v in (result or {}).items()
                    if k not in ("most_disputed", "per_document")
                },
                "pendingRunId": pending.pk if pending else None,
            },
        },
        site,
    )


# ---------------------------------------------------------------------------------------
# Adjudication


def _queue_nav(task: Task, filters: DisputedFilter) -> dict[str, Any]:
    """Where ``task`` stands in the filtered review queue, and its neighbours' pages."""
    query = queue_query(task.kind, filters)
    at: dict[str, Any] = {"project_id": task.project_id, "kind": task.kind, "task_id": task.pk}

    def url(task_id: int | None) -> str | None:
        if task_id is None:
            return None
        return reverse("admin:labeling_adjudicate", args=[task_id]) + f"?{query}"

    return {
        "position": position(**at, filters=filters),
        "count": disputed_items(
            project_id=task.project_id, kind=task.kind, filters=filters
        ).count(),
        "next_url": url(neighbour(**at, filters=filters)),
        "prev_url": url(neighbour(**at, filters=filters, forward=False)),
        "queue_url": reverse("admin:labeling_disputed", args=[task.project_id]) + f"?{query}",
        "filters": filters,
    }


class AdjudicateForm(forms.Form):
    """The gold value: an annotation to copy, a label, or a JSON value; and a note."""

    choice = forms.CharField(required=False)
    label = forms.CharField(required=False)
    value_json = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}))
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


def _adjudication_value(
    form: AdjudicateForm, annotations: dict[int, Annotation], config: dict[str, Any]
) -> tuple[Any, str]:
    """The value the lead chose, and a short note of how."""
    choice = form.cleaned_data["choice"]
    if choice.startswith("annotation:"):
        pk = choice.split(":", 1)[1]
        annotation = annotations.get(int(pk)) if pk.isdigit() else None
        if annotation is None:
            raise DomainError("pick one of the annotations shown", field="choice")
        return annotation.value, f"took {annotation.annotator}'s annotation"
    if choice == "label":
        return {"label": form.cleaned_data["label"]}, "chose the label"
    if choice == "none" and config.get("empty_value") is not None:
        return config["empty_value"], f"decided: {config['empty_text']}"
    if choice == "json":
        try:
            return json.loads(form.cleaned_data["value_json"] or "null"), "entered the value"
        except ValueError as exc:
            raise DomainError(f"is not valid JSON: {exc}", field="value") from exc
    raise DomainError("pick an annotation, a label, or enter a value", field="choice")


def adjudicate_view(
    request: HttpRequest, task_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """Every annotation of one task side by side; the lead picks or enters the gold value."""
    from labeling.review.gold import adjudicate

    page_gate(access_task, request.user, task_id, role=LEAD)
    task = Task.objects.select_related(
        "project", "document", "sentence", "gold", "gold__decided_by"
    ).get(pk=task_id)
    annotations = {
        a.pk: a
        for a in Annotation.objects.filter(task=task)
        .select_related("annotator")
        .order_by("annotator__username")
    }
    spec = kind_spec(task.kind)
    for a in annotations.values():
        a.summary = spec.value_summary(a.value)  # type: ignore[attr-defined]
    schema = LabelSchema.objects.filter(project_id=task.project_id, kind=task.kind).first()
    kind_config = _kind_config([schema] if schema else [], task.kind)
    try:
        filters = disputed_filter(request.GET)
    except InvalidInput:
        filters = DisputedFilter()
    queue = _queue_nav(task, filters)
    form = AdjudicateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            value, how = _adjudication_value(form, annotations, kind_config)
            note = form.cleaned_data["note"] or how
            adjudicate(task=task, value=value, user=request.user, note=note)
        except DomainError as exc:
            where = f"{exc.field}: " if exc.field else ""
            messages.error(request, f"The gold label was not saved. {where}{exc.message}")
        else:
            messages.success(request, f"Gold label of task {task.pk} saved ({how}).")
            if request.POST.get("then") == "next":
                following = _queue_nav(task, filters)["next_url"]  # skips the one just decided
                if following:
                    return HttpResponseRedirect(following)
            back = request.POST.get("next") or ""
            if back.startswith("/admin/"):
                return HttpResponseRedirect(back)
            return HttpResponseRedirect(reverse("admin:labeling_adjudicate", args=[task.pk]))
    # Tokens: the span editor snaps to the server tokenizer's words, as the workspace does.
    context_sentences, _title = sentence_window(
        task.document_id, task.position, tokens=bool(kind_config.get("roles"))
    )
    gold = getattr(task, "gold", None)
    labels = list(schema.labels) if schema else []
    counts: dict[str, int] = defaultdict(int)
    for a in annotations.values():
        if isinstance(a.value, dict) and "label" in a.value:
            counts[str(a.value["label"])] += 1
    back = (
        request.GET.get("next")
        or reverse("admin:labeling_agreement", args=[task.project_id]) + f"?kind={task.kind}"
    )
    return _render(
        request,
        "adjudicate.html",
        {
            "title": f"Adjudicate task {task.pk}",
            "task": task,
            "project": task.project,
            "gold": gold,
            "gold_json": json.dumps(gold.value, ensure_ascii=False) if gold else "",
            "is_adjudicated": gold is not None and gold.method == GoldMethod.ADJUDICATED,
            "annotations": list(annotations.values()),
            "labels": [(label, counts.get(label, 0)) for label in labels],
            "kind_config": kind_config,
            "form": form,
            "next": back,
            "queue": queue,
            # spans.js counts UTF-16 code units, like every page's JavaScript.
            "spans_data": to_utf16(
                {
                    "kind": task.kind,
                    "config": kind_config,
                    "documentText": "",
                    "context": [
                        {
                            "id": s["id"],
                            "start": s["start"],
                            "end": s["end"],
                            "text": s["text"],
                            "position": s["position"],
                            "break_before": s.get("break_before", ""),
                            "tokens": s.get("tokens", []),
                            "current": s["id"] == task.sentence_id,
                        }
                        for s in context_sentences
                    ],
                    "annotations": [
                        {"id": a.pk, "username": a.annotator.get_username(), "value": a.value}
                        for a in annotations.values()
                    ],
                    "gold": gold.value if gold else None,
                    "taskId": task.pk,
                    "api": "/api/",
                    "nextUrl": queue["next_url"],
                    "prevUrl": queue["prev_url"],
                    "queueUrl": queue["queue_url"],
                },
                Utf16Index(task.document.text),
            ),
        },
        site,
    )
