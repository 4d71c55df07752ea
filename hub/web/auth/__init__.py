"""Sign-up, login and logout."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from hub.accounts import services
from hub.accounts.schemas import SignUp
from hub.errors import AuthenticationFailed, DomainError
from hub.extensions import db, hub
from hub.validation import parse
from hub.web.forms import form_data
from hub.web.session_user import WebUser

bp = Blueprint("auth", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an absolute or scheme-relative URL would be an open redirect.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.overview")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            data = parse(SignUp, form_data())
            user = services.sign_up(db(), hub().security, data)
            db().commit()
        except DomainError as exc:
            db().rollback()
            errors = exc.fields or {"form": exc.message}
        else:
            login_user(WebUser(user))
            flash(_("Welcome, %(name)s! Your seller account %(seller)s is ready.", name=user.name,
                    seller=data.seller_name), "success")
            return redirect(url_for("dashboard.overview"))
    return render_template("auth/signup.html", errors=errors, form=request.form), 422 if errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.overview"))
    error = None
    if request.method == "POST":
        session = db()
        try:
            user = services.authenticate(session, hub().security, request.form.get("email", ""),
                                         request.form.get("password", ""))
        except AuthenticationFailed as exc:
            session.commit()  # keep the failure count
            error = exc.message
            current_app.logger.info("failed login (%s)", exc.code)
        else:
            session.commit()
            login_user(WebUser(user))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=request.form.get("email", "")), 401 if error else 200


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
