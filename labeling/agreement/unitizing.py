"""Krippendorff's unitizing alpha (alpha_U) over one continuum of characters.

Sources: K. Krippendorff (1995), "On the reliability of unitizing continuous data",
Sociological Methodology 25:47-76; K. Krippendorff (2004), Content Analysis: An
Introduction to Its Methodology, 2nd ed., Sage, sec. 12.4 (pp. 251-256), whose corrected
expected disagreement is used here (the one DKPro Agreement implements).

For a category ``c``, each annotator's units of ``c`` and the gaps between them
partition the continuum ``[B, B + L)``. With ``m`` annotators:

* ``D_o(c) = sum_{i != j} sum_{g, h} delta^2(ig, jh) / (m (m - 1) L^2)`` where two
  overlapping units contribute ``(begin difference)^2 + (end difference)^2``, a unit lying
  in a gap of the other annotator contributes its squared length, anything else 0;
* ``D_e(c) = (2 / L) sum_{units u} [(N_c - 1)(2 l^3 - 3 l^2 + l) / 3
  + l^2 sum_{gaps g >= l} (g - l + 1)] / (m L (m L - 1) - sum_u l (l - 1))``
  with ``N_c`` the number of units of ``c`` and gaps taken over all annotators.

``alpha_U(c) = 1 - D_o(c) / D_e(c)``; the overall alpha_U pools the categories,
``1 - sum_c D_o(c) / sum_c D_e(c)`` (Krippendorff 2004). Undefined values are ``None``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np

from labeling.json_types import JSONObject

Unit = tuple[Hashable, int, int, Hashable]
# A caller's unit before validation: (annotator, start, end, category) of mixed
# types (start/end may be any int-like), hence Any until _check_units checks it.
UnitInput = Sequence[Any]


def _check_units(
    units: Iterable[UnitInput], begin: int, length: int, annotators: Sequence[Hashable] | None
) -> tuple[list[Unit], list[Hashable]]:
    """Validated ``(annotator, start, end, category)`` tuples and the annotator list."""
    clean: list[Unit] = []
    for i, unit in enumerate(units):
        if len(unit) != 4:
            raise ValueError(f"units[{i}] must be (annotator, start, end, category)")
        annotator, start, end, category = unit
        start, end = int(start), int(end)
        if end <= start:
            raise ValueError(f"units[{i}] is empty or reversed: start {start}, end {end}")
        if start < begin or end > begin + length:
            raise ValueError(
                f"units[{i}] [{start}, {end}) lies outside the continuum "
                f"[{begin}, {begin + length})"
            )
        clean.append((annotator, start, end, category))
    present = list(dict.fromkeys(u[0] for u in clean))
    if annotators is None:
        return clean, present
    listed = list(dict.fromkeys(annotators))
    missing = [a for a in present if a not in set(listed)]
    if missing:
        raise ValueError(f"annotators does not list {missing[0]!r}, who has units")
    return clean, listed


def merged_spans(spans: list[tuple[int, int]]) -> np.ndarray:
    """Sorted ``(start, end)`` rows with overlapping spans merged (one annotator, one category).

    Krippendorff's sections partition the continuum, so one annotator's units of one
    category may not overlap; an overlap is read as one unit covering both.
    """
    if not spans:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.array(sorted(set(spans)), dtype=np.int64)
    out = [list(arr[0])]
    for s, e in arr[1:].tolist():
        if s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return np.array(out, dtype=np.int64)


def _pair_disagreement(a: np.ndarray, b: np.ndarray) -> float:
    """``sum_{g, h} delta^2`` between two annotators' sorted, disjoint units of one category."""
    if a.shape[0] == 0 and b.shape[0] == 0:
        return 0.0
    la = (a[:, 1] - a[:, 0]).astype(np.float64)
    lb = (b[:, 1] - b[:, 0]).astype(np.float64)
    # Units of b overlapping unit i of a: start_b < end_a and end_b > start_a.
    lo = np.searchsorted(b[:, 1], a[:, 0], side="right")
    hi = np.searchsorted(b[:, 0], a[:, 1], side="left")
    n_over = np.maximum(hi - lo, 0)
    total = float((la[n_over == 0] ** 2).sum())
    hit_b = np.zeros(b.shape[0], dtype=bool)
    if n_over.any():
        ia = np.repeat(np.arange(a.shape[0]), n_over)
        offsets = np.arange(int(n_over.sum())) - np.repeat(np.cumsum(n_over) - n_over, n_over)
        ib = np.repeat(lo, n_over) + offsets
        ds = (a[ia, 0] - b[ib, 0]).astype(np.float64)
        de = (a[ia, 1] - b[ib, 1]).astype(np.float64)
        total += float((ds**2 + de**2).sum())
        hit_b[ib] = True
    total += float((lb[~hit_b] ** 2).sum())
    return total


