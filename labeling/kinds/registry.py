"""The registry everything asks: which kinds exist, the spec of a kind, a project's kinds.

Built-in kinds are found, not listed: every module of ``labeling.kinds`` that defines
``KIND`` (a ``KindSpec``) is one, ordered by ``KindSpec.order`` (the order tasks, forms
and lists use), so a new built-in kind is one new module. Any other valid kind name is
a custom single-label kind defined by a project's schema. Kind names are parsed once,
here (``parse_kind_name``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from labeling.kinds.base import (
    KIND_NAME_RE,
    KindSpec,
    SchemaError,
    SchemaLike,
    SchemaSpec,
    check_kind_name,
)
from labeling.kinds.single_label import SingleLabelKind

#: Modules of the package that are the registry's machinery, not kinds.
_MACHINERY = frozenset({"base", "lookup", "registry", "single_label"})


def _discover() -> dict[str, KindSpec]:
    """``{name: spec}`` of every kind module of this package (defines ``KIND``), in order."""
    package = importlib.import_module("labeling.kinds")
    specs = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _MACHINERY:
            continue
        spec = getattr(importlib.import_module(f"labeling.kinds.{info.name}"), "KIND", None)
        if isinstance(spec, KindSpec):
            specs.append(spec)
    return {spec.name: spec for spec in sorted(specs, key=lambda s: (s.order, s.name))}


#: The built-in kinds, in display and task order.
BUILTIN: dict[str, KindSpec] = _discover()
BUILTIN_NAMES: tuple[str, ...] = tuple(BUILTIN)
#: What a custom kind's schema is answered with: one label per sentence.
CUSTOM_WIDGET = "labels"
SCHEMA_KEYS = frozenset({"kind", "enabled", "labels", "level", "targets", "values", "description"})


@lru_cache(maxsize=1024)
def _custom(name: str) -> SingleLabelKind:
    return SingleLabelKind(name, builtin=False)


def kind_spec(name: str) -> KindSpec:
    """The spec of ``name``: a built-in kind, or a custom single-label kind.

    ``name`` must already be a valid kind name (``parse_kind_name``); whether a project
    has that kind is the caller's question (``project_kind`` / the project's schemas).
    """
    spec = BUILTIN.get(name)
    return spec if spec is not None else _custom(name)


def is_kind_name(value: Any) -> bool:
    """Whether ``value`` is a syntactically valid kind name (cheap; for hot paths)."""
    return isinstance(value, str) and KIND_NAME_RE.fullmatch(value) is not None


def parse_kind_name(value: Any, field: str = "kind") -> str:
    """``value`` as a kind name, or ``SchemaError`` naming ``field`` (a 400 in the API)."""
    return check_kind_name(value, field)


def kind_order(name: str) -> tuple[int, str]:
    """Sort key: built-in kinds in registry order, then custom kinds by name."""
    if name in BUILTIN:
        return (0, f"{BUILTIN_NAMES.index(name):04d}")
    return (1, name)


def sorted_kinds(names: Iterable[str]) -> list[str]:
    """``names`` in kind order."""
    return sorted(names, key=kind_order)


def kind_title(name: str, schema: SchemaLike | None = None) -> str:
    """The human title of a kind."""
    return kind_spec(name).title


def parse_schema(data: Any, *, prefix: str = "") -> SchemaSpec:
    """Validate one schema definition ``{"kind", ...}``; the kind's spec checks the rest."""
    p = f"{prefix}." if prefix else ""
    if not isinstance(data, dict):
        raise SchemaError(prefix, "must be an object with kind, labels, level and targets")
    unknown = set(data) - SCHEMA_KEYS
    if unknown:
        raise SchemaError(f"{p}{sorted(unknown)[0]}", "unknown field")
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise SchemaError(
            f"{p}kind",
            f"is required: one of {', '.join(BUILTIN_NAMES)} or a custom kind name; got {kind!r}",
        )
    parse_kind_name(kind, f"{p}kind")
    spec = kind_spec(kind)
    allowed = spec.schema_fields | {"kind", "enabled"}
    extra = sorted(k for k in set(data) - allowed if data[k] not in (None, [], ""))
    if extra:
        raise SchemaError(f"{p}{extra[0]}", f"does not apply to {kind}")
    return spec.parse_schema(data, prefix)


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


def task_targets(schemas: Iterable[Any]) -> list[tuple[str, str]]:
    """The (kind, target) pairs every sentence gets a task for, in kind order.

    Disabled schemas (``enabled`` false) get no tasks.
    """
    out: list[tuple[str, str]] = []
    for schema in sorted(schemas, key=lambda s: kind_order(s.kind)):
        if getattr(schema, "enabled", True):
            out.extend((schema.kind, t) for t in kind_spec(schema.kind).task_targets(schema))
    return out


def kinds_in(schemas: Sequence[Any], *, enabled_only: bool = True) -> list[tuple[str, str]]:
    """``(name, title)`` of the schemas' kinds in kind order (for choices and menus)."""
    names = [s.kind for s in schemas if s.enabled or not enabled_only]
    return [(name, kind_title(name)) for name in sorted_kinds(names)]


VALUE_COMPONENT = "KindValue"


def value_components() -> dict[str, dict[str, Any]]:
    """OpenAPI components of values: one per built-in kind, one for custom kinds, and
    ``KindValue``, any of them (custom kinds share the single-label shape)."""
    components = {
        f"{spec.title.replace(' ', '')}Value": {
            **spec.value_json_schema(),
            "description": f"The value of a {spec.name} task.",
        }
        for spec in BUILTIN.values()
    }
    components["CustomKindValue"] = {
        **_custom("custom").value_json_schema(),
        "description": "The value of a task of a project's custom kind.",
    }
    components[VALUE_COMPONENT] = {
        "anyOf": [{"$ref": f"#/components/schemas/{name}"} for name in components],
        "description": "An annotation or gold value; its shape depends on the task's kind.",
    }
    return components


def schema_definition_json_schema() -> dict[str, Any]:
    """The OpenAPI schema of one entry of ``schemas`` in ``POST /api/projects/``."""
    levels = ["nominal", "ordinal", "interval", "ratio"]
    return {
        "type": "object",
        "required": ["kind"],
        "properties": {
            "kind": {
                "type": "string",
                "pattern": "^" + KIND_NAME_RE.pattern + "$",
                "description": "A built-in kind ("
                + ", ".join(BUILTIN_NAMES)
                + ") or the name of a custom single-label question.",
            },
            "labels": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Ordered labels (label kinds; required for custom kinds).",
            },
            "level": {"type": "string", "enum": levels, "default": "nominal"},
            "values": {
                "type": "array",
                "nullable": True,
                "items": {"type": "number"},
                "description": "Each label's number: required for ratio, and for interval "
                "unless the labels are equally spaced (then omit it).",
            },
            "targets": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Kinds with one task per target only.",
            },
            "description": {"type": "string", "description": "The question, in words."},
            "enabled": {"type": "boolean", "default": True},
        },
    }


def workspace_configs(schemas: Iterable[Any]) -> Mapping[str, dict[str, Any]]:
    """``{kind: workspace config}`` of the schemas, in kind order."""
    items = sorted(schemas, key=lambda s: kind_order(s.kind))
    return {s.kind: kind_spec(s.kind).workspace_config(s) for s in items}
