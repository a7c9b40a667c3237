"""Suggestions for annotators (pure, offline): attribution triples from rules."""

from labeling.suggesting.attribution import Suggestion, suggest_attributions

__all__ = ["Suggestion", "suggest_attributions"]
