"""The user's own account (profile, password, API tokens), the seller's settings and the team."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from hub.accounts import services
from hub.accounts.models import Role
from hub.accounts.schemas import NewInvitation, NewToken, NewUser, PasswordChange, ProfileUpdate, SellerSettings
from hub.errors import DomainError
from hub.extensions import db, hub
from hub.timeutil import utcnow
from hub.validation import parse
from hub.web.forms import failure, nested_form, submit
from hub.web.session_user import WebUser

bp = Blueprint("account", __name__, template_folder="templates", url_prefix="/account")

ROLES = [(r.value, r.value) for r in (Role.VIEWER, Role.STAFF, Role.OWNER)]


def _profile_page(failed: str | None = None, errors: dict[str, str] | None = None,
                  form: dict[str, Any] | None = None, status: int = 200):
    user = services.own_user(db(), current_user.actor)
    if failed != "profile":
        form = {"name": user.name, "locale": user.locale or "", "timezone": user.timezone or ""}
    return render_template("account/profile.html", user=user, form=form, failed=failed,
                           errors=errors or {}), status


@bp.route("", methods=["GET", "POST"])
@login_required
def profile():
    if request.method == "POST":
        sent = submit(ProfileUpdate, services.update_profile)
        if not sent.ok:
            return _profile_page("profile", sent.errors, sent.form, sent.status)
        flash(_("Profile saved."), "success")
        return redirect(url_for(".profile"))
    return _profile_page()


@bp.route("/password", methods=["POST"])
@login_required
def password():
    try:
        user = services.change_password(db(), hub().security, current_user.actor,
                                        parse(PasswordChange, nested_form()))
        db().commit()
    except DomainError as exc:
        errors, status = failure(exc)
        return _profile_page("password", errors, {}, status)  # passwords are never sent back
    # The new session version ends every other session of the user; this one logs in again under it.
    login_user(WebUser(user))
    flash(_("Password changed. Your other sessions have been logged out."), "success")
    return redirect(url_for(".profile"))


@bp.route("/seller", methods=["GET", "POST"])
@login_required
def seller():
    session, actor = db(), current_user.actor
    errors: dict[str, str] = {}
    status = 200
    form: dict[str, Any] | None = None
    if request.method == "POST":
        sent = submit(SellerSettings, services.update_seller, booleans=("prices_include_tax", "allow_stale_rates"))
        if sent.ok:
            flash(_("Seller settings saved."), "success")
            return redirect(url_for(".seller"))
        form, errors, status = sent.form, sent.errors, sent.status
    current = services.own_user(session, actor).seller
    if form is None and current is not None:
        form = {name: getattr(current, name) for name in SellerSettings.model_fields}
    return render_template("account/seller.html", seller=current, form=form or {}, errors=errors), status


def _team_page(form: dict[str, Any] | None = None, errors: dict[str, str] | None = None, status: int = 200,
               invite_form: dict[str, Any] | None = None, invite_errors: dict[str, str] | None = None,
               link: str | None = None):
    session, actor = db(), current_user.actor
    owner = actor.role.at_least(Role.OWNER)
    response = make_response(render_template(
        "account/team.html", rows=services.list_users(session, actor), form=form or {"role": Role.STAFF.value},
        errors=errors or {}, roles=ROLES, invitations=services.list_invitations(session, actor) if owner else [],
        invite_form=invite_form or {"role": Role.STAFF.value}, invite_errors=invite_errors or {}, link=link,
        now=utcnow()), status)
    if link:  # the link is shown in this one response and kept nowhere
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/team", methods=["GET", "POST"])
@login_required
def team():
    if request.method == "POST":
        sent = submit(NewUser, lambda s, a, new: services.add_user(s, hub().security, a, new))
        if sent.ok:
            user = sent.result
            flash(_("%(name)s (%(email)s) can now log in as %(role)s. Hand over the first password safely and ask "
                    "them to change it.", name=user.name, email=user.email, role=user.role), "success")
            return redirect(url_for(".team"))
        form = {k: v for k, v in sent.form.items() if k != "password"}  # passwords are never sent back
        return _team_page(form, sent.errors, sent.status)
    return _team_page()


@bp.route("/team/invite", methods=["POST"])
@login_required
def invite():
    sent = submit(NewInvitation, services.invite)
    if not sent.ok:
        return _team_page(invite_form=sent.form, invite_errors=sent.errors, status=sent.status)
    invitation, secret = sent.result
    link = url_for("auth.accept_invitation", token=secret, _external=True)
    flash(_("Invitation for %(email)s created. Send them the link below; it works once, for %(days)s days.",
            email=invitation.email, days=services.INVITATION_DAYS), "success")
    return _team_page(link=link)


@bp.route("/team/invitations/<id:invitation_id>/revoke", methods=["POST"])
@login_required
def revoke_invitation(invitation_id: int):
    invitation = services.revoke_invitation(db(), current_user.actor, invitation_id)
    db().commit()
    flash(_("The invitation for %(email)s is revoked: its link no longer works.", email=invitation.email),
          "success")
    return redirect(url_for(".team"))


def _set_active(user_id: int, active: bool):
    user = services.set_user_active(db(), current_user.actor, user_id, active)
    db().commit()
    if active:
        flash(_("%(name)s can log in again.", name=user.name), "success")
    else:
        flash(_("%(name)s is deactivated and logged out everywhere.", name=user.name), "success")
    return redirect(url_for(".team"))


@bp.route("/team/<id:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate_user(user_id: int):
    return _set_active(user_id, False)


@bp.route("/team/<id:user_id>/activate", methods=["POST"])
@login_required
def activate_user(user_id: int):
    return _set_active(user_id, True)


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    session, actor = db(), current_user.actor
    errors: dict[str, str] = {}
    status = 200
    form: dict[str, Any] = {}
    created = secret = None
    if request.method == "POST":
        sent = submit(NewToken, services.create_token)
        if sent.ok:
            created, secret = sent.result
        else:
            form, errors, status = sent.form, sent.errors, sent.status
    # The new token is shown in this one response and kept nowhere (a redirect would have to store it).
    response = make_response(render_template("account/tokens.html", rows=services.list_tokens(session, actor),
                                             created=created, secret=secret, form=form, errors=errors), status)
    if secret:
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens/<id:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):
    token = services.revoke_token(db(), current_user.actor, token_id)
    db().commit()
    flash(_("Token %(name)s (%(prefix)s…) revoked: it no longer works.", name=token.name, prefix=token.prefix),
          "success")
    return redirect(url_for(".tokens"))
