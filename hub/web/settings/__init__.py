"""Settings for money and parcels: the seller's payment accounts, carrier accounts and webhook endpoints.

Everyone reads; the owner connects accounts and manages endpoints (the services check the role). Credentials are
write-only, as on the channel pages: sealed with the CredentialBox, never echoed into a form, shown masked. A
webhook endpoint's signing secret is shown once, in the response that made it (created or rotated), which is
marked no-store, as a new API token is.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.channels.secrets import CredentialBox, CredentialsUnreadable, masked
from hub.db import unique_or_raise
from hub.errors import Conflict, DomainError, NotFound, ValidationError
from hub.extensions import db
from hub.logistics import services as logistics
from hub.logistics.carriers import REQUIRED
from hub.logistics.models import CARRIER_KINDS, CarrierAccount
from hub.outbox import endpoints
from hub.outbox.models import EventKind
from hub.payments import registry
from hub.payments import services as payments
from hub.payments.models import PaymentAccount
from hub.tenancy import owned
from hub.web.forms import failure

bp = Blueprint("settings", __name__, template_folder="templates", url_prefix="/settings")

ORIGIN_FIELDS = ("name", "company", "line1", "line2", "city", "postal_code", "state", "country", "phone", "email")


def box() -> CredentialBox:
    return CredentialBox.from_settings(current_app.config)


def _masked(sealed: str | None) -> list[tuple[str, str]] | None:
    """(name, masked value) pairs; None when the stored credentials cannot be opened (the key was rotated away)."""
    try:
        return [(key, masked(str(value))) for key, value in sorted(box().open(sealed).items())]
    except CredentialsUnreadable:
        return None


def _prefixed(prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v.strip() for k, v in request.form.items() if k.startswith(prefix) and v.strip()}


def _base_url() -> str:
    url = request.form.get("base_url", "").strip()
    parts = urlsplit(url) if len(url) <= 500 else None
    if url and (parts is None or parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValidationError("the base URL must be an http(s) URL of at most 500 characters",
                              fields={"base_url": "not an http(s) URL"})
    return url


def _form_without_secrets() -> dict[str, str]:
    """The inputs as sent, for a refused form: credentials are never sent back to the browser."""
    return {k: v for k, v in request.form.items() if not k.startswith(("credentials.", "webhook_secret"))}


# --- payment accounts ---------------------------------------------------------------------------------------------

def _providers() -> list[tuple[str, tuple[str, ...]]]:
    """(provider, its credential fields) for each installed provider."""
    out = []
    for name in registry.KNOWN:
        try:
            out.append((name, tuple(registry.package(name).CREDENTIAL_FIELDS)))
        except NotFound:
            continue
    return out


@bp.route("/payments", methods=["GET", "POST"])
@login_required
def payment_accounts():
    session, actor = db(), current_user.actor
    failed, errors, form, status = None, {}, {}, 200
    if request.method == "POST":
        actor.require(Role.OWNER, "connect payment accounts")
        provider = request.form.get("provider", "")
        try:
            with unique_or_raise(session, lambda: Conflict(f"a {provider} account of that name exists already",
                                                           fields={"name": "already used"})):
                account = payments.add_account(session, actor, box(), provider, _prefixed("credentials."),
                                               base_url=_base_url() or None,
                                               name=request.form.get("name", "").strip()[:100])
            session.commit()
        except DomainError as exc:
            errors, status = failure(exc)
            errors = {(f"credentials.{k}" if k not in ("base_url", "name", "form") else k): v
                      for k, v in errors.items()}
            failed, form = provider, _form_without_secrets()
        else:
            flash(_("Payment account %(name)s connected.", name=account.name), "success")
            return redirect(url_for(".payment_accounts"))
    rows = session.scalars(sa.select(PaymentAccount).where(actor.sees(PaymentAccount.seller_id))
                           .order_by(PaymentAccount.id)).all()
    return render_template("settings/payments.html", rows=[(a, _masked(a.credentials_encrypted)) for a in rows],
                           providers=_providers(), failed=failed, errors=errors, form=form), status


def _payment_account(account_id: int) -> PaymentAccount:
    account = owned(db(), current_user.actor, PaymentAccount, account_id, "payment account")
    current_user.actor.require(Role.OWNER, "manage payment accounts")
    return account


@bp.route("/payments/<id:payment_account_id>/disable", methods=["POST"])
@login_required
def disable_payment_account(payment_account_id: int):
    account = _payment_account(payment_account_id)
    account.enabled = False
    db().commit()
    flash(_("Payment account %(name)s disabled: no new payments go through it.", name=account.name), "success")
    return redirect(url_for(".payment_accounts"))


@bp.route("/payments/<id:payment_account_id>/enable", methods=["POST"])
@login_required
def enable_payment_account(payment_account_id: int):
    account = _payment_account(payment_account_id)
    account.enabled = True
    db().commit()
    flash(_("Payment account %(name)s enabled.", name=account.name), "success")
    return redirect(url_for(".payment_accounts"))


# --- carrier accounts ---------------------------------------------------------------------------------------------

@bp.route("/carriers", methods=["GET", "POST"])
@login_required
def carrier_accounts():
    session, actor = db(), current_user.actor
    failed, errors, form, status = None, {}, {}, 200
    if request.method == "POST":
        actor.require(Role.OWNER, "connect carriers")
        kind = request.form.get("kind", "")
        try:
            name, base_url = request.form.get("name", "").strip(), _base_url()
            missing = {k: "required" for k, v in (("name", name), ("base_url", base_url)) if not v}
            if missing or len(name) > 120 or len(base_url) > 500:
                raise ValidationError("the carrier account needs a name and a base URL",
                                      fields=missing or {"name": "at most 120 characters"})
            origin = {k: v for k, v in _prefixed("origin.").items() if k in ORIGIN_FIELDS}
            if "country" in origin:
                origin["country"] = origin["country"].upper()
            with unique_or_raise(session, lambda: Conflict("a carrier account of that name exists already",
                                                           fields={"name": "already used"})):
                account = logistics.create_account(session, actor, box(), kind=kind, name=name, base_url=base_url,
                                                   credentials=_prefixed("credentials."),
                                                   webhook_secret=request.form.get("webhook_secret", "").strip(),
                                                   origin=origin)
            session.commit()
        except DomainError as exc:
            errors, status = failure(exc)
            if "origin" in errors:
                errors["origin.country"] = errors.pop("origin")
            failed, form = kind, _form_without_secrets()
        else:
            flash(_("Carrier account %(name)s connected.", name=account.name), "success")
            return redirect(url_for(".carrier_accounts"))
    rows = session.scalars(sa.select(CarrierAccount).where(actor.sees(CarrierAccount.seller_id))
                           .order_by(CarrierAccount.id)).all()
    return render_template("settings/carriers.html", rows=[(a, _masked(a.credentials)) for a in rows],
                           kinds=[(k, REQUIRED.get(k, ())) for k in CARRIER_KINDS], origin_fields=ORIGIN_FIELDS,
                           failed=failed, errors=errors, form=form), status


def _carrier_account(account_id: int) -> CarrierAccount:
    account = owned(db(), current_user.actor, CarrierAccount, account_id, "carrier account")
    current_user.actor.require(Role.OWNER, "manage carrier accounts")
    return account


@bp.route("/carriers/<id:carrier_account_id>/disable", methods=["POST"])
@login_required
def disable_carrier_account(carrier_account_id: int):
    account = _carrier_account(carrier_account_id)
    account.is_active = False
    db().commit()
    flash(_("Carrier account %(name)s disabled.", name=account.name), "success")
    return redirect(url_for(".carrier_accounts"))


@bp.route("/carriers/<id:carrier_account_id>/enable", methods=["POST"])
@login_required
def enable_carrier_account(carrier_account_id: int):
    account = _carrier_account(carrier_account_id)
    account.is_active = True
    db().commit()
    flash(_("Carrier account %(name)s enabled.", name=account.name), "success")
    return redirect(url_for(".carrier_accounts"))


# --- webhook endpoints --------------------------------------------------------------------------------------------

def _webhooks_page(secret: tuple[Any, str] | None = None, errors: dict[str, str] | None = None,
                   form: Any = None, status: int = 200):
    session, actor = db(), current_user.actor
    response = make_response(render_template(
        "settings/webhooks.html", rows=endpoints.list_endpoints(session, actor),
        dead=endpoints.dead_letters(session, actor), kinds=[str(k) for k in EventKind], secret=secret,
        errors=errors or {}, form=form or {}), status)
    if secret is not None:
        response.headers["Cache-Control"] = "no-store"  # the secret is in this response and nowhere else
    return response


@bp.route("/webhooks", methods=["GET", "POST"])
@login_required
def webhooks():
    if request.method == "GET":
        return _webhooks_page()
    session, actor = db(), current_user.actor
    actor.require(Role.OWNER, "manage webhook endpoints")
    try:
        endpoint, secret = endpoints.create_endpoint(
            session, actor, box(), request.form.get("url", ""), request.form.getlist("kinds"),
            request.form.get("description", ""),
            allow_private=bool(current_app.config.get("OUTBOX_WEBHOOK_ALLOW_PRIVATE")))
        session.commit()
    except DomainError as exc:
        errors, status = failure(exc)
        return _webhooks_page(errors=errors, form=request.form, status=status)
    return _webhooks_page(secret=(endpoint, secret))


def _endpoint(endpoint_id: int):
    actor = current_user.actor
    endpoint = endpoints.get_endpoint(db(), actor, endpoint_id)
    actor.require(Role.OWNER, "manage webhook endpoints")
    return endpoint


@bp.route("/webhooks/<id:endpoint_id>/rotate", methods=["POST"])
@login_required
def rotate_secret(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    secret = endpoints.rotate_secret(db(), current_user.actor, box(), endpoint_id)
    db().commit()
    return _webhooks_page(secret=(endpoint, secret))


@bp.route("/webhooks/<id:endpoint_id>/disable", methods=["POST"])
@login_required
def disable_endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    endpoints.disable_endpoint(db(), current_user.actor, endpoint_id)
    db().commit()
    flash(_("Endpoint %(url)s disabled.", url=endpoint.url), "success")
    return redirect(url_for(".webhooks"))


@bp.route("/webhooks/<id:endpoint_id>/enable", methods=["POST"])
@login_required
def enable_endpoint(endpoint_id: int):
    endpoint = _endpoint(endpoint_id)
    endpoints.enable_endpoint(db(), current_user.actor, endpoint_id)
    db().commit()
    flash(_("Endpoint %(url)s enabled.", url=endpoint.url), "success")
    return redirect(url_for(".webhooks"))


@bp.route("/webhooks/deliveries/<id:delivery_id>/requeue", methods=["POST"])
@login_required
def requeue(delivery_id: int):
    endpoints.requeue(db(), current_user.actor, delivery_id)  # another seller's delivery: NotFound
    db().commit()
    flash(_("Delivery %(id)s requeued: it is sent again shortly.", id=delivery_id), "success")
    return redirect(url_for(".webhooks"))
