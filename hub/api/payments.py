"""/api/v1/orders/<id>/payments: take a payment for a direct order, list an order's payments.

The payment services commit the request's session themselves (each provider call's key is stored before the
call), so they run in db() as it is; the framework's commit afterwards stores the outcome.
"""

from __future__ import annotations

from pydantic import BaseModel

from hub.accounts.actor import Actor
from hub.api import api
from hub.api.framework import operation
from hub.extensions import db
from hub.orders import services as orders
from hub.payments import services
from hub.payments.schemas import PaymentIn, PaymentOut

TAG = "payments"


class PaymentList(BaseModel):
    items: list[PaymentOut]


def _providers() -> services.ProviderFactory:
    from hub.webhooks.payments import providers  # the app's one adapter factory, built on first use

    return providers().provider


@api.route("/orders/<id:order_id>/payments", methods=["POST"])
@operation(summary="Pay a pending direct order through one of the seller's payment accounts", body=PaymentIn,
           response=PaymentOut, status=201, errors=(409, 502, 503), tag=TAG)
def pay_order(actor: Actor, order_id: int, body: PaymentIn) -> PaymentOut:
    payment = services.pay_order(db(), actor, order_id, body.account_id, providers=_providers(),
                                 payment_method=body.payment_method, capture=body.capture,
                                 return_url=body.return_url)
    return PaymentOut.of(payment)


@api.route("/orders/<id:order_id>/payments", methods=["GET"])
@operation(summary="An order's payments, oldest first", response=PaymentList, tag=TAG)
def list_payments(actor: Actor, order_id: int) -> PaymentList:
    orders.get_order(db(), actor, order_id)  # another seller's order is not found, not an empty list
    return PaymentList(items=[PaymentOut.of(p) for p in services.payments_of(db(), actor, order_id)])

