"""Type aliases for JSON-shaped values (pure: no Django)."""

from typing import Any

# A JSON object as decoded from a request or about to be encoded: its values are
# any JSON (nested objects, arrays, numbers, strings, null), which a static type
# cannot bound usefully, hence Any.
JSONObject = dict[str, Any]
