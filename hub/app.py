"""The application factory's body (kept apart so that `import hub` stays free of Flask)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from hub.config import load_settings
from hub.db import MAX_ID
from hub.extensions import Hub, close_session

log = logging.getLogger(__name__)

_DEFAULT_SECRET = "dev-only-change-me"  # noqa: S105  (the placeholder we refuse in production)


def _up_to(limit: str) -> str:
    """A regex for the decimal numbers 1..limit without leading zeros (limit given as digits)."""
    n = len(limit)
    options = [rf"[1-9]\d{{0,{n - 2}}}"] if n > 1 else []
    for i, digit in enumerate(limit):
        low = "1" if i == 0 else "0"
        if int(digit) > int(low):
            top = str(int(digit) - 1)
            options.append(f"{limit[:i]}[{low}-{top}]" + (rf"\d{{{n - i - 1}}}" if i < n - 1 else ""))
    options.append(limit)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<id:name>`: a row id, 1..MAX_ID. A larger number matches no route and is a plain 404, instead of
    reaching the database, whose drivers fail on numbers beyond the INTEGER columns. The limit is in the
    regex itself: werkzeug turns a converter refusing a value after the match into a misleading 405."""

    regex = _up_to(str(MAX_ID))

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    settings = load_settings(config)
    if settings["SECRET_KEY"] == _DEFAULT_SECRET:
        if settings.get("DEMO"):
            # A fresh key per demo process: a published default would let anyone forge demo sessions.
            settings["SECRET_KEY"] = secrets.token_hex(32)
        elif not (settings.get("TESTING") or settings.get("DEBUG")):
            raise RuntimeError("set HUB_SECRET_KEY: the default secret key is only for tests")

    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(settings)
    app.url_map.converters["id"] = IdConverter
    app.extensions["hub"] = Hub.from_settings(settings)
    app.teardown_appcontext(close_session)

    from hub.web import init_web

    init_web(app)

    from hub.api import api

    app.register_blueprint(api)

    from hub.web import csrf
    from hub.webhooks import bp as webhooks_bp

    app.register_blueprint(webhooks_bp)
    csrf.exempt(webhooks_bp)  # marketplaces sign their deliveries; they hold no session and no CSRF token

    from hub.webhooks import carriers as carrier_webhooks

    carrier_webhooks.register(app, csrf)  # carriers sign theirs too (HMAC); CSRF-exempt

    from hub.webhooks import payments as payment_webhooks

    payment_webhooks.register(app, csrf)  # payment providers sign their notifications; CSRF-exempt

    from hub.buyers import api as store_api

    store_api.register(app)  # the buyer API of the seller's own site, /api/store/v1; bearer tokens, CSRF-exempt

    from hub.cli import register_cli

    register_cli(app)
    return app
