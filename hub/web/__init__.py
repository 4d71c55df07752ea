"""The server-rendered dashboard: one blueprint per area, each with its templates beside it."""

from __future__ import annotations

import logging

from flask import Flask, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from hub.accounts.models import Role
from hub.errors import DomainError
from hub.i18n import N_, init_i18n
from hub.validation import nul_characters, refuse
from hub.web import filters
from hub.web.session_user import WebUser, load_user

log = logging.getLogger(__name__)
csrf = CSRFProtect()

# Areas show up in the top bar once their blueprint is registered.
# Labels are lazy: translated per request, in the viewer's language.
NAV = [
    ("catalog.products", _l("Products")),
    ("stock.levels", _l("Stock")),
    ("orders.list_orders", _l("Orders")),
    ("customers.index", _l("Customers")),
    ("channels.index", _l("Channels")),
    ("quarantine.index", _l("Quarantine")),
    ("reviews.index", _l("Reviews")),
    ("fx.rates", _l("Exchange rates")),
    ("account.profile", _l("Account")),
]


def init_web(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # tokens live as long as the session
    csrf.init_app(app)
    init_i18n(app)

    login = LoginManager(app)
    login.login_view = "auth.login"
    # Flask-Login translates the message when it flashes it (a lazy string would not fit in the session).
    login.login_message = N_("Please log in to see this page.")
    login.localize_callback = _
    login.user_loader(load_user)

    filters.register(app)
    app.add_template_global(Role, "Role")  # templates hide write buttons: current_user.can(Role.STAFF)

    @app.context_processor
    def _navigation() -> dict:
        return {"nav_links": [(e, label) for e, label in NAV if e in app.view_functions],
                "nav_endpoints": app.view_functions,
                "interface_lang": str(get_locale()).replace("_", "-")}

    @app.before_request
    def _actor_from_session() -> None:
        if current_user.is_authenticated and isinstance(current_user, WebUser):
            from hub.extensions import rescope

            rescope(current_user.actor)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
        return response

    @app.before_request
    def _no_nul_characters() -> None:
        # Inputs that no schema parses (the login form, list filters) are checked here, once for all.
        # Reading the body first caches it, so views can still read it raw after the form is parsed.
        request.get_data()
        fields: dict[str, str] = {}
        for source in (request.args, request.form):
            for name, value in source.items(multi=True):
                fields |= nul_characters({name: value})
        refuse(fields)

    from hub.web.account import bp as account_bp
    from hub.web.admin import bp as admin_bp
    from hub.web.auth import bp as auth_bp
    from hub.web.catalog import bp as catalog_bp
    from hub.web.channels import bp as channels_bp
    from hub.web.customers import bp as customers_bp
    from hub.web.dashboard import bp as dashboard_bp
    from hub.web.fx import bp as fx_bp
    from hub.web.orders import bp as orders_bp
    from hub.web.quarantine import bp as quarantine_bp
    from hub.web.reviews import bp as reviews_bp
    from hub.web.settings import bp as settings_bp
    from hub.web.stock import bp as stock_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(catalog_bp)
    app.register_blueprint(stock_bp)
    app.register_blueprint(orders_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(channels_bp)
    app.register_blueprint(quarantine_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(fx_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(settings_bp)

    def wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError):
        if wants_json():
            raise exc
        return render_template("error.html", code=400, message=_(
            "The form expired or was tampered with (%(reason)s). Go back, reload the page and try again.",
            reason=exc.description)), 400

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        # Views handle the errors they expect; this catches the rest (e.g. NotFound from a lookup).
        return render_template("error.html", code=exc.http_status, message=exc.message), exc.http_status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if wants_json():
            from hub.api.errors import http_error

            return http_error(exc)
        return render_template("error.html", code=exc.code, message=exc.description), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            from hub.api.errors import error_body

            return error_body("internal", "something went wrong on our side; it has been logged", 500)
        return render_template("error.html", code=500,
                               message=_("Something went wrong on our side; it has been logged.")), 500

    @app.route("/healthz")
    def healthz():
        return {"status": "ok"}

    app.add_url_rule("/", "index", lambda: redirect(url_for("dashboard.overview")))
