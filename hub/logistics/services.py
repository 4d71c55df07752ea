"""Shipping use cases: carrier accounts, quotes, labels, cancellation, tracking. Every shipment, from any channel,
goes through the hub's carriers.

    quote(session, actor, order_id, account_id, carriers)                 -> [Rate]
    buy_label(sessions, actor, order_id, account_id, service, carriers)   -> Shipment (+ the order's Fulfillment)
    cancel(sessions, actor, shipment_id, carriers)                        -> Shipment (label voided)
    record_tracking(session, shipment, events)                            -> new events stored
    poll_tracking(sessions, carriers)                                     -> shipments polled
    receive_webhook(sessions, box, kind, account_id, headers, body, carriers)
    label_pdf(session, actor, shipment_id)                                -> the label's bytes

Buying a label never buys two. The Shipment row with its idempotency key is committed *before* the carrier is
called, and the key goes with every attempt (EasyPost: the shipment's reference; DHL: Message-Reference); a
buy_label given the key of a shipment still "buying" resumes it with the same key, and one already bought
returns it. Once bought, the label and the order's Fulfillment (hub.orders.services.ship: stock consumed, the
order (partially_)fulfilled, the marketplace told by the sync engine) are stored in one transaction.

Tracking events are stored once (unique per shipment, time and status) whether they come by poll or webhook, in
any order; when the last open parcel of a fulfilled order is delivered, the order moves to delivered through
the state machine (hub.orders.services.move).
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog.models import Product
from hub.channels.secrets import CredentialBox
from hub.db import dialect_insert, unique_or_raise, unit_of_work
from hub.errors import (
    Conflict,
    DomainError,
    ExternalError,
    IllegalTransition,
    NotFound,
    PermanentError,
    ValidationError,
)
from hub.logistics import tracking
from hub.logistics.carriers import REQUIRED, CarrierFactory
from hub.logistics.customs import Declaration, declaration_for
from hub.logistics.models import CARRIER_KINDS, CarrierAccount, Shipment, TrackingEvent
from hub.logistics.port import Address, Label, Parcel, Rate, ShipmentRequest, TrackEvent, TrackingUpdate
from hub.money import Money
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import ShipLine, ShipmentIn, StatusMove
from hub.orders.status import OrderStatus
from hub.tenancy import owned
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

MIN_PARCEL_GRAMS = 100  # packaging: a parcel of goods without weights still weighs something
# Tracking stops being polled once final; a cancelled label is not polled at all.
POLL_BATCH = 100
CANCELLABLE = (None, tracking.PRE_TRANSIT)


# --- accounts ------------------------------------------------------------------------------------------------------
def create_account(session: Session, actor: Actor, box: CredentialBox, *, kind: str, name: str, base_url: str,
                   credentials: Mapping[str, str], webhook_secret: str = "",
                   origin: Mapping[str, str] | None = None) -> CarrierAccount:
    actor.require(Role.OWNER, "connect carriers")
    seller_id = actor.acting_seller("connect carriers")
    bad = {}
    if kind not in CARRIER_KINDS:
        bad["kind"] = f"one of {', '.join(CARRIER_KINDS)}"
    missing = [k for k in REQUIRED.get(kind, ()) if not credentials.get(k)]
    if missing:
        bad["credentials"] = f"needs {', '.join(missing)}"
    if not (origin or {}).get("country"):
        bad["origin"] = "the ship-from address needs a country"
    if bad:
        raise ValidationError("the carrier account is incomplete", fields=bad)
    account = CarrierAccount(seller_id=seller_id, kind=kind, name=name, base_url=base_url,
                             credentials=box.seal(dict(credentials)),
                             webhook_secret=box.seal({"secret": webhook_secret}) if webhook_secret else "",
                             origin=dict(origin or {}))
    session.add(account)
    session.flush()
    return account


def get_account(session: Session, actor: Actor, account_id: int) -> CarrierAccount:
    return owned(session, actor, CarrierAccount, account_id, "carrier account", CarrierAccount.is_active.is_(True))


def get_shipment(session: Session, actor: Actor, shipment_id: int) -> Shipment:
    return owned(session, actor, Shipment, shipment_id, "shipment")


def shipments_of(session: Session, actor: Actor, order_id: int) -> list[Shipment]:
    return list(session.scalars(sa.select(Shipment).where(Shipment.order_id == order_id,
                                                          actor.sees(Shipment.seller_id)).order_by(Shipment.id)))


# --- what is shipped -----------------------------------------------------------------------------------------------
def _address(raw: Mapping[str, Any], **extra: str) -> Address:
    return Address(name=str(raw.get("name") or ""), company=str(raw.get("company") or ""),
                   line1=str(raw.get("line1") or ""), line2=str(raw.get("line2") or ""),
                   city=str(raw.get("city") or ""), postal_code=str(raw.get("postal_code") or ""),
                   state=str(raw.get("region") or raw.get("state") or ""),
                   country=str(raw.get("country") or "").upper(),
                   phone=str(raw.get("phone") or extra.get("phone") or ""),
                   email=str(raw.get("email") or extra.get("email") or ""))


def _parcel_lines(order: Order, lines: Sequence[ShipLine] | None) -> list[tuple[int, int]]:
    """(line id, quantity) of the parcel: the given lines, else every unit still open."""
    if lines:
        return [(line.line_id, line.quantity) for line in lines]
    return [(line.id, line.quantity_open) for line in order.lines if line.quantity_open]


def shipment_request(session: Session, actor: Actor, order: Order, account: CarrierAccount, reference: str,
                     lines: Sequence[ShipLine] | None = None, *, contents: str = "merchandise",
                     incoterm: str = "DAP") -> ShipmentRequest:
    """The carrier-neutral request for a parcel of `order`: addresses, weight, and the customs declaration when the
    route needs one (hub.logistics.customs; a ValidationError names everything missing)."""
    if not order.shipping_address:
        raise ValidationError(f"order {order.id} has no shipping address", fields={"shipping_address": "missing"})
    parcel_lines = _parcel_lines(order, lines)
    if not parcel_lines:
        raise ValidationError("nothing left to ship", fields={"lines": "nothing open"})
    by_id = {line.id: line for line in order.lines}
    unknown = [line_id for line_id, _ in parcel_lines if line_id not in by_id]
    if unknown:
        raise ValidationError(f"order {order.id} has no line {unknown[0]}", fields={"lines": "not lines of the order"})
    origin = account.origin or {}
    declaration = declaration_for(session, actor, order.id, line_ids=[line_id for line_id, _ in parcel_lines],
                                  contents=contents, incoterm=incoterm, from_country=origin.get("country"))
    if declaration is not None and lines:
        declaration = _part_of_lines(declaration, {by_id[i].line_no: q for i, q in parcel_lines})
    products = {p.id: p for p in session.scalars(sa.select(Product).where(Product.id.in_(
        [by_id[line_id].product_id for line_id, _ in parcel_lines if by_id[line_id].product_id is not None])))}
    grams = sum((products[by_id[i].product_id].weight_grams or 0) * q for i, q in parcel_lines
                if by_id[i].product_id in products)
    return ShipmentRequest(
        reference=reference, ship_from=_address(origin), ship_to=_address(order.shipping_address,
                                                                         phone=order.buyer_phone or "",
                                                                         email=order.buyer_email or ""),
        parcel=Parcel(weight_grams=max(grams, MIN_PARCEL_GRAMS)), declaration=declaration,
        description=f"Order {order.external_id}")


def _part_of_lines(declaration: Declaration, quantities: Mapping[int, int]) -> Declaration:
    """The declaration values whole lines; a parcel carrying part of a line declares that part."""
    items = []
    for item in declaration.items:
        quantity = quantities[item.line_no]
        if quantity != item.quantity:
            value = Money(item.value * quantity / item.quantity, item.currency).rounded().amount
            item = dataclasses.replace(item, quantity=quantity, value=value,
                                       weight_grams=item.weight_grams * quantity // item.quantity)
        items.append(item)
    return dataclasses.replace(declaration, items=tuple(items), total_value=sum((i.value for i in items), Decimal(0)),
                               total_weight_grams=sum(i.weight_grams for i in items))


def _new_key() -> str:
    return f"hub-{uuid.uuid4().hex}"  # 36 characters: within DHL's 28-36 for Message-Reference


# --- quote and buy -------------------------------------------------------------------------------------------------
def quote(session: Session, actor: Actor, order_id: int, account_id: int, carriers: CarrierFactory,
          lines: Sequence[ShipLine] | None = None, *, contents: str = "merchandise",
          incoterm: str = "DAP") -> list[Rate]:
    """What each of the account's services would cost for the order's parcel, cheapest first."""
    actor.require(Role.STAFF, "ship orders")
    order = orders.get_order(session, actor, order_id)
    account = get_account(session, actor, account_id)
    request = shipment_request(session, actor, order, account, _new_key(), lines, contents=contents,
                               incoterm=incoterm)
    return sorted(carriers(account).quote(request), key=lambda r: (r.amount.currency, r.amount.amount))


def buy_label(sessions: sessionmaker[Session], actor: Actor, order_id: int, account_id: int, service: str,
              carriers: CarrierFactory, lines: Sequence[ShipLine] | None = None, *, contents: str = "merchandise",
              incoterm: str = "DAP", key: str | None = None) -> Shipment:
    """Buy a label for a parcel of the order and record its shipment. `key` (say, a form's token) makes a repeated
    request resume or return the first one instead of buying again."""
    actor.require(Role.STAFF, "ship orders")
    seller_id = actor.acting_seller("ship orders")
    key = key or _new_key()
    with unit_of_work(sessions, seller_id) as session:
        existing = session.scalar(sa.select(Shipment).where(Shipment.idempotency_key == key))
        if existing is not None and (existing.order_id, existing.account_id, existing.seller_id) != (
                order_id, account_id, seller_id):
            raise Conflict("this idempotency key belongs to another shipment", fields={"key": "already used"})
        if existing is not None and existing.state != "buying":
            return existing
        order = orders.get_order(session, actor, order_id)
        # A purchase under way is finished whatever became of the order: the carrier may have bought the label.
        if existing is None and order.status not in (OrderStatus.PAID, OrderStatus.PARTIALLY_FULFILLED):
            raise IllegalTransition(f"an order that is {order.status} cannot ship; only paid orders ship",
                                    fields={"status": str(order.status)})
        account = get_account(session, actor, account_id)
        if existing is not None:  # resuming: the parcel as first asked for
            lines = [ShipLine(**line) for line in existing.lines] if existing.lines else None
            service = existing.service or service
            contents = (existing.customs or {}).get("contents", contents)
            incoterm = (existing.customs or {}).get("incoterm", incoterm)
        request = shipment_request(session, actor, order, account, key, lines, contents=contents, incoterm=incoterm)
        if existing is None:
            existing = Shipment(seller_id=seller_id, order_id=order_id, account_id=account_id, idempotency_key=key,
                                state="buying", service=service,
                                lines=[{"line_id": i, "quantity": q} for i, q in _parcel_lines(order, lines)],
                                customs=_jsonable(request.declaration))
            # Two requests racing with one key: the database's unique key lets one through.
            with unique_or_raise(session, lambda: Conflict("a purchase with this key is already under way",
                                                           fields={"key": "in use"})):
                session.add(existing)
        session.flush()
        shipment_id, known_carrier_id = existing.id, existing.carrier_shipment_id
        parcel = [ShipLine(**line) for line in existing.lines or []]

    carrier = carriers(account)

    def created(carrier_shipment_id: str) -> None:
        # Kept before buying: a retry buys on this shipment rather than creating another.
        with unit_of_work(sessions, seller_id) as session:
            row = session.get(Shipment, shipment_id)
            assert row is not None
            row.carrier_shipment_id = carrier_shipment_id

    try:
        label = carrier.buy(request, service, carrier_shipment_id=known_carrier_id, created=created)
    except PermanentError as exc:
        _failed(sessions, seller_id, shipment_id, exc)
        raise
    # A TransientError leaves the shipment "buying": buy_label with its key (or resume_purchases) finishes it.
    return _store_label(sessions, actor, seller_id, shipment_id, label, parcel)


def _jsonable(declaration: Any) -> dict[str, Any] | None:
    return None if declaration is None else dataclasses.asdict(declaration)


def _failed(sessions: sessionmaker[Session], seller_id: int, shipment_id: int, exc: ExternalError) -> None:
    with unit_of_work(sessions, seller_id) as session:
        shipment = session.get(Shipment, shipment_id)
        assert shipment is not None
        shipment.state, shipment.error = "failed", exc.message[:2000]


def _store_label(sessions: sessionmaker[Session], actor: Actor, seller_id: int, shipment_id: int, label: Label,
                 parcel: list[ShipLine]) -> Shipment:
    with unit_of_work(sessions, seller_id) as session:
        # Locked: a user's retry and the job finishing the same purchase store it (and fulfil the order) once.
        shipment = session.scalar(sa.select(Shipment).where(Shipment.id == shipment_id).with_for_update(of=Shipment))
        assert shipment is not None
        if shipment.state != "buying":
            return shipment
        shipment.state, shipment.purchased_at, shipment.error = "purchased", utcnow(), ""
        shipment.carrier_shipment_id, shipment.tracking_code = label.carrier_shipment_id, label.tracking_code
        shipment.tracker_id, shipment.label_pdf = label.tracker_id, label.pdf
        shipment.carrier, shipment.service = label.carrier, label.service or shipment.service
        if label.amount is not None:
            shipment.rate_amount, shipment.rate_currency = label.amount.amount, label.amount.currency
        shipment.tracking_status = tracking.PRE_TRANSIT
        try:
            with session.begin_nested():
                order = orders.ship(session, actor, shipment.order_id, ShipmentIn(
                    lines=parcel or None, carrier=label.carrier[:64], tracking_number=label.tracking_code[:64]))
                session.flush()
        except DomainError as exc:
            # The label is paid for: keep it, and say why the order was not marked shipped (cancelled meanwhile,
            # units shipped by hand) rather than lose it or buy it again on every retry.
            shipment.error = f"label bought, but the order was not marked shipped: {exc.message}"[:2000]
            log.warning("shipment %s: %s", shipment.id, shipment.error)
            return shipment
        shipment.fulfillment_id = order.fulfillments[-1].id
        return shipment


def resume_purchases(sessions: sessionmaker[Session], carriers: CarrierFactory, *, limit: int = 20) -> int:
    """Finish the shipments left "buying" by a transient failure, each with its own key: returns how many."""
    with sessions() as session:
        pending = session.execute(sa.select(Shipment.id, Shipment.seller_id, Shipment.order_id, Shipment.account_id,
                                            Shipment.service, Shipment.idempotency_key)
                                  .where(Shipment.state == "buying").order_by(Shipment.id).limit(limit)).all()
    done = 0
    for shipment_id, seller_id, order_id, account_id, service, key in pending:
        try:
            buy_label(sessions, Actor.system(seller_id, "carrier labels"), order_id, account_id, service, carriers,
                      key=key)
            done += 1
        except (ExternalError, DomainError) as exc:  # one stuck purchase never stops the others
            log.warning("shipment %s still not bought: %s", shipment_id, exc.message)
    return done


# --- cancel --------------------------------------------------------------------------------------------------------
def cancel(sessions: sessionmaker[Session], actor: Actor, shipment_id: int, carriers: CarrierFactory) -> Shipment:
    """Void an unused label (the carrier refunds it). The order's fulfilment stays on record: the state machine
    has no way back from fulfilled, so a replacement is bought as a new shipment of the same parcel."""
    actor.require(Role.STAFF, "ship orders")
    seller_id = actor.acting_seller("ship orders")
    with unit_of_work(sessions, seller_id) as session:
        shipment = get_shipment(session, actor, shipment_id)
        if shipment.state != "purchased" or shipment.tracking_status not in CANCELLABLE:
            raise Conflict(f"shipment {shipment_id} is {shipment.state}/{shipment.tracking_status}: only a bought "
                           "label not yet scanned can be cancelled", fields={"state": shipment.state})
        account = shipment.account
        ids = (shipment.carrier_shipment_id, shipment.tracking_code)
    if not carriers(account).cancel(*ids):
        raise Conflict("the carrier refused to void the label", code="refund_refused")
    with unit_of_work(sessions, seller_id) as session:
        shipment = get_shipment(session, actor, shipment_id)
        shipment.state = "cancelled"
        return shipment


# --- tracking ------------------------------------------------------------------------------------------------------
def record_tracking(session: Session, shipment: Shipment, events: Sequence[TrackEvent]) -> int:
    """Store the events not yet stored (the database's unique key decides, so a webhook racing a poll stores each
    once), update the shipment's status and, on delivery of an order's last parcel, move the order to delivered."""
    insert = dialect_insert(session)
    new = 0
    for event in events:
        if event.status not in tracking.STATUSES:
            raise ValueError(f"not a tracking status: {event.status!r}")
        result = session.execute(insert(TrackingEvent.__table__).values(
            seller_id=shipment.seller_id, shipment_id=shipment.id, status=event.status,
            carrier_status=event.carrier_status[:64], description=event.description, location=event.location[:200],
            occurred_at=event.occurred_at, received_at=utcnow()).on_conflict_do_nothing()
            .returning(TrackingEvent.__table__.c.id))
        new += len(result.all())  # RETURNING, not rowcount: psycopg reports -1 for a skipped conflict
    stored = session.execute(sa.select(TrackingEvent.status, TrackingEvent.occurred_at)
                             .where(TrackingEvent.shipment_id == shipment.id)).all()
    status = tracking.current_status(shipment.tracking_status,
                                     [TrackEvent(status=s, carrier_status="", occurred_at=at) for s, at in stored])
    if status != shipment.tracking_status:
        shipment.tracking_status = status
    if status == tracking.DELIVERED:
        _deliver_order(session, shipment)
    return new


def _deliver_order(session: Session, shipment: Shipment) -> None:
    actor = Actor.system(shipment.seller_id, f"carrier {shipment.account.kind}")
    order = orders.get_order(session, actor, shipment.order_id)
    if order.status is not OrderStatus.FULFILLED:
        return  # partly shipped, already delivered, or refunded: nothing to move
    parcels = session.scalars(sa.select(Shipment.tracking_status).where(
        Shipment.order_id == order.id, Shipment.state == "purchased")).all()
    if all(status == tracking.DELIVERED for status in parcels):
        orders.move(session, actor, order.id, StatusMove(status=OrderStatus.DELIVERED,
                                                         note=f"delivered: {shipment.tracking_code}"))


def apply_updates(session: Session, account: CarrierAccount, updates: Sequence[TrackingUpdate]) -> int:
    """Record each update against the account's shipment with its tracking code; unknown codes are skipped."""
    new = 0
    for update in updates:
        shipment = session.scalar(sa.select(Shipment).where(
            Shipment.account_id == account.id, Shipment.seller_id == account.seller_id,
            Shipment.tracking_code == update.tracking_code, Shipment.state == "purchased"))
        if shipment is None:
            log.info("tracking update for unknown code %s on carrier account %s", update.tracking_code, account.id)
            continue
        new += record_tracking(session, shipment, update.events)
    return new


def poll_tracking(sessions: sessionmaker[Session], carriers: CarrierFactory, *, limit: int = POLL_BATCH) -> int:
    """Ask the carriers about the bought parcels not yet delivered or returned, least recently polled first; each
    in its own transaction, so one carrier's failure holds up nobody else's. Returns how many were polled."""
    with sessions() as session:
        rows = session.execute(
            sa.select(Shipment.id, Shipment.seller_id).where(
                Shipment.state == "purchased",
                sa.or_(Shipment.tracking_status.is_(None), Shipment.tracking_status.not_in(tracking.FINAL)))
            .order_by(Shipment.tracked_at.is_not(None), Shipment.tracked_at, Shipment.id).limit(limit)).all()
    polled = 0
    for shipment_id, seller_id in rows:
        with unit_of_work(sessions, seller_id) as session:
            shipment = session.get(Shipment, shipment_id)
            assert shipment is not None
            account, code, tracker = shipment.account, shipment.tracking_code, shipment.tracker_id
            carrier_name = shipment.carrier
        try:
            events = carriers(account).track(code, carrier=carrier_name, tracker_id=tracker)
        except ExternalError as exc:
            log.warning("tracking %s (shipment %s) failed: %s", code, shipment_id, exc.message)
            continue
        with unit_of_work(sessions, seller_id) as session:
            shipment = session.get(Shipment, shipment_id)
            assert shipment is not None
            record_tracking(session, shipment, events)
            shipment.tracked_at = utcnow()
        polled += 1
    return polled


def receive_webhook(sessions: sessionmaker[Session], box: CredentialBox, kind: str, account_id: int,
                    headers: Mapping[str, str], body: bytes, carriers: CarrierFactory) -> dict[str, Any]:
    """A carrier's tracking webhook: the signature is checked before anything is read or stored (a bad one raises
    a PermanentError with http_status 401); the events are then recorded once."""
    with sessions() as session:
        account = session.scalar(sa.select(CarrierAccount).where(CarrierAccount.id == account_id,
                                                                 CarrierAccount.kind == kind,
                                                                 CarrierAccount.is_active.is_(True)))
        if account is None:
            raise NotFound(f"no {kind} carrier account {account_id}", code="unknown_account")
        session.expunge(account)
    secret = box.open(account.webhook_secret).get("secret", "")
    updates = carriers(account).parse_webhook(headers, body, secret)
    with unit_of_work(sessions, account.seller_id) as session:
        account = session.merge(account)
        new = apply_updates(session, account, updates)
    return {"status": "applied" if new else ("duplicate" if updates else "ignored"), "events": new}


# --- the label -----------------------------------------------------------------------------------------------------
def label_pdf(session: Session, actor: Actor, shipment_id: int) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a shipment's label, for the dashboard's download."""
    shipment = get_shipment(session, actor, shipment_id)
    if not shipment.label_pdf:
        raise NotFound(f"shipment {shipment_id} has no label")
    return f"label-{shipment.tracking_code or shipment.id}.pdf", shipment.label_pdf
