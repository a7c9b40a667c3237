"""Streaming dataset writers (JSONL, CSV, Parquet) and the completeness trailer.

Pure: standard library, orjson and pyarrow only. Each writer takes an iterable of export
records (one plain dict per labeling task, see :data:`FIELDS`) and yields ``bytes``
chunks while it reads, holding a bounded buffer: about 64 KB for JSONL and CSV, one
row group (``batch_size`` records) for Parquet. Memory is therefore constant in the
number of records, and the first bytes leave before the input is exhausted, which is
what a streaming HTTP response or a file written by a background job needs.

A record has exactly the keys of :data:`FIELDS`. A missing key is written as null
(``annotations`` as an empty list); an unknown key raises ``ValueError`` rather than
being dropped silently. The column order is :data:`FIELDS` in every format.

JSON is written by orjson (about 5x the standard library's encoder here, same bytes for
everything an export holds: it differs only for floats of magnitude below 1e-4, which
it writes as ``0.00001`` where ``json`` writes ``1e-05``; modal_share and confidence are
at least 1/n). CSV is written by :mod:`csv` (RFC 4180, minimal quoting, CRLF).

**Completeness** (:func:`with_trailer`, :func:`verify_export`): a streamed JSONL or CSV
export ends with one trailer line holding the number of records and the SHA-256 of every
byte before the trailer line, so a client that received a cut stream (a proxy or worker
timeout after the 200 was sent) can tell. JSONL: ``{"export_trailer": {"records": N,
"sha256": "<hex>"}}``; CSV: ``#export_trailer,records=N,sha256=<hex>``. Parquet needs
no trailer: its footer is written last, so a cut file does not open at all, and the
footer's metadata holds ``labeling.records``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CONTENT_TYPES",
    "FIELDS",
    "FILE_EXTENSIONS",
    "FORMATS",
    "PARQUET_SCHEMA",
    "arrow_type",
    "dumps",
    "parquet_schema",
    "verify_export",
    "with_trailer",
    "write_csv",
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
    "modal_share",
    "tokens",
    "bio",
    "predictions",
)
_FIELD_SET = frozenset(FIELDS)
# Nested fields that CSV writes as one JSON string each.
NESTED_FIELDS: tuple[str, ...] = ("annotations", "gold", "tokens", "bio", "predictions")
FORMATS: tuple[str, ...] = ("jsonl", "csv", "parquet")
CONTENT_TYPES: dict[str, str] = {
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
FILE_EXTENSIONS: dict[str, str] = {"jsonl": ".jsonl", "csv": ".csv", "parquet": ".parquet"}
CHUNK_SIZE = 64 * 1024
FORMAT_VERSION = "1"

TRAILER_KEY = "export_trailer"
CSV_TRAILER_MARK = "#" + TRAILER_KEY

_BIO_TYPE = pa.struct(
    [
        pa.field("source", pa.list_(pa.string())),
        pa.field("cue", pa.list_(pa.string())),
        pa.field("content", pa.list_(pa.string())),
    ]
)
_SCALARS: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}


def arrow_type(json_schema: Mapping[str, Any]) -> pa.DataType:
    """The Arrow type of values that follow ``json_schema`` (objects, arrays, scalars).

    An object becomes a struct of its ``properties`` in order, an array a list of its
    ``items``; ``string``/``integer``/``number``/``boolean`` map to string, int64,
    float64, bool. Anything else (no ``type``, unions) raises ``ValueError``.
    """
    kind = json_schema.get("type")
    if kind == "object" and isinstance(json_schema.get("properties"), Mapping):
        return pa.struct(
            [pa.field(name, arrow_type(sub)) for name, sub in json_schema["properties"].items()]
        )
    if kind == "array" and isinstance(json_schema.get("items"), Mapping):
        return pa.list_(arrow_type(json_schema["items"]))
    if isinstance(kind, str) and kind in _SCALARS:
        return _SCALARS[kind]
    raise ValueError(f"no Arrow type for JSON Schema {dict(json_schema)!r}")


def merge_struct_types(types: Iterable[pa.DataType]) -> pa.DataType:
    """One struct with the fields of every struct in ``types`` (first seen first).

    This is the type ``pyarrow.json`` and ``datasets`` infer for a JSONL column whose
    objects have different keys: a key missing from a row reads back as null.
    """
    fields: dict[str, pa.Field] = {}
    for struct in types:
        if not pa.types.is_struct(struct):
            raise ValueError(f"not a struct type: {struct}")
        for f in struct:
            if f.name in fields and not fields[f.name].type.equals(f.type):
                raise ValueError(f"field {f.name!r} has two types: {fields[f.name].type}, {f.type}")
            fields.setdefault(f.name, f)
    return pa.struct(list(fields.values()))


def parquet_schema(value_type: pa.DataType | None = None) -> pa.Schema:
    """The Parquet schema of an export whose annotation values and gold have ``value_type``.

    ``None`` keeps them as JSON strings (for values no Arrow type describes).
    """
    value = pa.string() if value_type is None else value_type
    annotation = pa.struct(
        [
            pa.field("annotator", pa.string()),
            pa.field("value", value),
            pa.field("lead_time_ms", pa.int64()),
            pa.field("from_suggestion", pa.bool_()),  # started from a suggested triple
            pa.field("updated_at", pa.string()),  # ISO 8601 with offset, as in JSONL
        ]
    )
    prediction = pa.struct(
        [
            pa.field("model", pa.string()),
            pa.field("value", value),
            pa.field("score", pa.float64()),
        ]
    )
    return pa.schema(
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
            pa.field("annotations", pa.list_(annotation)),
            pa.field("gold", value),
            pa.field("gold_method", pa.string()),
            pa.field("gold_confidence", pa.float64()),
            pa.field("modal_share", pa.float64()),
            pa.field("tokens", pa.list_(pa.list_(pa.int64()))),  # [[start, end], ...]
            pa.field("bio", _BIO_TYPE),
            pa.field("predictions", pa.list_(prediction)),
        ],
        metadata={"labeling.format_version": FORMAT_VERSION},
    )


#: The schema with values and gold as JSON strings (no value type known).
PARQUET_SCHEMA: pa.Schema = parquet_schema(None)


def _json_default(value: Any) -> Any:
    """What orjson does not encode natively: numpy scalars and arrays, sets."""
    if hasattr(value, "tolist"):  # numpy scalar or array, without importing numpy
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r}")


def dumps(
    value: Any,
    _dumps: Callable[..., bytes] = orjson.dumps,
    _default: Callable[[Any], Any] = _json_default,
) -> bytes:
    """Compact UTF-8 JSON (orjson): non-ASCII as is, datetimes in ISO 8601, NaN as null."""
    return _dumps(value, default=_default)


def _normalise(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record with exactly :data:`FIELDS`, in order; unknown keys are an error.

    NaN in ``gold_confidence`` or ``modal_share`` (numpy's "undefined") becomes null, so
    every format writes the same thing and JSON stays valid.
    """
    if type(record) is dict and tuple(record) == FIELDS:  # fast path: built in order
        confidence, agreement = record["gold_confidence"], record["modal_share"]
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
    if out["predictions"] is None:
        out["predictions"] = []
    for field in ("gold_confidence", "modal_share"):
        value = out[field]
        if value is not None and value != value:
            out[field] = None
    return out


