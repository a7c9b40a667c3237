"""Export parameters: one DRF serializer for the streaming GET, the job's POST and the command.

Query strings, JSON bodies and command-line options all pass through
:class:`ExportParamsSerializer`, so the three accept the same names and values and refuse
bad ones with the same messages (a 400 naming the parameter, or ``--option: message``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labeling.exceptions import InvalidInput
from labeling.exporting.pseudonyms import resolve_annotator
from labeling.exporting.splits import DEFAULT_RATIOS, validate_ratios
from labeling.exporting.writers import FORMATS
from labeling.kinds.lookup import project_schema
from labeling.models import Project


@dataclass(frozen=True)
class ExportOptions:
    """What to export and how; every field has a parameter twin (see the serializer)."""

    kind: str | None = None
    min_agreement: float | None = None
    only_adjudicated: bool = False
    include_unannotated: bool = False
    updated_from: dt.datetime | None = None
    updated_to: dt.datetime | None = None
    annotator_id: int | None = None
    split: str | None = None
    reveal_annotators: bool = False
    ratios: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_RATIOS))
    seed: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (stored on ``Export.filters``)."""
        return {
            "kind": self.kind,
            "min_agreement": self.min_agreement,
            "only_adjudicated": self.only_adjudicated,
            "include_unannotated": self.include_unannotated,
            "updated_from": self.updated_from.isoformat() if self.updated_from else None,
            "updated_to": self.updated_to.isoformat() if self.updated_to else None,
            "annotator_id": self.annotator_id,
            "split": self.split,
            "reveal_annotators": self.reveal_annotators,
            "ratios": self.ratios,
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportOptions:
        """The inverse of :meth:`to_json`."""
        values = dict(data)
        for key in ("updated_from", "updated_to"):
            if values.get(key):
                values[key] = dt.datetime.fromisoformat(values[key])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})

    def active_filters(self) -> dict[str, Any]:
        """The filters that differ from "everything" (for the dataset card)."""
        data = self.to_json()
        return {
            key: data[key]
            for key in (
                "kind",
                "min_agreement",
                "only_adjudicated",
                "include_unannotated",
                "updated_from",
                "updated_to",
                "annotator_id",
                "split",
            )
            if data[key] not in (None, False)
        }


@extend_schema_field(OpenApiTypes.STR)
class MomentField(serializers.Field):
    """An ISO 8601 date or datetime; a date alone means its first (or last) instant, UTC."""

    def __init__(self, *, end_of_day: bool, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dt.datetime:
        text = str(data).strip()
        moment = day = None
        try:
            # A date alone first: parse_datetime would read "2024-05-01" as midnight.
            day = parse_date(text) if len(text) == 10 else None
            moment = None if day else parse_datetime(text)
        except ValueError:
            moment = day = None
        if moment is None and day is None:
            raise serializers.ValidationError(
                "must be an ISO 8601 date or datetime (2024-05-01 or 2024-05-01T12:00:00Z); "
                f"got {data!r}"
            )
        if moment is None:
            assert day is not None
            moment = dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment, dt.UTC)
        return moment

    def to_representation(self, value: dt.datetime) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.STR)
class RatiosField(serializers.Field):
    """Split ratios as ``train:0.8,dev:0.1,test:0.1`` or a JSON object ``{"train": 0.8, ...}``."""

    def to_internal_value(self, data: Any) -> dict[str, float]:
        if isinstance(data, Mapping):
            ratios = dict(data)
        else:
            ratios = {}
            for part in str(data).split(","):
                name, sep, number = part.partition(":")
                try:
                    if not sep:
                        raise ValueError
                    ratios[name.strip()] = float(number)
                except ValueError:
                    raise serializers.ValidationError(
                        f"must look like train:0.8,dev:0.1,test:0.1; got {data!r}"
                    ) from None
        try:
            return validate_ratios(ratios)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def to_representation(self, value: Mapping[str, float]) -> str:
        return ",".join(f"{name}:{ratio:g}" for name, ratio in value.items())


