"""Verifiability: is this sentence a checkable factual claim? One label per sentence."""

from __future__ import annotations

import re
from typing import Any

from labeling.kinds.attribution import SPEECH_CUES
from labeling.kinds.base import SchemaLike
from labeling.kinds.single_label import SingleLabelKind


class VerifiabilityKind(SingleLabelKind):
    """A single label per sentence; the demo guesses it from numbers, quotes and cues."""

    def simulate_value(
        self, *, text: str, start: int, target: str, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """Quotes without numbers are unverifiable; numbers or reported speech verifiable."""
        if "“" in text and not re.search(r"\d", text):
            return {"label": "unverifiable"}
        if SPEECH_CUES.search(text) or re.search(r"\d", text):
            return {"label": "verifiable"}
        return {"label": "not_a_claim"}


VERIFIABILITY = VerifiabilityKind(
    "verifiability",
    title="Verifiability",
    question="Is this sentence a checkable factual claim?",
    default_labels=("verifiable", "unverifiable", "not_a_claim"),
)
VERIFIABILITY.order = 1
#: The spec the registry finds.
KIND = VERIFIABILITY
VERIFIABILITY.demo_schema = {
    "kind": "verifiability",
    "labels": ["verifiable", "unverifiable", "not_a_claim"],
}
VERIFIABILITY.demo_guideline = (
    'Verifiability: "verifiable" if the sentence states a fact that could be checked '
    'against records (numbers, events, who did what); "unverifiable" for opinions, '
    'predictions and claims nobody could check; "not_a_claim" for headlines without a '
    "claim, questions and pure reporting frames."
)
