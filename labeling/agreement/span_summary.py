"""Chance-corrected span agreement of attribution items: alpha_U, gamma and triple F1 with CIs.

The corpus is one continuum: each task's stretch of text (its sentence, widened to the
spans its annotators marked, since a quote may run into the next sentence) laid end to
end in task order, its annotators in slots 0..m-1. Both measures are symmetric in the
annotators, so slots are exact as long as every task has the same number of annotators;
tasks with another number (the most common number wins) are left out and counted.

Intervals resample tasks with replacement (percentile bootstrap, Efron & Tibshirani 1993):
alpha_U is recomputed on each resampled continuum; gamma's observed disorder is a sum over
independent alignment components, each assigned to the task of its first unit, and the
expected disorder (a chance baseline estimated by sampling) is held at its estimate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from labeling.json_types import JSONObject
from labeling.text.tokenization import ROLES

from .alignment import best_alignment_disorder
from .attribution import AttributionItem
from .bootstrap import interval_record, percentile_interval
from .data_warnings import interval_warnings, warning
from .gamma import DEFAULT_SAMPLES, expected_disorder
from .triples import triple_counts
from .unitizing import category_disagreements, merged_spans

SPAN_DRAWS = 200  # alpha_U recomputes a whole continuum per draw


def _task_units(item: AttributionItem) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    """``(lo, hi, [(slot, start, end, role index)])`` of one task, offsets from ``lo``."""
    annotators = sorted(item.annotations)
    raw = []
    for slot, a in enumerate(annotators):
        for triple in item.annotations[a] or []:
            if not isinstance(triple, dict):
                continue
            for r, role in enumerate(ROLES):
                span = triple.get(role)
                if span and int(span["end"]) > int(span["start"]):
                    raw.append((slot, int(span["start"]), int(span["end"]), r))
    lo = min([item.sentence_start] + [u[1] for u in raw])
    hi = max([int(item.sentence_end or item.sentence_start)] + [u[2] for u in raw])
    return lo, hi, [(s, b - lo, e - lo, r) for s, b, e, r in raw]


def build_continuum(
    items: Sequence[AttributionItem],
) -> tuple[list[np.ndarray], np.ndarray, int, list[int]]:
    """Per kept task: merged unit rows ``(slot, start, end, role)``; lengths; m; kept indices."""
    sizes = Counter(len(item.annotations) for item in items if len(item.annotations) >= 2)
    if not sizes:
        return [], np.zeros(0, dtype=np.int64), 0, []
    m = max(sizes, key=lambda k: (sizes[k], k))
    units, lengths, kept = [], [], []
    for index, item in enumerate(items):
        if len(item.annotations) != m:
            continue
        lo, hi, raw = _task_units(item)
        rows: list[tuple[int, int, int, int]] = []
        for slot in range(m):
            for r in range(len(ROLES)):
                spans = merged_spans([(b, e) for s, b, e, rr in raw if s == slot and rr == r])
                rows.extend((slot, b, e, r) for b, e in spans.tolist())
        units.append(np.array(rows, dtype=np.int64).reshape(-1, 4))
        lengths.append(max(hi - lo, 1))
        kept.append(index)
    return units, np.array(lengths, dtype=np.int64), m, kept


def _concatenate(units: list[np.ndarray], lengths: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The tasks ``order`` laid end to end: their unit rows with shifted offsets."""
    flat = np.concatenate(units) if units else np.zeros((0, 4), dtype=np.int64)
    counts = np.array([u.shape[0] for u in units], dtype=np.int64)
    first = np.cumsum(counts) - counts
    offsets = np.concatenate([[0], np.cumsum(lengths[order])[:-1]])
    per = counts[order]
    total = int(per.sum())
    # Row indices of the picked tasks' units, in pick order.
    index = np.repeat(first[order], per) + (np.arange(total) - np.repeat(np.cumsum(per) - per, per))
    rows: np.ndarray = flat[index].copy()
    shift = np.repeat(offsets, per)
    rows[:, 1] += shift
    rows[:, 2] += shift
    return rows


