"""OpenAPI additions drf-spectacular cannot infer: the value schema of every task kind."""

from __future__ import annotations

from typing import Any

from labeling.kinds import value_components


def add_kind_components(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: add each kind's value component (referenced by ``KindValue``)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(value_components())
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
