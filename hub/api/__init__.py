"""The JSON API under /api/v1: bearer-token auth, one error shape, an OpenAPI document."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify, request
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import HTTPException

from hub.api.errors import error_body, http_error, hub_error
from hub.api.framework import API_PREFIX, openapi_spec
from hub.errors import HubError
from hub.validation import field_errors

log = logging.getLogger(__name__)
api = Blueprint("api", __name__, url_prefix=API_PREFIX)


@api.errorhandler(HubError)
def _hub_error(exc: HubError):
    return hub_error(exc)


@api.errorhandler(PydanticValidationError)
def _pydantic_error(exc: PydanticValidationError):
    # Request input is validated by `hub.validation.parse`, which raises the hub's ValidationError; a raw
    # pydantic error here comes from building a response or a model inside the hub, i.e. from a bug.
    log.error("unexpected pydantic error on %s %s: %s", request.method, request.path, field_errors(exc),
              exc_info=exc)
    return error_body("internal", "something went wrong on our side; it has been logged", 500)


@api.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return http_error(exc)


@api.route("/openapi.json")
def openapi():
    return jsonify(openapi_spec(current_app))


# Resource modules add their routes to `api` when imported.
from hub.api import orders, payments, products, recommendations, stock  # noqa: E402, F401
from hub.web import csrf  # noqa: E402

csrf.exempt(api)  # token-authenticated, no cookies: CSRF does not apply
