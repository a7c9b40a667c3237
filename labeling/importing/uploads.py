"""The upload size limit, ``LABELING_MAX_UPLOAD_BYTES``, on every multipart path (admin too).

``LimitedUploadHandler`` runs before Django's own handlers. A file over the limit (by
the request's ``Content-Length`` or by counting its chunks) is skipped: its bytes are read
and dropped as they come, never stored or held in memory, the other fields (the CSRF
token) still parse, and ``request.upload_too_large`` tells the view to answer 413.
Files under the limit are streamed to disk by Django's handlers past 2.5 MB.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


def max_upload_bytes() -> int:
    return int(settings.LABELING["MAX_UPLOAD_BYTES"])


def too_large_message(size: int | None = None) -> str:
    got = f" ({size:,} bytes)" if size else ""
    return (
        f"is larger than the upload limit of {max_upload_bytes():,} bytes{got} "
        "(LABELING_MAX_UPLOAD_BYTES)"
    )


# Set on the request by the upload handler (HttpRequest has no such field).
_TOO_LARGE_ATTR = "upload_too_large"


def upload_too_large(request: Any) -> int | None:
    """The refused upload's size (0 when unknown) if a file was over the limit, else None."""
    return getattr(request, _TOO_LARGE_ATTR, None)


class LimitedUploadHandler(FileUploadHandler):
    """Skips files over ``LABELING_MAX_UPLOAD_BYTES`` and flags the request."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.body_length = 0
        self.received = 0

    def _refuse(self, size: int) -> None:
        if self.request is not None:
            setattr(self.request, _TOO_LARGE_ATTR, size)
        raise SkipFile

    def handle_raw_input(
        self,
        input_data: Any,
        META: dict[str, Any],  # noqa: N803 - Django's name
        content_length: int,
        boundary: bytes,  # type: ignore[override]  # django-stubs says str; Django passes bytes
        encoding: str | None = None,
    ) -> None:
        self.body_length = content_length

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        if self.body_length > max_upload_bytes():
            self._refuse(self.body_length)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > max_upload_bytes():
            self._refuse(0)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
