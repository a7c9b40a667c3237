"""Machine-readable warnings on agreement results: ``{"code", "message"}`` dicts.

Codes: ``few_valid_draws`` (an interval rests on fewer than 95% valid bootstrap draws),
``too_few_pairable_values`` (fewer pairable values than Krippendorff's minimum sample),
``no_interval`` (a figure is defined but no interval could be drawn).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from labeling.json_types import JSONObject

MIN_VALID_SHARE = 0.95
ALPHA_MIN = 0.8  # Krippendorff (2004, sec. 12.7): rely on variables with alpha >= .800
Z_05 = 1.6448536269514722  # one-tailed p = 0.05


def warning(code: str, message: str) -> dict[str, str]:
    """One warning entry."""
    return {"code": code, "message": message}


def interval_warnings(name: str, record: JSONObject | None) -> list[dict[str, str]]:
    """A ``few_valid_draws`` warning when under 95% of an interval's draws were valid."""
    if not record or record["n_draws"] <= 0:
        return []
    valid, draws = record["n_valid"], record["n_draws"]
    if valid == 0:
        return [warning("no_interval", f"{name}: none of {draws} bootstrap draws was defined")]
    if valid < MIN_VALID_SHARE * draws:
        return [
            warning(
                "few_valid_draws",
                f"{name} rests on {valid} of {draws} bootstrap draws ({valid / draws:.0%}); "
                "the others were undefined (a resample without variation), so the interval "
                "is too narrow",
            )
        ]
    return []


def minimum_pairable_values(
    p_smallest: float, alpha_min: float = ALPHA_MIN, z: float = Z_05
) -> int:
    """Krippendorff's minimum number of pairable values for two coders (Bloch & Kraemer 1989).

    ``N = 2 z^2 [(1 + a)(3 - a) / (4 (1 - a) p (1 - p)) - a]`` with ``a = alpha_min`` and
    ``p`` the probability of the least frequent category (Krippendorff 2004, sec. 11.4.2,
    Table 11.3, from Bloch & Kraemer 1989, eq. 3.7): 139 for p = .25, alpha_min = .800 and
    p-level .05.
    """
    if not 0 < p_smallest < 1:
        return 0
    a = alpha_min
    core = (1 + a) * (3 - a) / (4 * (1 - a) * p_smallest * (1 - p_smallest)) - a
    return math.ceil(2 * z * z * core)


def sample_size_warnings(counts: np.ndarray, labels: list[str]) -> list[dict[str, str]]:
    """``too_few_pairable_values`` when the data are below Krippendorff's minimum sample."""
    pairable = counts.sum(axis=1) >= 2
    return pooled_size_warnings(counts[pairable].sum(axis=0), labels)


def pooled_size_warnings(pooled_values: np.ndarray, labels: Sequence[str]) -> list[dict[str, str]]:
    """:func:`sample_size_warnings` from the pairable values' category totals."""
    pooled = np.asarray(pooled_values, dtype=np.float64)
    n = float(pooled.sum())
    used = pooled > 0
    if n == 0 or used.sum() < 2:
        return []
    p_smallest = float(pooled[used].min() / n)
    needed = minimum_pairable_values(p_smallest)
    if n >= needed:
        return []
    smallest = labels[int(np.flatnonzero(used)[np.argmin(pooled[used])])]
    return [
        warning(
            "too_few_pairable_values",
            f"{int(n)} pairable values; Krippendorff (2004, sec. 11.4.2, after Bloch & Kraemer "
            f"1989) asks for at least {needed} to tell alpha >= {ALPHA_MIN} at p = .05 when "
            f"the rarest category ({smallest!r}) has probability {p_smallest:.3f}",
        )
    ]