def _updated_at(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


# --------------------------------------------------------------------------- JSONL


def write_jsonl(records: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """JSON Lines: one compact JSON object per record, UTF-8, ``\\n`` after each line.

    Non-ASCII text is written as is; nested fields stay JSON objects and arrays; NaN is
    written as null. Lines are joined into chunks of about 64 KB. An empty input yields
    nothing (an empty file).
    """
    lines: list[bytes] = []
    size = 0
    encode = dumps
    normalise = _normalise
    for record in records:
        line = encode(normalise(record))
        lines.append(line)
        size += len(line)
        if size >= CHUNK_SIZE:
            lines.append(b"")
            yield b"\n".join(lines)
            lines = []
            size = 0
    if lines:
        lines.append(b"")
        yield b"\n".join(lines)


# --------------------------------------------------------------------------- CSV


def _finite(value: Any) -> Any:
    if type(value) is float and not math.isfinite(value):
        raise ValueError(f"cannot write non-finite number {value!r} to CSV")
    return value


def _csv_json(value: Any) -> str:
    return "" if value is None else dumps(value).decode("utf-8")


def _csv_row(
    record: Mapping[str, Any], _json: Any = _csv_json, _finite: Any = _finite
) -> tuple[Any, ...]:
    r = _normalise(record)
    return (
        r["task_id"],
        r["document_id"],
        r["document_external_id"],
        r["document_title"],
        r["sentence_id"],
        r["sentence_position"],
        r["sentence_start"],
        r["sentence_end"],
        r["sentence_text"],
        r["kind"],
        r["target"],
        r["split"],
        _json(r["annotations"]),
        _json(r["gold"]),
        r["gold_method"],
        _finite(r["gold_confidence"]),
        _finite(r["modal_share"]),
        _json(r["tokens"]),
        _json(r["bio"]),
        _json(r["predictions"]),
    )


def write_csv(records: Iterable[Mapping[str, Any]], *, bom: bool = False) -> Iterator[bytes]:
    """CSV (RFC 4180, by :mod:`csv`): header of :data:`FIELDS`, one row per record, UTF-8.

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
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(FIELDS)
    row = _csv_row
    write = writer.writerow
    for record in records:
        write(row(record))
        if buffer.tell() >= CHUNK_SIZE:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode("utf-8")


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


def _parquet_columns(batch: Sequence[Mapping[str, Any]], schema: pa.Schema) -> list[pa.Array]:
    columns: dict[str, list[Any]] = {field: [] for field in FIELDS}
    for record in batch:
        r = _normalise(record)
        for field in FIELDS:
            columns[field].append(r[field])
    as_json = pa.types.is_string(schema.field("gold").type)
    columns["annotations"] = [
        [
            {
                "annotator": a.get("annotator"),
                "value": (
                    dumps(a["value"]).decode("utf-8")
                    if as_json and a.get("value") is not None
                    else a.get("value")
                ),
                "lead_time_ms": a.get("lead_time_ms"),
                "from_suggestion": a.get("from_suggestion"),
                "updated_at": _updated_at(a.get("updated_at")),
            }
            for a in annotations
        ]
        for annotations in columns["annotations"]
    ]
    if as_json:
        columns["gold"] = [None if g is None else dumps(g).decode("utf-8") for g in columns["gold"]]
        columns["predictions"] = [
            [
                {
                    **p,
                    "value": None if p.get("value") is None else dumps(p["value"]).decode("utf-8"),
                }
                for p in predictions
            ]
            for predictions in columns["predictions"]
        ]
    return [pa.array(columns[field.name], type=field.type, from_pandas=False) for field in schema]


def write_parquet(
    records: Iterable[Mapping[str, Any]],
    *,
    batch_size: int = 10_000,
    compression: str = "zstd",
    value_type: pa.DataType | None = None,
) -> Iterator[bytes]:
    """Parquet with :func:`parquet_schema` of ``value_type``, one row group per ``batch_size``.

    Nested fields: ``annotations`` is ``list<struct<annotator, value, lead_time_ms,
    from_suggestion, updated_at>>``; ``value`` and ``gold`` have ``value_type`` (a struct, e.g.
    ``struct<label: string>``, so pyarrow, pandas and ``datasets`` read the same nested
    shapes as from the JSONL export) or, when it is None, are JSON strings; ``tokens``
    is ``list<list<int64>>`` and ``bio`` ``struct<source, cue, content: list<string>>``.
    Compression is zstd by default (every pyarrow-based reader, DuckDB, Polars and
    Spark 3 read it). The footer's metadata holds ``labeling.records``.

    Each row group's bytes are yielded as soon as pyarrow has written them, so memory
    holds one batch. An empty input yields a valid file with the schema and no rows.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    schema = parquet_schema(value_type)
    sink = _ChunkSink()
    writer = pq.ParquetWriter(sink, schema, compression=compression)
    n_records = 0
    try:
        batch: list[Mapping[str, Any]] = []
        for record in records:
            batch.append(record)
            if len(batch) >= batch_size:
                writer.write_batch(pa.record_batch(_parquet_columns(batch, schema), schema=schema))
                n_records += len(batch)
                batch = []
                data = sink.drain()
                if data:
                    yield data
        if batch:
            writer.write_batch(pa.record_batch(_parquet_columns(batch, schema), schema=schema))
            n_records += len(batch)
        writer.add_key_value_metadata({"labeling.records": str(n_records)})
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

    ``options`` go to that writer (``bom`` for CSV; ``batch_size``, ``compression`` and
    ``value_type`` for Parquet). An unknown format raises ``ValueError`` at once, not
    when iterated.
    """
    writers = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}
    if format not in writers:
        raise ValueError(f"unknown export format {format!r}; allowed: {', '.join(FORMATS)}")
    return writers[format](records, **options)


# --------------------------------------------------------------------------- completeness


def trailer_line(format: str, n_records: int, sha256: str) -> bytes:
    """The last line of a streamed JSONL or CSV export (see the module docstring)."""
    if format == "jsonl":
        return dumps({TRAILER_KEY: {"records": n_records, "sha256": sha256}}) + b"\n"
    if format == "csv":
        return f"{CSV_TRAILER_MARK},records={n_records},sha256={sha256}\r\n".encode()
    raise ValueError(f"no trailer line for format {format!r}")


class _Counted:
    """An iterator that counts what passes through it."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = iter(items)
        self.n = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        item = next(self._items)
        self.n += 1
        return item


def with_trailer(
    records: Iterable[Mapping[str, Any]], format: str, **options: Any
) -> Iterator[bytes]:
    """:func:`write_records` followed by the trailer line (Parquet: the file as it is)."""
    if format == "parquet":
        yield from write_records(records, format, **options)
        return
    counted = _Counted(records)
    digest = hashlib.sha256()
    for chunk in write_records(counted, format, **options):
        digest.update(chunk)
        yield chunk
    yield trailer_line(format, counted.n, digest.hexdigest())


class IncompleteExport(ValueError):
    """A file that is not a whole export: cut short, altered, or without its trailer."""


def _last_line_start(fh: IO[bytes], size: int) -> int:
    """Offset of the last line of a file that ends with a newline."""
    block = min(size, 4096)
    fh.seek(size - block)
    tail = fh.read(block)
    cut = tail.rfind(b"\n", 0, len(tail) - 1)
    if cut < 0:
        if block < size:
            raise IncompleteExport("the last line is too long to be a trailer")
        return 0
    return size - block + cut + 1


def verify_export(path: str | os.PathLike[str], format: str) -> int:
    """Check a streamed export file's completeness; returns its number of records.

    JSONL and CSV: the last line must be the trailer, the SHA-256 of the bytes before it
    must match, and so must the number of records. Parquet: the footer must be readable
    and its ``labeling.records`` equal to the number of rows. Raises
    :class:`IncompleteExport` naming what is wrong.
    """
    if format == "parquet":
        try:
            meta = pq.ParquetFile(path).metadata
        except (pa.ArrowInvalid, OSError) as exc:
            raise IncompleteExport(f"not a whole Parquet file (cut short?): {exc}") from None
        stated = (meta.metadata or {}).get(b"labeling.records")
        if stated is None or int(stated) != meta.num_rows:
            raise IncompleteExport(
                f"{meta.num_rows} rows, but the footer states {stated!r} records"
            )
        rows: int = meta.num_rows  # pyarrow has no type information
        return rows
    if format not in ("jsonl", "csv"):
        raise ValueError(f"unknown export format {format!r}; allowed: {', '.join(FORMATS)}")
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(0)
        if size == 0 or (fh.seek(size - 1) is not None and fh.read(1) != b"\n"):
            raise IncompleteExport("the file does not end with a whole line: it was cut short")
        start = _last_line_start(fh, size)
        fh.seek(start)
        last = fh.read().rstrip(b"\r\n")
        stated = _parse_trailer(last, format)
        fh.seek(0)
        digest = hashlib.sha256()
        remaining = start
        newlines = 0
        while remaining:
            block = fh.read(min(remaining, 1 << 20))
            digest.update(block)
            newlines += block.count(b"\n")
            remaining -= len(block)
    if digest.hexdigest() != stated["sha256"]:
        raise IncompleteExport("the SHA-256 of the data does not match the trailer's")
    if format == "jsonl":
        n_records = newlines
    else:
        with open(path, encoding="utf-8", newline="") as text:
            n_records = sum(1 for _ in csv.reader(text)) - 2  # header and trailer
    if n_records != stated["records"]:
        raise IncompleteExport(f"{n_records} records, but the trailer states {stated['records']}")
    return n_records


def _parse_trailer(line: bytes, format: str) -> dict[str, Any]:
    missing = IncompleteExport("no trailer line at the end: the export was cut short")
    if format == "jsonl":
        try:
            data = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise missing from None
        trailer = data.get(TRAILER_KEY) if isinstance(data, dict) else None
        if not isinstance(trailer, dict):
            raise missing
        return trailer
    parts = line.decode("utf-8", "replace").split(",")
    if len(parts) != 3 or parts[0] != CSV_TRAILER_MARK:
        raise missing
    fields = dict(part.split("=", 1) for part in parts[1:] if "=" in part)
    try:
        return {"records": int(fields["records"]), "sha256": fields["sha256"]}
    except (KeyError, ValueError):
        raise missing from None