def _alpha_u(rows: np.ndarray, total: int, m: int) -> tuple[float | None, dict[str, float | None]]:
    """Overall and per-role alpha_U of concatenated unit rows (sorted within each task)."""
    per_role: dict[str, float | None] = {}
    sum_o = sum_e = 0.0
    present = False
    for r, role in enumerate(ROLES):
        mine = rows[rows[:, 3] == r]
        if mine.shape[0] == 0:
            per_role[role] = None
            continue
        present = True
        per_slot = []
        for slot in range(m):
            spans = mine[mine[:, 0] == slot][:, 1:3]
            per_slot.append(spans[np.argsort(spans[:, 0], kind="stable")])
        d_o, d_e = category_disagreements(per_slot, 0, total)
        per_role[role] = float(1 - d_o / d_e) if d_e > 0 else None
        sum_o += d_o
        sum_e += d_e
    overall = float(1 - sum_o / sum_e) if present and sum_e > 0 else None
    return overall, per_role


def _unitizing_summary(
    units: list[np.ndarray],
    lengths: np.ndarray,
    m: int,
    draws: int,
    seed: int,
    warnings: list[JSONObject],
) -> JSONObject:
    n = len(units)
    order = np.arange(n)
    alpha, per_role = _alpha_u(_concatenate(units, lengths, order), int(lengths.sum()), m)
    ci = record = None
    if alpha is not None and draws > 0:
        rng = np.random.default_rng(seed)
        samples = np.empty(draws)
        for d in range(draws):
            pick = rng.integers(0, n, size=n)
            value, _ = _alpha_u(_concatenate(units, lengths, pick), int(lengths[pick].sum()), m)
            samples[d] = np.nan if value is None else value
        record = interval_record(samples, draws, "tasks")
        ci = percentile_interval(samples)
        warnings.extend(interval_warnings("unitizing_alpha_ci95", record))
    return {"alpha": alpha, "per_role": per_role, "ci95": ci, "interval": record}


def _gamma_of(
    rows: np.ndarray, task_of_unit: np.ndarray, n_tasks: int, m: int, samples: int, seed: int
) -> JSONObject | None:
    """Gamma of unit rows with the observed disorder split per task (for the bootstrap)."""
    if rows.shape[0] == 0:
        return None
    arr = rows.astype(np.float64)
    _, costs, comp = best_alignment_disorder(arr, m, return_components=True)
    first_unit = np.full(costs.size, rows.shape[0])
    np.minimum.at(first_unit, comp, np.arange(rows.shape[0]))
    per_task_cost = np.bincount(task_of_unit[first_unit], weights=costs, minlength=n_tasks)
    per_task_units = np.bincount(task_of_unit, minlength=n_tasks).astype(np.float64)
    observed = float(costs.sum()) / (rows.shape[0] / m)
    expected = expected_disorder(arr, m, alpha=1.0, beta=1.0, n_samples=samples, seed=seed)
    if observed == 0:
        gamma: float | None = 1.0
    else:
        gamma = 1.0 - observed / expected if expected > 0 else None
    return {
        "gamma": gamma,
        "observed_disorder": observed,
        "expected_disorder": expected,
        "n_samples": samples,
        "per_task_cost": per_task_cost,
        "per_task_units": per_task_units,
    }


def _gamma_interval(fit: JSONObject, m: int, draws: int, seed: int) -> tuple[np.ndarray, int]:
    cost, count = fit["per_task_cost"], fit["per_task_units"]
    n = cost.size
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = (weights @ cost) / ((weights @ count) / m)
        out = 1.0 - observed / fit["expected_disorder"]
    out[observed == 0] = 1.0
    out[~np.isfinite(out)] = np.nan
    return out, draws


