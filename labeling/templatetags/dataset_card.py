"""Template filters of the dataset card (Markdown cells, YAML scalars, numbers)."""

from __future__ import annotations

import json
import math
from typing import Any

from django import template

register = template.Library()


@register.filter
def md(value: Any) -> str:
    """A value as text safe inside a Markdown table cell or heading."""
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


@register.filter
def yaml_str(value: Any) -> str:
    """A value as a quoted YAML scalar (a JSON string is one)."""
    return json.dumps(str(value), ensure_ascii=False)


@register.filter
def number(value: Any) -> str:
    """A metric with three decimals; ``–`` for none or non-finite; lists as ``[a, b]``."""
    if isinstance(value, list | tuple):
        return "[" + ", ".join(number(v) for v in value) + "]"
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return md(value)
