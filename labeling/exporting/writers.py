"""Streaming dataset writers (JSONL, CSV, Parquet) and the dataset card.

Pure: standard library and pyarrow only. Each writer takes an iterable of export
records (one plain dict per labeling task, see :data:`FIELDS`) and yields ``bytes``
chunks while it reads, holding a bounded buffer: about 64 KB for JSONL and CSV, one
row group (``batch_size`` records) for Parquet. Memory is therefore constant in the
number of records, and the first bytes leave before the input is exhausted, which is
what a streaming HTTP response or a file written by a background job needs.

A record has exactly the keys of :data:`FIELDS`. A missing key is written as null
(``annotations`` as an empty list); an unknown key raises ``ValueError`` rather than
being dropped silently. The column order is :data:`FIELDS` in every format.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CONTENT_TYPES",
    "FIELDS",
    "FILE_EXTENSIONS",
    "FORMATS",
    "PARQUET_SCHEMA",
    "write_csv",
    "write_dataset_card",
    "write_jsonl",
    "write_parquet",
    "write_records",
]

FIELDS: tuple[str, ...] = (
    "task_id",
    "document_id",
    "document_external_id",
    "document_title",
    "sentence_id",
    "sentence_position",
    "sentence_start",
    "sentence_end",
    "sentence_text",
    "kind",
    "target",
    "split",
    "annotations",
    "gold",
    "gold_method",
    "gold_confidence",
    "agreement",
    "tokens",
    "bio",
)
_FIELD_SET = frozenset(FIELDS)
# Nested fields that CSV writes as one JSON string each.
NESTED_FIELDS: tuple[str, ...] = ("annotations", "gold", "tokens", "bio")
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
CONTENT_TYPES: dict[str, str] = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
FILE_EXTENSIONS: dict[str, str] = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}
CHUNK_SIZE = 64 * 1024
FORMAT_VERSION = "1"

_ANNOTATION_TYPE = pa.struct(
    [
        pa.field("annotator", pa.string()),
        pa.field("value", pa.string()),  # JSON: {"label": ...} or {"attributions": [...]}
        pa.field("lead_time_ms", pa.int64()),
        pa.field("updated_at", pa.string()),  # ISO 8601
    ]
)
_BIO_TYPE = pa.struct(
    [
        pa.field("source", pa.list_(pa.string())),
        pa.field("cue", pa.list_(pa.string())),
        pa.field("content", pa.list_(pa.string())),
    ]
)
PARQUET_SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("task_id", pa.int64()),
        pa.field("document_id", pa.int64()),
        pa.field("document_external_id", pa.string()),
        pa.field("document_title", pa.string()),
        pa.field("sentence_id", pa.int64()),
        pa.field("sentence_position", pa.int64()),
        pa.field("sentence_start", pa.int64()),
        pa.field("sentence_end", pa.int64()),
        pa.field("sentence_text", pa.string()),
        pa.field("kind", pa.string()),
        pa.field("target", pa.string()),
        pa.field("split", pa.string()),
        pa.field("annotations", pa.list_(_ANNOTATION_TYPE)),
        pa.field("gold", pa.string()),  # JSON of the gold value, null when none
        pa.field("gold_method", pa.string()),
        pa.field("gold_confidence", pa.float64()),
        pa.field("agreement", pa.float64()),
        pa.field("tokens", pa.list_(pa.list_(pa.int64()))),  # [[start, end], ...]
        pa.field("bio", _BIO_TYPE),
    ],
    metadata={"labeling.format_version": FORMAT_VERSION},
)


def _json_default(value: Any) -> Any:
    """What ``json`` cannot encode natively: dates, numpy scalars and arrays, tuples in sets."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy scalar or array, without importing numpy
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r}")


# One encoder, reused: json.dumps with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_default
)


