"""Static files in production: hashed names after ``collectstatic``, plain names before.

WhiteNoise's manifest storage fails every page that links a static file until
``collectstatic`` has run; this one falls back to the file's plain name, which
WhiteNoise serves from the apps' static folders (``WHITENOISE_USE_FINDERS``).
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ForgivingManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """``CompressedManifestStaticFilesStorage`` that never fails on a missing manifest entry."""

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:  # not collected yet: the finders serve it under its plain name
            return name
