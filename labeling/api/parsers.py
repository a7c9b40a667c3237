"""The one request-body parser of the API: JSON, strictly.

Refused with a 400 naming the field: duplicate keys, NaN and Infinity, nesting deeper
than ``strings.MAX_DEPTH``, NUL and lone surrogates in any string or key, strings longer
than ``strings.MAX_STRING_CHARS`` and integers outside 64 bits. Bodies larger than
``LABELING_MAX_UPLOAD_BYTES`` never get here (413, see ``labeling.api.middleware``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from labeling.strings import MAX_DEPTH, parse_int, value_problem


class _Object(dict):
    """A decoded JSON object that remembers the first key it saw twice."""

    duplicate: str | None = None


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    out = _Object()
    for key, value in pairs:
        if key in out and out.duplicate is None:
            out.duplicate = key
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (numbers must be finite)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is too large (numbers must be finite)")
    return value


def _duplicate_key(value: Any, path: str = "") -> str | None:
    """The path of the first key that appears twice in one object, or None."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, _Object) and item.duplicate is not None:
            return f"{where}.{item.duplicate}" if where else item.duplicate
        if isinstance(item, dict):
            stack.extend((f"{where}.{k}" if where else k, v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
    return None


def _plain(value: Any) -> Any:
    """``value`` with plain dicts (iteratively; its depth is already bounded)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def loads_strict(raw: bytes | str) -> Any:
    """Decode a JSON body; ``ParseError`` or ``ValidationError`` (naming the field) if bad."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_reject_constant,
            parse_float=_finite,
            parse_int=parse_int,
        )
    except RecursionError:
        raise ValidationError(
            {"body": [f"is nested deeper than {MAX_DEPTH} levels"]}, code="too_deep"
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"JSON parse error - {exc}") from None
    problem = value_problem(value)
    if problem is not None:
        raise ValidationError({problem[0]: [problem[1]]})
    duplicate = _duplicate_key(value)
    if duplicate is not None:
        raise ValidationError({duplicate: ["appears twice in one object: send each key once"]})
    return _plain(value)


class StrictJSONParser(JSONParser):
    """``application/json`` bodies, decoded by ``loads_strict``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if not raw:
            raise ParseError("JSON parse error - the body is empty")
        return loads_strict(raw)
