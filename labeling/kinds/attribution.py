"""Attribution: who is reported as saying what? Triples of source, cue and content spans.

A value is ``{"attributions": [{"source", "cue", "content"}]}``, each role a span
``{start, end}`` in DOCUMENT offsets (code points, half-open): a quote may run into a
neighbouring sentence, the cue lies in the task's sentence; an empty list means "no
attribution here".

Agreement: alpha over "has attribution", alpha on token-level role labels, span F1
per role (``labeling.agreement.summarize_attributions``).

Gold (majority only): first "has attribution" by strict majority of the task's
annotations (a tie is undecided). If the majority says "none", gold is the empty list.
Otherwise gold is the triples (exact offsets) that more than half of the annotations
contain; if none reaches that, the task is left for adjudication. Confidence is the
share of annotations whose whole value equals the gold value.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from labeling.kinds.base import (
    LEVELS,
    AgreementOutcome,
    Bounds,
    GoldDecision,
    KindSpec,
    LabelData,
    Progress,
    SchemaError,
    SchemaLike,
    SchemaSpec,
    description,
    report,
    sub_progress,
)
from labeling.kinds.single_label import group_summaries, label_data
from labeling.suggesting import suggest_attributions
from labeling.text.tokenization import ROLES, role_bio_tags, tokenize

NAME = "attribution"
MAX_ATTRIBUTIONS = 20
CHUNK_SIZE = 20_000
HAS_ATTRIBUTION = ["no_attribution", "has_attribution"]
#: Speech verbs and phrases the demo's simulated annotators take for cues.
SPEECH_CUES = re.compile(
    r"\b(said|says|told|noted|added|emphasised|emphasized|stated|claimed|according to|"
    r"warned|stressed|insisted|accused|urged|called on)\b"
)


@dataclass
class AttributionData:
    """Attribution items for the pure functions, with row -> task and column -> user maps."""

    items: list[Any]
    task_ids: np.ndarray
    annotator_ids: np.ndarray
    n_annotations: int = 0
    documents: np.ndarray | None = None  # (n_items,) document id of each row
    suggested: np.ndarray | None = None  # (n_items, n_annotators) answer began as a suggestion


def _span(data: Any, name: str, *, doc_length: int) -> dict[str, int]:
    if not isinstance(data, dict):
        raise SchemaError(name, "must be an object {start, end}")
    unknown = set(data) - {"start", "end", "text"}
    if unknown:
        raise SchemaError(f"{name}.{sorted(unknown)[0]}", "unknown field")
    for key in ("start", "end"):
        v = data.get(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise SchemaError(f"{name}.{key}", "must be an integer character offset")
    start, end = data["start"], data["end"]
    if start < 0:
        raise SchemaError(f"{name}.start", "must be >= 0")
    if end > doc_length:
        raise SchemaError(f"{name}.end", f"must be <= the document length {doc_length}")
    if start >= end:
        raise SchemaError(f"{name}.end", "must be greater than start")
    return {"start": start, "end": end}


def triple_key(triple: Mapping[str, Any]) -> tuple[int, ...]:
    """A triple's six offsets, source then cue then content."""
    return tuple(triple[r][p] for r in ROLES for p in ("start", "end"))


def _triple_sort_key(triple: Mapping[str, Any]) -> tuple[int, int, int]:
    return (triple["cue"]["start"], triple["source"]["start"], triple["content"]["start"])


def decide_attribution(values: Sequence[dict[str, Any]]) -> GoldDecision | None:
    """The majority attribution gold of one task's annotation values, or None if undecided."""
    n = len(values)
    if not n:
        return None
    lists = [v.get("attributions") or [] for v in values]
    n_has = sum(1 for items in lists if items)
    if 2 * n_has == n:
        return None
    if 2 * n_has < n:
        return GoldDecision({"attributions": []}, round((n - n_has) / n, 6))
    support: Counter[tuple[int, ...]] = Counter()
    triples: dict[tuple[int, ...], dict[str, Any]] = {}
    for items in lists:
        for key in {triple_key(t) for t in items}:
            support[key] += 1
        for t in items:
            triples.setdefault(triple_key(t), t)
    chosen = sorted(
        (triples[key] for key, count in support.items() if 2 * count > n), key=_triple_sort_key
    )
    if not chosen:
        return None
    gold_keys = sorted(triple_key(t) for t in chosen)
    n_equal = sum(1 for items in lists if sorted(triple_key(t) for t in items) == gold_keys)
    return GoldDecision({"attributions": chosen}, round(n_equal / n, 6))


