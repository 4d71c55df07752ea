"""The application factory's body (kept apart so that `import hub` stays free of Flask)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from hub.config import load_settings
from hub.extensions import Hub, close_session

log = logging.getLogger(__name__)

_DEFAULT_SECRET = "dev-only-change-me"  # noqa: S105  (the placeholder we refuse in production)


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
    app.extensions["hub"] = Hub.from_settings(settings)
    app.teardown_appcontext(close_session)

    from hub.web import init_web

    init_web(app)

    from hub.api import api

    app.register_blueprint(api)

    from hub.cli import register_cli

    register_cli(app)
    return app