def _gaps(spans: np.ndarray, begin: int, end: int) -> np.ndarray:
    """Lengths of the positive gaps around sorted, disjoint spans in ``[begin, end)``."""
    edges_start = np.concatenate([[begin], spans[:, 1]])
    edges_end = np.concatenate([spans[:, 0], [end]])
    g: np.ndarray = edges_end - edges_start
    return g[g > 0].astype(np.float64)


def category_disagreements(
    per_annotator: list[np.ndarray], begin: int, length: int
) -> tuple[float, float]:
    """``(D_o, D_e)`` of one category from each annotator's merged units (formulas above)."""
    m = len(per_annotator)
    L = float(length)
    observed = 0.0
    for i in range(m):
        for j in range(i + 1, m):
            observed += _pair_disagreement(per_annotator[i], per_annotator[j])
    d_o = 2.0 * observed / (m * (m - 1) * L * L)
    lengths = np.concatenate([(s[:, 1] - s[:, 0]) for s in per_annotator]).astype(np.float64)
    n_c = lengths.size
    gaps = np.sort(np.concatenate([_gaps(s, begin, begin + length) for s in per_annotator]))
    suffix = np.concatenate([np.cumsum(gaps[::-1])[::-1], [0.0]])
    first = np.searchsorted(gaps, lengths, side="left")  # gaps >= l
    n_ge = gaps.size - first
    gap_term = suffix[first] - (lengths - 1.0) * n_ge
    per_unit = (n_c - 1.0) * (2 * lengths**3 - 3 * lengths**2 + lengths) / 3.0
    per_unit += lengths**2 * gap_term
    denominator = m * L * (m * L - 1.0) - float((lengths * (lengths - 1.0)).sum())
    d_e = (2.0 / L) * float(per_unit.sum()) / denominator if denominator > 0 else 0.0
    return d_o, d_e


def _ratio_alpha(d_o: float, d_e: float) -> float | None:
    return float(1.0 - d_o / d_e) if d_e > 0 else None


def unitizing_alpha(
    units: Iterable[UnitInput],
    *,
    begin: int,
    length: int,
    annotators: Sequence[Hashable] | None = None,
) -> JSONObject:
    """Krippendorff's alpha_U of ``(annotator, start, end, category)`` units (1995; 2004).

    Offsets are half-open, inside ``[begin, begin + length)``; ``annotators`` lists everyone
    who worked on the continuum (also those who marked nothing; default: those in
    ``units``). Returns ``{"alpha", "per_category"}``; ``alpha`` is
    ``1 - sum_c D_o(c) / sum_c D_e(c)``; ``None`` where undefined (fewer than two
    annotators, no unit, or no expected disagreement).
    """
    begin, length = int(begin), int(length)
    if length <= 0:
        raise ValueError(f"length must be positive, got {length}")
    clean, annotator_list = _check_units(units, begin, length, annotators)
    full = unitizing_alpha_checked(clean, begin, length, annotator_list)
    return {"alpha": full["alpha"], "per_category": full["per_category"]}


def unitizing_alpha_checked(
    units: list[Unit], begin: int, length: int, annotators: list[Hashable]
) -> JSONObject:
    """:func:`unitizing_alpha` on units already validated (also returns the D_o, D_e sums)."""
    categories = list(dict.fromkeys(u[3] for u in units))
    spans: dict[tuple[Hashable, Hashable], list[tuple[int, int]]] = {}
    for annotator, start, end, category in units:
        spans.setdefault((category, annotator), []).append((start, end))
    per_category: dict[Hashable, float | None] = {}
    sum_o = sum_e = 0.0
    if len(annotators) < 2:
        return {
            "alpha": None,
            "per_category": dict.fromkeys(categories),
            "observed": None,
            "expected": None,
        }
    for category in categories:
        per_annotator = [merged_spans(spans.get((category, a), [])) for a in annotators]
        d_o, d_e = category_disagreements(per_annotator, begin, length)
        per_category[category] = _ratio_alpha(d_o, d_e)
        sum_o += d_o
        sum_e += d_e
    return {
        "alpha": _ratio_alpha(sum_o, sum_e) if categories else None,
        "per_category": per_category,
        "observed": sum_o,
        "expected": sum_e,
    }
