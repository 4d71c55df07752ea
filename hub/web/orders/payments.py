"""The order page's payments: take a payment (direct orders only), capture, refund, void, ask the provider again.

The payment services commit the request's session themselves (each provider call's idempotency key is stored
before the call, hub.payments.services), so these views hand them db() as it is, never inside a begin() block.
A refused operation is shown on the order page; an attempt the provider refused stays on record with its key.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.channels.models import DIRECT
from hub.errors import DomainError, ExternalError, NotFound, PermissionDenied, ValidationError
from hub.extensions import db
from hub.orders.models import Order
from hub.payments import services
from hub.payments.models import Payment, PaymentAccount
from hub.payments.schemas import AmountIn, PaymentIn
from hub.validation import parse
from hub.web.forms import failure, form_data
from hub.web.orders import _detail, bp


def providers() -> services.ProviderFactory:
    from hub.webhooks.payments import providers as app_providers  # the app's one Providers, built on first use

    return app_providers().provider


def context(session: Session, actor: Actor, order: Order) -> dict[str, Any]:
    """What the Payments section shows: the order's payments and, for a direct order, the accounts to pay with."""
    direct = order.channel.kind == DIRECT
    accounts = list(session.scalars(sa.select(PaymentAccount).where(
        actor.sees(PaymentAccount.seller_id), PaymentAccount.enabled.is_(True)).order_by(PaymentAccount.id))
        ) if direct else []
    return {"payments": services.payments_of(session, actor, order.id), "is_direct": direct,
            "payment_accounts": [(str(a.id), f"{a.name} ({a.provider})") for a in accounts]}


def _run(order_id: int, name: str, action: Callable[[Session, Actor], Payment]):
    """One payment form: redirect back with the outcome, or the order page with the error."""
    session = db()
    try:
        payment = action(session, current_user.actor)
        session.commit()
    except (NotFound, PermissionDenied):
        session.rollback()
        raise
    except DomainError as exc:
        errors, status = failure(exc)
        return _detail(order_id, name, errors, request.form, status)
    except ExternalError as exc:
        # The provider did not answer (its attempt stays open with its key: trying again re-sends the same one).
        session.rollback()
        flash(_("The payment provider did not answer: %(error)s. Trying again is safe: it cannot charge twice.",
                error=exc.message), "error")
        return redirect(url_for(".detail", order_id=order_id))
    status = str(payment.status).replace("_", " ")
    if payment.failure_reason and str(payment.status) == "failed":
        flash(_("Payment %(id)s failed: %(reason)s", id=payment.id, reason=payment.failure_reason), "error")
    else:
        flash(_("Payment %(id)s is now %(status)s.", id=payment.id, status=status), "success")
    return redirect(url_for(".detail", order_id=order_id))


def _payment(session: Session, actor: Actor, order_id: int, payment_id: int) -> Payment:
    payment = services.get_payment(session, actor, payment_id)
    if payment.order_id != order_id:
        raise NotFound(f"no payment {payment_id}")
    return payment


def _amount() -> Decimal | None:
    return parse(AmountIn, form_data(optional=("amount",))).amount


@bp.route("/<id:order_id>/payments", methods=["POST"])
@login_required
def pay(order_id: int):
    def run(session: Session, actor: Actor) -> Payment:
        data = form_data(booleans=("capture",), optional=("payment_method",))
        if not str(data.get("account_id", "")).strip():
            raise ValidationError("choose a payment account", fields={"account_id": "required"})
        body = parse(PaymentIn, {k: v for k, v in data.items() if k in PaymentIn.model_fields})
        return services.pay_order(session, actor, order_id, body.account_id, providers=providers(),
                                  payment_method=body.payment_method, capture=body.capture,
                                  return_url=url_for(".detail", order_id=order_id, _external=True))

    return _run(order_id, "pay", run)


@bp.route("/<id:order_id>/payments/<id:payment_id>/capture", methods=["POST"])
@login_required
def capture_payment(order_id: int, payment_id: int):
    def run(session: Session, actor: Actor) -> Payment:
        _payment(session, actor, order_id, payment_id)
        return services.capture(session, actor, payment_id, _amount(), providers=providers())

    return _run(order_id, f"capture-{payment_id}", run)


@bp.route("/<id:order_id>/payments/<id:payment_id>/refund", methods=["POST"])
@login_required
def refund_payment(order_id: int, payment_id: int):
    def run(session: Session, actor: Actor) -> Payment:
        _payment(session, actor, order_id, payment_id)
        return services.refund(session, actor, payment_id, _amount(), providers=providers())

    return _run(order_id, f"refund-{payment_id}", run)


@bp.route("/<id:order_id>/payments/<id:payment_id>/void", methods=["POST"])
@login_required
def void_payment(order_id: int, payment_id: int):
    def run(session: Session, actor: Actor) -> Payment:
        _payment(session, actor, order_id, payment_id)
        return services.void(session, actor, payment_id, providers=providers())

    return _run(order_id, f"void-{payment_id}", run)


@bp.route("/<id:order_id>/payments/<id:payment_id>/refresh", methods=["POST"])
@login_required
def refresh_payment(order_id: int, payment_id: int):
    def run(session: Session, actor: Actor) -> Payment:
        actor.require(Role.STAFF, "refresh payments")  # it may re-send an unanswered charge
        _payment(session, actor, order_id, payment_id)
        return services.refresh(session, actor, payment_id, providers=providers())

    return _run(order_id, f"refresh-{payment_id}", run)
