"""Pure scoring of annotators: proportions with intervals, percentiles, drift."""

from __future__ import annotations

import math
from collections.abc import Sequence

#: z for a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion; None when ``n`` is 0.

    Source: E. B. Wilson (1927), "Probable inference, the law of succession, and
    statistical inference", JASA 22(158), 209-212.
    """
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100) by linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def drifted(outcomes: Sequence[bool], *, recent: int = 20, min_earlier: int = 20) -> bool:
    """True when the last ``recent`` outcomes are clearly worse than the earlier ones.

    "Clearly": the recent accuracy's Wilson upper bound lies below the earlier accuracy
    (so a few unlucky answers do not raise the flag). Needs ``recent`` recent and
    ``min_earlier`` earlier outcomes, oldest first.
    """
    if len(outcomes) < recent + min_earlier:
        return False
    earlier, last = outcomes[:-recent], outcomes[-recent:]
    earlier_accuracy = sum(earlier) / len(earlier)
    interval = wilson_interval(sum(last), len(last))
    return interval is not None and interval[1] < earlier_accuracy