def _gamma_summary(
    units: list[np.ndarray],
    lengths: np.ndarray,
    m: int,
    draws: int,
    seed: int,
    samples: int,
    warnings: list[JSONObject],
) -> JSONObject:
    n = len(units)
    rows = _concatenate(units, lengths, np.arange(n))
    task_of_unit = np.repeat(np.arange(n), [u.shape[0] for u in units])
    out: JSONObject = {"gamma": None, "per_role": {}}
    fit = _gamma_of(rows, task_of_unit, n, m, samples, seed)
    if fit is not None:
        out.update({k: fit[k] for k in ("gamma", "observed_disorder", "expected_disorder")})
        out["n_samples"] = samples
        if fit["gamma"] is not None and draws > 0:
            values, n_draws = _gamma_interval(fit, m, draws, seed + 1)
            record = interval_record(values, n_draws, "tasks")
            record["note"] = "observed disorder resampled, expected disorder held fixed"
            out["ci95"], out["interval"] = percentile_interval(values), record
            warnings.extend(interval_warnings("gamma_ci95", record))
    for r, role in enumerate(ROLES):
        keep = rows[:, 3] == r
        role_fit = _gamma_of(rows[keep], task_of_unit[keep], n, m, samples, seed)
        entry: JSONObject = {"gamma": None if role_fit is None else role_fit["gamma"]}
        if role_fit is not None and role_fit["gamma"] is not None and draws > 0:
            values, n_draws = _gamma_interval(role_fit, m, draws, seed + 2 + r)
            entry["ci95"] = percentile_interval(values)
        out["per_role"][role] = entry
    return out


def _triple_summary(
    items: Sequence[AttributionItem],
    n_annotators: int,
    draws: int,
    seed: int,
    warnings: list[JSONObject],
) -> JSONObject:
    counts = triple_counts(items, n_annotators)
    total = counts["total"]
    n = total.size
    rng = np.random.default_rng(seed)
    weights = (
        rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(np.float64)
        if draws > 0 and n
        else None
    )
    out: JSONObject = {"triple_f1": {}, "triple_f1_ci95": {}, "triple_f1_interval": {}}
    for mode in ("exact", "overlap"):
        value = float(2.0 * counts[mode].sum() / total.sum()) if total.sum() > 0 else None
        out["triple_f1"][mode] = value
        out["triple_f1_ci95"][mode] = out["triple_f1_interval"][mode] = None
        if value is not None and weights is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                samples = 2.0 * (weights @ counts[mode]) / (weights @ total)
            record = interval_record(samples, draws, "tasks")
            out["triple_f1_ci95"][mode] = percentile_interval(samples)
            out["triple_f1_interval"][mode] = record
            warnings.extend(interval_warnings(f"triple_f1_ci95.{mode}", record))
    return out


def summarize_spans(
    items: Sequence[AttributionItem],
    n_annotators: int,
    *,
    bootstrap_draws: int,
    seed: int = 0,
    gamma_samples: int = DEFAULT_SAMPLES,
) -> JSONObject:
    """``unitizing_alpha``, ``gamma``, ``triple_f1`` (with ``_ci95``/``_interval``), warnings."""
    warnings: list[JSONObject] = []
    units, lengths, m, kept = build_continuum(items)
    excluded = sum(1 for item in items if len(item.annotations) >= 2) - len(kept)
    if excluded:
        warnings.append(
            warning(
                "tasks_left_out",
                f"alpha_U and gamma use the {len(kept)} tasks with {m} annotators; "
                f"{excluded} tasks with another number of annotators are left out",
            )
        )
    draws = min(bootstrap_draws, SPAN_DRAWS)
    if units:
        unitizing = _unitizing_summary(units, lengths, m, draws, seed, warnings)
        gamma = _gamma_summary(units, lengths, m, bootstrap_draws, seed, gamma_samples, warnings)
    else:
        unitizing = {"alpha": None, "per_role": dict.fromkeys(ROLES), "ci95": None}
        gamma = {"gamma": None, "per_role": {r: {"gamma": None} for r in ROLES}}
    for block in (unitizing, gamma):
        block["n_tasks"] = len(kept)
        block["n_annotators_per_task"] = m
    triples = _triple_summary(items, n_annotators, bootstrap_draws, seed, warnings)
    return {"unitizing_alpha": unitizing, "gamma": gamma, **triples, "span_warnings": warnings}
