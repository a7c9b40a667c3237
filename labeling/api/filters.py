"""django-filter filter sets of the list endpoints."""

from __future__ import annotations

import django_filters
from django import forms

from labeling.models import Annotation, Document, Membership, Project, Role, Task


class IdFilter(django_filters.NumberFilter):
    """An id: a positive 64-bit integer, else 400 naming the parameter."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class ProjectFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Project
        fields = ["name"]


class MembershipFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)
    username = django_filters.CharFilter(field_name="user__username")

    class Meta:
        model = Membership
        fields = ["role", "username"]


class DocumentFilter(django_filters.FilterSet):
    title = django_filters.CharFilter(lookup_expr="icontains")
    external_id = django_filters.CharFilter()
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Document
        fields = ["title", "external_id", "created_after"]


class TaskFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter()
    target = django_filters.CharFilter()
    document = IdFilter(field_name="document_id")
    is_open = django_filters.BooleanFilter()

    class Meta:
        model = Task
        fields = ["kind", "target", "document", "is_open"]


class AnnotationFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(field_name="task__kind")
    target = django_filters.CharFilter(field_name="task__target")
    document = IdFilter(field_name="task__document_id")
    task = IdFilter(field_name="task_id")
    annotator = IdFilter(field_name="annotator_id")
    username = django_filters.CharFilter(field_name="annotator__username")
    updated_after = django_filters.IsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Annotation
        fields = ["kind", "target", "document", "task", "annotator", "username", "updated_after"]


class OwnAnnotationFilter(django_filters.FilterSet):
    kind = django_filters.CharFilter(field_name="task__kind")
    target = django_filters.CharFilter(field_name="task__target")
    document = IdFilter(field_name="task__document_id")

    class Meta:
        model = Annotation
        fields = ["kind", "target", "document"]
