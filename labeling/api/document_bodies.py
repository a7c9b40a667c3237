"""The three bodies ``POST /api/projects/{id}/documents/`` takes, read into document records.

* ``application/json``: one document object or a list of them (``StrictJSONParser``).
* ``application/x-ndjson``: JSON Lines, one document object per line (``NDJSONParser``).
* ``multipart/form-data``: a file in the field ``file`` (``.txt``, ``.jsonl`` or ``.csv``;
  an optional ``format`` field overrides the extension), streamed through the same upload
  handler as the admin upload (``labeling.importing.uploads``: over ``LABELING_MAX_UPLOAD_BYTES`` is
  a 413).

Uploads go through the readers of the admin upload (``labeling.importing.readers``): the same
fields, the same validation and the same all-or-nothing rule, errors naming the line. An
upload larger than ``LABELING_MAX_SYNC_IMPORT_BYTES`` is not read in the request: it is
stored and imported by an import job (202), whose ``errors`` name the lines if it fails.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, MultiPartParser

from labeling.api.offset_units import Offsets
from labeling.exceptions import InvalidInput
from labeling.importing.job import FORMATS, detect_format
from labeling.importing.readers import DocumentRecord, ReadError, RecordError, read_records
from labeling.importing.uploads import too_large_message, upload_too_large
from labeling.offsets import OffsetError, Utf16Index, from_utf16

NDJSON = "application/x-ndjson"


@dataclass(frozen=True)
class Upload:
    """A JSONL body or an uploaded file, not read yet.

    ``field`` is what errors name: ``body`` for a JSONL body, ``file`` for an upload.
    """

    data: bytes | UploadedFile
    filename: str
    format: str
    field: str

    @property
    def size(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else int(self.data.size or 0)

    def read(self) -> bytes:
        if isinstance(self.data, bytes):
            return self.data
        self.data.seek(0)
        return self.data.read()


class NDJSONParser(BaseParser):
    """``application/x-ndjson`` bodies: kept as bytes for ``labeling.importing.readers.read_jsonl``.

    The body's size is already bounded by ``LABELING_MAX_UPLOAD_BYTES`` (413, middleware).
    """

    media_type = NDJSON

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        return Upload(data=raw, filename="request.jsonl", format="jsonl", field="body")


class UploadParser(MultiPartParser):
    """``multipart/form-data`` with a file in ``file`` and optionally ``format``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        fields = set(parsed.data) | set(parsed.files)
        unknown = sorted(fields - {"file", "format"})
        if unknown:
            raise ValidationError({unknown[0]: ["unknown field (allowed: file, format)"]})
        request = (parser_context or {}).get("request")
        if request is not None and upload_too_large(request._request) is not None:
            raise RequestDataTooBig(too_large_message())  # 413 (the handler skipped the file)
        upload = parsed.files.get("file")
        if upload is None:
            if "file" in parsed.data:
                raise ValidationError({"file": ["must be a file upload, not a text field"]})
            raise ValidationError({"file": ["is required: the file to import"]})
        if len(parsed.files.getlist("file")) > 1:
            raise ValidationError({"file": ["send one file per request"]})
        try:
            fmt = detect_format(upload.name or "", parsed.data.get("format", ""))
        except InvalidInput as exc:
            where = "format" if parsed.data.get("format") else "file"
            message = exc.message
            if where == "file":
                message = (
                    f"{upload.name!r} has no known extension: name it .txt, .jsonl or .csv "
                    "or send format"
                )
            raise ValidationError({where: [message]}) from exc
        return Upload(data=upload, filename=upload.name or "", format=fmt, field="file")


def request_body(request: Any) -> Any:
    """The parsed body: an ``Upload`` for JSON Lines and files, else the decoded JSON.

    DRF does not call a parser for an empty body; an empty JSON Lines body is still one.
    """
    data = request.data
    if not isinstance(data, Upload) and (request.content_type or "").startswith(NDJSON):
        return Upload(data=b"", filename="request.jsonl", format="jsonl", field="body")
    return data


def is_large(upload: Upload) -> bool:
    """Whether the upload is imported by a job instead of in the request."""
    return upload.size > int(settings.LABELING["MAX_SYNC_IMPORT_BYTES"])


def read_upload(upload: Upload) -> list:
    """The upload's records, or a 400 whose ``errors[field]`` lists each bad line."""
    if upload.size == 0:
        what = "the uploaded file" if upload.field == "file" else "the body"
        raise ValidationError({upload.field: [f"{what} is empty: send at least one document"]})
    try:
        return read_records(upload.read(), format=upload.format, filename=upload.filename)
    except ReadError as exc:
        raise invalid(exc, upload) from exc


def controls_in_codepoints(records: list[DocumentRecord], offsets: Offsets) -> list[DocumentRecord]:
    """Records whose control questions' offsets (``offset``, spans in ``value``) were sent
    in UTF-16 code units (``offset_unit=utf16``), converted to code points; ``ReadError``
    names an offset inside a surrogate pair or a grapheme cluster, or past the end."""
    if not offsets.utf16 or not any(r.controls for r in records):
        return records
    out: list[DocumentRecord] = []
    errors: list[RecordError] = []
    for record in records:
        if not record.controls:
            out.append(record)
            continue
        index = Utf16Index(record.text)
        controls = []
        for control in record.controls:
            name = f"controls[{control.index}]"
            try:
                offset = control.offset
                if offset is not None:
                    offset = index.to_codepoint(offset, field=f"{name}.offset")
                value = from_utf16(control.value, index, field=f"{name}.value")
            except OffsetError as exc:
                errors.append(RecordError(record.line, exc.field, exc.message))
                continue
            controls.append(replace(control, offset=offset, value=value))
        out.append(replace(record, controls=tuple(controls)))
    if errors:
        raise ReadError(errors[:100], max(0, len(errors) - 100))
    return out


def invalid(exc: ReadError, body: Any) -> ValidationError:
    """A 400 for ``exc``: every line under ``body``/``file`` for uploads; for JSON bodies
    the field, prefixed with ``[i]`` when the body was a list."""
    if isinstance(body, Upload):
        messages = [str(e) for e in exc.errors]
        if exc.omitted:
            messages.append(f"and {exc.omitted} more errors")
        return ValidationError({body.field: messages})
    errors: dict[str, list[str]] = {}
    for e in exc.errors:
        prefix = f"[{e.line - 1}]" if isinstance(body, list) else ""
        name = f"{prefix}.{e.field}" if prefix and e.field else (prefix or e.field)
        errors.setdefault(name, []).append(e.message)
    return ValidationError(errors)


# --- OpenAPI ------------------------------------------------------------------------------


class DocumentUploadSerializer(serializers.Serializer):
    """A file to import (multipart/form-data)."""

    file = serializers.FileField(
        help_text=(
            "A .txt (one document), .jsonl (one document object per line) or .csv (a header "
            "row naming the fields) file, UTF-8, at most LABELING_MAX_UPLOAD_BYTES."
        )
    )
    format = serializers.ChoiceField(
        choices=list(FORMATS),
        required=False,
        help_text="Overrides the format the file name's extension gives.",
    )

    class Meta:
        ref_name = "DocumentUpload"
