"""Stance: what stance does the sentence take toward a target? One task per target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from labeling.kinds.base import MAX_TARGETS, SchemaError, SchemaLike, names
from labeling.kinds.single_label import SingleLabelKind

_HOSTILE = ("kiev regime", "nationalist", "crimes", "does not allow", "ukrainian security")
_FRIENDLY = ("humanitarian", "guaranteed", "ceasefire", "safe evacuation")


class StanceKind(SingleLabelKind):
    """A single label per (sentence, target): the schema lists at least one target."""

    schema_fields: ClassVar[frozenset[str]] = SingleLabelKind.schema_fields | {"targets"}

    def _targets(self, data: Mapping[str, Any], p: str) -> list[str]:
        targets = names(data.get("targets", []), f"{p}targets", limit=MAX_TARGETS)
        if not targets:
            raise SchemaError(f"{p}targets", f"{self.name} needs at least one target")
        return targets

    def task_targets(self, schema: SchemaLike) -> list[str]:
        """One task per target, in schema order."""
        return list(schema.targets or [])

    def simulate_value(
        self, *, text: str, start: int, target: str, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """The demo's two targets, read from a few telling words."""
        lowered = text.lower()
        if target == "Ukrainian government":
            return {"label": "against" if any(w in lowered for w in _HOSTILE) else "neutral"}
        return {"label": "favor" if any(w in lowered for w in _FRIENDLY) else "neutral"}


STANCE = StanceKind(
    "stance",
    title="Stance",
    question="What stance does the sentence take toward the target?",
    default_labels=("against", "neutral", "favor"),
    form_level="ordinal",
)
STANCE.order = 2
#: The spec the registry finds.
KIND = STANCE
STANCE.value_doc = '`{"label": L}`, L one of the labels, one task per sentence and target'
STANCE.demo_schema = {
    "kind": "stance",
    "labels": ["against", "neutral", "favor"],
    "level": "ordinal",
    "targets": ["Ukrainian government", "Russian government"],
}
STANCE.demo_guideline = (
    "Stance: the stance the sentence (or the speaker it reports) takes toward the target."
)
