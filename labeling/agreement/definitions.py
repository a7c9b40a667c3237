"""What each figure of an agreement result means and where its definition comes from."""

from __future__ import annotations

DEFINITIONS: dict[str, dict[str, str]] = {
    "alpha": {
        "definition": "Krippendorff's alpha 1 - D_o/D_e at the schema's level; interval and "
        "ratio distances use the schema's numeric values",
        "source": "Krippendorff (2011), Computing Krippendorff's Alpha-Reliability, sec. A-E",
    },
    "alpha_ci95": {
        "definition": "percentile bootstrap interval of alpha; items, or whole sentences or "
        "documents, resampled with replacement (see alpha_interval)",
        "source": "Efron & Tibshirani (1993), An Introduction to the Bootstrap, ch. 13",
    },
    "alpha_q": {
        "definition": "share of the valid bootstrap alphas below alpha_min (0.667, 0.8): the "
        "probability of failing to reach the smallest acceptable alpha",
        "source": "Hayes & Krippendorff (2007), Communication Methods and Measures 1(1):77-89",
    },
    "percent_agreement": {
        "definition": "mean over items with at least two annotations of the share of "
        "agreeing pairs of annotations on the item (each item weighs the same)",
        "source": "Fleiss (1971) P-bar; Gwet (2014) p_a",
    },
    "observed_agreement": {
        "definition": "Krippendorff's A_o = sum_c o_cc / n..: share of pairable values "
        "paired with the same value, pairs pooled over items (not percent_agreement)",
        "source": "Krippendorff (2011), nominal 1 - D_o",
    },
    "cohen_kappa": {
        "definition": "Cohen's kappa with two annotators; with more, Light's mean of the "
        "pairwise kappas over the pairs sharing at least min_shared items (the pairs shown "
        "in pairwise; see cohen_kappa_method and cohen_kappa_pairs)",
        "source": "Cohen (1960); Light (1971)",
    },
    "weighted_kappa": {
        "definition": "Cohen's weighted kappa with linear |i-j| and quadratic (i-j)^2 "
        "disagreement weights on the category ranks, averaged over pairs like cohen_kappa; "
        "ordinal, interval and ratio schemas only",
        "source": "Cohen (1968), Psychological Bulletin 70(4):213-220",
    },
    "scott_pi": {
        "definition": "Scott's pi with pairs pooled over items: A_o = sum_u sum_k "
        "n_uk(n_uk-1) / sum_u m_u(m_u-1) (each annotator pair weighs by its shared items), "
        "A_e = sum_k p_k^2 from the pairable values",
        "source": "Scott (1955); multi-pi of Artstein & Poesio (2008, sec. 2.5) with pairs "
        "pooled under missing data",
    },
    "fleiss_kappa": {
        "definition": "Fleiss' kappa (P-bar - P-bar_e)/(1 - P-bar_e), chance from the mean "
        "category share per rated item",
        "source": "Fleiss (1971); missing ratings as in Gwet (2014)",
    },
    "per_category_fleiss_kappa": {
        "definition": "Fleiss' kappa of each category against the rest",
        "source": "Fleiss (1971), eq. 10, generalised to a varying number of ratings",
    },
    "gwet_ac1": {
        "definition": "Gwet's AC1, chance p_e = sum_k pi_k(1 - pi_k)/(q - 1)",
        "source": "Gwet (2008), British Journal of Mathematical and Statistical Psychology "
        "61:29-48",
    },
    "gwet_ac2": {
        "definition": "Gwet's AC2 with agreement weights of the schema's level (identity for "
        "nominal, quadratic on ranks for ordinal and on values for interval, ratio weights)",
        "source": "Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., ch. 3",
    },
    "brennan_prediger": {
        "definition": "(p_a - 1/q)/(1 - 1/q) with q the number of categories of the schema",
        "source": "Bennett, Alpert & Goldstein (1954) S; Brennan & Prediger (1981)",
    },
    "per_label": {
        "definition": "one-vs-rest nominal alpha of each label",
        "source": "Krippendorff (2011), binary nominal case",
    },
    "warnings": {
        "definition": "few_valid_draws: an interval from under 95% valid bootstrap draws; "
        "too_few_pairable_values: fewer pairable values than 2 z^2 [(1+a)(3-a)/(4(1-a) "
        "p(1-p)) - a] for alpha_min a = .8, p-level .05 and the rarest category's share p",
        "source": "Krippendorff (2004), Content Analysis 2nd ed., sec. 11.4.2, after Bloch "
        "& Kraemer (1989), eq. 3.7",
    },
    "unitizing_alpha": {
        "definition": "Krippendorff's alpha_U over the text continuum, categories = roles; "
        "overall 1 - sum_c D_o(c) / sum_c D_e(c); tasks laid end to end, each task's "
        "annotators in slots",
        "source": "Krippendorff (1995), Sociological Methodology 25:47-76; Krippendorff "
        "(2004), Content Analysis 2nd ed., sec. 12.4",
    },
    "gamma": {
        "definition": "Mathet's gamma 1 - observed/expected disorder; observed from the exact "
        "optimal alignment, expected from continua sampled like pygamma-agreement's "
        "statistical sampler; combined positional-categorical dissimilarity (alpha = beta "
        "= 1)",
        "source": "Mathet, Widlöcher & Métivier (2015), Computational Linguistics 41(3); "
        "Titeux & Riad (2021), JOSS 6(62):2989",
    },
    "triple_f1": {
        "definition": "pairwise F1 2M/(|A|+|B|) of whole (source, cue, content) triples, "
        "micro-averaged over annotator pairs; exact offsets, or every role overlapping with "
        "a one-to-one assignment",
        "source": "this project (the span F1 convention of attribution.span_f1)",
    },
    "per_document": {
        "definition": "per document: the headline alpha of its items with the headline's "
        "interval method and warnings (too_few_pairable_values also when its pairable values "
        "are none or all alike), and its items ranked by item_disagreement (at most 10)",
        "source": "Krippendorff (2011) within each document; Efron & Tibshirani (1993)",
    },
    "by_suggestion": {
        "definition": "the headline alpha among the answers that began from a suggestion and "
        "among the others, pairs within each group only (cross-group pairs are in neither); "
        "a higher alpha for suggested answers can be suggestion (anchoring) bias",
        "source": "Krippendorff (2011) within each group",
    },
    "dawid_skene_accuracy": {
        "definition": "per annotator: sum_k prior_k * confusion[a, k, k] of a Dawid-Skene "
        "model fitted by EM to all answers (no gold needed); matches crowd-kit's DawidSkene",
        "source": "Dawid & Skene (1979), Applied Statistics 28(1):20-28",
    },
    "item_disagreement": {
        "definition": "per item: mean distance between its pairs of values divided by the "
        "largest category distance (0 unanimous, 1 maximal); stored as the score of "
        "most_disputed",
        "source": "Krippendorff (2011), per-unit term of D_o",
    },
}
