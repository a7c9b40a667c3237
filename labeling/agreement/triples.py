"""Agreement on whole attribution triples: who said what, not only which spans were marked.

A triple of annotator A matches one of annotator B when its source, cue and content all
match: the same offsets (``exact``), or each role sharing at least one character
(``overlap``), with a one-to-one assignment (maximum bipartite matching) so one triple is
never matched twice. Swapping the sources of two quotes therefore loses both matches,
though every per-role span F1 stays 1. Pairwise F1 ``2 M / (|A| + |B|)`` is micro-averaged
over annotator pairs and items (the span F1 convention of ``attribution.span_f1``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from labeling.json_types import JSONObject
from labeling.text.tokenization import ROLES

from .attribution import MATCH_MODES, AttributionItem, _max_bipartite_matching, overlaps

Triple = tuple[tuple[int, int] | None, ...]


def triple_key(triple: JSONObject) -> Triple | None:
    """``(source, cue, content)`` spans of a stored triple (``None`` for an absent role)."""
    if not isinstance(triple, dict):
        return None
    spans = []
    for role in ROLES:
        span = triple.get(role)
        if span:
            start, end = int(span["start"]), int(span["end"])
            spans.append((start, end) if end > start else None)
        else:
            spans.append(None)
    return tuple(spans) if any(s is not None for s in spans) else None


def _triples_overlap(a: Triple, b: Triple) -> bool:
    for sa, sb in zip(a, b, strict=True):
        if sa is None and sb is None:
            continue
        if sa is None or sb is None or not overlaps(sa, sb):
            return False
    return True


def matched_triples(a: Sequence[Triple], b: Sequence[Triple], mode: str = "exact") -> int:
    """One-to-one matched triples between two annotators' lists (exact or overlap)."""
    if mode == "exact":
        return len(set(a) & set(b))
    if mode == "overlap":
        adjacency = [[j for j, tb in enumerate(b) if _triples_overlap(ta, tb)] for ta in a]
        return _max_bipartite_matching(adjacency, len(b))
    raise ValueError(f"mode must be one of {MATCH_MODES}, got {mode!r}")


def triple_counts(items: Sequence[AttributionItem], n_annotators: int) -> dict[str, np.ndarray]:
    """Per item, summed over annotator pairs: matched triples per mode and total triples."""
    n = len(items)
    out = {mode: np.zeros(n) for mode in MATCH_MODES}
    out["total"] = np.zeros(n)
    for u, item in enumerate(items):
        present = sorted(a for a in item.annotations if 0 <= a < n_annotators)
        keys = {
            a: sorted({k for t in (item.annotations[a] or []) if (k := triple_key(t)) is not None})
            for a in present
        }
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                out["total"][u] += len(keys[a]) + len(keys[b])
                if keys[a] and keys[b]:
                    for mode in MATCH_MODES:
                        out[mode][u] += matched_triples(keys[a], keys[b], mode)
    return out


def triple_f1(items: Sequence[AttributionItem], n_annotators: int) -> dict[str, float | None]:
    """Micro-averaged pairwise F1 of whole triples, ``{"exact", "overlap"}`` (None: no triple)."""
    counts = triple_counts(items, n_annotators)
    total = float(counts["total"].sum())
    return {
        mode: (2.0 * float(counts[mode].sum()) / total if total > 0 else None)
        for mode in MATCH_MODES
    }
