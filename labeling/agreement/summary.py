"""The two entry points the agreement job calls; both return plain JSON-serialisable dicts.

Every float is a python float, every undefined value is ``None`` (never NaN).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from labeling.json_types import JSONObject
from labeling.text.tokenization import ROLES

from .aggregation import dawid_skene_accuracy
from .alpha import (
    alpha_from_coincidences,
    check_level,
    item_disagreement_from_counts,
    per_label_alpha_from_counts,
)
from .attribution import (
    HAS_ATTRIBUTION_LABELS,
    TOKEN_LABELS,
    AttributionItem,
    has_attribution_codes,
    span_f1,
    span_f1_counts,
    token_role_codes,
)
from .bootstrap import (
    DEFAULT_DRAWS,
    bootstrap_alpha_ci_from_counts,
    bootstrap_alpha_samples,
    interval_record,
    percentile_interval,
)
from .coefficients import (
    agreement_weights,
    brennan_prediger_from_counts,
    fleiss_kappa_from_counts,
    gwet_ac1_from_counts,
    gwet_ac2_from_counts,
    observed_agreement_from_coincidences,
    per_category_fleiss_kappa_from_counts,
    percent_agreement_from_counts,
    rated_shares,
    scott_pi_from_counts,
)
from .counts import as_codes, coincidences_from_counts, unique_rows, value_counts
from .data_warnings import interval_warnings, sample_size_warnings, warning
from .intervals import (
    ALPHA_MINIMA,
    bootstrap_coefficients,
    bootstrap_light_kappa,
    hayes_krippendorff_q,
)
from .pairwise import light_kappa, pair_confusions, pairwise_agreement
from .span_summary import summarize_spans

Progress = Callable[[float], object] | None
CI_COEFFICIENTS = ("cohen_kappa", "scott_pi", "fleiss_kappa", "gwet_ac1")
DS_SMOOTHING = 0.01  # dawid_skene_accuracy's default additive pseudo-count


def _clean(x: object) -> float | None:
    """A python float, or None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)  # type: ignore[arg-type]
    return x if np.isfinite(x) else None


def _clean_list(xs: np.ndarray) -> list[float | None]:
    arr = np.asarray(xs, dtype=np.float64)
    out = arr.astype(object)
    out[~np.isfinite(arr)] = None
    cleaned: list[float | None] = out.tolist()
    return cleaned


def _report(progress: Progress, fraction: float) -> None:
    if progress is not None:
        progress(float(min(max(fraction, 0.0), 1.0)))


def _interval(
    name: str, samples: np.ndarray | None, draws: int, resampled: str, warnings: list[JSONObject]
) -> tuple[list[float] | None, JSONObject | None]:
    """Percentile interval and its record; adds a warning when it rests on few valid draws."""
    if samples is None:
        if draws > 0:
            warnings.append(warning("no_interval", f"{name}: too many annotator pairs to resample"))
        return None, None
    record = interval_record(samples, draws, resampled)
    warnings.extend(interval_warnings(f"{name}_ci95", record))
    return percentile_interval(samples), record


def leave_one_out_alphas(
    arr: np.ndarray,
    counts: np.ndarray,
    active: np.ndarray,
    level: str,
    values: np.ndarray | None,
) -> list[JSONObject]:
    """Per active annotator: alpha of the others (this annotator's values left out).

    ``alpha_without`` above the overall alpha means the data agree better without this
    annotator; ``alpha_delta = alpha - alpha_without`` is their contribution.
    """
    overall = alpha_from_coincidences(coincidences_from_counts(counts), level, values)
    if active.size == 0:
        return []
    # Items collapse to few distinct rows of codes; coincidences are sums over items, so
    # each distinct row counts with its multiplicity.
    shifted, mult, _ = unique_rows(arr + 1)
    patterns = shifted - 1
    pattern_counts = value_counts(patterns, counts.shape[1])
    out = []
    for a in active.tolist():
        without = pattern_counts.copy()
        coded = np.flatnonzero(patterns[:, a] >= 0)
        without[coded, patterns[coded, a]] -= 1
        alpha = alpha_from_coincidences(coincidences_from_counts(without, mult), level, values)
        out.append(
            {
                "index": int(a),
                "n_annotations": int((arr[:, a] >= 0).sum()),
                "alpha_without": _clean(alpha),
                "alpha_delta": None if alpha is None or overall is None else overall - alpha,
            }
        )
    return out


