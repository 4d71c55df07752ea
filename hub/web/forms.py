"""Form handling for dashboard views: the same pydantic schemas the API validates with."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.datastructures import MultiDict

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