_SPAN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "start": {"type": "integer", "minimum": 0, "description": "document offset"},
        "end": {"type": "integer", "minimum": 1, "description": "document offset, exclusive"},
    },
    "required": ["start", "end"],
}


class AttributionKind(KindSpec):
    """Attribution triples marked with spans; no label set."""

    name = NAME
    order = 0
    title = "Attribution"
    question = "Who is reported as saying what? Mark source, cue and content."
    widget = "triples"
    schema_fields: ClassVar[frozenset[str]] = frozenset({"description", "level"})
    gold_methods = ("majority",)
    categorical_gold = False
    task_category = "token-classification"
    export_fields = ("tokens", "bio")
    needs_bounds = True
    marks_spans = True
    value_component = "AttributionValue"
    suggests = True
    value_doc = (
        '`{"attributions": [{"source": {"start", "end"}, "cue": {...}, "content": {...}}]}`, '
        "offsets in document coordinates; an empty list means no attribution"
    )
    gold_doc = (
        "majority only: the majority of annotators says whether there is an attribution, "
        "then the triples marked identically by more than half are kept"
    )
    agreement_doc = "share of the annotators who marked exactly the same triples"
    export_field_docs: ClassVar[Mapping[str, str]] = {
        "tokens": "token offsets `[start, end]` of the sentence in document coordinates",
        "bio": "the gold triples as BIO tags per token for `source`, `cue` and `content`",
    }

    def suggest(
        self, text: str, sentence: tuple[int, int], earlier: Sequence[tuple[int, int]]
    ) -> list[dict[str, Any]]:
        """Triples from the rules of ``labeling.suggesting``, with confidence and rule."""
        found = suggest_attributions(text, sentence, earlier)
        return [s.as_dict() for s in sorted(found, key=lambda s: -s.confidence)]

    def parse_schema(self, data: Mapping[str, Any], prefix: str) -> SchemaSpec:
        """No labels, level or targets: the roles are fixed."""
        p = f"{prefix}." if prefix else ""
        if data.get("labels"):
            raise SchemaError(f"{p}labels", f"{NAME} has no labels (it is marked with spans)")
        if data.get("targets"):
            raise SchemaError(f"{p}targets", f"{NAME} has no targets")
        if data.get("values") is not None:
            raise SchemaError(f"{p}values", f"{NAME} has no label values")
        level = data.get("level", "nominal")
        if level not in LEVELS:  # accepted for symmetry with label kinds; roles are nominal
            raise SchemaError(f"{p}level", f"must be one of {', '.join(LEVELS)}; got {level!r}")
        return SchemaSpec(
            kind=NAME, description=description(data.get("description"), f"{p}description")
        )

    def value_json_schema(self) -> dict[str, Any]:
        """``{"attributions": [{"source", "cue", "content"}]}``."""
        return {
            "type": "object",
            "properties": {
                "attributions": {
                    "type": "array",
                    "maxItems": MAX_ATTRIBUTIONS,
                    "description": "empty: no attribution in this sentence",
                    "items": {
                        "type": "object",
                        "properties": dict.fromkeys(ROLES, _SPAN_SCHEMA),
                        "required": list(ROLES),
                        "additionalProperties": False,
                    },
                }
            },
            "required": ["attributions"],
            "additionalProperties": False,
        }

    def validate_value(
        self, value: Any, *, schema: SchemaLike, bounds: Bounds | None
    ) -> dict[str, Any]:
        """Each role a span inside the document, the cue inside the task's sentence."""
        if not isinstance(value, dict):
            raise SchemaError("value", "must be an object")
        b = bounds or Bounds(0, 0, 0)
        unknown = set(value) - {"attributions"}
        if unknown:
            raise SchemaError(f"value.{sorted(unknown)[0]}", "unknown field")
        items = value.get("attributions")
        if not isinstance(items, list):
            raise SchemaError("value.attributions", "is required and must be a list (may be empty)")
        if len(items) > MAX_ATTRIBUTIONS:
            raise SchemaError(
                "value.attributions", f"at most {MAX_ATTRIBUTIONS} triples per sentence"
            )
        out = []
        for i, item in enumerate(items):
            name = f"value.attributions[{i}]"
            if not isinstance(item, dict):
                raise SchemaError(name, "must be an object with source, cue and content")
            unknown = set(item) - set(ROLES)
            if unknown:
                raise SchemaError(f"{name}.{sorted(unknown)[0]}", "unknown role")
            triple = {}
            for role in ROLES:
                if role not in item:
                    raise SchemaError(f"{name}.{role}", "is required")
                triple[role] = _span(item[role], f"{name}.{role}", doc_length=b.doc_length)
            cue = triple["cue"]
            if cue["start"] < b.sentence_start or cue["end"] > b.sentence_end:
                raise SchemaError(
                    f"{name}.cue",
                    f"must lie inside the task's sentence [{b.sentence_start}, {b.sentence_end})",
                )
            if triple in out:
                raise SchemaError(name, "duplicates an earlier triple")
            out.append(triple)
        out.sort(key=_triple_sort_key)
        return {"attributions": out}

    def value_key(self, value: Any) -> Hashable:
        """The sorted offsets of every triple."""
        if not isinstance(value, dict):
            return None
        return tuple(sorted(triple_key(t) for t in value.get("attributions") or []))

    def value_summary(self, value: Any) -> str:
        """How many triples."""
        items = value.get("attributions") if isinstance(value, dict) else None
        if not isinstance(items, list):
            return "—"
        n = len(items)
        return "none" if n == 0 else f"{n} triple{'s' if n != 1 else ''}"

    def label_set(self, schema: SchemaLike) -> list[str]:
        """The roles."""
        return list(ROLES)

    def workspace_config(self, schema: SchemaLike) -> dict[str, Any]:
        """The triples widget, with its roles and the value meaning "none"."""
        span_f1 = [
            {
                "label": f"{role} span F1",
                "value": ["span_f1", role, "exact"],
                "sub": ["span_f1", role, "overlap"],
                "sub_label": "overlap",
            }
            for role in ROLES
        ]
        return {
            **super().workspace_config(schema),
            "labels": [],
            "roles": list(ROLES),
            "keys": [
                ["drag", "select words (snaps to whole words)"],
                ["⇧ →", "select words with the keyboard"],
                ["1 2 3", "mark as " + " · ".join(ROLES)],
                ["A", "add the triple"],
                ["Y", "accept the next suggested triple"],
                ["Esc", "clear selection, then the triple"],
            ],
            "per_label_text": "role (token level)",
            "alpha_name": "α has attribution",
            "extra_kpis": [
                {
                    "label": "token-role α",
                    "value": ["token_alpha"],
                    "ci": ["token_alpha_ci95"],
                    "digits": 3,
                },
                *span_f1,
            ],
            "confusion": {"key": "token_coincidence", "title": "Token role coincidence matrix"},
            "empty_value": {"attributions": []},
            "empty_text": "no attribution in this sentence",
            "value_example": '{"attributions": [{"source": {"start": S, "end": E}, '
            '"cue": {…}, "content": {…}}]}, document offsets',
        }

    # --- agreement ------------------------------------------------------------------

    def load_items(self, *, project_id: int, progress: Progress | None = None) -> AttributionData:
        """The attribution items (sentence text and offset, triples per annotator).

        Queries: the annotated tasks with their sentence, a count, then the annotations as
        ``(task_id, annotator_id, value)`` streamed in chunks.
        """
        from django.db.models import Exists, OuterRef

        from labeling.agreement import AttributionItem
        from labeling.models import Annotation, Task
        from labeling.quality.dataset import real_annotations

        annotated = Annotation.objects.filter(task_id=OuterRef("pk"))
        sentences = {
            task_id: (start, text, document_id)
            for task_id, start, text, document_id in Task.objects.filter(
                project_id=project_id, kind=NAME
            )
            .filter(Exists(annotated))
            .order_by()
            .values_list("id", "sentence__start", "sentence__text", "document_id")
            .iterator(chunk_size=CHUNK_SIZE)
        }
        qs = real_annotations(
            Annotation.objects.filter(task__project_id=project_id, task__kind=NAME)
        ).order_by()
        total = qs.count()
        per_task: dict[int, dict[int, list[dict[str, Any]]]] = {}
        from_suggestion: set[tuple[int, int]] = set()
        n = 0
        for task_id, annotator_id, value, began_suggested in qs.values_list(
            "task_id", "annotator_id", "value", "from_suggestion"
        ).iterator(chunk_size=CHUNK_SIZE):
            if task_id not in sentences:  # created after the task query
                continue
            triples = value.get("attributions", []) if isinstance(value, dict) else []
            per_task.setdefault(task_id, {})[annotator_id] = triples
            if began_suggested:
                from_suggestion.add((task_id, annotator_id))
            n += 1
            if n % CHUNK_SIZE == 0:
                report(progress, n, total, 1.0)
        task_ids = np.array(sorted(per_task), dtype=np.int64)
        annotator_ids = np.array(
            sorted({a for anns in per_task.values() for a in anns}), dtype=np.int64
        )
        column = {int(a): i for i, a in enumerate(annotator_ids)}
        items = []
        documents = np.array([sentences[t][2] for t in task_ids.tolist()], dtype=np.int64)
        suggested = np.zeros((task_ids.size, annotator_ids.size), dtype=bool)
        row = {t: i for i, t in enumerate(task_ids.tolist())}
        for task_id, annotator_id in from_suggestion:
            suggested[row[task_id], column[annotator_id]] = True
        for task_id in task_ids.tolist():
            start, text, _ = sentences[task_id]
            items.append(
                AttributionItem(
                    sentence_start=start,
                    sentence_text=text,
                    annotations={
                        column[a]: [x for x in t if isinstance(x, dict)]
                        for a, t in per_task[task_id].items()
                    },
                )
            )
        report(progress, 1, 1, 1.0)
        return AttributionData(
            items=items,
            task_ids=task_ids,
            annotator_ids=annotator_ids,
            n_annotations=n,
            documents=documents,
            suggested=suggested,
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
        """Has-attribution alpha, token-role alpha and span F1 over the loaded items."""
        from labeling.agreement import summarize_attributions
        from labeling.agreement.attribution import HAS_ATTRIBUTION_LABELS, has_attribution_codes

        data = self.load_items(project_id=project_id, progress=load_progress)
        timer()
        summary = summarize_attributions(
            data.items,
            int(data.annotator_ids.size),
            bootstrap_draws=bootstrap_draws,
            seed=seed,
            progress=sub_progress(compute_progress, 0.0, 1.0),
        )
        # Per document and by suggestion: the headline "has attribution" alpha.
        summary.update(
            group_summaries(
                has_attribution_codes(data.items, int(data.annotator_ids.size)),
                list(HAS_ATTRIBUTION_LABELS),
                "nominal",
                None,
                documents=data.documents,
                suggested=data.suggested,
                item_disagreement=summary.get("item_disagreement"),
                clusters=None,
                resampled="items",
                bootstrap_draws=bootstrap_draws,
                seed=seed,
            )
        )
        summary["groups_measure"] = "has-attribution alpha (the headline alpha)"
        timer()
        counts = np.zeros(data.annotator_ids.size, dtype=np.int64)
        for item in data.items:
            for index in item.annotations:
                counts[index] += 1
        return AgreementOutcome(
            summary=summary,
            task_ids=data.task_ids,
            annotator_ids=data.annotator_ids,
            annotation_counts=counts,
        )

    # --- gold -----------------------------------------------------------------------

    def decide_task_gold(self, values: Sequence[Any]) -> GoldDecision | None:
        """See the module docstring."""
        return decide_attribution(values)

    def gold_votes(self, *, project_id: int, schema: SchemaLike) -> tuple[list[str], LabelData]:
        """The binary "has attribution" answer of every annotation (for Dawid-Skene)."""
        from labeling.models import Annotation
        from labeling.quality.dataset import real_annotations

        rows = (
            real_annotations(
                Annotation.objects.filter(task__project_id=project_id, task__kind=NAME)
            )
            .values_list("task_id", "annotator_id", "value")
            .order_by()
            .iterator(chunk_size=5000)
        )
        return list(HAS_ATTRIBUTION), label_data(
            (t, a, 1 if (value or {}).get("attributions") else 0) for t, a, value in rows
        )

    # --- export ---------------------------------------------------------------------

    def export_extras(
        self, *, text: str, start: int, gold: Any
    ) -> tuple[list[list[int]] | None, dict[str, list[str]] | None]:
        """The sentence's tokens (document offsets) and the gold as BIO tags per role."""
        spans = tokenize(text, offset=start)
        bio = None
        if isinstance(gold, dict):
            bio = role_bio_tags(spans, gold.get("attributions") or [])
        return [[s, e] for s, e in spans], bio

    # --- demo -----------------------------------------------------------------------

    demo_schema = {"kind": NAME}
    demo_guideline = (
        "Attribution: mark who (source) says (cue) what (content). The cue is the speech verb "
        "or phrase in this sentence; source and content may reach into the neighbouring "
        "sentence."
    )

    def simulate_value(
        self, *, text: str, start: int, target: str, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """One triple around the first speech cue of the sentence, if any."""
        match = SPEECH_CUES.search(text)
        if not match:
            return {"attributions": []}
        cue = {"start": start + match.start(), "end": start + match.end()}
        before = text[: match.start()].rstrip(' ,”"')
        words = list(re.finditer(r"[\w’'-]+", before))
        if len(words) >= 2 and match.start() > len(text) // 2:
            # "…,” the Kremlin press service said": source just before the cue, content first.
            src_words = words[-3:]
            source = {"start": start + src_words[0].start(), "end": start + src_words[-1].end()}
            content_end = src_words[0].start()
            content_len = max(1, len(text[:content_end].rstrip(' ,”"')))
            content = {"start": start, "end": start + content_len}
        else:
            head = list(re.finditer(r"[\w’'-]+", text[: match.start()]))[:4] or words
            if not head:
                return {"attributions": []}
            source = {"start": start + head[0].start(), "end": start + head[-1].end()}
            rest = text[match.end() :].strip()
            if not rest:
                return {"attributions": []}
            offset = text.index(rest, match.end())
            content = {"start": start + offset, "end": start + offset + len(rest.rstrip("."))}
        if not (source["start"] < source["end"] and content["start"] < content["end"]):
            return {"attributions": []}
        return {"attributions": [{"source": source, "cue": cue, "content": content}]}

    def perturb_value(
        self, value: dict[str, Any], *, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """Miss the attribution, or clip the source."""
        if value["attributions"] and rng.random() < 0.5:
            return {"attributions": []}
        if value["attributions"]:
            triple = {k: dict(v) for k, v in value["attributions"][0].items()}
            triple["source"]["end"] = max(
                triple["source"]["start"] + 1, triple["source"]["end"] - 3
            )
            return {"attributions": [triple]}
        return value


ATTRIBUTION = AttributionKind()
#: The spec the registry finds.
KIND = ATTRIBUTION
