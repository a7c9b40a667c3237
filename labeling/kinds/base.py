"""What every task kind answers (the ``KindSpec`` interface) and the shared schema checks.

Pure: standard library and numpy only. Errors are ``SchemaError`` with ``field`` naming
the offending field in the request's terms (``schemas[0].labels[2]``,
``value.attributions[0].cue.start``) so the API can answer 400.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
#: Levels whose distance uses each label's number (``values``).
NUMERIC_LEVELS: tuple[str, ...] = ("interval", "ratio")
MAX_LABELS = 50
MAX_TARGETS = 20
MAX_NAME = 200
MAX_DESCRIPTION = 2000
#: A kind name: a lowercase identifier of at most 32 characters.
KIND_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")

Progress = Callable[[float], None]


class SchemaError(ValueError):
    """A value or schema that does not fit; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SchemaSpec:
    """A validated schema definition for one kind (what ``LabelSchema`` stores)."""

    kind: str
    labels: list[str] = field(default_factory=list)
    level: str = "nominal"
    targets: list[str] = field(default_factory=list)
    values: list[float] | None = None
    description: str = ""


class SchemaLike(Protocol):
    """A stored or parsed schema: ``LabelSchema`` rows and ``SchemaSpec`` both fit."""

    @property
    def kind(self) -> str: ...
    @property
    def labels(self) -> Any: ...  # a list of labels, or per-target lists (JSON as stored)
    @property
    def level(self) -> str: ...
    @property
    def targets(self) -> Any: ...  # JSON as stored
    @property
    def values(self) -> Any: ...  # JSON as stored: numbers or null


@dataclass(frozen=True)
class Bounds:
    """Where a task's sentence lies in its document (code points, half-open)."""

    doc_length: int
    sentence_start: int
    sentence_end: int


@dataclass
class GoldDecision:
    """An aggregated gold value and its confidence in ``[0, 1]``."""

    value: dict[str, Any]
    confidence: float


@dataclass
class LabelData:
    """Categorical answers as parallel index arrays (item, annotator, category code)."""

    task_ids: list[int]
    annotator_ids: list[int]
    items: np.ndarray
    annotators: np.ndarray
    codes: np.ndarray


@dataclass
class AgreementOutcome:
    """What a kind's agreement computation hands back to the run that stores it.

    ``summary`` uses matrix indices (rows = ``task_ids``, columns = ``annotator_ids``);
    ``extra`` is merged into the stored result as is.
    """

    summary: dict[str, Any]
    task_ids: np.ndarray
    annotator_ids: np.ndarray
    annotation_counts: np.ndarray | None
    extra: dict[str, Any] = field(default_factory=dict)


def check_kind_name(value: Any, field: str = "kind") -> str:
    """``value`` if it is a syntactically valid kind name, else ``SchemaError`` on ``field``."""
    if not isinstance(value, str) or not KIND_NAME_RE.fullmatch(value):
        raise SchemaError(
            field,
            "must be a lowercase identifier (a-z, then a-z, 0-9 or _; at most 32 characters); "
            f"got {value!r}",
        )
    return value


def names(values: Any, name: str, *, limit: int) -> list[str]:
    """A list of distinct non-empty strings (stripped), or ``SchemaError`` naming the entry."""
    if not isinstance(values, list):
        raise SchemaError(name, "must be a list of strings")
    if len(values) > limit:
        raise SchemaError(name, f"at most {limit} entries are allowed")
    out: list[str] = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise SchemaError(f"{name}[{i}]", "must be a non-empty string")
        value = value.strip()
        if len(value) > MAX_NAME:
            raise SchemaError(f"{name}[{i}]", f"must be at most {MAX_NAME} characters")
        if value in out:
            raise SchemaError(f"{name}[{i}]", f"duplicate entry {value!r}")
        out.append(value)
    return out