def _label_summary(
    arr: np.ndarray,
    labels: Sequence[str],
    level: str,
    values: np.ndarray | None,
    bootstrap_draws: int,
    seed: int,
    min_shared: int,
    progress: Progress,
    span: tuple[float, float] = (0.0, 1.0),
    clusters: np.ndarray | None = None,
    resampled: str = "items",
) -> JSONObject:
    def step(fraction: float) -> None:
        _report(progress, span[0] + (span[1] - span[0]) * fraction)

    n_categories = len(labels)
    counts = value_counts(arr, n_categories)
    m = counts.sum(axis=1)
    warnings: list[JSONObject] = []
    step(0.1)
    o = coincidences_from_counts(counts)
    alpha = alpha_from_coincidences(o, level, values)
    ci = record = None
    q_values: dict[str, float | None] = {}
    if alpha is not None and bootstrap_draws > 0:
        samples = bootstrap_alpha_samples(
            counts, level, values, draws=bootstrap_draws, seed=seed, clusters=clusters
        )
        ci, record = _interval("alpha", samples, bootstrap_draws, resampled, warnings)
        q_values = {f"{a:g}": hayes_krippendorff_q(samples, a) for a in ALPHA_MINIMA}
    warnings.extend(sample_size_warnings(counts, list(labels)))
    step(0.4)
    confusions = pair_confusions(arr, n_categories)
    pairwise = pairwise_agreement(
        arr,
        level,
        values=values,
        n_categories=n_categories,
        min_shared=min_shared,
        confusions=confusions,
    )
    step(0.6)
    active = np.flatnonzero((arr >= 0).any(axis=0)) if arr.size else np.zeros(0, dtype=int)
    kept = {pair: table for pair, table in confusions.items() if table.sum() >= max(min_shared, 1)}
    light = light_kappa(kept)
    if len(active) == 2:
        cohen_method = "cohen"
    elif len(active) > 2:
        cohen_method = "light_mean_pairwise"
    else:
        cohen_method = None
    cohen = light["value"] if cohen_method else None
    weighted = None
    if level != "nominal":
        weighted = {
            w: _clean(light_kappa(kept, weights=w)["value"]) for w in ("linear", "quadratic")
        }
    coefficient_cis: dict[str, list[float] | None] = {}
    coefficient_records: dict[str, JSONObject | None] = {}
    if bootstrap_draws > 0:
        resampled_coefficients = bootstrap_coefficients(
            counts, draws=bootstrap_draws, seed=seed + 1, clusters=clusters
        )
        for name in ("scott_pi", "fleiss_kappa", "gwet_ac1"):
            resampled_samples = (
                None if resampled_coefficients is None else resampled_coefficients.get(name)
            )
            coefficient_cis[name], coefficient_records[name] = _interval(
                name, resampled_samples, bootstrap_draws, resampled, warnings
            )
        if cohen is not None:
            kappa_samples = bootstrap_light_kappa(
                arr,
                n_categories,
                sorted(kept),
                draws=bootstrap_draws,
                seed=seed + 2,
                clusters=clusters,
            )
            coefficient_cis["cohen_kappa"], coefficient_records["cohen_kappa"] = _interval(
                "cohen_kappa", kappa_samples, bootstrap_draws, resampled, warnings
            )
    step(0.9)
    per_annotator = leave_one_out_alphas(arr, counts, active, level, values)
    ds = dawid_skene_accuracy(arr, n_categories, smoothing=DS_SMOOTHING) if n_categories else None
    for entry in per_annotator:
        entry["dawid_skene_accuracy"] = None if ds is None else _clean(ds.accuracy[entry["index"]])
    p_a = percent_agreement_from_counts(counts)
    shares = rated_shares(counts)
    ac1 = gwet_ac1_from_counts(counts, p_a, shares)
    if level == "nominal":  # identity weights: AC2 is AC1
        ac2 = ac1
    else:
        weights = agreement_weights(level, n_categories, values)
        ac2 = gwet_ac2_from_counts(counts, weights, shares)
    per_label = per_label_alpha_from_counts(counts)
    per_category_fleiss = per_category_fleiss_kappa_from_counts(counts)
    summary = {
        "level": level,
        "values": None if values is None else [float(v) for v in values[:n_categories]],
        "alpha": _clean(alpha),
        "alpha_ci95": ci,
        "alpha_interval": record,
        "alpha_q": q_values,
        "percent_agreement": _clean(p_a),
        "observed_agreement": _clean(observed_agreement_from_coincidences(o)),
        "n_items": int((m >= 1).sum()),
        "n_pairable_items": int((m >= 2).sum()),
        "n_annotations": int(m.sum()),
        "n_annotators": int(len(active)),
        "cohen_kappa": _clean(cohen),
        "cohen_kappa_method": cohen_method,
        "cohen_kappa_pairs": {
            "n_pairs": light["n_pairs"],
            "n_pairs_excluded": len(confusions) - light["n_pairs"],
            "min_shared": min_shared,
        },
        "weighted_kappa": weighted,
        "fleiss_kappa": _clean(fleiss_kappa_from_counts(counts, p_a, shares)),
        "scott_pi": _clean(scott_pi_from_counts(counts)),
        "gwet_ac1": _clean(ac1),
        "gwet_ac2": _clean(ac2),
        "brennan_prediger": _clean(brennan_prediger_from_counts(counts, p_a)),
        **{f"{name}_ci95": coefficient_cis.get(name) for name in CI_COEFFICIENTS},
        **{f"{name}_interval": coefficient_records.get(name) for name in CI_COEFFICIENTS},
        "pairwise": [
            {**e, "alpha": _clean(e["alpha"]), "kappa": _clean(e["kappa"])} for e in pairwise
        ],
        "per_annotator": per_annotator,
        "dawid_skene": None
        if ds is None
        else {"n_iter": ds.n_iter, "converged": ds.converged, "smoothing": DS_SMOOTHING},
        "per_label": {label: _clean(a) for label, a in zip(labels, per_label, strict=True)},
        "per_category_fleiss_kappa": {
            label: _clean(k) for label, k in zip(labels, per_category_fleiss, strict=True)
        },
        "coincidence": {"labels": list(labels), "matrix": [_clean_list(row) for row in o]},
        "item_disagreement": _clean_list(item_disagreement_from_counts(counts, level, values)),
        "warnings": warnings,
    }
    step(1.0)
    return summary


