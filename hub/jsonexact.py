"""JSON with exact numbers: every non-integer number is a Decimal on the way in and its exact text on the way
out. Marketplaces send money as JSON numbers; a float must never touch an amount, here or in the database
(the engine stores JSON columns through these two)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def parse_json(text: str) -> Any:
    """JSON with every non-integer number as a Decimal; ValueError when `text` is not JSON."""
    return json.loads(text, parse_float=Decimal)


def dumps_exact(value: Any) -> str:
    """JSON text with every Decimal written as the exact number it holds; a float is refused, never sent."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("a float must not be sent as an amount; use Decimal")
    if isinstance(value, dict):
        # The separators json.dumps (and so requests' json=) uses: bodies look as they always did.
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {dumps_exact(v)}"
                               for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps_exact(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)
