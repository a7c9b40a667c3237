"""The web admin: browsing pages for every model, scoped by role, plus the labeling pages.

Who gets in. Django's stock ``AdminSite.has_permission`` admits only ``is_staff`` users;
our ``LabelingAdminSite`` also admits every active user who is a member of at least one
project, so annotators and leads log in with their ordinary accounts (no ``is_staff``
needed, and none of the powers it carries elsewhere). What they then see is decided
here, per request, from their memberships:

- staff (``is_staff``) see everything; their add/change/delete rights are Django's
  model permissions (superusers have all of them);
- a lead sees and manages the projects they lead: documents, sentences, tasks, every
  annotation, gold labels, agreement runs, imports and exports of those projects;
- an annotator sees only their projects, the tasks they were given and their own
  annotations and assignments, read-only: no other annotator's work, no gold labels,
  no agreement runs. They work in the Annotate page, whose JavaScript uses the REST API.

Every ``ModelAdmin`` here scopes ``get_queryset`` and every ``has_*_permission`` by that
role, so a change URL for an object outside the scope answers like a missing object.
Change lists select or annotate what they display, so they run a constant number of
queries whatever the page size.

The default admin site is a ``LabelingAdminSite``: ``labeling.apps.LabelingAdminConfig``
replaces ``django.contrib.admin`` in ``INSTALLED_APPS`` with ``default_site`` set to it.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import smart_split, unescape_string_literal

from labeling.access import Access, access_for, can_create_project, visible_rows
from labeling.exceptions import DomainError
from labeling.kinds import SchemaError, kind_spec, parse_schema
from labeling.models import (
    AgreementRun,
    Annotation,
    AnnotationRevision,
    Assignment,
    Document,
    Export,
    GoldLabel,
    ImportJob,
    LabelSchema,
    Membership,
    Project,
    Role,
    Sentence,
    Task,
)
from labeling.projects import check_annotators_per_item, set_annotators_per_item

site = admin.site


# ---------------------------------------------------------------------------------------
# Role-scoped ModelAdmin base


class TargetListFilter(admin.AllValuesFieldListFilter):
    """Stance targets; other kinds' tasks have the empty target, shown as "(no target)".

    Django's filter would draw an empty link for it (axe: link-name).
    """

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            yield {**choice, "display": choice["display"] or "(no target)"}


class ScopedAdmin(admin.ModelAdmin):
    """Scopes the queryset and every permission by the requester's role (``labeling.access``).

    Subclasses say how their rows relate to a project (``project_path``) and, when an
    annotator may see some rows, which ones (``annotator_rows``).
    """

    project_path = "project"
    annotators_see = False  # annotators see rows from annotator_rows (or none)
    lead_can_change = False
    lead_can_delete = False
    list_per_page = 50
    show_full_result_count = False  # one COUNT(*) fewer on big tables

    def annotator_rows(self, access: Access) -> Q:
        """The rows of their projects an annotator may see (default: all of them)."""
        return Q()

    def _project_id(self, obj: Model) -> int | None:
        target: Any = obj
        for part in self.project_path.split("__"):
            if part == "project" and hasattr(target, "project_id"):
                return target.project_id
            target = getattr(target, part)
        return target.pk if target is not None else None

    def scope(self, qs: QuerySet, access: Access) -> QuerySet:
        """Restrict ``qs`` to what ``access`` may see (``access.visible_rows``)."""
        own = self.annotator_rows(access) if self.annotators_see else None
        project = "pk" if self.project_path == "id" else f"{self.project_path}_id"
        return visible_rows(qs, access, project=project, own=own)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Every list, change page and action reads through this scoped queryset."""
        return self.scope(super().get_queryset(request), access_for(request))

    def _sees(self, request: HttpRequest, obj: Model | None) -> bool:
        access = access_for(request)
        if access.is_staff:
            return True
        if obj is None:
            return bool(access.lead_projects) or (
                self.annotators_see and bool(access.annotator_projects)
            )
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def _leads(self, request: HttpRequest, obj: Model | None) -> bool:
        access = access_for(request)
        if obj is None:
            return bool(access.lead_projects)
        return self._project_id(obj) in access.lead_projects

    def has_module_permission(self, request: HttpRequest) -> bool:
        """Show the model in the index when the user may see any of its rows."""
        if access_for(request).is_staff:
            return True
        return self._sees(request, None)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Staff see all; others see what their scope holds."""
        return self._sees(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        """Rows are created by the labeling pages and the API, not by hand here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Staff by model permission; leads on their projects when the model allows it."""
        if access_for(request).is_staff:
            return super().has_change_permission(request, obj)
        return self.lead_can_change and self._leads(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Staff by model permission; leads on their projects when the model allows it."""
        if access_for(request).is_staff:
            return super().has_delete_permission(request, obj)
        return self.lead_can_delete and self._leads(request, obj)


