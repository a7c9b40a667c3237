"""Agreement on attribution triples (source, cue, content character spans).

An item is one sentence; each annotator who annotated it gave a (possibly empty) list of
triples ``{"source": {"start", "end"}, "cue": {...}, "content": {...}}`` in document
character offsets (half-open). Annotators absent from ``annotations`` did not annotate
the item. Three views are derived:

* span F1 per role between annotator pairs, with exact and overlap matching;
* a nominal "has attribution" variable per item (empty list = no);
* token-level role labels (``O``/source/cue/content) per token of the sentence, each
  token being one unit (``labeling.text.tokenization``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from labeling.json_types import JSONObject
from labeling.text.tokenization import ROLES, token_role_labels, tokenize

Span = tuple[int, int]

HAS_ATTRIBUTION_LABELS: list[str] = ["no", "yes"]
TOKEN_LABELS: list[str] = ["O", *ROLES]
MATCH_MODES: tuple[str, ...] = ("exact", "overlap")


@dataclass
class AttributionItem:
    """One sentence to agree on: its document offset, text and each annotator's triples."""

    sentence_start: int
    sentence_text: str
    annotations: dict[int, list[JSONObject]] = field(default_factory=dict)
    sentence_end: int | None = None

    def __post_init__(self) -> None:
        if self.sentence_end is None:
            self.sentence_end = self.sentence_start + len(self.sentence_text)


def role_spans(triples: Iterable[JSONObject], role: str) -> list[Span]:
    """Distinct non-empty ``(start, end)`` spans of ``role`` in a list of triples, sorted."""
    spans = set()
    for triple in triples:
        span = triple.get(role) if isinstance(triple, dict) else None
        if not span:
            continue
        start, end = int(span["start"]), int(span["end"])
        if end > start:
            spans.add((start, end))
    return sorted(spans)


def overlaps(a: Span, b: Span) -> bool:
    """Two half-open spans overlap when they share at least one character."""
    return a[0] < b[1] and b[0] < a[1]


def _max_bipartite_matching(adjacency: list[list[int]], n_right: int) -> int:
    """Size of a maximum matching (Kuhn's augmenting paths; spans per sentence are few)."""
    match_right = [-1] * n_right

    def augment(u: int, seen: list[bool]) -> bool:
        for v in adjacency[u]:
            if not seen[v]:
                seen[v] = True
                if match_right[v] == -1 or augment(match_right[v], seen):
                    match_right[v] = u
                    return True
        return False

    return sum(augment(u, [False] * n_right) for u in range(len(adjacency)))


def matched_spans(a: Sequence[Span], b: Sequence[Span], mode: str = "exact") -> int:
    """One-to-one matched spans: same offsets, or sharing a character (maximum matching)."""
    if mode == "exact":
        return len(set(a) & set(b))
    if mode == "overlap":
        adjacency = [[j for j, sb in enumerate(b) if overlaps(sa, sb)] for sa in a]
        return _max_bipartite_matching(adjacency, len(b))
    raise ValueError(f"mode must be one of {MATCH_MODES}, got {mode!r}")


def _f1(tp: int, total: int) -> float | None:
    return 2.0 * tp / total if total > 0 else None


def span_f1_counts(
    items: Sequence[AttributionItem], n_annotators: int
) -> dict[tuple[int, int], dict[str, dict[str, int]]]:
    """Per annotator pair and role: matched ``exact``/``overlap`` and ``total`` spans of both."""
    out: dict[tuple[int, int], dict[str, dict[str, int]]] = {}
    for item in items:
        present = sorted(a for a in item.annotations if 0 <= a < n_annotators)
        spans = {a: {r: role_spans(item.annotations[a] or [], r) for r in ROLES} for a in present}
        for i, a in enumerate(present):
            for b in present[i + 1 :]:
                pair = out.setdefault(
                    (a, b), {r: {"exact": 0, "overlap": 0, "total": 0} for r in ROLES}
                )
                for role in ROLES:
                    sa, sb = spans[a][role], spans[b][role]
                    cell = pair[role]
                    cell["total"] += len(sa) + len(sb)
                    if sa and sb:
                        cell["exact"] += matched_spans(sa, sb, "exact")
                        cell["overlap"] += matched_spans(sa, sb, "overlap")
    return out


def span_f1(
    items: Sequence[AttributionItem],
    n_annotators: int,
    *,
    counts: dict[tuple[int, int], dict[str, dict[str, int]]] | None = None,
) -> dict[str, dict[str, float | None]]:
    """Pairwise span F1 per role, micro-averaged over pairs and items: ``2 TP / (|A| + |B|)``.

    F1 between two annotators is symmetric (precision of one is recall of the other);
    summing matched and total spans over all pairs and shared items gives the micro
    average. Spans repeated across an annotator's triples (a source with two quotes)
    count once. ``None`` when no annotator marked any span of the role.
    """
    if counts is None:
        counts = span_f1_counts(items, n_annotators)
    result: dict[str, dict[str, float | None]] = {}
    for role in ROLES:
        total = sum(c[role]["total"] for c in counts.values())
        result[role] = {
            mode: _f1(sum(c[role][mode] for c in counts.values()), total) for mode in MATCH_MODES
        }
    return result


def has_attribution_codes(items: Sequence[AttributionItem], n_annotators: int) -> np.ndarray:
    """``(n_items, n_annotators)`` codes: 1 = some triple, 0 = empty list, -1 = not annotated."""
    codes = np.full((len(items), n_annotators), -1, dtype=np.int64)
    for u, item in enumerate(items):
        for a, triples in item.annotations.items():
            if 0 <= a < n_annotators:
                codes[u, a] = 1 if triples else 0
    return codes


def token_role_codes(
    items: Sequence[AttributionItem], n_annotators: int
) -> tuple[np.ndarray, np.ndarray]:
    """Token x annotator role codes (index in ``TOKEN_LABELS``) and each token's item index."""
    label_index = {label: i for i, label in enumerate(TOKEN_LABELS)}
    blocks = []
    owners = []
    for u, item in enumerate(items):
        tokens = tokenize(item.sentence_text, offset=item.sentence_start)
        if not tokens:
            continue
        block = np.full((len(tokens), n_annotators), -1, dtype=np.int64)
        for a, triples in item.annotations.items():
            if 0 <= a < n_annotators:
                labels = token_role_labels(tokens, triples or [])
                block[:, a] = [label_index[label] for label in labels]
        blocks.append(block)
        owners.append(np.full(len(tokens), u, dtype=np.int64))
    if not blocks:
        return np.zeros((0, n_annotators), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(blocks), np.concatenate(owners)
