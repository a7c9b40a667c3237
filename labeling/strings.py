"""Pure: values a request may not carry (NUL, lone surrogates, too long, too deep, too big).

PostgreSQL refuses NUL in text and JSON, and a lone surrogate (U+D800..U+DFFF, legal in a
JSON escape such as "\\ud800" but not in UTF-8) cannot be encoded for any database; both
must be refused with a 400 before they reach one.
"""

from __future__ import annotations

import re
from typing import Any

#: Nesting of arrays and objects a request body may have (``{"a": [1]}`` is 2 deep).
MAX_DEPTH = 32
#: The longest string anywhere in a request body (a document's text may be this long).
MAX_STRING_CHARS = 1_000_000
#: Integers in request bodies are signed 64-bit, like the database's.
MIN_INT, MAX_INT = -(2**63), 2**63 - 1

_BAD = re.compile("[\x00\ud800-\udfff]")


def string_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    bad = _BAD.search(text)
    if bad is None:
        return None
    at = bad.start()
    if bad.group() == "\x00":
        return f"contains a NUL character (U+0000) at character {at}"
    return (
        f"contains a lone surrogate (U+{ord(bad.group()):04X}) at character {at}: "
        "send characters outside the BMP as a valid pair or as UTF-8"
    )


class HugeInteger(int):
    """An integer literal too long to convert (JSON decoders return it for 20+ digits)."""


def parse_int(text: str) -> int:
    """``int(text)``, or a ``HugeInteger`` past 64 bits without converting thousands of digits."""
    if len(text.lstrip("-")) > 19:
        return HugeInteger(0)
    return int(text)


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if string_problem(key):  # the name must be printable in the error itself
        key = key.encode("unicode_escape", "backslashreplace").decode("ascii")
        key = key.replace("\\x00", "\\u0000")
    return f"{path}.{key}" if path else key


def value_problem(
    value: Any,
    path: str = "",
    *,
    max_depth: int = MAX_DEPTH,
    max_chars: int = MAX_STRING_CHARS,
) -> tuple[str, str] | None:
    """The first ``(field, message)`` wrong in a decoded JSON value, or None.

    Checks every string (object keys too) with ``string_problem`` and its length, every
    integer against the 64-bit range and the nesting depth. Iterative: any depth is safe.
    """
    stack: list[tuple[str, Any, int]] = [(path, value, 0)]
    while stack:
        where, item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= max_depth:
                return where or "body", f"is nested deeper than {max_depth} levels"
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            children = []
            for key, child in pairs:
                name = _join(where, key)
                if isinstance(key, str):
                    problem = string_problem(key)
                    if problem:
                        return name, f"the key {problem}"
                children.append((name, child, depth + 1))
            stack.extend(reversed(children))
        elif isinstance(item, str):
            if len(item) > max_chars:
                return (
                    where or "body",
                    f"is {len(item):,} characters long; the limit is {max_chars:,}",
                )
            problem = string_problem(item)
            if problem:
                return where or "body", problem
        elif isinstance(item, HugeInteger) or (
            isinstance(item, int) and not isinstance(item, bool) and not MIN_INT <= item <= MAX_INT
        ):
            return where or "body", "is out of range: integers must fit in 64 bits"
    return None
