"""The JSON API under /api/v1: bearer-token auth, one error shape, an OpenAPI document."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import HTTPException

from hub.api.errors import error_body, http_error, hub_error
from hub.api.framework import API_PREFIX, openapi_spec
from hub.errors import HubError
from hub.validation import field_errors

api = Blueprint("api", __name__, url_prefix=API_PREFIX)


@api.errorhandler(HubError)
def _hub_error(exc: HubError):
    return hub_error(exc)


@api.errorhandler(PydanticValidationError)
def _pydantic_error(exc: PydanticValidationError):
    return error_body("invalid", "invalid input", 422, field_errors(exc))


@api.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return http_error(exc)


@api.route("/openapi.json")
def openapi():
    return jsonify(openapi_spec(current_app))


# Resource modules add their routes to `api` when imported.
from hub.api import orders, products, stock  # noqa: E402, F401
from hub.web import csrf  # noqa: E402

csrf.exempt(api)  # token-authenticated, no cookies: CSRF does not apply
