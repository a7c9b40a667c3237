"""Suggestions for annotators (pure, offline): attribution triples from rules."""

from labeling.suggesting.attribution import Suggestion, suggest_attributions

#: Bump when the rules change: cached suggestions of older rules are then ignored.
SUGGESTER_VERSION = 1

__all__ = ["SUGGESTER_VERSION", "Suggestion", "suggest_attributions"]
