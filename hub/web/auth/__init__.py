"""Sign-up, login and logout."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from hub.accounts import services
from hub.accounts.schemas import AcceptInvitation, SignUp
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


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Where an invitation link leads: the invitee picks a name and password and is logged in. Unknown, used,
    revoked and expired links all get the same 404 page."""
    session = db()
    invitation = services.open_invitation(session, token)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            user = services.accept_invitation(session, hub().security, token, parse(AcceptInvitation, form_data()))
            session.commit()
        except DomainError as exc:
            session.rollback()
            errors = exc.fields or {"form": exc.message}
        else:
            if current_user.is_authenticated:
                logout_user()
            login_user(WebUser(user))
            flash(_("Welcome, %(name)s! You joined %(seller)s as %(role)s.", name=user.name,
                    seller=invitation.seller.name, role=user.role), "success")
            return redirect(url_for("dashboard.overview"))
    response = make_response(render_template("auth/invitation.html", invitation=invitation, errors=errors,
                                             form=request.form), 422 if errors else 200)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in this page's URL
    return response


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
