"""The shipping services with a hand-written fake carrier at the port: the key is committed before the carrier is
asked, a label makes exactly one Shipment and one Fulfillment, failures leave the order as it was, tracking is
stored once and delivers the order when its last parcel arrives, and another seller sees nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.channels.models import Channel
from hub.errors import Conflict, IllegalTransition, NotFound, PermanentError, TransientError, ValidationError
from hub.logistics import services
from hub.logistics.models import CarrierAccount, Shipment, TrackingEvent
from hub.logistics.port import Label, Rate, ShipmentRequest, TrackEvent, TrackingUpdate
from hub.money import Money
from hub.orders import services as orders
from hub.orders.models import Fulfillment, Order
from hub.orders.schemas import ShipLine, StatusMove
from hub.orders.status import OrderStatus
from tests.logistics.helpers import BOX, carrier_account, order_status, paid_order, shop

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SECRET = "fake-secret"


@dataclass
class FakeCarrier:
    """A carrier that keeps what it was asked in memory and checks the hub committed the key before buying."""

    sessions: sessionmaker[Session]
    kind: str = "easypost"
    fail: list[Exception] = field(default_factory=list)  # raised by the next buy() calls, in order
    bought: dict[str, Label] = field(default_factory=dict)  # by idempotency key
    requests: list[ShipmentRequest] = field(default_factory=list)
    given_ids: list[str] = field(default_factory=list)  # the carrier shipment id the hub handed back, per buy
    events: dict[str, list[TrackEvent]] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)
    refuse_cancel: bool = False
    track_fails: set[str] = field(default_factory=set)

    def quote(self, request: ShipmentRequest) -> list[Rate]:
        return [Rate("FakePost", "Express", Money(Decimal("12.00"), "EUR")),
                Rate("FakePost", "Standard", Money(Decimal("4.90"), "EUR"))]

    def buy(self, request: ShipmentRequest, service: str, *, carrier_shipment_id: str = "",
            created: Callable[[str], None] | None = None) -> Label:
        with self.sessions() as session:  # a fresh connection: sees only what was committed
            committed = session.scalar(sa.select(Shipment.state).where(Shipment.idempotency_key == request.reference))
        assert committed == "buying", "the key must be committed before the carrier is called"
        self.requests.append(request)
        self.given_ids.append(carrier_shipment_id)
        if request.reference not in self.bought:  # the carrier's own idempotency: one label per key
            n = len(self.bought) + 1
            self.bought[request.reference] = Label(f"fake-{n}", f"FAKE{n:06d}", "FakePost", service,
                                                   b"%PDF-1.4 fake label " + str(n).encode(),
                                                   Money(Decimal("4.90"), "EUR"))
            if created is not None:
                created(f"fake-{n}")
        if self.fail:
            raise self.fail.pop(0)
        return self.bought[request.reference]

    def cancel(self, carrier_shipment_id: str, tracking_code: str) -> bool:
        self.cancelled.append(carrier_shipment_id)
        return not self.refuse_cancel

    def track(self, tracking_code: str, *, carrier: str = "", tracker_id: str = "") -> list[TrackEvent]:
        if tracking_code in self.track_fails:
            raise TransientError("fake carrier is down")
        return self.events.get(tracking_code, [])

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> list[TrackingUpdate]:
        if headers.get("X-Fake-Signature") != secret:
            raise PermanentError("bad signature", code="bad_signature")
        raw = json.loads(body)
        return [TrackingUpdate(raw["code"], tuple(event(s, m) for s, m in raw["events"]))]


def event(status: str, minutes: int) -> TrackEvent:
    return TrackEvent(status=status, carrier_status=status.upper(), occurred_at=T0 + timedelta(minutes=minutes))


@pytest.fixture
def fake(sessions) -> FakeCarrier:
    return FakeCarrier(sessions)


@pytest.fixture
def setup(sessions, alice) -> tuple[int, int]:
    shop(sessions, alice)
    return paid_order(sessions, alice, to="US"), carrier_account(sessions, alice, "easypost", "http://fake",
                                                                 {"api_key": "k"}, webhook_secret=SECRET)


def carriers_of(fake: FakeCarrier):
    def build(account: CarrierAccount) -> FakeCarrier:
        return fake
    return build


def counts(sessions) -> tuple[int, int]:
    with sessions() as session:
        return (session.scalar(sa.select(sa.func.count()).select_from(Shipment)),
                session.scalar(sa.select(sa.func.count()).select_from(Fulfillment)))


def test_quotes_come_cheapest_first(sessions, alice, setup, fake):
    order_id, account_id = setup
    with sessions() as session:
        rates = services.quote(session, alice.actor, order_id, account_id, carriers_of(fake))
    assert [r.service for r in rates] == ["Standard", "Express"]


def test_a_bought_label_records_one_shipment_and_fulfils_the_order(sessions, alice, setup, fake):
    order_id, account_id = setup

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))

    assert (shipment.state, shipment.tracking_code, shipment.rate_amount, shipment.rate_currency) == (
        "purchased", "FAKE000001", Decimal("4.90"), "EUR")
    (request,) = fake.requests
    assert request.reference == shipment.idempotency_key and len(shipment.idempotency_key) == 36
    assert request.ship_to.country == "US" and request.ship_from.country == "GB"
    assert request.parcel.weight_grams == 900  # 2 x 250 g tea + 400 g mug
    assert [item.sku for item in request.declaration.items] == ["TEA-1", "MUG-1"]
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED
    with sessions() as session:
        (fulfillment,) = session.get(Order, order_id).fulfillments
        assert (fulfillment.id, fulfillment.carrier, fulfillment.tracking_number) == (
            shipment.fulfillment_id, "FakePost", "FAKE000001")
        assert fulfillment.channel_status == "not_needed"  # a direct order: no marketplace to tell


def test_a_parcel_of_some_units_partly_fulfils_the_order_and_declares_only_those(sessions, alice, setup, fake):
    order_id, account_id = setup
    with sessions() as session:
        tea = session.get(Order, order_id).lines[0]

    services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake),
                       lines=[ShipLine(line_id=tea.id, quantity=1)])

    (item,) = fake.requests[0].declaration.items
    assert (item.sku, item.quantity, item.value, item.weight_grams) == ("TEA-1", 1, Decimal("10.00"), 250)
    assert fake.requests[0].declaration.total_value == Decimal("10.00")
    assert order_status(sessions, order_id) is OrderStatus.PARTIALLY_FULFILLED


def test_a_refused_purchase_marks_the_shipment_failed_and_ships_nothing(sessions, alice, setup, fake):
    order_id, account_id = setup
    fake.fail.append(PermanentError("address not deliverable"))

    with pytest.raises(PermanentError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))

    with sessions() as session:
        shipment = session.scalars(sa.select(Shipment)).one()
        assert (shipment.state, shipment.error, shipment.fulfillment_id) == ("failed", "address not deliverable",
                                                                             None)
    assert counts(sessions) == (1, 0) and order_status(sessions, order_id) is OrderStatus.PAID


def test_a_lost_answer_is_finished_with_the_same_key_and_buys_one_label(sessions, alice, setup, fake):
    order_id, account_id = setup
    fake.fail.append(TransientError("timed out after the carrier bought the label"))

    with pytest.raises(TransientError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake), key="form-1")
    assert order_status(sessions, order_id) is OrderStatus.PAID

    again = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake),
                               key="form-1")
    once_more = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake),
                                   key="form-1")

    assert len(fake.bought) == 1 and {r.reference for r in fake.requests} == {"form-1"}
    assert len(fake.requests) == 2  # the resumed call; the third found the shipment bought and asked nobody
    assert fake.given_ids == ["", "fake-1"]  # the retry buys on the shipment the first attempt created
    assert again.id == once_more.id and again.state == "purchased"
    assert counts(sessions) == (1, 1) and order_status(sessions, order_id) is OrderStatus.FULFILLED


def test_interrupted_purchases_are_resumed_by_the_job(sessions, alice, setup, fake):
    order_id, account_id = setup
    fake.fail.append(TransientError("connection reset"))
    with pytest.raises(TransientError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))

    assert services.resume_purchases(sessions, carriers_of(fake)) == 1
    assert services.resume_purchases(sessions, carriers_of(fake)) == 0
    assert len(fake.bought) == 1 and counts(sessions) == (1, 1)


def test_a_key_of_another_order_is_refused(sessions, alice, setup, fake):
    order_id, account_id = setup
    other = paid_order(sessions, alice, to="US")
    services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake), key="k-1")
    with pytest.raises(Conflict):
        services.buy_label(sessions, alice.actor, other, account_id, "Standard", carriers_of(fake), key="k-1")


def test_an_unpaid_order_or_an_incomplete_declaration_records_no_shipment(sessions, alice, setup, fake):
    order_id, account_id = setup
    services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))
    with pytest.raises(IllegalTransition):  # fulfilled now
        services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))

    with sessions.begin() as session:
        session.execute(sa.text("UPDATE products SET hs_code = NULL WHERE sku = 'MUG-1'"))
    with pytest.raises(ValidationError) as refused:
        services.buy_label(sessions, alice.actor, paid_order(sessions, alice, to="US"), account_id, "Standard",
                           carriers_of(fake))
    assert "lines[1].hs_code" in refused.value.fields
    assert counts(sessions) == (1, 1) and len(fake.requests) == 1


def test_tracking_is_stored_once_and_the_last_parcel_delivered_delivers_the_order(sessions, alice, setup, fake):
    order_id, account_id = setup
    with sessions() as session:
        tea, mug = session.get(Order, order_id).lines
    first = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake),
                               lines=[ShipLine(line_id=tea.id, quantity=2)])
    second = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake),
                                lines=[ShipLine(line_id=mug.id, quantity=1)])
    fake.events[first.tracking_code] = [event("pre_transit", 0), event("in_transit", 10), event("delivered", 60)]
    fake.events[second.tracking_code] = [event("pre_transit", 0), event("in_transit", 15)]

    assert services.poll_tracking(sessions, carriers_of(fake)) == 2
    assert services.poll_tracking(sessions, carriers_of(fake)) == 1  # the delivered parcel is left alone
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED

    fake.events[second.tracking_code].append(event("delivered", 90))
    services.poll_tracking(sessions, carriers_of(fake))

    assert order_status(sessions, order_id) is OrderStatus.DELIVERED
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 6
        order = session.get(Order, order_id)
        assert [e.to_status for e in order.events if e.to_status][-1] is OrderStatus.DELIVERED


def test_one_carrier_failing_does_not_stop_the_others_being_polled(sessions, alice, setup, fake):
    order_id, account_id = setup
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))
    fake.track_fails.add(shipment.tracking_code)
    assert services.poll_tracking(sessions, carriers_of(fake)) == 0
    fake.track_fails.clear()
    fake.events[shipment.tracking_code] = [event("in_transit", 5)]
    assert services.poll_tracking(sessions, carriers_of(fake)) == 1


def test_a_webhook_is_checked_before_anything_is_stored(sessions, alice, setup, fake):
    order_id, account_id = setup
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))
    body = json.dumps({"code": shipment.tracking_code, "events": [["in_transit", 5], ["delivered", 50]]}).encode()

    with pytest.raises(PermanentError):
        services.receive_webhook(sessions, BOX, "easypost", account_id, {"X-Fake-Signature": "forged"}, body,
                                 carriers_of(fake))
    assert order_status(sessions, order_id) is OrderStatus.FULFILLED

    receipt = services.receive_webhook(sessions, BOX, "easypost", account_id, {"X-Fake-Signature": SECRET}, body,
                                       carriers_of(fake))
    repeat = services.receive_webhook(sessions, BOX, "easypost", account_id, {"X-Fake-Signature": SECRET}, body,
                                      carriers_of(fake))

    assert (receipt, repeat) == ({"status": "applied", "events": 2}, {"status": "duplicate", "events": 0})
    assert order_status(sessions, order_id) is OrderStatus.DELIVERED
    with pytest.raises(NotFound):
        services.receive_webhook(sessions, BOX, "dhl", account_id, {"X-Fake-Signature": SECRET}, body,
                                 carriers_of(fake))


def test_a_label_not_yet_scanned_can_be_cancelled_once(sessions, alice, setup, fake):
    order_id, account_id = setup
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))
    fake.refuse_cancel = True
    with pytest.raises(Conflict):
        services.cancel(sessions, alice.actor, shipment.id, carriers_of(fake))
    fake.refuse_cancel = False

    assert services.cancel(sessions, alice.actor, shipment.id, carriers_of(fake)).state == "cancelled"
    with pytest.raises(Conflict):
        services.cancel(sessions, alice.actor, shipment.id, carriers_of(fake))
    assert fake.cancelled == ["fake-1", "fake-1"]


def test_the_label_downloads_for_its_seller_only(sessions, alice, bob, setup, fake):
    order_id, account_id = setup
    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))

    with sessions() as session:
        name, pdf = services.label_pdf(session, alice.actor, shipment.id)
        assert (name, pdf) == ("label-FAKE000001.pdf", b"%PDF-1.4 fake label 1")
        with pytest.raises(NotFound):
            services.label_pdf(session, bob.actor, shipment.id)
        with pytest.raises(NotFound):
            services.quote(session, bob.actor, order_id, account_id, carriers_of(fake))
    with pytest.raises(NotFound):
        services.buy_label(sessions, bob.actor, order_id, account_id, "Standard", carriers_of(fake))


def test_an_account_needs_its_credentials_and_a_ship_from_country(sessions, alice):
    with sessions() as session, pytest.raises(ValidationError) as refused:
        services.create_account(session, alice.actor, BOX, kind="dhl", name="DHL", base_url="http://x",
                                credentials={"username": "u"}, origin={"city": "London"})
    assert set(refused.value.fields) == {"credentials", "origin"}


def test_a_marketplace_orders_label_leaves_its_fulfilment_for_the_sync_engine_to_push(sessions, alice, setup, fake):
    order_id, account_id = setup
    with sessions.begin() as session:
        shop_channel = Channel(seller_id=alice.seller_id, kind="woocommerce", name="Shop", currency="EUR")
        session.add(shop_channel)
        session.flush()
        session.get(Order, order_id).channel_id = shop_channel.id

    shipment = services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))

    with sessions() as session:
        fulfillment = session.get(Fulfillment, shipment.fulfillment_id)
        assert (fulfillment.channel_status, fulfillment.tracking_number) == ("pending", "FAKE000001")


def test_a_label_bought_for_an_order_cancelled_meanwhile_is_kept_and_says_so(sessions, alice, setup, fake):
    order_id, account_id = setup
    fake.fail.append(TransientError("timed out"))
    with pytest.raises(TransientError):
        services.buy_label(sessions, alice.actor, order_id, account_id, "Standard", carriers_of(fake))
    with sessions.begin() as session:
        session.info["seller_id"] = alice.seller_id
        orders.move(session, alice.actor, order_id, StatusMove(status=OrderStatus.CANCELLED))

    assert services.resume_purchases(sessions, carriers_of(fake)) == 1

    with sessions() as session:
        shipment = session.scalars(sa.select(Shipment)).one()
        assert (shipment.state, shipment.fulfillment_id, shipment.label_pdf) == ("purchased", None,
                                                                                b"%PDF-1.4 fake label 1")
        assert "not marked shipped" in shipment.error
    assert services.resume_purchases(sessions, carriers_of(fake)) == 0 and len(fake.bought) == 1