def summarize_labels(
    codes: np.ndarray,
    labels: list[str],
    level: str = "nominal",
    *,
    values: np.ndarray | None = None,
    bootstrap_draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    progress: Progress = None,
    min_shared: int = 2,
    clusters: np.ndarray | None = None,
    resampled: str = "sentences",
) -> JSONObject:
    """All agreement figures for a label task (alpha per Krippendorff 2011, kappas, AC1, pairwise).

    ``codes`` is ``(n_items, n_annotators)`` with codes indexing ``labels`` and -1 for
    missing. Keys: ``alpha`` (None when undefined, see ``labeling.agreement.alpha``),
    ``alpha_ci95`` (item-bootstrap percentile interval or None), ``percent_agreement``
    (mean pairwise agreement over pairable items), ``n_items`` (items with at least one
    annotation), ``n_pairable_items``, ``n_annotations``, ``n_annotators`` (annotators with
    at least one annotation), ``cohen_kappa`` (Cohen's kappa with exactly two active
    annotators, else Light's mean pairwise kappa; ``cohen_kappa_method`` says which),
    ``fleiss_kappa``, ``scott_pi``, ``gwet_ac1``, ``pairwise`` (per pair of annotator
    indices sharing an item; alpha/kappa None below ``min_shared`` shared items),
    ``per_label`` (one-vs-rest nominal alpha), ``coincidence``, ``item_disagreement``
    (per row of ``codes``, None where fewer than two annotations) and ``level``; the
    coefficients of :data:`DEFINITIONS`; every ``X_ci95`` has an ``X_interval`` record
    (method, what was resampled, draws, valid draws) and ``warnings`` lists
    ``{"code", "message"}``. ``clusters`` (one id per row, e.g. the sentence of each stance
    task) makes the bootstrap resample whole clusters, named ``resampled`` in the records.
    """
    check_level(level)
    if values is not None:
        values = np.asarray(values, dtype=np.float64)
    arr, _ = as_codes(codes, len(labels))
    _report(progress, 0.0)
    return _label_summary(
        arr,
        list(labels),
        level,
        values,
        bootstrap_draws,
        seed,
        min_shared,
        progress,
        clusters=None if clusters is None else np.asarray(clusters),
        resampled="items" if clusters is None else resampled,
    )


