"""Pure validation of label schemas and of annotation values against them.

Errors are ``SchemaError`` with ``field`` naming the offending field in the request's
terms (``labels[2]``, ``value.attributions[0].cue.start``) so the API can answer 400.
Offsets are document-level, half-open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("attribution", "verifiability", "stance")
LABEL_KINDS = ("verifiability", "stance")
LEVELS = ("nominal", "ordinal", "interval", "ratio")
ROLES = ("source", "cue", "content")
MAX_LABELS = 50
MAX_TARGETS = 20
MAX_ATTRIBUTIONS = 20
MAX_NAME = 200

DEFAULT_LABELS = {
    "verifiability": ["verifiable", "unverifiable", "not_a_claim"],
    "stance": ["against", "neutral", "favor"],
}


class SchemaError(ValueError):
    """A value or schema that does not fit; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SchemaSpec:
    """A validated schema definition for one kind."""

    kind: str
    labels: list[str] = field(default_factory=list)
    level: str = "nominal"
    targets: list[str] = field(default_factory=list)


def _names(values: Any, name: str, *, limit: int) -> list[str]:
    if not isinstance(values, list):
        raise SchemaError(name, "must be a list of strings")
    if len(values) > limit:
        raise SchemaError(name, f"at most {limit} entries are allowed")
    out: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise SchemaError(f"{name}[{i}]", "must be a non-empty string")
        value = value.strip()
        if len(value) > MAX_NAME:
            raise SchemaError(f"{name}[{i}]", f"must be at most {MAX_NAME} characters")
        if value in out:
            raise SchemaError(f"{name}[{i}]", f"duplicate entry {value!r}")
        out.append(value)
    return out


def parse_schema(data: Any, *, prefix: str = "") -> SchemaSpec:
    """Validate one schema definition ``{"kind", "labels", "level", "targets"}``."""
    p = f"{prefix}." if prefix else ""
    if not isinstance(data, dict):
        raise SchemaError(prefix, "must be an object with kind, labels, level and targets")
    unknown = set(data) - {"kind", "labels", "level", "targets", "enabled"}
    if unknown:
        raise SchemaError(f"{p}{sorted(unknown)[0]}", "unknown field")
    kind = data.get("kind")
    if kind not in KINDS:
        raise SchemaError(f"{p}kind", f"must be one of {', '.join(KINDS)}; got {kind!r}")
    level = data.get("level", "nominal")
    if level not in LEVELS:
        raise SchemaError(f"{p}level", f"must be one of {', '.join(LEVELS)}; got {level!r}")
    if kind == "attribution":
        if data.get("labels"):
            raise SchemaError(f"{p}labels", "attribution has no labels (it is marked with spans)")
        if data.get("targets"):
            raise SchemaError(f"{p}targets", "only stance has targets")
        return SchemaSpec(kind=kind, labels=[], level="nominal", targets=[])
    labels = _names(data.get("labels", DEFAULT_LABELS[kind]), f"{p}labels", limit=MAX_LABELS)
    if len(labels) < 2:
        raise SchemaError(f"{p}labels", "needs at least two labels")
    targets: list[str] = []
    if kind == "stance":
        targets = _names(data.get("targets", []), f"{p}targets", limit=MAX_TARGETS)
        if not targets:
            raise SchemaError(f"{p}targets", "stance needs at least one target")
    elif data.get("targets"):
        raise SchemaError(f"{p}targets", "only stance has targets")
    return SchemaSpec(kind=kind, labels=labels, level=level, targets=targets)


def parse_schemas(data: Any) -> list[SchemaSpec]:
    """Validate a project's list of schemas: at least one, one per kind."""
    if not isinstance(data, list) or not data:
        raise SchemaError("schemas", "must be a non-empty list of schema objects")
    specs = [parse_schema(item, prefix=f"schemas[{i}]") for i, item in enumerate(data)]
    seen: set[str] = set()
    for i, spec in enumerate(specs):
        if spec.kind in seen:
            raise SchemaError(f"schemas[{i}].kind", f"{spec.kind} is configured twice")
        seen.add(spec.kind)
    return specs


def _span(data: Any, name: str, *, doc_length: int) -> dict[str, int]:
    if not isinstance(data, dict):
        raise SchemaError(name, "must be an object {start, end}")
    unknown = set(data) - {"start", "end", "text"}
    if unknown:
        raise SchemaError(f"{name}.{sorted(unknown)[0]}", "unknown field")
    for key in ("start", "end"):
        v = data.get(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise SchemaError(f"{name}.{key}", "must be an integer character offset")
    start, end = data["start"], data["end"]
    if start < 0:
        raise SchemaError(f"{name}.start", "must be >= 0")
    if end > doc_length:
        raise SchemaError(f"{name}.end", f"must be <= the document length {doc_length}")
    if start >= end:
        raise SchemaError(f"{name}.end", "must be greater than start")
    return {"start": start, "end": end}


def validate_value(
    kind: str,
    value: Any,
    *,
    labels: list[str] | None = None,
    doc_length: int = 0,
    sentence_start: int = 0,
    sentence_end: int = 0,
) -> dict:
    """Validate an annotation value for ``kind`` and return its normalised form.

    Label kinds take ``{"label": L}`` with L in ``labels``. Attribution takes
    ``{"attributions": [{"source", "cue", "content"}]}``: each role a span inside the
    document, the cue inside the task's sentence; an empty list means no attribution.
    """
    if not isinstance(value, dict):
        raise SchemaError("value", "must be an object")
    if kind in LABEL_KINDS:
        unknown = set(value) - {"label"}
        if unknown:
            raise SchemaError(f"value.{sorted(unknown)[0]}", "unknown field")
        label = value.get("label")
        if not isinstance(label, str):
            raise SchemaError("value.label", "is required and must be a string")
        if label not in (labels or []):
            raise SchemaError("value.label", f"{label!r} is not one of {', '.join(labels or [])}")
        return {"label": label}
    if kind != "attribution":
        raise SchemaError("kind", f"unknown kind {kind!r}")
    unknown = set(value) - {"attributions"}
    if unknown:
        raise SchemaError(f"value.{sorted(unknown)[0]}", "unknown field")
    items = value.get("attributions")
    if not isinstance(items, list):
        raise SchemaError("value.attributions", "is required and must be a list (may be empty)")
    if len(items) > MAX_ATTRIBUTIONS:
        raise SchemaError("value.attributions", f"at most {MAX_ATTRIBUTIONS} triples per sentence")
    out = []
    for i, item in enumerate(items):
        name = f"value.attributions[{i}]"
        if not isinstance(item, dict):
            raise SchemaError(name, "must be an object with source, cue and content")
        unknown = set(item) - set(ROLES)
        if unknown:
            raise SchemaError(f"{name}.{sorted(unknown)[0]}", "unknown role")
        triple = {}
        for role in ROLES:
            if role not in item:
                raise SchemaError(f"{name}.{role}", "is required")
            triple[role] = _span(item[role], f"{name}.{role}", doc_length=doc_length)
        cue = triple["cue"]
        if cue["start"] < sentence_start or cue["end"] > sentence_end:
            raise SchemaError(
                f"{name}.cue",
                f"must lie inside the task's sentence [{sentence_start}, {sentence_end})",
            )
        if triple in out:
            raise SchemaError(name, "duplicates an earlier triple")
        out.append(triple)
    out.sort(key=lambda t: (t["cue"]["start"], t["source"]["start"], t["content"]["start"]))
    return {"attributions": out}
