"""The dataset card (README.md) of a folder export, rendered from a Django template.

The template is ``labeling/exporting/dataset_card.md``; this module only gathers what it
shows: counts, label sets, the latest agreement figures, gold methods, the files with
their record counts and SHA-256 (also in the YAML front matter, where
``datasets.load_dataset`` checks the counts).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.template.loader import render_to_string
from django.utils import timezone

from labeling.exporting.params import ExportOptions
from labeling.exporting.writers import FIELDS, NESTED_FIELDS
from labeling.kinds import kind_order, kind_spec
from labeling.models import AgreementRun, JobStatus, LabelSchema, Project

TEMPLATE = "labeling/exporting/dataset_card.md"
AGREEMENT_METRICS = ("alpha", "alpha_ci95", "percent_agreement", "n_items")
#: Split names ``datasets`` uses for ours (it loads ``dev`` files as ``validation``).
HF_SPLIT_NAMES = {"dev": "validation"}

FIELD_DOCS: dict[str, str] = {
    "task_id": "id of the labeling task (one record per task)",
    "document_id": "id of the document",
    "document_external_id": "the document's id in its source, if imported with one",
    "document_title": "title of the document",
    "sentence_id": "id of the sentence",
    "sentence_position": "0-based position of the sentence in its document",
    "sentence_start": "offset (code points) where the sentence starts in the document",
    "sentence_end": "offset (code points) where the sentence ends (exclusive)",
    "sentence_text": "the sentence, exactly `document.text[start:end]`",
    "kind": "task kind (built-in or a project's custom question; see Labels)",
    "target": "the task's target, for kinds with one task per target (empty otherwise)",
    "split": "train/dev/test split, assigned per document",
    "annotations": "every annotation: `annotator`, `value`, `lead_time_ms`, "
    "`from_suggestion` (the annotator started from a suggested triple: compare agreement "
    "with and without it, suggestions can bias), `updated_at`",
    "gold": "the accepted value, null if none",
    "gold_method": "how the gold value was decided: `adjudicated`, `majority`, `dawid_skene`",
    "gold_confidence": "confidence of an aggregated gold value (0-1)",
    "modal_share": "share of the task's annotations equal to its most common value (0-1), "
    "null with fewer than two; raw, not chance-corrected (the agreement runs' alpha is)",
    "tokens": "span kinds only: token offsets `[start, end]` in document coordinates",
    "bio": "span kinds only: the gold spans as BIO tags per token and role",
    "predictions": "model predictions imported by the project's leads: `model`, `value` "
    "(shaped like an annotation's), `score` (null if none); `[]` when no model answered. "
    "Machine output, kept apart: never in `annotations`, `gold` or `modal_share`",
}
NESTED_ENCODING: dict[str, dict[str, str]] = {
    "jsonl": {},
    "csv": dict.fromkeys(NESTED_FIELDS, "JSON string"),
    "parquet": {
        "annotations": "list of structs; `value` a struct like `gold`",
        "gold": "struct of the value's fields (a field another kind uses is null)",
        "tokens": "list of [start, end]",
        "bio": "struct of lists",
        "predictions": "list of structs; `value` a struct like `gold`",
    },
}


@dataclass(frozen=True)
class SplitFile:
    """One data file of a folder export."""

    split: str
    name: str
    records: int
    size: int
    sha256: str

    @property
    def hf_split(self) -> str:
        """The split's name in ``datasets``."""
        return HF_SPLIT_NAMES.get(self.split, self.split)


def size_category(n: int) -> str:
    """The Hugging Face ``size_categories`` tag of ``n`` records."""
    for bound, name in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ):
        if n < bound:
            return name
    return "n>10M"


def _labels(schemas: Sequence[LabelSchema]) -> list[dict[str, Any]]:
    """What the card lists per kind, as each kind's spec describes it."""
    out = []
    for schema in schemas:
        spec = kind_spec(schema.kind)
        level = schema.level if spec.categorical_gold else ""
        if level and schema.values:
            level += " (values " + ", ".join(f"{v:g}" for v in schema.values) + ")"
        out.append(
            {
                "kind": schema.kind,
                "description": schema.description,
                "labels": spec.label_set(schema),
                "level": level,
                "targets": list(schema.targets or []),
                "value_doc": spec.value_doc,
                "gold_doc": spec.gold_doc,
                "agreement_doc": spec.agreement_doc,
            }
        )
    return out


def _agreement(project: Project, kinds: Sequence[str]) -> tuple[list[str], list[dict[str, Any]]]:
    rows: list[tuple[str, dict[str, Any]]] = []
    for kind in kinds:
        result = (
            AgreementRun.objects.filter(project=project, kind=kind, status=JobStatus.DONE)
            .order_by("-id")
            .values_list("result", flat=True)
            .first()
        )
        if result:
            rows.append((kind, {k: result.get(k) for k in AGREEMENT_METRICS if k in result}))
    metrics = [m for m in AGREEMENT_METRICS if any(m in figures for _, figures in rows)]
    return metrics, [
        {"kind": kind, "values": [figures.get(m) for m in metrics]} for kind, figures in rows
    ]


def dataset_card(
    project: Project,
    fmt: str,
    options: ExportOptions,
    counts: Mapping[str, Mapping[str, int]],
    gold_methods: Mapping[str, Mapping[str, int]],
    files: Sequence[SplitFile],
) -> str:
    """The README.md of a folder export: ``counts`` is ``{split: {kind: records}}``."""
    splits = list(options.ratios) if options.split is None else [options.split]
    schemas = sorted(
        LabelSchema.objects.filter(project=project, enabled=True), key=lambda s: kind_order(s.kind)
    )
    kinds: list[str] = []
    for split in splits:
        kinds.extend(k for k in counts.get(split, {}) if k not in kinds)
    kinds.extend(s.kind for s in schemas if s.kind not in kinds)
    count_rows = []
    for split in splits:
        row = [counts.get(split, {}).get(k, 0) for k in kinds]
        count_rows.append({"split": split, "counts": row, "total": sum(row)})
    column_totals = [sum(counts.get(s, {}).get(k, 0) for s in splits) for k in kinds]
    total = sum(column_totals)
    categories = sorted({kind_spec(k).task_category for k in kinds})
    field_docs = dict(FIELD_DOCS)
    for kind in kinds:
        field_docs.update(kind_spec(kind).export_field_docs)
    metrics, agreement = _agreement(project, [s.kind for s in schemas])
    filters = options.active_filters()
    encoding = NESTED_ENCODING[fmt]
    context = {
        "project_name": project.name,
        "description": project.description.strip(),
        "format": fmt,
        "loader": "json" if fmt == "jsonl" else fmt,
        "exported_at": timezone.now().replace(microsecond=0).isoformat(),
        "task_categories": categories,
        "size_category": size_category(total),
        "files": files,
        "empty_splits": [s for s in splits if s not in {f.split for f in files}],
        "kinds": kinds,
        "total": total,
        "count_rows": count_rows,
        "column_totals": column_totals,
        "filters": orjson.dumps(filters).decode() if filters else "",
        "labels": _labels(schemas),
        "metrics": metrics,
        "agreement": agreement,
        "gold_methods": [
            {"kind": kind, "methods": list(methods.items())}
            for kind, methods in sorted(gold_methods.items())
        ],
        "ratios": [(name, f"{ratio:g}") for name, ratio in options.ratios.items()],
        "seed": options.seed,
        "fields": [
            {"name": f, "doc": field_docs[f], "encoding": encoding.get(f, "")} for f in FIELDS
        ],
    }
    return render_to_string(TEMPLATE, context)
