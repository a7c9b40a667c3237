"""The lead's Quality page in the admin: policy, annotators, controls, assignments, escalation.

Every change goes through the same functions as the API (``set_controls``,
``update_annotator``, ``reserve``/``release``), gated by ``labeling.access``.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse

from labeling.access import LEAD, access_project, page_gate
from labeling.exceptions import DomainError, InvalidInput
from labeling.models import Membership, Project
from labeling.quality import reservations
from labeling.quality.controls import ControlSpec, remove_control, set_controls
from labeling.quality.escalation import escalation_counts
from labeling.quality.models import ControlQuestion, QualitySettings
from labeling.quality.priorities import list_priorities, set_priorities
from labeling.quality.reports import annotator_report
from labeling.quality.status import update_annotator


class QualitySettingsForm(forms.ModelForm):
    """The project's quality policy (the API's ``quality/`` fields)."""

    class Meta:
        model = QualitySettings
        fields = [
            "control_rate",
            "warn_below",
            "pause_below",
            "min_control_answers",
            "qualification_size",
            "qualification_accuracy",
            "escalation_enabled",
            "escalation_threshold",
            "escalation_step",
            "escalation_max_extra",
            "quota_total",
            "quota_per_day",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("control_rate", "warn_below", "pause_below", "qualification_accuracy"):
            value = data.get(name)
            if value is not None and not 0 <= value <= 1:
                self.add_error(name, "must be between 0 and 1")
        if data.get("escalation_step") == 0:
            self.add_error("escalation_step", "must be at least 1")
        return data


def _controls_from_text(text: str) -> list[ControlSpec]:
    """One control per line: ``TASK_ID LABEL`` or ``TASK_ID {JSON value}``."""
    specs = []
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        head, _, rest = line.strip().partition(" ")
        if not head.isdigit() or not rest.strip():
            raise InvalidInput("write TASK_ID then a label or a JSON value", field=f"line {i + 1}")
        rest = rest.strip()
        try:
            value = json.loads(rest) if rest.startswith("{") else {"label": rest}
        except ValueError as exc:
            raise InvalidInput(f"not JSON: {exc}", field=f"line {i + 1}") from exc
        specs.append(ControlSpec(int(head), value))
    if not specs:
        raise InvalidInput("write at least one line", field="controls")
    return specs


def _act(request: HttpRequest, project: Project, settings: QualitySettings) -> str | None:
    """Apply the posted action; a message for the lead (errors raise ``DomainError``)."""
    action = request.POST.get("action")
    if action == "controls":
        done = set_controls(
            project=project,
            specs=_controls_from_text(request.POST.get("controls", "")),
            user=request.user,
        )
        return f"{len(done)} control question(s) set."
    if action == "remove-control":
        control = ControlQuestion.objects.filter(
            project=project, pk=request.POST.get("control") or 0
        ).first()
        if control is not None:
            remove_control(control=control)
        return "Control question removed."
    user_id = int(request.POST.get("user") or 0)
    if action in ("pause", "resume", "quota", "requalify", "release"):
        member = Membership.objects.filter(project=project, user_id=user_id).first()
        if member is None:
            raise InvalidInput("not a member of this project", field="user")
        if action == "release":
            n = reservations.release(project=project, user=member.user)
            return f"{n} reservation(s) released."
    if action == "pause":
        update_annotator(
            project_id=project.pk,
            user_id=user_id,
            status="paused",
            paused_reason=request.POST.get("reason", "") or "paused by a lead",
        )
        return "Annotator paused."
    if action == "resume":
        update_annotator(project_id=project.pk, user_id=user_id, status="active")
        return "Annotator resumed."
    if action == "requalify":
        update_annotator(project_id=project.pk, user_id=user_id, qualification="passed")
        return "Annotator marked as qualified."
    if action == "quota":
        quotas = {}
        for name in ("quota_total", "quota_per_day"):
            raw = request.POST.get(name, "").strip()
            if raw and (not raw.isdigit()):
                raise InvalidInput("must be a whole number or empty", field=name)
            quotas[name] = int(raw) if raw else None
        update_annotator(project_id=project.pk, user_id=user_id, **quotas)
        return "Quotas saved."
    if action == "priority":
        doc, priority = request.POST.get("document", ""), request.POST.get("priority", "")
        if not doc.strip().isdigit() or not priority.strip().isdigit():
            raise InvalidInput("give a document id and a whole number", field="priority")
        set_priorities(project=project, pairs=[(int(doc), int(priority))])
        return "Priority saved."
    if action == "assign":
        user = reservations.member_by_username(project, request.POST.get("username", ""))
        docs_raw = request.POST.get("documents", "").replace(",", " ").split()
        count_raw = request.POST.get("count", "").strip()
        if docs_raw:
            if not all(d.isdigit() for d in docs_raw):
                raise InvalidInput("document ids are whole numbers", field="documents")
            result = reservations.reserve(
                project=project, user=user, by=request.user, documents=[int(d) for d in docs_raw]
            )
        elif count_raw.isdigit() and int(count_raw) > 0:
            result = reservations.reserve(
                project=project, user=user, by=request.user, count=int(count_raw)
            )
        else:
            raise InvalidInput("give document ids or a number of tasks", field="documents")
        name = user.get_username()
        return f"{len(result.reserved)} task(s) reserved for {name} ({result.full} were full)."
    return None


def quality_view(
    request: HttpRequest, project_id: int, site: admin.AdminSite | None = None
) -> HttpResponse:
    """The Quality page of a project (leads and staff)."""
    project = page_gate(access_project, request.user, project_id, role=LEAD)
    settings, _ = QualitySettings.objects.get_or_create(project=project)
    url = reverse("admin:labeling_quality", args=[project.pk])
    form = QualitySettingsForm(
        request.POST if request.POST.get("action") == "settings" else None, instance=settings
    )
    if request.method == "POST":
        if request.POST.get("action") == "settings":
            if form.is_valid():
                form.save()
                messages.success(request, "Quality settings saved.")
                return HttpResponseRedirect(url)
        else:
            try:
                message = _act(request, project, settings)
                if message:
                    messages.success(request, message)
            except DomainError as exc:
                messages.error(request, f"{exc.field}: {exc.message}" if exc.field else exc.message)
            return HttpResponseRedirect(url)
    controls = (
        ControlQuestion.objects.filter(project=project)
        .select_related("task")
        .annotate(n_answers=Count("answers"))
        .order_by("id")[:200]
    )
    context = {
        **(site or admin.site).each_context(request),
        "title": f"Quality · {project.name}",
        "project": project,
        "form": form,
        "annotators": annotator_report(project=project),
        "controls": list(controls),
        "n_controls": ControlQuestion.objects.filter(project=project).count(),
        "reservations": reservations.summary(project=project),
        "escalations": escalation_counts(project=project),
        "priorities": list_priorities(project=project),
    }
    return render(request, "admin/labeling/quality.html", context)
