"""Inter-annotator agreement in pure numpy (no Django imports in this package).

Label tasks come as a reliability matrix ``codes`` of shape ``(n_items, n_annotators)``
with category codes ``0..n_categories-1`` (schema order) and ``-1`` for missing;
attribution tasks as a list of :class:`AttributionItem`. The job calls
:func:`summarize_labels` and :func:`summarize_attributions`.
"""

from .alpha import (
    LEVELS,
    alpha_from_coincidences,
    coincidence_matrix,
    distance_matrix,
    krippendorff_alpha,
)
from .attribution import (
    AttributionItem,
    has_attribution_codes,
    matched_spans,
    span_f1,
    token_role_codes,
)
from .bootstrap import bootstrap_alpha_ci
from .coefficients import (
    cohen_kappa,
    confusion_matrix,
    fleiss_kappa,
    gwet_ac1,
    percent_agreement,
    scott_pi,
)
from .gamma import gamma_agreement
from .item import item_disagreement, per_label_alpha
from .pairwise import pairwise_agreement, pairwise_matrices
from .summary import summarize_attributions, summarize_labels
from .unitizing import unitizing_alpha

__all__ = [
    "LEVELS",
    "AttributionItem",
    "alpha_from_coincidences",
    "bootstrap_alpha_ci",
    "coincidence_matrix",
    "cohen_kappa",
    "confusion_matrix",
    "distance_matrix",
    "fleiss_kappa",
    "gamma_agreement",
    "gwet_ac1",
    "has_attribution_codes",
    "item_disagreement",
    "krippendorff_alpha",
    "matched_spans",
    "pairwise_agreement",
    "pairwise_matrices",
    "per_label_alpha",
    "percent_agreement",
    "scott_pi",
    "span_f1",
    "summarize_attributions",
    "summarize_labels",
    "token_role_codes",
    "unitizing_alpha",
]