def summarize_attributions(
    items: list[AttributionItem],
    n_annotators: int,
    *,
    bootstrap_draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    progress: Progress = None,
    min_shared: int = 2,
) -> JSONObject:
    """Agreement on attribution triples: has-attribution alpha, token-role alpha, span F1 per role.

    ``alpha``/``alpha_ci95``/``percent_agreement``/kappas/``pairwise`` are about the
    nominal "has attribution" variable (Krippendorff 2011); ``token_alpha`` (and
    ``token_alpha_ci95``, a bootstrap resampling whole sentences) is nominal alpha over
    token role labels ``O``/source/cue/content with each token a unit; ``per_label`` is the
    token-level one-vs-rest alpha of each role; ``span_f1`` is ``{role: {"exact", "overlap"}}``
    micro-averaged over annotator pairs (also per pair in ``pairwise``). ``item_disagreement``
    per item is the larger of the has-attribution disagreement (0 or 1 for two annotators)
    and the mean token-label disagreement over the sentence's tokens; None where fewer
    than two annotators annotated the item.
    """
    _report(progress, 0.0)
    has_codes = has_attribution_codes(items, n_annotators)
    summary = _label_summary(
        has_codes,
        HAS_ATTRIBUTION_LABELS,
        "nominal",
        None,
        bootstrap_draws,
        seed,
        min_shared,
        progress,
        span=(0.0, 0.4),
    )
    token_codes, owners = token_role_codes(items, n_annotators)
    token_counts = value_counts(token_codes, len(TOKEN_LABELS))
    token_o = coincidences_from_counts(token_counts)
    token_alpha = alpha_from_coincidences(token_o, "nominal")
    _report(progress, 0.6)
    token_ci = None
    if token_alpha is not None and bootstrap_draws > 0:
        token_ci = bootstrap_alpha_ci_from_counts(
            token_counts, "nominal", draws=bootstrap_draws, seed=seed, clusters=owners
        )
    _report(progress, 0.8)
    pair_counts = span_f1_counts(items, n_annotators)
    for entry in summary["pairwise"]:
        counts = pair_counts.get((entry["a"], entry["b"]))
        entry["span_f1"] = (
            span_f1(items, n_annotators, counts={(entry["a"], entry["b"]): counts})
            if counts is not None
            else None
        )
    per_role = per_label_alpha_from_counts(token_counts)

    token_dis = item_disagreement_from_counts(token_counts, "nominal")
    finite = np.isfinite(token_dis)
    n_items = len(items)
    sums = np.bincount(owners[finite], weights=token_dis[finite], minlength=n_items)
    nums = np.bincount(owners[finite], minlength=n_items)
    has_dis = np.asarray(
        [np.nan if x is None else x for x in summary["item_disagreement"]], dtype=np.float64
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_token_dis = np.where(nums > 0, sums / np.maximum(nums, 1), np.nan)
    combined = np.where(
        np.isnan(has_dis), np.nan, np.fmax(has_dis, np.nan_to_num(mean_token_dis, nan=0.0))
    )

    summary.update(
        {
            "has_attribution_labels": list(HAS_ATTRIBUTION_LABELS),
            "token_alpha": _clean(token_alpha),
            "token_alpha_ci95": token_ci,
            "n_tokens": int(token_codes.shape[0]),
            "token_coincidence": {
                "labels": list(TOKEN_LABELS),
                "matrix": [_clean_list(row) for row in token_o],
            },
            "per_label": {role: _clean(per_role[TOKEN_LABELS.index(role)]) for role in ROLES},
            "has_attribution_per_label": summary["per_label"],
            "span_f1": span_f1(items, n_annotators, counts=pair_counts),
            "item_disagreement": _clean_list(combined),
        }
    )
    spans = summarize_spans(items, n_annotators, bootstrap_draws=bootstrap_draws, seed=seed)
    summary["warnings"] = summary["warnings"] + spans.pop("span_warnings")
    summary.update(spans)
    _report(progress, 1.0)
    return summary