def numbers(values: Any, name: str, *, n: int) -> list[float]:
    """``n`` distinct finite numbers, or ``SchemaError`` naming the entry."""
    if not isinstance(values, list):
        raise SchemaError(name, "must be a list of numbers, one per label")
    if len(values) != n:
        raise SchemaError(name, f"must have one number per label: {n} expected, got {len(values)}")
    out: list[float] = []
    for i, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SchemaError(f"{name}[{i}]", f"must be a number; got {value!r}")
        if not math.isfinite(value):
            raise SchemaError(f"{name}[{i}]", "must be a finite number")
        if value in out:
            raise SchemaError(
                f"{name}[{i}]", f"duplicate value {value!r}: labels need distinct numbers"
            )
        out.append(value)
    return out


def description(value: Any, name: str) -> str:
    """A schema's optional free-text description."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SchemaError(name, "must be a string")
    if len(value) > MAX_DESCRIPTION:
        raise SchemaError(name, f"must be at most {MAX_DESCRIPTION} characters")
    return value.strip()


def sub_progress(progress: Progress | None, lo: float, hi: float) -> Callable[..., None] | None:
    """A callback for pure code mapping its progress into ``[lo, hi]`` of ``progress``.

    Accepts either a fraction or ``(done, total)``.
    """
    if progress is None:
        return None

    def report(*args: float) -> None:
        fraction = args[0] / args[1] if len(args) == 2 and args[1] else float(args[0])
        progress(lo + (hi - lo) * min(max(fraction, 0.0), 1.0))

    return report


def report(progress: Progress | None, done: int, total: int, share: float) -> None:
    """Report ``done / total`` of a phase worth ``share`` of the bar."""
    if progress is not None and total:
        progress(share * min(done / total, 1.0))


class KindSpec:
    """Everything one task kind knows; subclasses are the only code that knows a kind.

    The registry (``labeling.kinds.registry``) hands out one instance per kind name;
    schema-dependent answers take the project's ``LabelSchema`` (or a ``SchemaSpec``).
    """

    #: The kind's name as stored in ``Task.kind`` and sent by clients.
    name: str
    #: Where a built-in kind comes in lists, forms and task order (lowest first).
    order: int = 100
    #: A short human title ("Verifiability").
    title: str
    #: The question the annotator answers, shown in the admin and the dataset card.
    question: str = ""
    #: Built-in kinds are offered to every project; custom kinds are defined per project.
    builtin: bool = True
    #: The workspace widget module (``static/labeling/widgets/<widget>.js``).
    widget: str = ""
    #: Keys a schema definition of this kind may hold (besides ``kind`` and ``enabled``).
    schema_fields: ClassVar[frozenset[str]] = frozenset()
    #: Gold aggregation methods this kind supports (the first is the default).
    gold_methods: tuple[str, ...] = ("majority",)
    #: True: gold is a categorical vote over ``gold_votes`` (majority or Dawid-Skene);
    #: False: ``decide_task_gold`` decides each task from its annotation values.
    categorical_gold: bool = True
    #: The Hugging Face task category the export belongs to.
    task_category: str = "text-classification"
    #: Export columns beyond the common ones that this kind fills (null otherwise).
    export_fields: tuple[str, ...] = ()
    #: Whether validating a value needs the document length and sentence bounds.
    needs_bounds: bool = False
    #: Whether values mark spans of the text (the task payload then sends word tokens,
    #: which the workspace snaps selections to).
    marks_spans: bool = False
    #: The OpenAPI component name of this kind's ``value``.
    value_component: str = ""
    #: Whether tasks of this kind come with suggested answers (``suggest``).
    suggests: bool = False

    # --- schema and values (pure) -------------------------------------------------------

    def parse_schema(self, data: Mapping[str, Any], prefix: str) -> SchemaSpec:
        """Validate a schema definition of this kind (``data["kind"]`` is already checked)."""
        raise NotImplementedError

    def value_json_schema(self) -> dict[str, Any]:
        """The JSON Schema of an annotation value of this kind (shown in OpenAPI)."""
        raise NotImplementedError

    def validate_value(
        self, value: Any, *, schema: SchemaLike, bounds: Bounds | None
    ) -> dict[str, Any]:
        """The normalised value, or ``SchemaError`` naming the field (``value.label``)."""
        raise NotImplementedError

    def value_key(self, value: Any) -> Hashable:
        """A hashable form of a value, equal for equal answers (item agreement, gold)."""
        raise NotImplementedError

    def value_summary(self, value: Any) -> str:
        """A short human summary of a value (admin lists)."""
        return str(self.value_key(value))

    def task_targets(self, schema: SchemaLike) -> list[str]:
        """The targets a sentence gets one task each for (``""``: one task, no target)."""
        return [""]

    def label_set(self, schema: SchemaLike) -> list[str]:
        """The categories a dataset card lists for this kind."""
        return list(schema.labels or [])

    def suggest(
        self, text: str, sentence: tuple[int, int], earlier: Sequence[tuple[int, int]]
    ) -> list[dict[str, Any]]:
        """Suggested parts of a value for the sentence ``text[sentence[0]:sentence[1]]``,
        most confident first, in code points of ``text``; ``earlier``: the spans of the
        sentences before it. Pure and fast: it runs when a task is handed out."""
        return []

    # --- texts for the dataset card -----------------------------------------------------

    value_doc: str = ""
    gold_doc: str = ""
    agreement_doc: str = ""
    export_field_docs: ClassVar[Mapping[str, str]] = {}

    # --- browser configuration ----------------------------------------------------------

    def workspace_config(self, schema: SchemaLike) -> dict[str, Any]:
        """What the workspace, the dashboard and the adjudication page need of this kind.

        ``widget`` names the browser module that answers the kind
        (``static/labeling/widgets/<widget>.js``); ``keys`` are its keyboard help;
        ``alpha_name``, ``extra_kpis`` (``value``/``ci``/``sub`` are paths into the run's
        result) and ``confusion`` shape the dashboard; ``empty_value``/``empty_text`` offer
        a one-click gold value on the adjudication page.
        """
        return {
            "kind": self.name,
            "title": self.title,
            "question": getattr(schema, "description", "") or self.question,
            "widget": self.widget,
            "labels": list(schema.labels or []),
            "level": schema.level,
            "values": schema.values,
            "targets": list(schema.targets or []),
            "keys": [["1–9", "pick a label"]],
            "per_label_text": "label",
            "alpha_name": None,
            "extra_kpis": [],
            "confusion": None,
            "empty_value": None,
            "empty_text": None,
            "value_example": '{"label": L}',
        }

    # --- Django side (implemented by the kind modules) ----------------------------------

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
        """Load the kind's annotations, compute its metrics (``timer()`` between phases)."""
        raise NotImplementedError

    def gold_votes(self, *, project_id: int, schema: SchemaLike) -> tuple[list[str], LabelData]:
        """The categorical answers Dawid-Skene works on: (category names, answers)."""
        raise NotImplementedError

    def gold_value(self, category: str) -> dict[str, Any]:
        """The gold value of a winning category (categorical gold only)."""
        raise NotImplementedError

    def decide_task_gold(self, values: Sequence[Any]) -> GoldDecision | None:
        """The gold of one task from its annotation values, or None if undecided."""
        raise NotImplementedError

    def export_extras(
        self, *, text: str, start: int, gold: Any
    ) -> tuple[list[list[int]] | None, dict[str, list[str]] | None]:
        """``(tokens, bio)`` of an export record (null for kinds without spans)."""
        return None, None

    # --- the demo project (``manage.py load_demo``) ------------------------------------

    #: The schema definition the demo project uses for this kind (None: not in the demo).
    demo_schema: dict[str, Any] | None = None
    #: The paragraph of the demo guidelines about this kind.
    demo_guideline: str = ""

    def simulate_value(
        self, *, text: str, start: int, target: str, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """A plausible "true" value of a sentence, for the simulated annotators of the demo."""
        raise NotImplementedError

    def perturb_value(
        self, value: dict[str, Any], *, schema: SchemaLike, rng: Any
    ) -> dict[str, Any]:
        """The value as a careless annotator might give it instead."""
        raise NotImplementedError
