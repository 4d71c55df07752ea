"""Form handling for dashboard views: the same pydantic schemas the API validates with."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Generic, TypeVar

from flask import request
from flask_login import current_user
from pydantic import BaseModel
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from hub.accounts.actor import Actor
from hub.db import MAX_ID
from hub.errors import DomainError, ValidationError
from hub.extensions import db
from hub.validation import parse

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")

_BOOLEAN_FALSE = {"", "0", "false", "off", "no"}


def form_data(fields: MultiDict | None = None, *, booleans: tuple[str, ...] = (),
              optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The submitted form as a dict: CSRF token removed, unchecked boxes false, blank optionals None."""
    source = request.form if fields is None else fields
    data: dict[str, Any] = {k: v for k, v in source.items() if k != "csrf_token"}
    for name in booleans:
        data[name] = data.get(name, "").lower() not in _BOOLEAN_FALSE
    for name in optional:
        if not str(data.get(name, "")).strip():
            data[name] = None
    return data


# --- forms with repeated rows and nested objects -----------------------------------------------
#
# Inputs are named like the error paths that hub.validation reports (`buyer.name`,
# `lines[0].sku`), so an error lands next to the input it is about without any mapping.

_NESTED_NAME = re.compile(r"[A-Za-z_]\w*(?:\[\d{1,4}\]|\.[A-Za-z_]\w*)*", re.ASCII)
_PART = re.compile(r"\[(\d+)\]|\.?([A-Za-z_]\w*)", re.ASCII)


class _Rows(dict):
    """The rows of a repeated group while the form is being parsed: {index: row}."""


def _parts(name: str) -> list[str | int]:
    return [int(index) if index else key for index, key in _PART.findall(name)]


def _malformed(name: str) -> ValidationError:
    return ValidationError(f"malformed form field {name!r}", fields={name: "malformed field name"})


def _insert(root: dict[str | int, Any], name: str, value: Any) -> None:
    parts = _parts(name)
    node = root
    for part, following in pairwise(parts):
        want_rows = isinstance(following, int)
        child = node.setdefault(part, _Rows() if want_rows else {})
        if not isinstance(child, dict) or isinstance(child, _Rows) is not want_rows:
            raise _malformed(name)
        node = child
    if parts[-1] in node:
        raise _malformed(name)
    if not (isinstance(value, str) and not value.strip()):  # blank: let the schema's default apply
        node[parts[-1]] = value


def _finish(node: Any) -> Any:
    if isinstance(node, _Rows):  # blank rows are dropped and the rest renumbered from 0
        rows = [_finish(row) for _, row in sorted(node.items())]
        return [row for row in rows if row not in ({}, None)]
    if isinstance(node, dict):
        return {key: _finish(value) for key, value in node.items()}
    return node


def nested_form(fields: MultiDict | None = None, *, booleans: tuple[str, ...] = ()) -> dict[str, Any]:
    """The submitted form as nested dicts and lists, for schemas with sub-objects and repeated rows.

    `buyer.name` becomes {"buyer": {"name": ...}} and `lines[0].sku` {"lines": [{"sku": ...}]}.
    Blank inputs are left out so that the schema's defaults apply, and wholly blank rows are
    dropped; re-render a failed form from `flat_form(data)` so that row numbers match the errors.
    """
    root: dict[str | int, Any] = {}
    for name, value in form_data(fields, booleans=booleans).items():
        if _NESTED_NAME.fullmatch(name):
            _insert(root, name, value)
        else:  # kept as it is: the schema refuses it as an unknown field
            root[name] = value
    return _finish(root)


def flat_form(data: Any, prefix: str = "") -> dict[str, Any]:
    """The inverse of nested_form: input names to values, for re-rendering a form."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(flat_form(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.update(flat_form(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = data
    return out


def row_count(form: Mapping[str, Any], group: str, minimum: int, spare: int = 1, maximum: int = 100) -> int:
    """How many rows of a repeated group to show: those filled in, some spare ones, at least `minimum`."""
    pattern = re.compile(rf"{re.escape(group)}\[(\d{{1,4}})\]", re.ASCII)
    used = [int(m.group(1)) + 1 for key in form if (m := pattern.match(key))]
    return min(max(minimum, max(used, default=0) + spare), maximum)


def failure(exc: DomainError) -> tuple[dict[str, str], int]:
    """Undo the request's writes; the errors to show (per field, and `form` for the message) and the status."""
    db().rollback()
    return {**exc.fields, "form": exc.message}, exc.http_status


@dataclass(frozen=True)
class Submission(Generic[R]):
    """What became of a submitted form.

    Done (`ok`): the action's `result`, already committed; `form` and `errors` are empty and `status` 200.
    Refused: `result` is None, the writes are rolled back, `form` holds the inputs as sent (see flat_form),
    `errors` the message per input plus `form` for the whole, and `status` the error's HTTP status.
    """

    ok: bool
    result: R | None = None
    form: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200


def submit(schema: type[M], action: Callable[[Session, Actor, M], R], *,
           booleans: tuple[str, ...] = ()) -> Submission[R]:
    """Validate the posted form against `schema` and run `action(session, actor, input)`: commit, or roll back.

    Only a DomainError from validation or the action is turned into a refused Submission; a malformed
    form (see nested_form) and anything else propagate to the app's error handlers.
    """
    data = nested_form(booleans=booleans)
    try:
        result = action(db(), current_user.actor, parse(schema, data))
        db().commit()
    except DomainError as exc:
        errors, status = failure(exc)
        return Submission(ok=False, form=flat_form(data), errors=errors, status=status)
    return Submission(ok=True, result=result)


def cursor_arg(name: str = "after") -> int:
    """A keyset cursor from the query string: 0 when absent."""
    value = request.args.get(name, "").strip()
    if not value:
        return 0
    if not re.fullmatch(r"\d{1,10}", value, re.ASCII) or int(value) > MAX_ID:
        raise ValidationError(f"{name} must be the id of a row of the previous page",
                              fields={name: "not a valid cursor"})
    return int(value)
