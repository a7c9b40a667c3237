"""The generic single-label sentence question: one label per task from the schema's label set.

Verifiability and stance are this kind with a name and defaults; every custom kind a
project defines is this kind with the project's name, labels, level and values.

Agreement: the tasks form one reliability matrix (rows = tasks, columns = annotators,
user ids ascending) summarised by ``labeling.agreement.summarize_labels`` at the
schema's level with the schema's ``values`` (interval/ratio distances). With targets
(stance) every (sentence, target) task is a row of the same matrix, so the headline
alpha pools all targets; the same metrics are also given per target. Annotations whose
label is not in the schema (after a schema edit) are left out and counted in
``n_unknown_labels``.

Gold: categorical, by plurality vote (ties undecided) or Dawid-Skene.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from labeling.kinds.base import (
    LEVELS,
    MAX_LABELS,
    NUMERIC_LEVELS,
    AgreementOutcome,
    Bounds,
    KindSpec,
    LabelData,
    Progress,
    SchemaError,
    SchemaLike,
    SchemaSpec,
    description,
    names,
    numbers,
    report,
    sub_progress,
)


@dataclass
class LabelMatrix:
    """The reliability matrix of a label kind, with row -> task and column -> user maps."""

    codes: np.ndarray  # (n_items, n_annotators), category index or -1
    task_ids: np.ndarray  # (n_items,) task id of each row, ascending
    annotator_ids: np.ndarray  # (n_annotators,) user id of each column, ascending
    labels: list[str]
    level: str
    values: list[float] | None = None
    targets: np.ndarray | None = None  # (n_items,) index into target_names
    target_names: list[str] = field(default_factory=list)
    n_unknown_labels: int = 0
    clusters: np.ndarray | None = None  # (n_items,) sentence or document of each row
    cluster_name: str = "items"  # what the bootstrap resamples
    documents: np.ndarray | None = None  # (n_items,) document id of each row
    suggested: np.ndarray | None = None  # (n_items, n_annotators) answer began as a suggestion
    positions: np.ndarray | None = None  # (n_items,) sentence position of each row
    sentences: np.ndarray | None = None  # (n_items,) sentence id of each row


class SingleLabelKind(KindSpec):
    """A sentence question answered with one label: ``{"label": L}``."""

    widget = "labels"
    schema_fields: ClassVar[frozenset[str]] = frozenset(
        {"labels", "level", "values", "description"}
    )
    gold_methods = ("majority", "dawid_skene")
    categorical_gold = True
    task_category = "text-classification"
    value_component = "LabelValue"
    value_doc = '`{"label": L}`, L one of the labels'
    gold_doc = (
        "plurality vote (ties left undecided; confidence = winning share) or Dawid-Skene "
        "(confidence = posterior probability)"
    )
    agreement_doc = "share of the annotators who gave the most common label"

    def __init__(
        self,
        name: str,
        *,
        title: str = "",
        question: str = "",
        default_labels: Sequence[str] = (),
        default_level: str = "nominal",
        form_level: str = "",
        builtin: bool = True,
    ) -> None:
        self.name = name
        self.title = title or name.replace("_", " ").capitalize()
        self.question = question
        self.default_labels = list(default_labels)
        self.default_level = default_level
        #: The level the admin form suggests (the API default stays ``default_level``).
        self.form_level = form_level or default_level
        self.builtin = builtin

    # --- schema and values ----------------------------------------------------------

    def parse_schema(self, data: Mapping[str, Any], prefix: str) -> SchemaSpec:
        """Labels (at least two), level, optional ``values`` (interval/ratio), description."""
        p = f"{prefix}." if prefix else ""
        level = data.get("level", self.default_level)
        if level not in LEVELS:
            raise SchemaError(f"{p}level", f"must be one of {', '.join(LEVELS)}; got {level!r}")
        if "labels" not in data and not self.default_labels:
            raise SchemaError(f"{p}labels", "is required: the ordered list of labels")
        labels = names(data.get("labels", self.default_labels), f"{p}labels", limit=MAX_LABELS)
        if len(labels) < 2:
            raise SchemaError(f"{p}labels", "needs at least two labels")
        values = self._values(data.get("values"), level, len(labels), f"{p}values")
        targets = self._targets(data, p)
        return SchemaSpec(
            kind=self.name,
            labels=labels,
            level=level,
            targets=targets,
            values=values,
            description=description(data.get("description"), f"{p}description"),
        )

    @staticmethod
    def _values(raw: Any, level: str, n: int, name: str) -> list[float] | None:
        """Each label's number: required for ratio; for interval, absent = equally spaced."""
        if raw is None:
            if level == "ratio":
                raise SchemaError(
                    name,
                    "is required for the ratio level: one number per label, e.g. [0, 1, 2.5]",
                )
            return None
        if level not in NUMERIC_LEVELS:
            raise SchemaError(
                name,
                f"only applies to the interval and ratio levels (this schema is {level}; "
                "ordinal uses the order of the labels)",
            )
        values = numbers(raw, name, n=n)
        if level == "ratio" and any(v < 0 for v in values):
            raise SchemaError(name, "ratio values must be >= 0 (the scale has a true zero)")
        return values

    def _targets(self, data: Mapping[str, Any], p: str) -> list[str]:
        if data.get("targets"):
            raise SchemaError(f"{p}targets", f"{self.name} has no targets")
        return []

    def value_json_schema(self) -> dict[str, Any]:
        """``{"label": L}``."""
        return {
            "type": "object",
            "properties": {"label": {"type": "string", "description": "one of the labels"}},
            "required": ["label"],
            "additionalProperties": False,
        }

    def validate_value(
        self, value: Any, *, schema: SchemaLike, bounds: Bounds | None
    ) -> dict[str, Any]:
        """``{"label": L}`` with L in the schema's labels."""
        if not isinstance(value, dict):
            raise SchemaError("value", "must be an object")
        unknown = set(value) - {"label"}
        if unknown:
            raise SchemaError(f"value.{sorted(unknown)[0]}", "unknown field")
        label = value.get("label")
        labels = list(schema.labels or [])
        if not isinstance(label, str):
            raise SchemaError("value.label", "is required and must be a string")
        if label not in labels:
            raise SchemaError("value.label", f"{label!r} is not one of {', '.join(labels)}")
        return {"label": label}

    def value_key(self, value: Any) -> Hashable:
        """The label."""
        return value.get("label") if isinstance(value, dict) else None

    def value_summary(self, value: Any) -> str:
        """The label."""
        return str(self.value_key(value) or "—")

    # --- agreement ------------------------------------------------------------------

    def load_matrix(
        self, *, project_id: int, schema: SchemaLike, progress: Progress | None = None
    ) -> LabelMatrix:
        """Build the reliability matrix from one read of integer columns.

        The database maps each annotation to integers (label code, target code, document,
        from_suggestion, cluster) so that the rows arrive as one numpy array
        (``labeling.bulk.read_int_columns``: rows packed into bytea on PostgreSQL) instead
        of a Python tuple per annotation. One more query only when a task has a target the schema no
        longer lists. ``progress`` receives fractions in ``[0, 1]`` of the loading phase.
        """
        from django.db.models import BigIntegerField, Case, F, TextField, Value, When
        from django.db.models.fields.json import KT
        from django.db.models.functions import Cast

        from labeling.bulk import read_int_columns
        from labeling.models import Annotation, Task
        from labeling.quality.dataset import real_annotations

        labels = list(schema.labels)
        schema_targets = list(schema.targets or [])
        cluster = cluster_field(bool(schema_targets))
        number: BigIntegerField[int, int] = BigIntegerField()
        label_code = Case(
            *[When(label=label, then=Value(i)) for i, label in enumerate(labels)],
            default=Value(-1),
            output_field=number,
        )
        target_code = Case(
            *[When(task__target=t, then=Value(i)) for i, t in enumerate(schema_targets)],
            When(task__target="", then=Value(-2)),
            default=Value(-1),
            output_field=number,
        )
        columns: dict[str, Any] = {
            "c_task": F("task_id"),
            "c_annotator": F("annotator_id"),
            "c_label": label_code,
            "c_target": target_code,
            "c_document": F("task__document_id"),
            "c_position": F("task__position"),
            "c_sentence": F("task__sentence_id"),
            "c_suggested": Case(
                When(from_suggestion=True, then=Value(1)), default=Value(0), output_field=number
            ),
        }
        if cluster:
            columns["c_cluster"] = F(cluster[0])  # column 8
        qs = (
            real_annotations(
                Annotation.objects.filter(task__project_id=project_id, task__kind=self.name)
            )
            .order_by()
            .annotate(label=Cast(KT("value__label"), output_field=TextField()))
            .annotate(**columns)
            .values_list(*columns)
        )
        data = read_int_columns(qs)
        report(progress, 1, 2, 1.0)
        task_ids, annotator_ids, codes = data[:, 0], data[:, 1], data[:, 2]
        known = codes >= 0
        n_unknown = int(data.shape[0] - known.sum())
        data = data[known]
        task_ids, annotator_ids, codes = data[:, 0], data[:, 1], data[:, 2]
        items, rows_of = np.unique(task_ids, return_inverse=True)
        columns_, cols_of = np.unique(annotator_ids, return_inverse=True)
        matrix = np.full((items.size, columns_.size), -1, dtype=np.int64)
        matrix[rows_of, cols_of] = codes
        documents = np.empty(items.size, dtype=np.int64)
        documents[rows_of] = data[:, 4]
        from_suggestion = np.zeros((items.size, columns_.size), dtype=bool)
        from_suggestion[rows_of, cols_of] = data[:, 7] > 0
        positions = np.empty(items.size, dtype=np.int64)
        positions[rows_of] = data[:, 5]
        sentences = np.empty(items.size, dtype=np.int64)
        sentences[rows_of] = data[:, 6]
        target_codes = np.empty(items.size, dtype=np.int64)
        target_codes[rows_of] = data[:, 3]
        targets = None
        target_names: list[str] = []
        other = np.flatnonzero(target_codes == -1)
        if schema_targets or other.size:
            # Targets the schema no longer lists (and "" beside real targets) go after the
            # schema's, sorted by name.
            extra = dict(
                Task.objects.filter(pk__in=items[other].tolist()).values_list("id", "target")
            )
            names = sorted(set(extra.values()) | ({""} if (target_codes == -2).any() else set()))
            target_names = schema_targets + names
            index = {name: len(schema_targets) + i for i, name in enumerate(names)}
            targets = target_codes.copy()
            targets[target_codes == -2] = index.get("", -1)
            for row in other.tolist():
                targets[row] = index[extra[int(items[row])]]
        clusters = None
        if cluster:
            clusters = np.empty(items.size, dtype=np.int64)
            clusters[rows_of] = data[:, 8]
        report(progress, 1, 1, 1.0)
        return LabelMatrix(
            codes=matrix,
            task_ids=items,
            annotator_ids=columns_,
            labels=labels,
            level=schema.level,
            values=list(schema.values) if schema.values else None,
            targets=targets,
            target_names=target_names,
            n_unknown_labels=n_unknown,
            clusters=clusters,
            cluster_name=f"{cluster[1]}s" if cluster else "items",
            documents=documents,
            suggested=from_suggestion,
            positions=positions,
            sentences=sentences,
        )

    def compute_agreement(
        self,
        *,
        project_id: int,
        schema: SchemaLike,
        bootstrap_draws: int,
        seed: int,
        load_progress: Progress | None,
        compute_progress: Progress | None,
        timer: Callable[[], None],
    ) -> AgreementOutcome:
        """Load the matrix, summarise it (and per target), and say who is who."""
        matrix = self.load_matrix(project_id=project_id, schema=schema, progress=load_progress)
        timer()
        summary = summarize_matrix(
            matrix, bootstrap_draws=bootstrap_draws, seed=seed, progress=compute_progress
        )
        timer()
        extra: dict[str, Any] = {
            "labels": matrix.labels,
            "targets": matrix.target_names,
            "n_unknown_labels": matrix.n_unknown_labels,
        }
        if matrix.values is not None:
            extra["values"] = matrix.values
        return AgreementOutcome(
            summary=summary,
            task_ids=matrix.task_ids,
            annotator_ids=matrix.annotator_ids,
            annotation_counts=np.count_nonzero(matrix.codes >= 0, axis=0),
            extra=extra,
        )

    # --- gold -----------------------------------------------------------------------

    def gold_votes(self, *, project_id: int, schema: SchemaLike) -> tuple[list[str], LabelData]:
        """Every annotation as (item, annotator, label code); unknown labels are not votes."""
        from django.db.models.fields.json import KT

        from labeling.models import Annotation
        from labeling.quality.dataset import real_annotations

        labels = list(schema.labels or [])
        code_of = {label: i for i, label in enumerate(labels)}
        rows = (
            real_annotations(
                Annotation.objects.filter(task__project_id=project_id, task__kind=self.name)
            )
            .values_list("task_id", "annotator_id", KT("value__label"))
            .order_by()
            .iterator(chunk_size=5000)
        )
        return labels, label_data((t, a, code_of.get(label)) for t, a, label in rows)

    def gold_value(self, category: str) -> dict[str, Any]:
        """``{"label": category}``."""
        return {"label": category}

    # --- demo -----------------------------------------------------------------------

    def simulate_value(
        self, *, text: str, start: int, target: str, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """A label that depends on the sentence only (the same for every annotator)."""
        labels = list(schema.labels)
        return {"label": labels[zlib.crc32(f"{target}|{text}".encode()) % len(labels)]}

    def perturb_value(
        self, value: dict[str, Any], *, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """A neighbouring label (annotators confuse adjacent labels most)."""
        labels = list(schema.labels)
        i = labels.index(value["label"])
        j = i + rng.choice([-1, 1]) if 0 < i < len(labels) - 1 else (1 if i == 0 else i - 1)
        return {"label": labels[j]}


def label_data(rows: Any) -> LabelData:
    """``LabelData`` from ``(task_id, annotator_id, code)`` rows; a None code is skipped."""
    item_of: dict[int, int] = {}
    annotator_of: dict[int, int] = {}
    items: list[int] = []
    annotators: list[int] = []
    codes: list[int] = []
    for task_id, annotator_id, code in rows:
        if code is None:
            continue
        items.append(item_of.setdefault(task_id, len(item_of)))
        annotators.append(annotator_of.setdefault(annotator_id, len(annotator_of)))
        codes.append(code)
    return LabelData(
        task_ids=list(item_of),
        annotator_ids=list(annotator_of),
        items=np.asarray(items, dtype=np.int64),
        annotators=np.asarray(annotators, dtype=np.int64),
        codes=np.asarray(codes, dtype=np.int64),
    )


def cluster_field(has_targets: bool) -> tuple[str, str] | None:
    """The column grouping tasks for the bootstrap, and its name; None: tasks are independent.

    With targets one sentence yields a task per target: those tasks are not independent,
    so intervals resample sentences. ``LABELING_BOOTSTRAP_CLUSTER=document`` resamples
    whole documents, for every kind.
    """
    from django.conf import settings

    if settings.LABELING["BOOTSTRAP_CLUSTER"] == "document":
        return ("task__document_id", "document")
    if has_targets:
        return ("task__sentence_id", "sentence")
    return None


ALPHA_TENTATIVE = 0.667  # Krippendorff (2004, sec. 12.7): the lowest alpha for tentative use


def failing_target_warnings(
    pooled: dict[str, Any], per_target: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """A ``failing_target`` warning for each target whose whole interval lies below 0.667."""
    out = []
    for name, sub in per_target.items():
        ci = sub.get("alpha_ci95")
        if sub.get("alpha") is not None and ci and ci[1] < ALPHA_TENTATIVE:
            pooled_alpha = pooled.get("alpha")
            pooled_text = "n/a" if pooled_alpha is None else f"{pooled_alpha:.3f}"
            out.append(
                {
                    "code": "failing_target",
                    "message": f"target {name!r}: alpha {sub['alpha']:.3f} "
                    f"[{ci[0]:.3f}, {ci[1]:.3f}] is below {ALPHA_TENTATIVE} "
                    f"(Krippendorff 2004, sec. 12.7); the pooled alpha {pooled_text} hides it",
                }
            )
    return out


def _index(items: list[str], item: str) -> int:
    return items.index(item) if item in items else len(items)


def summarize_matrix(
    matrix: LabelMatrix,
    *,
    bootstrap_draws: int,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Call ``summarize_labels`` on the matrix (and per target); indices not mapped."""
    from labeling.agreement import summarize_labels

    values = np.asarray(matrix.values, dtype=np.float64) if matrix.values is not None else None
    groups: list[tuple[str, np.ndarray]] = []
    if matrix.targets is not None and len(matrix.target_names) > 1:
        groups = [(name, matrix.targets == i) for i, name in enumerate(matrix.target_names)]
    share = 1.0 / (1 + len(groups) / 2)  # the per-target runs together cost about half

    def summarize(rows: Any, lo: float, hi: float) -> dict[str, Any]:
        clusters = None if matrix.clusters is None else matrix.clusters[rows]
        if clusters is not None and np.unique(clusters).size == clusters.size:
            clusters = None  # one task per cluster: the item bootstrap is the same
        return summarize_labels(
            matrix.codes[rows],
            matrix.labels,
            matrix.level,
            values=values,
            bootstrap_draws=bootstrap_draws,
            seed=seed,
            progress=sub_progress(progress, lo, hi),
            clusters=clusters,
            resampled=matrix.cluster_name,
        )

    summary = summarize(slice(None), 0.0, share)
    if groups:
        per_target = {}
        step = (1.0 - share) / len(groups)
        for i, (name, rows) in enumerate(groups):
            lo = share + i * step
            per_target[name] = summarize(rows, lo, lo + step)
        summary["per_target"] = per_target
        summary["alpha_scope"] = "pooled over targets"
        summary["warnings"] = summary["warnings"] + failing_target_warnings(summary, per_target)
    elif matrix.targets is not None and matrix.target_names:
        summary["per_target"] = {matrix.target_names[0]: dict(summary)}
    summary.update(
        group_summaries(
            matrix.codes,
            matrix.labels,
            matrix.level,
            values,
            documents=matrix.documents,
            suggested=matrix.suggested,
            item_disagreement=summary.get("item_disagreement"),
            clusters=matrix.clusters,
            resampled=matrix.cluster_name,
            bootstrap_draws=bootstrap_draws,
            seed=seed,
        )
    )
    if matrix.positions is not None and matrix.sentences is not None:
        for entry in summary.get("per_document", []):
            for d in entry["disputed"]:
                row = d["item"]
                d["sentence_id"] = int(matrix.sentences[row])
                d["position"] = int(matrix.positions[row])
                d["target"] = (
                    matrix.target_names[int(matrix.targets[row])]
                    if matrix.targets is not None
                    else ""
                )
    return summary


def group_summaries(
    codes: np.ndarray,
    labels: list[str],
    level: str,
    values: np.ndarray | None,
    *,
    documents: np.ndarray | None,
    suggested: np.ndarray | None,
    item_disagreement: Any,
    clusters: np.ndarray | None,
    resampled: str,
    bootstrap_draws: int,
    seed: int,
) -> dict[str, Any]:
    """``per_document`` (alpha per document, rows indexed) and ``by_suggestion`` (alpha of
    answers that began from a suggestion and of the others, only when some did)."""
    from labeling.agreement.counts import value_counts
    from labeling.agreement.groups import alpha_by_group, alpha_by_origin

    out: dict[str, Any] = {}
    if documents is not None:
        scores = None
        if item_disagreement is not None:
            scores = np.asarray(
                [np.nan if v is None else v for v in item_disagreement], dtype=np.float64
            )
        out["per_document"] = alpha_by_group(
            value_counts(codes, len(labels)),
            documents,
            labels,
            level,
            values,
            draws=bootstrap_draws,
            seed=seed,
            item_disagreement=scores,
            clusters=clusters,
            resampled=resampled,
        )
    if suggested is not None and suggested.any():
        out["by_suggestion"] = alpha_by_origin(
            codes,
            suggested,
            labels,
            level,
            values,
            draws=bootstrap_draws,
            seed=seed,
            clusters=clusters,
            resampled=resampled,
        )
    return out
