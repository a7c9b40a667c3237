"""Document-level train/dev/test splits: pure, reproducible, independent of input order.

Every sentence of a document lands in the same split as the document, so no text of a
test document leaks into training. :func:`assign_splits` ranks the documents by a seeded
hash of their key and cuts that ranking at the cumulative ratios.

Properties (all tested):

* **Complete and disjoint**: every distinct key gets exactly one split name.
* **Reproducible**: the same keys, ratios and seed give the same assignment on any
  machine and any Python version (BLAKE2b of the key's text, not ``hash()``, which is
  salted per process).
* **Order-independent**: shuffling or repeating keys changes nothing.
* **Exact counts**: split ``j`` receives ``round(N * c_j) - round(N * c_{j-1})``
  documents, where ``c_j`` is the cumulative ratio, so each count is within one
  document of ``N * ratio`` and the counts add up to ``N``.
* **Stable-ish under growth**: adding ``m`` new documents to ``N`` does not reshuffle.
  A document keeps its rank order relative to the old ones, and each cut point moves by
  about ``m * c_j``, just as the documents around it do, so only documents right at a
  boundary can change split: on the order of ``sqrt(m)`` per boundary, not ``m``. (For
  example, adding 100 documents to 10,000 moves a handful.) This is not a guarantee.
  If a split must never change once published, store the assignment and call
  :func:`assign_splits` only for the new documents.

Keys are hashed through their text, ``str(key)``, so the integer ``7`` and the string
``"7"`` get the same hash and so the same place in the ranking. A key that changes type
keeps its split.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Hashable, Mapping, Sequence

DEFAULT_RATIOS: dict[str, float] = {"train": 0.8, "dev": 0.1, "test": 0.1}
RATIO_SUM_TOLERANCE = 1e-9

__all__ = [
    "DEFAULT_RATIOS",
    "assign_splits",
    "split_counts",
    "validate_ratios",
]


def validate_ratios(ratios: Mapping[str, float]) -> dict[str, float]:
    """Return ``ratios`` as a plain ``{name: float}`` dict, or raise ``ValueError``.

    Rules: at least one split; each name a non-empty string (not only whitespace); each
    ratio a finite real number ``>= 0``; the ratios sum to 1 within ``1e-9``. The order
    of the mapping is kept: it is the order in which the ranking is cut.
    """
    if not isinstance(ratios, Mapping):
        raise ValueError(f"ratios must be a mapping of split name to ratio, got {type(ratios)}")
    if not ratios:
        raise ValueError("ratios must name at least one split")
    clean: dict[str, float] = {}
    for name, ratio in ratios.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"split names must be non-empty strings, got {name!r}")
        if isinstance(ratio, bool) or not isinstance(ratio, int | float):
            raise ValueError(f"ratio of split {name!r} must be a number, got {ratio!r}")
        value = float(ratio)
        if not math.isfinite(value):
            raise ValueError(f"ratio of split {name!r} must be finite, got {ratio!r}")
        if value < 0:
            raise ValueError(f"ratio of split {name!r} must be non-negative, got {ratio!r}")
        clean[name] = value
    total = math.fsum(clean.values())
    if abs(total - 1.0) > RATIO_SUM_TOLERANCE:
        raise ValueError(f"split ratios must sum to 1 (within 1e-9), they sum to {total!r}")
    return clean


def split_counts(n: int, ratios: Mapping[str, float] = DEFAULT_RATIOS) -> dict[str, int]:
    """How many of ``n`` documents each split receives (cumulative rounding).

    Each count is within one document of ``n * ratio``, and the counts sum to ``n``.
    Rounding is half-to-even on the cumulative targets (Python's ``round``).
    """
    if n < 0:
        raise ValueError(f"n must be non-negative, got {n}")
    clean = validate_ratios(ratios)
    counts: dict[str, int] = {}
    cumulative = 0.0
    previous_cut = 0
    names = list(clean)
    for index, name in enumerate(names):
        cumulative += clean[name]
        cut = n if index == len(names) - 1 else min(n, round(n * cumulative))
        cut = max(cut, previous_cut)
        counts[name] = cut - previous_cut
        previous_cut = cut
    return counts


def _rank_key(key: Hashable, salt: bytes) -> tuple[bytes, str, str]:
    text = str(key)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16, key=salt).digest()
    # The text and the type name break (astronomically unlikely) ties deterministically.
    return digest, text, type(key).__name__


def assign_splits(
    document_keys: Sequence[str | int],
    *,
    ratios: Mapping[str, float] | None = None,
    seed: int = 0,
) -> dict[str | int, str]:
    """Assign every document key to exactly one split.

    Args:
        document_keys: document ids or external ids (``str`` or ``int``; ``bool`` is
            rejected). Duplicates are allowed and counted once.
        ratios: ``{split name: ratio}``, cut in this order; defaults to
            ``{"train": 0.8, "dev": 0.1, "test": 0.1}``. Validated by
            :func:`validate_ratios`.
        seed: any integer; different seeds give independent shuffles.

    Returns:
        ``{key: split name}`` for each distinct key, in first-seen input order.

    Raises:
        ValueError: invalid ratios (the message names the problem).
        TypeError: a key that is not ``str`` or ``int``, or a seed that is not ``int``.
    """
    clean = validate_ratios(DEFAULT_RATIOS if ratios is None else ratios)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    unique: dict[str | int, None] = {}
    for key in document_keys:
        if isinstance(key, bool) or not isinstance(key, str | int):
            raise TypeError(f"document keys must be str or int, got {key!r}")
        unique[key] = None
    salt = hashlib.blake2b(f"labeling.splits:{seed}".encode(), digest_size=32).digest()
    ranked = sorted(unique, key=lambda k: _rank_key(k, salt))
    counts = split_counts(len(ranked), clean)
    by_key: dict[str | int, str] = {}
    position = 0
    for name, count in counts.items():
        for key in ranked[position : position + count]:
            by_key[key] = name
        position += count
    return {key: by_key[key] for key in unique}
