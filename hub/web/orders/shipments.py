"""The order page's carrier shipments: quotes for a parcel, buying its label (once, however often the form is sent),
downloading the label, cancelling an unscanned one. Tracking arrives by poll (hub.logistics.jobs) or webhook.

The logistics services open their own units of work and commit before each carrier call, so the request's session
is ended first: with SQLite every transaction holds the write lock (BEGIN IMMEDIATE), and an open one would block
the services' writes and the audit of each carrier call.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.channels.secrets import CredentialBox
from hub.db import MAX_ID
from hub.errors import DomainError, ExternalError, NotFound, PermissionDenied, ValidationError
from hub.extensions import db, hub
from hub.logistics import services
from hub.logistics.carriers import CarrierFactory, carrier_for
from hub.logistics.models import CarrierAccount, Shipment
from hub.logistics.port import CarrierPort, Rate
from hub.orders.models import Order
from hub.orders.schemas import ShipLine, ShipmentIn
from hub.outbound.audit import AuditSink, MemoryAudit
from hub.outbound.audit_store import DbAudit
from hub.validation import parse
from hub.web.forms import failure
from hub.web.orders import _detail, bp

_QUANTITY = re.compile(r"quantity-(\d{1,9})", re.ASCII)
# The purchase key travels with every attempt; DHL takes 28-36 characters as its Message-Reference.
_KEY = re.compile(r"web-[0-9a-f]{32}", re.ASCII)
_ID = re.compile(r"\d{1,10}", re.ASCII)


def carriers(audit: AuditSink | None = None) -> CarrierFactory:
    """Adapters for the app's carrier accounts; every call audited (in external_calls unless `audit` is given)."""
    box = CredentialBox.from_settings(current_app.config)
    sessions = hub().sessions

    def build(account: CarrierAccount) -> CarrierPort:
        return carrier_for(account, box, audit=audit or DbAudit(sessions, seller_id=account.seller_id))

    return build


def context(session: Session, actor: Actor, order: Order) -> dict[str, Any]:
    accounts = session.scalars(sa.select(CarrierAccount).where(
        actor.sees(CarrierAccount.seller_id), CarrierAccount.is_active.is_(True)).order_by(CarrierAccount.id)).all()
    return {"shipments": services.shipments_of(session, actor, order.id),
            "carrier_accounts": [(str(a.id), f"{a.name} ({a.kind})") for a in accounts]}


def _lines(form: Any) -> list[ShipLine] | None:
    """The quantities entered per line (`quantity-<line id>`); None (nothing entered): everything still open."""
    raw = [{"line_id": m.group(1), "quantity": value.strip()}
           for key, value in form.items() if (m := _QUANTITY.fullmatch(key)) and value.strip()]
    return parse(ShipmentIn, {"lines": raw}).lines if raw else None


def _account_id(form: Any) -> int:
    value = form.get("account_id", "").strip()
    if not _ID.fullmatch(value) or not 0 < int(value) <= MAX_ID:
        raise ValidationError("choose a carrier account", fields={"account_id": "required"})
    return int(value)


def _service_value(kind: str, rate: Rate) -> str:
    # EasyPost resells several carriers' services under one account: "carrier:service" names one of them.
    return f"{rate.carrier}:{rate.service}" if kind == "easypost" else rate.service


def _failed(order_id: int, name: str, exc: DomainError | ExternalError):
    if isinstance(exc, NotFound | PermissionDenied):
        raise exc
    if isinstance(exc, ExternalError):
        # As elsewhere on the dashboard, an outside service's failure is a message, not an error page; a purchase
        # left "buying" is finished by the worker (or by sending the same form again: same key, one label).
        db().rollback()
        flash(_("The carrier did not answer: %(error)s", error=exc.message), "error")
        return redirect(url_for(".detail", order_id=order_id))
    errors, status = failure(exc)
    return _detail(order_id, name, errors, request.form, status)


@bp.route("/<id:order_id>/labels/quote", methods=["POST"])
@login_required
def quote_label(order_id: int):
    """The rates of the chosen account for the parcel, on the order page with a buy button each."""
    session, actor = db(), current_user.actor
    audit = MemoryAudit()  # written after the read ends: the audit's own transaction would wait for this one
    try:
        actor.require(Role.STAFF, "ship orders")
        account_id, lines = _account_id(request.form), _lines(request.form)
        rates = services.quote(session, actor, order_id, account_id, carriers(audit), lines)
        kind = services.get_account(session, actor, account_id).kind
    except (DomainError, ExternalError) as exc:
        return _failed(order_id, "quote", exc)
    finally:
        session.rollback()
        _keep(audit, actor.seller_id)
    quote = {"account_id": account_id, "lines": lines or [], "key": f"web-{uuid.uuid4().hex}",
             "rates": [(_service_value(kind, r), r) for r in rates]}
    return _detail(order_id, quote=quote)


def _keep(audit: MemoryAudit, seller_id: int | None) -> None:
    store = DbAudit(hub().sessions, seller_id=seller_id)
    for call in audit.calls:
        store.record(call)


@bp.route("/<id:order_id>/labels", methods=["POST"])
@login_required
def buy_label(order_id: int):
    """Buy the chosen rate's label. The form's key makes a double submit (or a retry after a timeout) return the
    first purchase instead of buying a second label."""
    actor = current_user.actor
    db().rollback()
    try:
        key = request.form.get("key", "")
        if not _KEY.fullmatch(key):
            raise ValidationError("the form has no purchase key; get the quotes again", fields={"key": "missing"})
        service = request.form.get("service", "").strip()
        if not service or len(service) > 64:
            raise ValidationError("choose a rate", fields={"service": "required"})
        shipment = services.buy_label(hub().sessions, actor, order_id, _account_id(request.form), service,
                                      carriers(), _lines(request.form), key=key)
    except (DomainError, ExternalError) as exc:
        return _failed(order_id, "quote", exc)
    if shipment.state == "purchased":
        flash(_("Label bought: %(carrier)s %(code)s.", carrier=shipment.carrier, code=shipment.tracking_code),
              "success")
    else:
        flash(_("The label is not bought yet (%(state)s); it is finished in the background.",
                state=shipment.state), "error")
    return redirect(url_for(".detail", order_id=order_id))


def _shipment(order_id: int, shipment_id: int) -> Shipment:
    shipment = services.get_shipment(db(), current_user.actor, shipment_id)
    if shipment.order_id != order_id:
        raise NotFound(f"no shipment {shipment_id}")
    return shipment


@bp.route("/<id:order_id>/shipments/<id:shipment_id>/label.pdf")
@login_required
def label(order_id: int, shipment_id: int):
    _shipment(order_id, shipment_id)
    name, pdf = services.label_pdf(db(), current_user.actor, shipment_id)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private"})


@bp.route("/<id:order_id>/shipments/<id:shipment_id>/cancel", methods=["POST"])
@login_required
def cancel_label(order_id: int, shipment_id: int):
    actor = current_user.actor
    _shipment(order_id, shipment_id)
    db().rollback()
    try:
        shipment = services.cancel(hub().sessions, actor, shipment_id, carriers())
    except (DomainError, ExternalError) as exc:
        return _failed(order_id, f"cancel-label-{shipment_id}", exc)
    flash(_("Label %(code)s cancelled.", code=shipment.tracking_code), "success")
    return redirect(url_for(".detail", order_id=order_id))
