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


def nul_characters(value: Any, path: str = "") -> dict[str, str]:
    """Every string (key or value) holding U+0000, by path: PostgreSQL can neither store nor compare such text."""
    errors: dict[str, str] = {}
    if isinstance(value, str):
        if "\x00" in value:
            errors[path or "body"] = "text must not contain the NUL character (\\u0000)"
    elif isinstance(value, dict):
        for name, item in value.items():
            errors.update(nul_characters(name, path or "body"))
            errors.update(nul_characters(item, f"{path}.{name}" if path else str(name)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            errors.update(nul_characters(item, f"{path}[{i}]"))
    return errors


def refuse(fields: dict[str, str]) -> None:
    """Raise the hub's ValidationError for these per-field messages, if there are any."""
    if fields:
        summary = "; ".join(f"{k}: {v}" for k, v in list(fields.items())[:5])
        raise ValidationError(f"invalid input: {summary}", fields=fields)


def parse(schema: type[M], data: Any) -> M:
    """Validate `data` against `schema` or raise the hub's ValidationError naming every bad field."""
    refuse(nul_characters(data))
    try:
        return schema.model_validate(data)
    except PydanticValidationError as exc:
        refuse(field_errors(exc))
        raise  # unreachable: a pydantic error always names a field
