"""Where marketplaces post their webhooks: POST /webhooks/<channel id>.

No login and no CSRF token (the marketplace has neither): the signature is the authentication, checked by the
channel's connector. The work is hub.sync.webhooks.receive; this module only speaks HTTP, and answers every
error with the API's JSON shape {"error": {"code", "message", "fields"}}:

    200 {"status": "applied" | "quarantined" | "ignored" | "duplicate" | "received"}
    401 bad_signature      a bad or missing signature: nothing stored
    404 unknown_channel    no such channel, disabled, or its connector takes no webhooks
    413 payload_too_large  the body is beyond MAX_CONTENT_LENGTH
    503 channel_unavailable the channel's credentials are incomplete: the marketplace should retry later

A signed body the hub cannot read is stored and quarantined and still answered 200: retrying cannot make it
readable, and nothing is lost. Nothing here calls out: the answer comes as fast as one transaction.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from hub.api.errors import error_body, http_error
from hub.app import IdConverter
from hub.errors import HubError
from hub.extensions import sync_env
from hub.sync import webhooks

log = logging.getLogger(__name__)
bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@bp.route("/<id:channel_id>", methods=["POST"])
def receive(channel_id: int) -> Response:
    headers = dict(request.headers.items())
    receipt = webhooks.receive(sync_env(), channel_id, headers, request.get_data())
    log.info("webhook for channel %s: %s%s", channel_id, receipt.status,
             f" ({receipt.message})" if receipt.message else "")
    return jsonify(receipt.as_json())


@bp.route("/", methods=ANY_METHOD, defaults={"rest": ""}, strict_slashes=False)
@bp.route("/<path:rest>", methods=ANY_METHOD)
def elsewhere(rest: str):
    """Any other path or method under /webhooks: the JSON 404 (or 405), not the dashboard's HTML page."""
    if request.method != "POST" and re.fullmatch(IdConverter.regex, rest):
        response, status = error_body("method_not_allowed", "webhooks are delivered with POST", 405)
        response.headers["Allow"] = "POST"
        return response, status
    return error_body("not_found", "no such endpoint", 404)


def _plain(result: tuple[Response, int]) -> tuple[Response, int]:
    response, status = result
    response.headers.pop("WWW-Authenticate", None)  # error_body's Bearer challenge is the API's, not ours
    return response, status


@bp.errorhandler(HubError)
def _hub_error(exc: HubError):
    return _plain(error_body(exc.code, exc.message, exc.http_status, exc.fields))


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return _plain(http_error(exc))


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    # Ours, not the sender's: 500 (nothing was stored, the transaction rolled back), so the marketplace retries.
    log.exception("webhook %s %s failed", request.method, request.path)
    return error_body("internal", "something went wrong on our side; it has been logged", 500)
