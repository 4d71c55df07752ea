"""Turning pydantic validation errors into the hub's `{field: message}` shape."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from hub.errors import ValidationError

M = TypeVar("M", bound=BaseModel)


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def field_errors(exc: PydanticValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        message = err["msg"].removeprefix("Value error, ")
        errors.setdefault(_path(err["loc"]), message)
    return errors


def parse(schema: type[M], data: Any) -> M:
    """Validate `data` against `schema` or raise the hub's ValidationError naming every bad field."""
    try:
        return schema.model_validate(data)
    except PydanticValidationError as exc:
        fields = field_errors(exc)
        summary = "; ".join(f"{k}: {v}" for k, v in list(fields.items())[:5])
        raise ValidationError(f"invalid input: {summary}", fields=fields) from None