class ExportParamsSerializer(serializers.Serializer):
    """The export's parameters; ``context["project"]`` resolves ``annotator``."""

    format = serializers.ChoiceField(choices=list(FORMATS), default="jsonl")
    kind = serializers.CharField(
        required=False,
        help_text="one of the project's kinds (built-in or custom); default: every kind",
    )
    min_agreement = serializers.FloatField(
        required=False,
        min_value=0,
        max_value=1,
        help_text="only tasks whose modal_share (share of annotations equal to the most "
        "common value) is at least this",
    )
    only_adjudicated = serializers.BooleanField(
        default=False, help_text="only tasks with adjudicated gold"
    )
    include_unannotated = serializers.BooleanField(
        default=False,
        help_text="also tasks without annotations or gold (with no other filter narrowing)",
    )
    updated_from = MomentField(
        end_of_day=False,
        required=False,
        help_text="ISO 8601 date or datetime: tasks with an annotation updated at or after",
    )
    updated_to = MomentField(
        end_of_day=True,
        required=False,
        help_text="ISO 8601 date (the whole day) or datetime: annotation updated at or before",
    )
    annotator = serializers.CharField(
        required=False,
        help_text="username (or pseudonym from an earlier export): tasks this annotator labelled",
    )
    split = serializers.CharField(required=False, help_text="only this split")
    splits = RatiosField(
        required=False, help_text="split ratios, e.g. train:0.8,dev:0.1,test:0.1 (the default)"
    )
    seed = serializers.IntegerField(
        default=0,
        min_value=-(2**63),
        max_value=2**63 - 1,
        help_text="integer seed of the document-level split (default 0)",
    )
    reveal_annotators = serializers.BooleanField(
        default=False, help_text="real usernames instead of pseudonyms"
    )

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise serializers.ValidationError(
                {"body": ["must be a JSON object of export parameters"]}
            )
        unknown = sorted(set(data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {unknown[0]: [f"unknown parameter; allowed: {', '.join(self.fields)}"]}
            )
        # An empty query parameter (``?kind=``) means "not given", as in a form.
        given = {key: data[key] for key in data if data[key] not in ("", None)}
        return super().to_internal_value(given)

    def validate_format(self, value: str) -> str:
        return value.strip().lower()

    def validate_kind(self, value: str) -> str:
        project: Project = self.context["project"]
        try:
            return project_schema(project.pk, value).kind
        except InvalidInput as exc:
            raise serializers.ValidationError(exc.message) from exc

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("updated_from"), attrs.get("updated_to")
        if start and end and start > end:
            raise serializers.ValidationError({"updated_to": ["must not be before updated_from"]})
        ratios = attrs.get("splits") or dict(DEFAULT_RATIOS)
        split = attrs.get("split")
        if split is not None and split not in ratios:
            raise serializers.ValidationError(
                {"split": [f"must be one of {', '.join(ratios)}; got {split!r}"]}
            )
        if attrs.get("annotator") is not None:
            project: Project = self.context["project"]
            user_id = resolve_annotator(project, attrs["annotator"])
            if user_id is None:
                raise serializers.ValidationError(
                    {"annotator": [f"no annotations by {attrs['annotator']!r} in this project"]}
                )
            attrs["annotator_id"] = user_id
        return attrs

    def export(self) -> tuple[str, ExportOptions]:
        """``(format, options)`` of validated data."""
        data = self.validated_data
        return data["format"], ExportOptions(
            kind=data.get("kind"),
            min_agreement=data.get("min_agreement"),
            only_adjudicated=data["only_adjudicated"],
            include_unannotated=data["include_unannotated"],
            updated_from=data.get("updated_from"),
            updated_to=data.get("updated_to"),
            annotator_id=data.get("annotator_id"),
            split=data.get("split"),
            reveal_annotators=data["reveal_annotators"],
            ratios=data.get("splits") or dict(DEFAULT_RATIOS),
            seed=data["seed"],
        )


def parse_export_params(project: Project, params: Mapping[str, Any]) -> tuple[str, ExportOptions]:
    """Validate export parameters (a query dict, a JSON body or options); 400s name them."""
    if hasattr(params, "dict"):  # a QueryDict: one value per name
        params = params.dict()
    serializer = ExportParamsSerializer(data=params, context={"project": project})
    serializer.is_valid(raise_exception=True)
    return serializer.export()