def _make_fast_encode() -> Any:
    """``_ENCODER.encode`` without its per-call setup, if CPython's C encoder is there.

    ``JSONEncoder.encode`` builds a new C encoder object on every call, which is a
    quarter of the time for a whole record and half of it for a small value. The C
    encoder is built once here with the same options (no circular-reference check: export
    records are trees). It is private API, so it is used only if it gives exactly the
    public encoder's output on a sample; otherwise the public encoder is used.
    """
    public = _ENCODER.encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return public
    try:
        c_encoder = make(
            None, _json_default, json.encoder.encode_basestring, None, ":", ",",
            False, False, False,
        )  # fmt: skip

        def encode(value: Any, _join: Any = "".join, _c: Any = c_encoder) -> str:
            return _join(_c(value, 0))

        sample = {"a": [1, -2.5, None, True, 'é🎉\n"\\', {"b": [], "c": {}}], "d": 1e300}
        if encode(sample) != public(sample) or encode("x") != public("x"):
            return public
        try:
            encode(float("nan"))
        except ValueError:
            return encode
        return public
    except Exception:  # noqa: BLE001 - any surprise means: use the public encoder
        return public


_encode = _make_fast_encode()


def _normalise(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with exactly :data:`FIELDS`, in order; unknown keys are an error.

    NaN in ``gold_confidence`` or ``agreement`` (numpy's "undefined") becomes null, so
    every format writes the same thing and JSON stays valid.
    """
    if type(record) is dict and tuple(record) == FIELDS:  # fast path: built in order
        confidence, agreement = record["gold_confidence"], record["agreement"]
        if (confidence is None or confidence == confidence) and (
            agreement is None or agreement == agreement
        ):
            return record
    if not isinstance(record, Mapping):
        raise TypeError(f"an export record must be a mapping, got {type(record).__name__}")
    unknown = set(record) - _FIELD_SET
    if unknown:
        raise ValueError(
            f"unknown field(s) in export record: {', '.join(sorted(map(str, unknown)))}; "
            f"allowed: {', '.join(FIELDS)}"
        )
    out = {field: record.get(field) for field in FIELDS}
    if out["annotations"] is None:
        out["annotations"] = []
    for field in ("gold_confidence", "agreement"):
        value = out[field]
        if value is not None and value != value:
            out[field] = None
    return out


def _updated_at(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


# --------------------------------------------------------------------------- JSONL


def write_jsonl(records: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """JSON Lines: one compact JSON object per record, UTF-8, ``\\n`` after each line.

    Non-ASCII text is written as is (``ensure_ascii=False``); nested fields stay JSON
    objects and arrays. NaN/Infinity are refused (they are not JSON). Lines are joined
    into chunks of about 64 KB. An empty input yields nothing (an empty file).
    """
    lines: list[str] = []
    size = 0
    encode = _encode
    for record in records:
        line = encode(_normalise(record))
        lines.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            lines.append("")
            yield "\n".join(lines).encode("utf-8")
            lines = []
            size = 0
    if lines:
        lines.append("")
        yield "\n".join(lines).encode("utf-8")


# --------------------------------------------------------------------------- CSV


def _csv_cell(value: Any) -> str:
    """One RFC 4180 field: quoted if it holds a quote, comma, CR or LF; quotes doubled."""
    if value is None:
        return ""
    if type(value) is str:
        text = value
    elif type(value) is int:
        return str(value)
    elif type(value) is float:
        if not math.isfinite(value):
            raise ValueError(f"cannot write non-finite number {value!r} to CSV")
        return repr(value)
    else:
        text = str(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    if "," in text or "\n" in text or "\r" in text:
        return '"' + text + '"'
    return text


def _csv_json(value: Any) -> str:
    if value is None:
        return ""
    text = _encode(value)
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return '"' + text + '"' if "," in text else text


def _csv_line(record: Mapping[str, Any]) -> str:
    r = _normalise(record)
    cell = _csv_cell
    return ",".join(
        (
            cell(r["task_id"]),
            cell(r["document_id"]),
            cell(r["document_external_id"]),
            cell(r["document_title"]),
            cell(r["sentence_id"]),
            cell(r["sentence_position"]),
            cell(r["sentence_start"]),
            cell(r["sentence_end"]),
            cell(r["sentence_text"]),
            cell(r["kind"]),
            cell(r["target"]),
            cell(r["split"]),
            _csv_json(r["annotations"]),
            _csv_json(r["gold"]),
            cell(r["gold_method"]),
            cell(r["gold_confidence"]),
            cell(r["agreement"]),
            _csv_json(r["tokens"]),
            _csv_json(r["bio"]),
        )
    )


def write_csv(records: Iterable[Mapping[str, Any]], *, bom: bool = False) -> Iterator[bytes]:
    """CSV (RFC 4180): header of :data:`FIELDS`, one row per record, UTF-8.

    * Quoting is minimal and RFC 4180: a field holding a quote, comma, CR or LF is
      quoted, and quotes inside are doubled; records end with CRLF. Newlines inside
      sentence text survive a round trip through ``csv``, pandas and ``datasets``.
    * ``annotations``, ``gold``, ``tokens`` and ``bio`` are compact JSON strings, one
      column each (``json.loads`` them back); ``annotations`` is ``[]`` when empty.
    * Null is the empty field, so an empty string and null look the same in CSV (pandas
      reads both as NaN); use JSONL or Parquet where that distinction matters.
    * **No byte order mark by default.** pandas and ``datasets`` read plain UTF-8 as is,
      and a BOM would end up in the first column name for readers that do not strip it
      (``csv`` with ``encoding="utf-8"``, ``cut``, many databases' COPY). Pass
      ``bom=True`` for spreadsheet users: Excel needs the BOM to detect UTF-8, and pandas
      (its C parser, also used by ``datasets``) strips it.
    * Text is written verbatim: a cell starting with ``=``, ``+``, ``-`` or ``@`` is not
      defused against spreadsheet formula injection, because the export is training
      data and must not be altered; open untrusted exports in a spreadsheet with care.

    An empty input yields the header only.
    """
    header = ",".join(_csv_cell(field) for field in FIELDS)
    lines: list[str] = [("\ufeff" if bom else "") + header]
    size = len(header)
    for record in records:
        line = _csv_line(record)
        lines.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            lines.append("")
            yield "\r\n".join(lines).encode("utf-8")
            lines = []
            size = 0
    if lines:
        lines.append("")
        yield "\r\n".join(lines).encode("utf-8")


# --------------------------------------------------------------------------- Parquet


class _ChunkSink:
    """A write-only file object that keeps what pyarrow writes until it is drained."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0
        self.closed = False

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


def _parquet_columns(batch: Sequence[Mapping[str, Any]]) -> list[pa.Array]:
    columns: dict[str, list[Any]] = {field: [] for field in FIELDS}
    for record in batch:
        r = _normalise(record)
        for field in FIELDS:
            columns[field].append(r[field])
    columns["annotations"] = [
        [
            {
                "annotator": a.get("annotator"),
                "value": None if a.get("value") is None else _encode(a["value"]),
                "lead_time_ms": a.get("lead_time_ms"),
                "updated_at": _updated_at(a.get("updated_at")),
            }
            for a in annotations
        ]
        for annotations in columns["annotations"]
    ]
    columns["gold"] = [None if g is None else _encode(g) for g in columns["gold"]]
    return [
        pa.array(columns[field.name], type=field.type, from_pandas=False)
        for field in PARQUET_SCHEMA
    ]


def write_parquet(
    records: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = 10_000,
    compression: str = "zstd",
) -> Iterator[bytes]:
    """Parquet with the fixed :data:`PARQUET_SCHEMA`, one row group per ``batch_size``.

    Nested fields: ``annotations`` is ``list<struct<annotator, value, lead_time_ms,
    updated_at>>`` with ``value`` a JSON string (its shape depends on the kind),
    ``gold`` a JSON string, ``tokens`` ``list<list<int64>>`` and ``bio``
    ``struct<source, cue, content: list<string>>``. These load as they are in pandas,
    pyarrow and ``datasets.load_dataset("parquet", ...)``. Compression is zstd by
    default (every pyarrow-based reader, DuckDB, Polars and Spark 3 read it).

    Each row group's bytes are yielded as soon as pyarrow has written them, so memory
    holds one batch. An empty input yields a valid file with the schema and no rows.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    sink = _ChunkSink()
    writer = pq.ParquetWriter(sink, PARQUET_SCHEMA, compression=compression)
    try:
        batch: list[Mapping[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                writer.write_batch(pa.record_batch(_parquet_columns(batch), schema=PARQUET_SCHEMA))
                batch = []
                data = sink.drain()
                if data:
                    yield data
        if batch:
            writer.write_batch(pa.record_batch(_parquet_columns(batch), schema=PARQUET_SCHEMA))
    finally:
        writer.close()
    data = sink.drain()
    if data:
        yield data


# --------------------------------------------------------------------------- dispatch


def write_records(
    records: Iterable[Mapping[str, Any]], format: str, **options: Any
) -> Iterator[bytes]:
    """Dispatch to the writer for ``format`` (``jsonl``, ``csv`` or ``parquet``).

    ``options`` go to that writer (``bom`` for CSV; ``batch_size`` and ``compression``
    for Parquet). An unknown format raises ``ValueError`` at once, not when iterated.
    """
    writers = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}
    if format not in writers:
        raise ValueError(f"unknown export format {format!r}; allowed: {', '.join(FORMATS)}")
    return writers[format](records, **options)


# --------------------------------------------------------------------------- dataset card

_FIELD_DOCS: dict[str, str] = {
    "task_id": "id of the labeling task (one record per task)",
    "document_id": "id of the document",
    "document_external_id": "the document's id in its source, if imported with one",
    "document_title": "title of the document",
    "sentence_id": "id of the sentence",
    "sentence_position": "0-based position of the sentence in its document",
    "sentence_start": "character offset where the sentence starts in the document",
    "sentence_end": "character offset where the sentence ends (exclusive)",
    "sentence_text": "the sentence, exactly `document.text[start:end]`",
    "kind": "task kind: `verifiability`, `stance` or `attribution`",
    "target": "stance target (empty for other kinds)",
    "split": "train/dev/test split, assigned per document",
    "annotations": "every annotation: `annotator`, `value`, `lead_time_ms`, `updated_at`",
    "gold": "the accepted value, null if none",
    "gold_method": "how the gold value was decided: `adjudicated`, `majority`, `dawid_skene`",
    "gold_confidence": "confidence of an aggregated gold value (0-1)",
    "agreement": "per-item agreement among the annotators (0-1), null with fewer than two",
    "tokens": "attribution only: token offsets `[start, end]` in document coordinates",
    "bio": "attribution only: BIO tags per token for `source`, `cue` and `content`",
}
_NESTED_ENCODING: dict[str, dict[str, str]] = {
    "jsonl": {},
    "csv": dict.fromkeys(NESTED_FIELDS, "JSON string"),
    "parquet": {
        "annotations": "list of structs; `value` is a JSON string",
        "gold": "JSON string",
    },
}


def _md(value: Any) -> str:
    """A value as text safe inside a Markdown table cell."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _yaml_str(value: Any) -> str:
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a YAML scalar


def _fmt_number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.3f}"
    return str(value)


def write_dataset_card(
    *,
    project_name: str,
    export_format: str,
    exported_at: dt.datetime | str,
    counts: Mapping[str, Mapping[str, int]],
    label_sets: Mapping[str, Sequence[str]] | None = None,
    levels: Mapping[str, str] | None = None,
    targets: Mapping[str, Sequence[str]] | None = None,
    agreement: Mapping[str, Mapping[str, Any]] | None = None,
    gold_methods: Mapping[str, Mapping[str, int]] | None = None,
    split_ratios: Mapping[str, float] | None = None,
    split_seed: int | None = None,
    filters: Mapping[str, Any] | None = None,
    data_file: str | None = None,
    description: str = "",
    license: str | None = None,
    language: str | Sequence[str] | None = None,
) -> str:
    """A Markdown dataset card (README.md) for an export, with YAML front matter.

    Args:
        project_name: the project's name (title of the card).
        export_format: ``jsonl``, ``csv`` or ``parquet``.
        exported_at: when the export was made (a datetime, written in ISO 8601, or text).
        counts: ``{split: {kind: number of records}}``.
        label_sets: ``{kind: labels in schema order}`` (attribution: its roles).
        levels: ``{kind: measurement level}`` (``nominal``, ``ordinal``, ...).
        targets: ``{kind: stance targets}``.
        agreement: ``{kind: {metric: value}}``, e.g. ``{"alpha": 0.71,
            "alpha_ci95": [0.65, 0.77], "percent_agreement": 0.83, "n_items": 120}``.
        gold_methods: ``{kind: {method: number of gold labels}}``.
        split_ratios: ``{split: ratio}`` used for the document-level split.
        split_seed: the seed of the split.
        filters: the export's filters (e.g. ``{"kind": "stance"}``), written as JSON.
        data_file: the data file's name, used in the loading snippet.
        description: free text placed under the title.
        license: an SPDX id or name for the front matter.
        language: language code(s) for the front matter.

    Returns:
        The card's Markdown text (front matter, summary, fields, labels, counts,
        agreement, split method and loading snippet). Deterministic for equal inputs.
    """
    if export_format not in FORMATS:
        raise ValueError(f"unknown export format {export_format!r}; allowed: {', '.join(FORMATS)}")
    label_sets = label_sets or {}
    levels = levels or {}
    targets = targets or {}
    agreement = agreement or {}
    gold_methods = gold_methods or {}
    exported = exported_at.isoformat() if isinstance(exported_at, dt.datetime) else exported_at
    splits = list(counts)
    kinds: list[str] = []
    for per_kind in counts.values():
        kinds.extend(k for k in per_kind if k not in kinds)
    kinds.extend(k for k in label_sets if k not in kinds)
    total = sum(sum(per_kind.values()) for per_kind in counts.values())
    data_file = data_file or f"export{FILE_EXTENSIONS[export_format]}"
    loader = "json" if export_format == "jsonl" else export_format

    out: list[str] = ["---"]
    out.append(f"pretty_name: {_yaml_str(project_name)}")
    if language:
        langs = [language] if isinstance(language, str) else list(language)
        out.append("language:")
        out.extend(f"- {_yaml_str(lang)}" for lang in langs)
    if license:
        out.append(f"license: {_yaml_str(license)}")
    categories = []
    if any(k in kinds for k in ("verifiability", "stance")):
        categories.append("text-classification")
    if "attribution" in kinds:
        categories.append("token-classification")
    if categories:
        out.append("task_categories:")
        out.extend(f"- {c}" for c in categories)
    out.append("size_categories:")
    out.append(f"- {_size_category(total)}")
    out.append("---")
    out.append("")
    out.append(f"# {_md(project_name)}")
    out.append("")
    if description:
        out.append(description.strip())
        out.append("")
    out.append(
        "Sentence-level annotations of news documents, one record per labeling task "
        "with every annotation, the gold label and how it was decided, and per-item "
        "agreement."
    )
    out.append("")
    out.append("## Export")
    out.append("")
    out.append(f"- Format: `{export_format}` (`{data_file}`)")
    out.append(f"- Exported at: {_md(exported)}")
    out.append(f"- Records: {total}")
    out.append(f"- Kinds: {', '.join(f'`{_md(k)}`' for k in kinds) or 'none'}")
    if filters:
        out.append(f"- Filters: `{_md(_encode(dict(filters)))}`")
    else:
        out.append("- Filters: none (the whole project)")
    out.append("")

    out.append("## Counts")
    out.append("")
    out.append("| split | " + " | ".join(_md(k) for k in kinds) + " | total |")
    out.append("| --- |" + " ---: |" * (len(kinds) + 1))
    for split in splits:
        row = [counts[split].get(k, 0) for k in kinds]
        out.append(f"| {_md(split)} | " + " | ".join(map(str, row)) + f" | {sum(row)} |")
    column_totals = [sum(counts[s].get(k, 0) for s in splits) for k in kinds]
    out.append("| **total** | " + " | ".join(map(str, column_totals)) + f" | {total} |")
    out.append("")

    if label_sets or targets:
        out.append("## Labels")
        out.append("")
        for kind in kinds:
            if kind not in label_sets and kind not in targets:
                continue
            parts = []
            if kind in label_sets:
                labels = ", ".join(f"`{_md(label)}`" for label in label_sets[kind])
                parts.append(f"labels {labels}")
            if kind in levels:
                parts.append(f"level {_md(levels[kind])}")
            if kind in targets:
                parts.append("targets " + ", ".join(f"`{_md(t)}`" for t in targets[kind]))
            out.append(f"- `{_md(kind)}`: " + "; ".join(parts))
        out.append("")

    if agreement:
        metrics: list[str] = []
        for per_kind in agreement.values():
            metrics.extend(m for m in per_kind if m not in metrics)
        out.append("## Agreement")
        out.append("")
        out.append("| kind | " + " | ".join(_md(m) for m in metrics) + " |")
        out.append("| --- |" + " ---: |" * len(metrics))
        for kind, per_kind in agreement.items():
            cells = []
            for metric in metrics:
                value = per_kind.get(metric)
                if isinstance(value, list | tuple):
                    cells.append("[" + ", ".join(_fmt_number(v) for v in value) + "]")
                else:
                    cells.append(_md(_fmt_number(value)))
            out.append(f"| {_md(kind)} | " + " | ".join(cells) + " |")
        out.append("")

    if gold_methods:
        out.append("## Gold labels")
        out.append("")
        for kind, methods in gold_methods.items():
            described = ", ".join(f"{_md(m)}: {n}" for m, n in methods.items()) or "none"
            out.append(f"- `{_md(kind)}`: {described}")
        out.append("")

    out.append("## Splits")
    out.append("")
    out.append(
        "Splits are assigned per document (every sentence of a document is in the same "
        "split), by ranking documents on a seeded hash of their id and cutting the "
        "ranking at the cumulative ratios. The split is a column, `split`, of the one "
        "data file."
    )
    if split_ratios:
        ratios = ", ".join(f"{_md(name)} {ratio:g}" for name, ratio in split_ratios.items())
        out.append("")
        out.append(f"- Ratios: {ratios}")
    if split_seed is not None:
        if not split_ratios:
            out.append("")
        out.append(f"- Seed: {split_seed}")
    out.append("")

    out.append("## Fields")
    out.append("")
    out.append("| field | description | encoding |")
    out.append("| --- | --- | --- |")
    encoding = _NESTED_ENCODING[export_format]
    for field in FIELDS:
        out.append(f"| `{field}` | {_md(_FIELD_DOCS[field])} | {encoding.get(field, '')} |")
    out.append("")
    out.append(
        'Annotation values are `{"label": L}` for verifiability and stance and '
        '`{"attributions": [{"source": {"start", "end"}, "cue": {...}, "content": '
        "{...}}]}` for attribution, with offsets in document coordinates."
    )
    out.append("")

    out.append("## Loading")
    out.append("")
    out.append("```python")
    out.append("from datasets import load_dataset")
    out.append("")
    out.append(f'ds = load_dataset("{loader}", data_files="{data_file}", split="train")')
    out.append('train = ds.filter(lambda r: r["split"] == "train")')
    if export_format != "jsonl":
        out.append("# nested fields stored as JSON strings: json.loads(r['gold']) etc.")
    out.append("```")
    out.append("")
    return "\n".join(out)


def _size_category(n: int) -> str:
    bounds = [
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
        (10_000_000, "1M<n<10M"),
    ]
    for bound, name in bounds:
        if n < bound:
            return name
    return "n>10M"
