"""Signatures of webhook deliveries: the Standard Webhooks scheme (the one Svix uses).

Every delivery carries three headers:

* ``webhook-id``: the message id, the same on every retry (receivers deduplicate on it);
* ``webhook-timestamp``: Unix seconds of this try;
* ``webhook-signature``: ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")),
  where ``key`` is the base64-decoded part of the secret after ``whsec_``.

A receiver recomputes the HMAC over the raw body, compares it in constant time and
refuses timestamps more than five minutes from its clock (replays). The
``standardwebhooks`` and ``svix`` libraries (Python, JavaScript, Go, ...) verify these
headers as they are; ``verify`` below is the same recipe in the standard library.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook as _StandardWebhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (the scheme's prefix, not a secret)
SECRET_BYTES = 32  # generated secrets; a given one needs at least MIN_SECRET_BYTES
MIN_SECRET_BYTES = 24
TOLERANCE_SECONDS = 300
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)


class SecretError(ValueError):
    """A secret that is not ``whsec_`` + base64 of at least ``MIN_SECRET_BYTES`` bytes."""


def new_secret() -> str:
    """A fresh random secret: ``whsec_`` + base64 of ``SECRET_BYTES`` random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def check_secret(secret: str) -> str:
    """``secret`` if it is well formed, else ``SecretError`` saying what is expected."""
    raw = secret[len(SECRET_PREFIX) :] if secret.startswith(SECRET_PREFIX) else None
    try:
        key = base64.b64decode(raw or "", validate=True) if raw is not None else b""
    except (binascii.Error, ValueError):
        key = b""
    if len(key) < MIN_SECRET_BYTES:
        raise SecretError(
            f"must be '{SECRET_PREFIX}' followed by the base64 of at least {MIN_SECRET_BYTES} "
            "random bytes; leave it out to have one generated"
        )
    return secret


def signed_headers(
    *, secret: str, message_id: str, body: str, at: float | None = None
) -> dict[str, str]:
    """The three signature headers of ``body`` sent at Unix time ``at`` (default: now)."""
    timestamp = int(time.time() if at is None else at)
    signature = _StandardWebhook(secret).sign(
        msg_id=message_id, timestamp=datetime.fromtimestamp(timestamp, tz=UTC), data=body
    )
    return {ID_HEADER: message_id, TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature}


def verify(*, secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """True when ``headers`` sign ``body`` with ``secret`` at a time within the tolerance.

    The receiver's recipe, standard library only (the README shows it too).
    """
    lower = {k.lower(): v for k, v in headers.items()}
    message_id = lower.get(ID_HEADER, "")
    stamp = lower.get(TIMESTAMP_HEADER, "")
    if not (message_id and stamp.isdigit()):
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > TOLERANCE_SECONDS:
        return False
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{stamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(f"v1,{expected}", candidate)
        for candidate in lower.get(SIGNATURE_HEADER, "").split()
    )
