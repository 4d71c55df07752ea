"""/api/v1/orders"""

from __future__ import annotations

from hub.accounts.actor import Actor
from hub.api import api
from hub.api.framework import next_cursor, operation
from hub.api.schemas import FulfillmentOut, OrderDetailOut, OrderEventOut, OrderLineOut, OrderOut, OrderPage
from hub.extensions import db
from hub.orders import services
from hub.orders.models import Order
from hub.orders.schemas import OrderFilters, OrderIn, ShipmentIn, StatusMove
from hub.orders.status import allowed_moves

TAG = "orders"


_ORDER_AMOUNTS = ("subtotal", "discount_total", "shipping_total", "tax_total", "grand_total", "refunded_total")
_LINE_AMOUNTS = ("unit_price", "discount", "tax", "line_total")


def _order(order: Order, detail: bool = False) -> OrderOut:
    db().flush()  # rows added by the use case (timeline events, shipments) get their ids and timestamps
    # Amounts are stored with 4 decimals; the API shows them in the currency's ISO minor units (JPY 0, KWD 3).
    fields = {k: getattr(order, k) for k in OrderOut.model_fields
              if k not in {"channel", "allowed_moves", "lines", "status"}}
    fields.update({k: order.money(getattr(order, k)).amount for k in _ORDER_AMOUNTS})
    fields.update(
        channel=order.channel.name, status=str(order.status),
        allowed_moves=sorted(str(s) for s in allowed_moves(order.status)),
        lines=[OrderLineOut.model_validate({
            **{k: getattr(line, k) for k in OrderLineOut.model_fields if k != "matched"},
            **{k: order.money(getattr(line, k)).amount for k in _LINE_AMOUNTS}, "matched": line.is_matched})
               for line in order.lines],
    )
    if not detail:
        return OrderOut(**fields)
    return OrderDetailOut(
        **fields,
        events=[OrderEventOut.model_validate({
            "kind": e.kind, "from_status": e.from_status and str(e.from_status),
            "to_status": e.to_status and str(e.to_status), "actor": e.actor, "message": e.message,
            "created_at": e.created_at}) for e in order.events],
        fulfillments=[FulfillmentOut(id=f.id, carrier=f.carrier, tracking_number=f.tracking_number,
                                     created_at=f.created_at, lines={fl.order_line_id: fl.quantity for fl in f.lines})
                      for f in order.fulfillments],
    )


@api.route("/orders", methods=["GET"])
@operation(summary="List orders, newest first", query=OrderFilters, response=OrderPage, tag=TAG)
def list_orders(actor: Actor, query: OrderFilters) -> OrderPage:
    rows = services.list_orders(db(), actor, query)
    return OrderPage(items=[_order(o) for o in rows], next_after=next_cursor(rows, query.limit))


@api.route("/orders", methods=["POST"])
@operation(summary="Create an order (reserves its stock)", body=OrderIn, response=OrderDetailOut, status=201,
           errors=(409,), tag=TAG)
def create_order(actor: Actor, body: OrderIn) -> OrderOut:
    order = services.create_order(db(), actor, body)
    return _order(order, detail=True)


@api.route("/orders/<id:order_id>", methods=["GET"])
@operation(summary="Get an order with its timeline", response=OrderDetailOut, tag=TAG)
def get_order(actor: Actor, order_id: int) -> OrderOut:
    return _order(services.get_order(db(), actor, order_id), detail=True)


@api.route("/orders/<id:order_id>/status", methods=["POST"])
@operation(summary="Move an order to another status", body=StatusMove, response=OrderDetailOut, errors=(409,),
           tag=TAG)
def move_order(actor: Actor, order_id: int, body: StatusMove) -> OrderOut:
    return _order(services.move(db(), actor, order_id, body), detail=True)


@api.route("/orders/<id:order_id>/cancel", methods=["POST"])
@operation(summary="Cancel an order (releases its stock)", response=OrderDetailOut, errors=(409,), tag=TAG)
def cancel_order(actor: Actor, order_id: int) -> OrderOut:
    return _order(services.move(db(), actor, order_id, StatusMove(status="cancelled")), detail=True)


@api.route("/orders/<id:order_id>/shipments", methods=["POST"])
@operation(summary="Ship some or all open units", body=ShipmentIn, response=OrderDetailOut, status=201,
           errors=(409,), tag=TAG)
def ship_order(actor: Actor, order_id: int, body: ShipmentIn) -> OrderOut:
    return _order(services.ship(db(), actor, order_id, body), detail=True)
