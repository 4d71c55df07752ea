"""The API's single error shape: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException

from hub.errors import HubError

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 406: "not_acceptable", 409: "conflict", 413: "payload_too_large",
               415: "unsupported_media_type", 422: "invalid", 429: "rate_limited"}


def error_body(code: str, message: str, status: int, fields: dict[str, str] | None = None) -> tuple[Response, int]:
    response = jsonify({"error": {"code": code, "message": message, "fields": fields or {}}})
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="order-hub"'
    return response, status


def hub_error(exc: HubError) -> tuple[Response, int]:
    return error_body(exc.code, exc.message, exc.http_status, exc.fields)


def http_error(exc: HTTPException) -> tuple[Response, int]:
    status = exc.code or 500
    message = exc.description or exc.name
    if status == 413:
        message = "the request body is too large"
    elif status == 404:
        message = "no such endpoint"
    elif status == 405:
        allowed = ", ".join(sorted(m for m in (getattr(exc, "valid_methods", None) or []) if m != "OPTIONS"))
        message = f"{message} Allowed: {allowed}." if allowed else message
    response, status = error_body(_HTTP_CODES.get(status, "error"), message, status)
    for name, value in exc.get_headers():  # e.g. Allow on 405, Retry-After on 429
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status
