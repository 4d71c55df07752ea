"""Where carriers post tracking webhooks: POST /webhooks/carriers/<carrier>/<account id> (register(app, csrf)).

No login and no CSRF token: the signature (checked with hmac.compare_digest against the account's webhook secret)
is the authentication. Errors have the API's JSON shape {"error": {"code", "message", "fields"}}:

    200 {"status": "applied" | "duplicate" | "ignored", "events": n}
    401 bad_signature      a bad or missing signature: nothing stored
    404 unknown_account    no such account for that carrier, or it is disabled
    400 external_rejected  a signed body that is not a carrier event

The work is hub.logistics.services.receive_webhook; nothing here calls out.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, jsonify, request
from flask_wtf.csrf import CSRFProtect

from hub.api.errors import error_body
from hub.channels.secrets import CredentialBox
from hub.errors import HubError, PermanentError
from hub.extensions import hub
from hub.logistics import services
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CARRIER_KINDS, CarrierAccount
from hub.logistics.port import CarrierPort
from hub.outbound.audit_store import DbAudit

log = logging.getLogger(__name__)
RULE = "/webhooks/carriers/<carrier>/<id:account_id>"


def register(app: Flask, csrf: CSRFProtect) -> None:
    """Add the route to `app`, CSRF-exempt. A plain app route rather than a blueprint: its endpoint stays out of
    the dashboard's (blueprint) routes, like the marketplace webhooks, and it answers its own errors in JSON."""
    app.add_url_rule(RULE, endpoint="carrier_webhook", view_func=receive, methods=["POST"])
    csrf.exempt(receive)


def receive(carrier: str, account_id: int) -> Response | tuple[Response, int]:
    try:
        if carrier not in CARRIER_KINDS:
            return _plain(error_body("not_found", "no such carrier", 404))
        box = CredentialBox.from_settings(current_app.config)
        sessions = hub().sessions

        def carriers(account: CarrierAccount) -> CarrierPort:
            return carrier_for(account, box, audit=DbAudit(sessions, seller_id=account.seller_id))

        receipt = services.receive_webhook(sessions, box, carrier, account_id, dict(request.headers.items()),
                                           request.get_data(), carriers)
    except HubError as exc:
        # A PermanentError is a 502 elsewhere; here it is the sender's (bad signature 401, unreadable body 400).
        status = 400 if isinstance(exc, PermanentError) and exc.http_status == 502 else exc.http_status
        log.info("%s webhook for carrier account %s refused: %s", carrier, account_id, exc.message)
        return _plain(error_body(exc.code, exc.message, status, exc.fields))
    except Exception:
        # Ours, not the sender's: 500 (nothing was stored, the transaction rolled back), so the carrier retries.
        log.exception("carrier webhook %s %s failed", request.method, request.path)
        return _plain(error_body("internal", "something went wrong on our side; it has been logged", 500))
    log.info("%s webhook for carrier account %s: %s", carrier, account_id, receipt["status"])
    return jsonify(receipt)


def _plain(result: tuple[Response, int]) -> tuple[Response, int]:
    response, status = result
    response.headers.pop("WWW-Authenticate", None)  # error_body's Bearer challenge is the API's, not ours
    return response, status
