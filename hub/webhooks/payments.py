"""Where payment providers post their notifications: POST /webhooks/payments/<provider>/<account id>
(register(app, csrf)).

No login and no CSRF token: the provider's signature is the authentication, checked by the account's adapter
(hub.payments.<provider>.notifications) before anything is stored. The delivery is stored deduplicated and
applied by the worker (hub.payments.jobs.apply_notifications_job), so the answer is one short transaction.
Errors have the API's JSON shape {"error": {"code", "message", "fields"}}:

    200 the provider's expected acknowledgement (Stripe JSON, Alipay the text `success`), new or duplicate
    400 signature_invalid    forged, stale or unreadable: nothing stored
    404 not_found            no such account for that provider, or it is disabled
    503 external_unavailable the provider's verification service (PayPal's) did not answer: it will retry

A plain app route rather than a blueprint, as the carriers' is: its endpoint stays out of the dashboard's routes.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFProtect

from hub.api.errors import error_body
from hub.channels.secrets import CredentialBox
from hub.errors import HubError, PermanentError
from hub.extensions import db, hub
from hub.payments import services
from hub.payments.registry import Providers

log = logging.getLogger(__name__)
RULE = "/webhooks/payments/<provider>/<id:account_id>"


def register(app: Flask, csrf: CSRFProtect) -> None:
    app.add_url_rule(RULE, endpoint="payment_webhook", view_func=receive, methods=["POST"])
    csrf.exempt(receive)


def providers() -> Providers:
    """The app's adapter factory, built on first use (its credential box comes from the settings)."""
    app = current_app
    if "payments" not in app.extensions:
        app.extensions["payments"] = Providers(CredentialBox.from_settings(app.config), sessions=hub().sessions)
    return app.extensions["payments"]


def receive(provider: str, account_id: int) -> Response | tuple[Response, int]:
    session = db()
    try:
        receipt = services.receive_notification(session, provider, account_id, dict(request.headers.items()),
                                                request.get_data(), parsers=providers().notifications)
        session.commit()
    except HubError as exc:
        session.rollback()
        # A PermanentError is a 502 elsewhere; here it is the sender's fault (a body that does not verify).
        status = 400 if isinstance(exc, PermanentError) and exc.http_status == 502 else exc.http_status
        log.info("%s notification for payment account %s refused: %s", provider, account_id, exc.message)
        return _plain(error_body(exc.code, exc.message, status, exc.fields))
    except Exception:
        session.rollback()
        # Ours, not the sender's: 500 (nothing was stored), so the provider retries.
        log.exception("payment notification %s %s failed", request.method, request.path)
        return _plain(error_body("internal", "something went wrong on our side; it has been logged", 500))
    log.info("%s notification for payment account %s: %s", provider, account_id,
             "stored" if receipt.stored else "duplicate")
    status, content_type, body = receipt.acknowledgement
    return Response(body, status=status, content_type=content_type)


def _plain(result: tuple[Response, int]) -> tuple[Response, int]:
    response, status = result
    response.headers.pop("WWW-Authenticate", None)  # error_body's Bearer challenge is the API's, not ours
    return response, status
