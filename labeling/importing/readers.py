"""Parse uploaded bytes (plain text, JSON Lines, CSV) into document records.

Pure module: standard library only, no Django, no I/O beyond the bytes it is given.

Policy
------
* **All or nothing.** A batch (one uploaded file) is imported whole or not at all. The
  readers validate every record of the file, collect *all* errors (the first
  ``MAX_REPORTED_ERRORS`` = 100 are kept, the rest are counted and reported as
  "and N more errors") and raise a single :class:`ReadError`. Callers import nothing
  from a batch that raised.
* **Line numbers** in errors are 1-based physical lines of the file: for JSONL the line
  of the record, for CSV the line where the record starts (a quoted field may span
  several lines), for plain text the line of the problem (1 for whole-document
  problems). Line 0 means the request as a whole (an unknown format).
* **Encoding**: UTF-8 only. A leading UTF-8 byte-order mark is accepted and dropped in
  every format. Other bytes that are not UTF-8 are one error giving the line and the
  byte offset of the first bad byte; nothing else is checked then.
* **Text normalisation**: ``\\r\\n`` and lone ``\\r`` in ``text`` become ``\\n``. Nothing
  else is changed (no stripping, no Unicode normalisation), so sentence offsets refer to
  the stored, normalised text exactly.
* **Titles**: surrounding whitespace is stripped and inner runs of whitespace (including
  line breaks) become one space. A missing, null, empty or whitespace-only title is
  derived from the text: its first non-empty line, stripped, cut at a word boundary to
  at most ``MAX_DERIVED_TITLE_CHARS`` characters with "…" when cut. For a plain-text
  upload the title is the file name without its extension (the "stem"), because the
  first line of an article file is often already body text; when no file name is given
  the title is derived from the text as above. The file name is kept in
  ``metadata["filename"]``.
* **Fields** of JSONL objects and CSV columns: ``title``, ``text``, ``external_id``,
  ``source_url``, ``published_at``, ``metadata``. Only ``text`` is required; ``null`` (or
  an empty CSV cell) means absent. Unknown keys/columns are errors naming the key.

  - ``text``: a string, not empty or whitespace-only, no NUL character, at most
    ``MAX_DOCUMENT_CHARS`` characters after normalisation.
  - ``external_id``: a string or a number (numbers become strings, ``7`` → ``"7"``);
    booleans are rejected. Surrounding whitespace is stripped.
  - ``source_url``: empty, or an absolute ``http``/``https`` URL with a host and no
    whitespace.
  - ``published_at``: ISO 8601 date or date-time, with or without a UTC offset (``Z``
    accepted); a value without an offset is taken as UTC. Always returned timezone-aware.
  - ``metadata``: a JSON object (in CSV, a cell holding a JSON object). NaN and Infinity
    are rejected anywhere in the JSON since they cannot be stored as JSON.
  - ``controls``: control questions (honeypots) on this document's sentences, a JSON
    array (in CSV, a cell holding one) of ``{"kind", "target"?, "sentence" | "offset",
    "value"}``: the task of that kind (and stance target) on the sentence at 0-based
    position ``sentence``, or on the sentence holding code point ``offset``, becomes a
    control question whose right answer is ``value``. Checked here for shape; the
    importer checks that the task exists and that the value fits the kind.

:func:`parse_record` applies exactly the same validation to one decoded JSON object, so
the REST API can reuse it for JSON request bodies and report the same messages.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from labeling.json_types import JSONObject
from labeling.strings import string_problem, value_problem
from labeling.text.segmentation import MAX_DOCUMENT_CHARS

__all__ = [
    "FIELDS",
    "FORMATS",
    "MAX_DERIVED_TITLE_CHARS",
    "MAX_REPORTED_ERRORS",
    "DocumentRecord",
    "ReadError",
    "RecordError",
    "parse_record",
    "read_csv",
    "read_jsonl",
    "read_records",
    "read_text",
]

FIELDS: tuple[str, ...] = (
    "title",
    "text",
    "external_id",
    "source_url",
    "published_at",
    "metadata",
    "controls",
)
FORMATS: tuple[str, ...] = ("txt", "jsonl", "csv")
MAX_REPORTED_ERRORS = 100
#: Control questions one document may carry at most.
MAX_CONTROLS_PER_DOCUMENT = 1000
MAX_DERIVED_TITLE_CHARS = 200
#: Longest stored title, external_id and source_url (the database columns' lengths).
MAX_TITLE_CHARS = 500
MAX_EXTERNAL_ID_CHARS = 255
MAX_SOURCE_URL_CHARS = 2000

_BOM = b"\xef\xbb\xbf"
_NEWLINE_RE = re.compile(r"\r\n?")
_SPACES_RE = re.compile(r"\s+")


@dataclass(frozen=True)
class ControlRecord:
    """A control question carried by a document: the task of ``kind`` (and ``target``) on
    one sentence, chosen by its ``sentence`` position (0-based) or by a code-point
    ``offset`` that lies inside it, and the right answer ``value`` (checked by the kind
    when the document's tasks exist). ``index`` is its place in the record's list."""

    index: int
    kind: str
    value: Any = field(hash=False)
    target: str = ""
    sentence: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class DocumentRecord:
    """One document to import. ``metadata`` is a fresh dict owned by the record; it is
    compared but not hashed, so records stay hashable. ``line`` is where the record
    starts in its file (or its 1-based place in a request), for errors found later."""

    title: str
    text: str
    external_id: str = ""
    source_url: str = ""
    published_at: datetime | None = None
    metadata: JSONObject = field(default_factory=JSONObject, hash=False)
    controls: tuple[ControlRecord, ...] = field(default=(), hash=False)
    line: int = field(default=0, compare=False, hash=False)


@dataclass(frozen=True)
class RecordError:
    """A problem with one record: 1-based ``line`` (0 = the whole request) and the
    ``field`` concerned ("" when not field-specific)."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line > 0 else ""
        what = f"{self.field}: " if self.field else ""
        return f"{where}{what}{self.message}"


class ReadError(ValueError):
    """A batch failed validation. ``errors`` holds up to ``MAX_REPORTED_ERRORS`` errors in
    file order, ``omitted`` how many more there were."""

    def __init__(self, errors: Iterable[RecordError], omitted: int = 0):
        self.errors: list[RecordError] = list(errors)
        self.omitted = omitted
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [str(e) for e in self.errors]
        if self.omitted:
            lines.append(f"and {self.omitted} more error{'s' if self.omitted != 1 else ''}")
        return "\n".join(lines)


class _Errors:
    """Collects errors, keeping the first MAX_REPORTED_ERRORS and counting the rest."""

    def __init__(self) -> None:
        self.kept: list[RecordError] = []
        self.omitted = 0

    def add(self, line: int, field_name: str, message: str) -> None:
        if len(self.kept) < MAX_REPORTED_ERRORS:
            self.kept.append(RecordError(line, field_name, message))
        else:
            self.omitted += 1

    def extend(self, errors: Iterable[RecordError]) -> None:
        for e in errors:
            self.add(e.line, e.field, e.message)

    def __bool__(self) -> bool:
        return bool(self.kept)

    def raise_if_any(self) -> None:
        if self.kept:
            raise ReadError(self.kept, self.omitted)


# --- decoding -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """UTF-8 (optional BOM) → str, or ReadError naming the line and byte offset."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes, got {type(data).__name__}")
    data = bytes(data)
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[skip:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = skip + exc.start
        line = data.count(b"\n", 0, offset) + 1
        bad = data[offset : offset + 1].hex()
        raise ReadError(
            [
                RecordError(
                    line,
                    "",
                    f"file is not valid UTF-8: invalid byte 0x{bad} at byte offset {offset}",
                )
            ]
        ) from None


def _normalise_newlines(text: str) -> str:
    return _NEWLINE_RE.sub("\n", text) if "\r" in text else text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _finite_float(s: str) -> float:
    value = float(s)
    if not math.isfinite(value):
        raise ValueError(f"number {s} is out of range")
    return value


def _loads(s: str) -> Any:
    return json.loads(s, parse_constant=_reject_constant, parse_float=_finite_float)


# --- one record ---------------------------------------------------------------------------


def _check_string(value: str, name: str, limit: int, err: Callable[[str, str], None]) -> bool:
    """Report NUL, lone surrogates or more than ``limit`` characters; True if reported."""
    problem = string_problem(value)
    if problem is None and len(value) > limit:
        problem = f"is {len(value):,} characters long; the limit is {limit:,}"
    if problem:
        err(name, problem)
    return problem is not None


def _derive_title(text: str) -> str:
    for raw in text.split("\n"):
        line = _SPACES_RE.sub(" ", raw).strip()
        if line:
            if len(line) <= MAX_DERIVED_TITLE_CHARS:
                return line
            cut = line[: MAX_DERIVED_TITLE_CHARS - 1]
            space = cut.rfind(" ")
            if space > MAX_DERIVED_TITLE_CHARS // 2:
                cut = cut[:space]
            return cut.rstrip() + "…"
    return ""


def _validate(
    obj: Mapping[str, Any], line: int, *, allow_text_lines: bool = False
) -> tuple[DocumentRecord | None, list[RecordError]]:
    """Validate one decoded object. Returns the record, or None and its errors."""
    errors: list[RecordError] = []

    def err(field_name: str, message: str, at: int = line) -> None:
        errors.append(RecordError(at, field_name, message))

    for key in obj:
        if key not in FIELDS:
            err(str(key), f"unknown field (allowed: {', '.join(FIELDS)})")

    # text
    text = obj.get("text")
    if text is None:
        err("text", "must be a non-empty string")
        text = ""
    elif not isinstance(text, str):
        err("text", f"must be a non-empty string (got {_type_name(text)})")
        text = ""
    else:
        text = _normalise_newlines(text)
        if not text.strip():
            err("text", "must be a non-empty string")
        if "\x00" in text:
            at = line + text.count("\n", 0, text.index("\x00")) if allow_text_lines else line
            err("text", "contains a NUL character", at)
        elif problem := string_problem(text):
            err("text", problem)
        if len(text) > MAX_DOCUMENT_CHARS:
            err("text", f"is {len(text):,} characters long; the limit is {MAX_DOCUMENT_CHARS:,}")

    # title
    title = obj.get("title")
    if title is None:
        title = ""
    elif not isinstance(title, str):
        err("title", f"must be a string, got {_type_name(title)}")
        title = ""
    title = _SPACES_RE.sub(" ", title).strip()
    _check_string(title, "title", MAX_TITLE_CHARS, err)
    if not title:
        title = _derive_title(text)

    # external_id
    external_id = obj.get("external_id")
    if external_id is None:
        external_id = ""
    elif isinstance(external_id, bool) or not isinstance(external_id, str | int | float):
        err("external_id", f"must be a string or a number, got {_type_name(external_id)}")
        external_id = ""
    elif isinstance(external_id, float) and not math.isfinite(external_id):
        err("external_id", "must be a finite number")
        external_id = ""
    else:
        external_id = str(external_id).strip()
        _check_string(external_id, "external_id", MAX_EXTERNAL_ID_CHARS, err)

    # source_url
    source_url = obj.get("source_url")
    if source_url is None:
        source_url = ""
    elif not isinstance(source_url, str):
        err("source_url", f"must be a string, got {_type_name(source_url)}")
        source_url = ""
    else:
        source_url = source_url.strip()
        if _check_string(source_url, "source_url", MAX_SOURCE_URL_CHARS, err):
            pass
        elif source_url and not _is_http_url(source_url):
            err("source_url", f"must be an absolute http(s) URL, got {_short(source_url)}")

    # published_at
    published_at = _parse_datetime(obj.get("published_at"), err)

    # metadata
    metadata = obj.get("metadata")
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict):
        err("metadata", f"must be a JSON object, got {_type_name(metadata)}")
        metadata = {}
    elif metadata_problem := value_problem(metadata, "metadata"):
        err(*metadata_problem)

    controls = _parse_controls(obj.get("controls"), err)

    if errors:
        return None, errors
    record = DocumentRecord(
        title=title,
        text=text,
        external_id=external_id,
        source_url=source_url,
        published_at=published_at,
        metadata=dict(metadata),
        controls=controls,
        line=line,
    )
    return record, []


_CONTROL_KEYS = ("kind", "target", "sentence", "offset", "value")


def _parse_controls(value: Any, err: Callable[[str, str], None]) -> tuple[ControlRecord, ...]:
    """``controls``: a list of ``{"kind", "target"?, "sentence" | "offset", "value"}``."""
    if value is None:
        return ()
    if not isinstance(value, list):
        err("controls", f"must be a JSON array of control questions, got {_type_name(value)}")
        return ()
    if len(value) > MAX_CONTROLS_PER_DOCUMENT:
        err("controls", f"at most {MAX_CONTROLS_PER_DOCUMENT} control questions per document")
        return ()
    out: list[ControlRecord] = []
    for i, item in enumerate(value):
        name = f"controls[{i}]"
        if not isinstance(item, dict):
            err(
                name,
                f"must be an object with kind, value and sentence or offset, got "
                f"{_type_name(item)}",
            )
            continue
        ok = True
        for key in item:
            if key not in _CONTROL_KEYS:
                err(f"{name}.{key}", f"unknown field (allowed: {', '.join(_CONTROL_KEYS)})")
                ok = False
        kind = item.get("kind")
        if not isinstance(kind, str) or not kind.strip():
            err(f"{name}.kind", "must be a task kind (a non-empty string)")
            ok = False
        target = item.get("target")
        if target is None:
            target = ""
        elif not isinstance(target, str):
            err(f"{name}.target", f"must be a string, got {_type_name(target)}")
            ok = False
        if "value" not in item:
            err(f"{name}.value", "is required: the right answer, shaped as the kind's value")
            ok = False
        elif problem := value_problem(item["value"], f"{name}.value"):
            err(*problem)
            ok = False
        where = [k for k in ("sentence", "offset") if item.get(k) is not None]
        if len(where) != 1:
            err(
                name,
                "give exactly one of sentence (its 0-based position) or offset (a "
                "code point inside it)",
            )
            ok = False
        else:
            (key,) = where
            number = item[key]
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                err(f"{name}.{key}", f"must be a non-negative integer, got {_short(repr(number))}")
                ok = False
        if ok:
            out.append(
                ControlRecord(
                    index=i,
                    kind=str(kind).strip(),
                    value=item["value"],
                    target=target,
                    sentence=item.get("sentence"),
                    offset=item.get("offset"),
                )
            )
    return tuple(out)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _short(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _is_http_url(url: str) -> bool:
    if any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 — raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _parse_datetime(value: Any, err: Callable[[str, str], None]) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)  # noqa: DTZ001 — made UTC below
    elif isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        try:
            parsed = datetime.fromisoformat(s)
        except ValueError:
            err("published_at", f"is not an ISO 8601 date or date-time: {_short(s)}")
            return None
    else:
        err("published_at", f"must be an ISO 8601 string, got {_type_name(value)}")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def parse_record(obj: JSONObject, *, line: int = 1) -> DocumentRecord:
    """Validate one decoded JSON object into a DocumentRecord, or raise ReadError.

    Same rules and messages as the file readers; ``line`` is the number reported in the
    errors (e.g. the 1-based position of the object in a JSON list body).
    """
    if not isinstance(obj, Mapping):
        raise ReadError([RecordError(line, "", f"expected a JSON object, got {_type_name(obj)}")])
    return _record_or_raise(*_validate(obj, line))


def _record_or_raise(record: DocumentRecord | None, errors: list[RecordError]) -> DocumentRecord:
    """The record, or ReadError with its errors (``_validate`` returns None only with errors)."""
    if record is None:
        collected = _Errors()
        collected.extend(errors)
        raise ReadError(collected.kept, collected.omitted)
    return record


# --- formats ------------------------------------------------------------------------------


def read_text(data: bytes, *, filename: str = "") -> list[DocumentRecord]:
    """One plain-text document. Title: the file name's stem, or derived from the text when
    ``filename`` is empty (see the module docstring)."""
    text = _decode(data)
    name = PurePosixPath(filename.replace("\\", "/")).name if filename else ""
    stem = PurePosixPath(name).stem.strip() if name else ""
    obj: dict[str, Any] = {"text": text, "title": stem}
    if name:
        obj["metadata"] = {"filename": name}
    return [_record_or_raise(*_validate(obj, 1, allow_text_lines=True))]


def read_jsonl(data: bytes) -> list[DocumentRecord]:
    """One JSON object per line; blank lines are skipped. All-or-nothing."""
    text = _decode(data)
    errors = _Errors()
    records: list[DocumentRecord] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = _loads(raw)
        except ValueError as exc:
            msg = (
                f"{exc.msg} (column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else exc
            )
            errors.add(number, "", f"malformed JSON: {msg}")
            continue
        if not isinstance(obj, dict):
            errors.add(number, "", f"expected a JSON object, got {_type_name(obj)}")
            continue
        record, record_errors = _validate(obj, number)
        if record is None:
            errors.extend(record_errors)
        else:
            records.append(record)
    if not records and not errors:
        errors.add(1, "", "file contains no documents")
    errors.raise_if_any()
    return records


def read_csv(data: bytes) -> list[DocumentRecord]:
    """RFC 4180 CSV with a header row naming the fields; ``metadata`` cells hold JSON.

    Empty cells mean absent; blank lines are skipped. All-or-nothing.
    """
    text = _decode(data)
    errors = _Errors()
    records: list[DocumentRecord] = []
    # Documents may be up to MAX_DOCUMENT_CHARS long (the csv default limit is 128 KiB);
    # allow a bit more so an over-long text is reported by its length, not as bad CSV.
    if csv.field_size_limit() < 2 * MAX_DOCUMENT_CHARS:
        csv.field_size_limit(2 * MAX_DOCUMENT_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)

    header: list[str] | None = None
    prev_line = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.add(prev_line + 1, "", f"malformed CSV: {exc}")
            prev_line = reader.line_num
            continue
        start_line, prev_line = prev_line + 1, reader.line_num
        if not row or (len(row) == 1 and not row[0].strip() and header is not None):
            continue  # blank line
        if header is None:
            header = [h.strip() for h in row]
            seen: set[str] = set()
            for name in header:
                if name not in FIELDS:
                    errors.add(start_line, name, f"unknown column (allowed: {', '.join(FIELDS)})")
                elif name in seen:
                    errors.add(start_line, name, "duplicate column")
                seen.add(name)
            if "text" not in seen:
                errors.add(start_line, "text", "missing column (the header must name it)")
            if errors:
                break  # rows cannot be interpreted without a valid header
            continue
        if len(row) != len(header):
            errors.add(start_line, "", f"expected {len(header)} fields, got {len(row)}")
            continue
        obj: dict[str, Any] = {}
        for name, cell in zip(header, row, strict=True):
            if cell == "" or (name != "text" and not cell.strip()):
                continue  # empty cell = absent
            if name in ("metadata", "controls"):
                try:
                    obj[name] = _loads(cell)
                except ValueError as exc:
                    msg = exc.msg if isinstance(exc, json.JSONDecodeError) else exc
                    shape = "a JSON object" if name == "metadata" else "a JSON array"
                    errors.add(start_line, name, f"must be {shape} (invalid JSON: {msg})")
                    obj[name] = {} if name == "metadata" else None
            else:
                obj[name] = cell
        record, record_errors = _validate(obj, start_line)
        if record is None:
            errors.extend(record_errors)
        elif not errors:
            records.append(record)
    if header is None and not errors:
        errors.add(1, "", "file is empty: expected a header row naming the columns")
    elif not records and not errors:
        errors.add(prev_line or 1, "", "file contains no documents")
    errors.raise_if_any()
    return records


def read_records(data: bytes, *, format: str, filename: str = "") -> list[DocumentRecord]:
    """Dispatch on ``format``: ``"txt"``, ``"jsonl"`` or ``"csv"`` (case-insensitive, a
    leading dot allowed). An unknown format is a ReadError on line 0."""
    fmt = (format or "").strip().lower().lstrip(".")
    if fmt == "txt":
        return read_text(data, filename=filename)
    if fmt == "jsonl":
        return read_jsonl(data)
    if fmt == "csv":
        return read_csv(data)
    raise ReadError(
        [RecordError(0, "format", f"unknown format {format!r} (expected one of: txt, jsonl, csv)")]
    )