class LabelledTabularInline(admin.TabularInline):
    """A tabular inline whose inputs are named after their column for assistive technology.

    Django's tabular rows show the label only in the column header, so axe-core finds
    unlabelled inputs (its ``label`` and ``select-name`` rules).
    """

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        base = super().get_formset(request, obj, **kwargs)

        class Formset(base):  # type: ignore[valid-type,misc]
            def add_fields(self, form: Any, index: Any) -> None:
                super().add_fields(form, index)  # adds DELETE, which needs a name too
                for name, field in form.fields.items():
                    label = "Delete" if name == "DELETE" else str(field.label or name)
                    field.widget.attrs.setdefault("aria-label", label)

        return Formset


class ReadOnlyInline(admin.TabularInline):
    """An inline that only shows rows."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Inline rows are shown, never added here."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        """Inline rows are shown, never changed here."""
        return False


def pretty_json(value: Any) -> SafeString:
    """A JSON value indented inside ``<pre>``."""
    if value in (None, "", [], {}):
        return format_html('<span class="quiet">—</span>')
    return format_html(
        '<pre class="lb-json">{}</pre>', json.dumps(value, indent=2, ensure_ascii=False)
    )


def value_summary(kind: str, value: Any) -> str:
    """A short human reading of an annotation value (the kind's own summary)."""
    if not isinstance(value, dict):
        return "—"
    return kind_spec(kind).value_summary(value)


def excerpt(text: str, n: int = 90) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------------------
# Projects


class LabelSchemaForm(forms.ModelForm):
    """A schema edited in the admin is checked by the kind registry, like the API's."""

    class Meta:
        model = LabelSchema
        fields = ("kind", "description", "labels", "level", "values", "targets", "enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = {
            key: data.get(key)
            for key in ("kind", "description", "labels", "level", "values", "targets")
            if data.get(key) not in (None, "", [])
        }
        try:
            spec = parse_schema(given)
        except SchemaError as exc:
            field = exc.field.split(".")[0].split("[")[0]
            raise forms.ValidationError(
                {field if field in self.fields else None: f"{exc.field}: {exc.message}"}  # type: ignore[dict-item]
            ) from exc
        data.update(labels=spec.labels, level=spec.level, values=spec.values, targets=spec.targets)
        return data


class LabelSchemaInline(LabelledTabularInline):
    model = LabelSchema
    form = LabelSchemaForm
    extra = 0
    fields = ("kind", "description", "labels", "level", "values", "targets", "enabled")


class MembershipInline(LabelledTabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)


class ProjectChangeForm(forms.ModelForm):
    """The project's change form: a new overlap is checked as the API checks it."""

    class Meta:
        model = Project
        fields = ("name", "description", "guidelines", "annotators_per_item", "lease_minutes")

    def clean_annotators_per_item(self) -> int:
        """Refuse, naming the field, what ``projects.set_annotators_per_item`` would refuse."""
        value = self.cleaned_data["annotators_per_item"]
        if self.instance.pk is not None and "annotators_per_item" in self.changed_data:
            try:
                check_annotators_per_item(project=self.instance, annotators_per_item=value)
            except DomainError as exc:
                raise forms.ValidationError(exc.message, code=exc.code) from exc
        return value


@admin.register(Project)
class ProjectAdmin(ScopedAdmin):
    form = ProjectChangeForm
    project_path = "id"
    annotators_see = True
    lead_can_change = True
    list_display = ("name", "annotators_per_item", "n_documents", "n_members", "pages", "created")
    search_fields = ("name", "description")
    fields = (
        "name",
        "description",
        "guidelines",
        "annotators_per_item",
        "lease_minutes",
        "created_by",
    )
    readonly_fields = ("created_by",)
    inlines = (LabelSchemaInline, MembershipInline)

    def _project_id(self, obj: Model) -> int | None:
        return obj.pk

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        """A new overlap goes to every task of the project, as through the API."""
        if change and "annotators_per_item" in form.changed_data:
            set_annotators_per_item(project=obj, annotators_per_item=obj.annotators_per_item)
        super().save_model(request, obj, form, change)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Count documents and members in the same query."""
        access = access_for(request)
        leads = Value(True) if access.is_staff else Q(id__in=access.lead_projects)
        return (
            super()
            .get_queryset(request)
            .annotate(
                _n_documents=Count("documents", distinct=True),
                _n_members=Count("memberships", distinct=True),
                _leads=ExpressionWrapper(leads, output_field=BooleanField()),
            )
        )

    def get_inlines(self, request: HttpRequest, obj: Model | None) -> tuple:
        """Annotators see the project without its member list."""
        if obj is not None and access_for(request).leads(obj.pk):
            return self.inlines
        return ()

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple:
        """Annotators see what the project is about and its guidelines."""
        if obj is not None and not access_for(request).leads(obj.pk):
            return ("name", "description", "guidelines")
        return self.fields

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        """Project creators (``access.can_create_project``) use the project form with schemas."""
        return can_create_project(request.user)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        """Projects are created with their schemas by the labeling project form."""
        from labeling.admin.views import project_create_view

        return self.admin_site.admin_view(project_create_view)(request)

    @admin.display(description="documents", ordering="_n_documents")
    def n_documents(self, obj: Project) -> int:
        return obj._n_documents  # type: ignore[attr-defined]

    @admin.display(description="members", ordering="_n_members")
    def n_members(self, obj: Project) -> int:
        return obj._n_members  # type: ignore[attr-defined]

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Project) -> str:
        return obj.created_at.strftime("%Y-%m-%d")

    def get_list_display(self, request: HttpRequest) -> tuple:
        """Annotators get the project name and a link to annotate."""
        if access_for(request).is_lead:
            return self.list_display
        return ("name", "pages")

    @admin.display(description="")
    def pages(self, obj: Project) -> SafeString:
        links = [("Annotate", reverse("admin:labeling_annotate") + f"?project={obj.pk}")]
        if getattr(obj, "_leads", True):
            links += [
                ("Agreement", reverse("admin:labeling_agreement", args=[obj.pk])),
                ("Progress", reverse("admin:labeling_progress", args=[obj.pk])),
                ("Import", reverse("admin:labeling_import", args=[obj.pk])),
                ("Members", reverse("admin:labeling_members", args=[obj.pk])),
                ("Quality", reverse("admin:labeling_quality", args=[obj.pk])),
            ]
        return format_html(
            '<span class="lb-links">{}</span>',
            format_html_join(" ", '<a class="button" href="{}">{}</a>', ((u, t) for t, u in links)),
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        """Link the project's labeling pages from its change page."""
        extra = dict(extra_context or {})
        extra["lb_project_id"] = object_id
        extra["lb_leads"] = (
            access_for(request).leads(int(object_id)) if object_id.isdigit() else False
        )
        return super().change_view(request, object_id, form_url, extra)


# ---------------------------------------------------------------------------------------
# Documents and sentences


class SentenceInline(ReadOnlyInline):
    model = Sentence
    fields = ("position", "start", "end", "text")
    readonly_fields = fields
    ordering = ("position",)


@admin.register(Document)
class DocumentAdmin(ScopedAdmin):
    lead_can_change = True
    lead_can_delete = True
    list_display = (
        "title_or_id",
        "project",
        "external_id",
        "n_sentences",
        "published_at",
        "created_at",
    )
    list_filter = (("project", RelatedOnlyFieldListFilter), "published_at", "created_at")
    list_select_related = ("project",)
    search_fields = ("title", "external_id", "text")
    date_hierarchy = "created_at"
    fields = (
        "project",
        "title",
        "external_id",
        "source_url",
        "published_at",
        "metadata",
        "content_hash",
        "created_at",
        "text",
    )
    readonly_fields = ("project", "content_hash", "created_at", "text")
    inlines = (SentenceInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Count sentences in the same query."""
        return super().get_queryset(request).annotate(_n_sentences=Count("sentences"))

    @admin.display(description="title", ordering="title")
    def title_or_id(self, obj: Document) -> str:
        return str(obj)

    @admin.display(description="sentences", ordering="_n_sentences")
    def n_sentences(self, obj: Document) -> int:
        return obj._n_sentences  # type: ignore[attr-defined]


@admin.register(Sentence)
class SentenceAdmin(ScopedAdmin):
    project_path = "document__project"
    list_display = ("short_text", "document", "position", "start", "end")
    list_filter = (("document__project", RelatedOnlyFieldListFilter),)
    list_select_related = ("document",)
    search_fields = ("text", "document__title", "document__external_id")
    fields = ("document", "position", "start", "end", "text")
    readonly_fields = fields

    def _project_id(self, obj: Model) -> int | None:
        return obj.document.project_id  # type: ignore[attr-defined]

    @admin.display(description="text")
    def short_text(self, obj: Sentence) -> str:
        return excerpt(obj.text)


# ---------------------------------------------------------------------------------------
# Tasks, assignments, annotations, gold


class AnnotationInline(ReadOnlyInline):
    model = Annotation
    fields = ("annotator", "value_pretty", "revision", "lead_time_ms", "updated_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("annotator")

    @admin.display(description="value")
    def value_pretty(self, obj: Annotation) -> SafeString:
        return pretty_json(obj.value)


@admin.register(Task)
class TaskAdmin(ScopedAdmin):
    annotators_see = True
    list_display = (
        "id",
        "kind",
        "target",
        "sentence_text",
        "document",
        "project",
        "submitted",
        "is_open",
        "gold_method",
    )
    list_display_links = ("id", "sentence_text")
    list_filter = (
        "kind",
        ("target", TargetListFilter),
        "is_open",
        ("project", RelatedOnlyFieldListFilter),
    )
    list_select_related = ("sentence", "document", "project", "gold")
    search_fields = ("sentence__text", "document__title")
    fields = (
        "project",
        "document",
        "sentence",
        "position",
        "kind",
        "target",
        "overlap",
        "n_assigned",
        "n_submitted",
        "is_open",
        "adjudicate_link",
    )
    readonly_fields = fields
    inlines = (AnnotationInline,)

    def annotator_rows(self, access: Access) -> Q:
        """An annotator sees the tasks they were handed."""
        mine = Assignment.objects.filter(task_id=OuterRef("pk"), annotator_id=access.user_id)
        return Q(Exists(mine))

    def get_list_display(self, request: HttpRequest) -> tuple:
        """Annotators see no counts of other people's work."""
        if access_for(request).is_lead:
            return self.list_display
        return ("id", "kind", "target", "sentence_text", "document", "project")

    def get_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple:
        """Annotators see the task, not how many others labelled it."""
        if obj is not None and not access_for(request).leads(obj.project_id):  # type: ignore[attr-defined]
            return ("project", "document", "sentence", "kind", "target")
        return self.fields

    def get_inlines(self, request: HttpRequest, obj: Model | None) -> tuple:
        """Only leads see every annotation of a task."""
        if obj is not None and access_for(request).leads(obj.project_id):  # type: ignore[attr-defined]
            return self.inlines
        return ()

    @admin.display(description="sentence")
    def sentence_text(self, obj: Task) -> str:
        return excerpt(obj.sentence.text)

    @admin.display(description="done", ordering="n_submitted")
    def submitted(self, obj: Task) -> str:
        return f"{obj.n_submitted}/{obj.overlap}"

    @admin.display(description="gold")
    def gold_method(self, obj: Task) -> str:
        gold = getattr(obj, "gold", None)
        return gold.method if gold is not None else "—"

    @admin.display(description="adjudication")
    def adjudicate_link(self, obj: Task) -> SafeString:
        url = reverse("admin:labeling_adjudicate", args=[obj.pk])
        return format_html('<a class="button" href="{}">Adjudicate this task</a>', url)


@admin.register(Assignment)
class AssignmentAdmin(ScopedAdmin):
    project_path = "task__project"
    annotators_see = True
    list_display = ("id", "annotator", "task", "task_kind", "status", "leased_at", "expires_at")
    list_filter = (
        "status",
        "task__kind",
        ("task__project", RelatedOnlyFieldListFilter),
        ("annotator", RelatedOnlyFieldListFilter),
    )
    list_select_related = ("annotator", "task")
    search_fields = ("annotator__username", "task__sentence__text")
    fields = ("task", "annotator", "status", "leased_at", "expires_at", "finished_at")
    readonly_fields = fields

    def annotator_rows(self, access: Access) -> Q:
        """An annotator sees their own assignments."""
        return Q(annotator_id=access.user_id)

    def _project_id(self, obj: Model) -> int | None:
        return obj.task.project_id  # type: ignore[attr-defined]

    def get_list_filter(self, request: HttpRequest) -> tuple:
        """No annotator filter for annotators: they only ever see themselves."""
        if access_for(request).is_lead:
            return self.list_filter
        return self.list_filter[:3]

    @admin.display(description="kind", ordering="task__kind")
    def task_kind(self, obj: Assignment) -> str:
        return obj.task.kind


class RevisionInline(ReadOnlyInline):
    model = AnnotationRevision
    fields = ("revision", "value_pretty", "lead_time_ms", "created_at")
    readonly_fields = fields
    show_change_link = False

    @admin.display(description="value")
    def value_pretty(self, obj: AnnotationRevision) -> SafeString:
        return pretty_json(obj.value)


#: The admin annotation search reads the annotations of at most this many sentences.
SEARCH_SENTENCES = 1000


class CappedCountPaginator(Paginator):
    """Counts at most :attr:`cap` + 1 rows: ``COUNT(*)`` over a ``LIMIT`` subquery.

    A full count of a million annotations (joined and searched) took seconds; the
    changelist only needs to know whether there are more pages. The count shown is
    exact up to ``cap`` and reads ``cap + 1`` beyond; pages past ``cap`` rows are not
    offered (narrow with a filter or the search instead).
    """

    cap = 10_000

    @cached_property
    def count(self) -> int:
        """The number of rows, at most ``cap + 1``."""
        rows: Any = self.object_list  # a QuerySet in the admin
        return int(rows[: self.cap + 1].count())


class _ScopedChoicesFilter(admin.SimpleListFilter):
    """A list filter whose choices come from the requester's projects, not from the rows.

    ``RelatedOnlyFieldListFilter`` reads the distinct values of every visible row
    (a second full scan of a million annotations); these read the few projects, or
    their members, the requester may see (``labeling.access``).
    """

    field_path = ""

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        try:
            return queryset.filter(**{self.field_path: int(value)})
        except ValueError:
            return queryset.none()

    @staticmethod
    def projects(request: HttpRequest) -> QuerySet[Project]:
        access = access_for(request)
        projects = Project.objects.order_by("name", "id")
        return projects if access.is_staff else projects.filter(pk__in=access.member_projects)


class TaskProjectFilter(_ScopedChoicesFilter):
    """By project, among the requester's projects."""

    title = "project"
    parameter_name = "project"
    field_path = "task__project_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in self.projects(request).values_list("id", "name")]


class AnnotatorFilter(_ScopedChoicesFilter):
    """By annotator, among the annotators of the requester's projects."""

    title = "annotator"
    parameter_name = "annotator__id__exact"
    field_path = "annotator_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        members = Membership.objects.filter(
            project__in=self.projects(request), role=Role.ANNOTATOR
        ).values("user_id")
        users = get_user_model().objects.filter(pk__in=members).order_by("username")
        return [(str(pk), name) for pk, name in users.values_list("id", "username")]


@admin.register(Annotation)
class AnnotationAdmin(ScopedAdmin):
    project_path = "task__project"
    annotators_see = True
    list_display = (
        "id",
        "annotator",
        "task_kind",
        "task_target",
        "sentence_text",
        "value_short",
        "revision",
        "lead_time_ms",
        "updated_at",
    )
    list_filter = ("task__kind", TaskProjectFilter, AnnotatorFilter, "updated_at")
    list_select_related = ("annotator", "task", "task__sentence")
    # The sentence text only (the annotator is a filter): see get_search_results.
    search_fields = ("task__sentence__text",)
    search_help_text = (
        "Words from the sentence; shows the annotations of the "
        f"{SEARCH_SENTENCES:,} most recent matching sentences. Filter by annotator on the right."
    )
    paginator = CappedCountPaginator
    fields = (
        "task",
        "annotator",
        "sentence_text",
        "value_pretty",
        "revision",
        "lead_time_ms",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (RevisionInline,)

    def annotator_rows(self, access: Access) -> Q:
        """An annotator sees their own annotations only."""
        return Q(annotator_id=access.user_id)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        """Annotations of the most recent sentences whose text holds every search word.

        Bounded steps instead of one join: the matching sentence ids (newest first, at
        most :data:`SEARCH_SENTENCES`; the trigram index of migration 0013 serves rare
        words, and a common word stops the scan early), then the ids of their
        annotations by index (at most the paginator's cap + 1), then the page. As one
        query, PostgreSQL misjudged how many sentences a word matches and joined a
        million annotations to sort them (6.4 s under load).
        """
        words = [
            unescape_string_literal(bit) if bit[:1] in {'"', "'"} and bit[-1:] == bit[:1] else bit
            for bit in smart_split(search_term)
        ]
        if not words:
            return queryset, False
        sentences = Sentence.objects.all()
        for word in words:
            sentences = sentences.filter(text__icontains=word)
        access = access_for(request)
        if not access.is_staff:  # the queryset is scoped already; keep this read small too
            sentences = sentences.filter(document__project_id__in=access.member_projects)
        sentence_ids = list(
            sentences.order_by("-id").values_list("id", flat=True)[:SEARCH_SENTENCES]
        )
        # Read the ids of these sentences' annotations first: asked for a page in id
        # order in one go, PostgreSQL walked the whole primary key looking for them.
        ids = list(
            queryset.filter(task__sentence_id__in=sentence_ids)
            .order_by()
            .values_list("pk", flat=True)[: CappedCountPaginator.cap + 1]
        )
        return queryset.filter(pk__in=ids), False

    def _project_id(self, obj: Model) -> int | None:
        return obj.task.project_id  # type: ignore[attr-defined]

    def get_list_filter(self, request: HttpRequest) -> tuple:
        """No annotator filter for annotators: they only ever see themselves."""
        if access_for(request).is_lead:
            return self.list_filter
        return (self.list_filter[0], self.list_filter[1], self.list_filter[3])

    @admin.display(description="kind", ordering="task__kind")
    def task_kind(self, obj: Annotation) -> str:
        return obj.task.kind

    @admin.display(description="target", ordering="task__target")
    def task_target(self, obj: Annotation) -> str:
        return obj.task.target or "—"

    @admin.display(description="sentence")
    def sentence_text(self, obj: Annotation) -> str:
        return excerpt(obj.task.sentence.text)

    @admin.display(description="value")
    def value_short(self, obj: Annotation) -> str:
        return value_summary(obj.task.kind, obj.value)

    @admin.display(description="value")
    def value_pretty(self, obj: Annotation) -> SafeString:
        return pretty_json(obj.value)


@admin.register(GoldLabel)
class GoldLabelAdmin(ScopedAdmin):
    project_path = "task__project"
    lead_can_delete = True
    list_display = (
        "task",
        "task_kind",
        "sentence_text",
        "value_short",
        "method",
        "confidence",
        "decided_by",
        "updated_at",
        "freshness",
    )
    list_filter = ("method", "task__kind", ("task__project", RelatedOnlyFieldListFilter))
    list_select_related = ("task", "task__sentence", "decided_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        from labeling.review.staleness import with_annotations_since

        return with_annotations_since(super().get_queryset(request))

    @admin.display(description="freshness", ordering="annotations_since")
    def freshness(self, obj: GoldLabel) -> str:
        since = int(getattr(obj, "annotations_since", 0) or 0)
        return f"stale: {since} annotation{'s' if since != 1 else ''} since" if since else "fresh"

    search_fields = ("task__sentence__text", "note")
    fields = (
        "task",
        "value_pretty",
        "method",
        "confidence",
        "decided_by",
        "note",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def _project_id(self, obj: Model) -> int | None:
        return obj.task.project_id  # type: ignore[attr-defined]

    @admin.display(description="kind", ordering="task__kind")
    def task_kind(self, obj: GoldLabel) -> str:
        return obj.task.kind

    @admin.display(description="sentence")
    def sentence_text(self, obj: GoldLabel) -> str:
        return excerpt(obj.task.sentence.text, 70)

    @admin.display(description="value")
    def value_short(self, obj: GoldLabel) -> str:
        return value_summary(obj.task.kind, obj.value)

    @admin.display(description="value")
    def value_pretty(self, obj: GoldLabel) -> SafeString:
        return pretty_json(obj.value)


# ---------------------------------------------------------------------------------------
# Jobs: agreement runs, exports, imports


@admin.register(AgreementRun)
class AgreementRunAdmin(ScopedAdmin):
    list_display = (
        "id",
        "project",
        "kind",
        "status",
        "progress_pct",
        "alpha",
        "trigger",
        "created_at",
        "finished_at",
    )
    list_filter = ("kind", "status", ("project", RelatedOnlyFieldListFilter))
    list_select_related = ("project",)
    fields = (
        "project",
        "kind",
        "status",
        "progress",
        "trigger",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "error",
        "timings_pretty",
        "result_pretty",
    )
    readonly_fields = fields

    @admin.display(description="progress", ordering="progress")
    def progress_pct(self, obj: AgreementRun) -> str:
        return f"{obj.progress:.0%}"

    @admin.display(description="alpha")
    def alpha(self, obj: AgreementRun) -> str:
        result = obj.result if isinstance(obj.result, dict) else {}
        alpha = result.get("alpha")
        return f"{alpha:.3f}" if isinstance(alpha, (int, float)) else "—"

    @admin.display(description="result")
    def result_pretty(self, obj: AgreementRun) -> SafeString:
        return pretty_json(obj.result)

    @admin.display(description="timings")
    def timings_pretty(self, obj: AgreementRun) -> SafeString:
        return pretty_json(obj.timings)


@admin.register(Export)
class ExportAdmin(ScopedAdmin):
    list_display = (
        "id",
        "project",
        "format",
        "status",
        "n_records",
        "file",
        "created_at",
        "finished_at",
    )
    list_filter = ("format", "status", ("project", RelatedOnlyFieldListFilter))
    list_select_related = ("project",)
    fields = (
        "project",
        "format",
        "filters_pretty",
        "status",
        "progress",
        "file",
        "n_records",
        "error",
        "requested_by",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="filters")
    def filters_pretty(self, obj: Export) -> SafeString:
        return pretty_json(obj.filters)


@admin.register(ImportJob)
class ImportJobAdmin(ScopedAdmin):
    list_display = (
        "id",
        "project",
        "filename",
        "format",
        "status",
        "progress_pct",
        "n_documents",
        "n_created",
        "created_at",
    )
    list_filter = ("format", "status", ("project", RelatedOnlyFieldListFilter))
    list_select_related = ("project",)
    search_fields = ("filename",)
    fields = (
        "project",
        "filename",
        "format",
        "status",
        "progress",
        "n_documents",
        "n_created",
        "errors_pretty",
        "requested_by",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="progress", ordering="progress")
    def progress_pct(self, obj: ImportJob) -> str:
        return f"{obj.progress:.0%}"

    @admin.display(description="errors")
    def errors_pretty(self, obj: ImportJob) -> SafeString:
        return pretty_json(obj.errors)


# The webhook pages live in their own module; importing it registers them.
from labeling.admin import webhook_admins as _webhook_admins  # noqa: E402, F401
