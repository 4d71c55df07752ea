"""Shared by the push, drift and fulfilment tests (no tests here): a hand-written marketplace in memory, a
fixture installing it as connector kind "fake", and builders for a seller's catalogue, listings and orders."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.catalog import stock
from hub.channels.models import Channel, Listing
from hub.channels.port import PriceUpdate, PushResult, Shipment, StockUpdate
from hub.channels.registry import ConnectorSpec
from hub.errors import PermanentError, TransientError
from hub.orders.models import Order, OrderLine
from hub.orders.status import OrderStatus
from hub.sync.env import SyncEnv
from hub.sync.listings import link_all_products


class FakeMarket:
    """A marketplace in memory with a bulk cap per call; records every call it is given.

    refuse: SKUs whose stock/price updates it refuses; unknown: SKUs it does not have at all (refused, and left
    out of read_stock); fail_on_stock_call: the n-th stock call (1-based) raises TransientError;
    fulfil_errors: raised in turn by push_fulfilment (before anything happens); land_then_timeout: the next
    shipment is recorded, then a TransientError raised, as a timeout after the marketplace accepted.
    """

    def __init__(self, cap: int = 5) -> None:
        self.cap = cap
        self.stock: dict[str, int] = {}
        self.prices: dict[str, tuple[Decimal, str]] = {}
        self.stock_calls: list[list[StockUpdate]] = []
        self.price_calls: list[list[PriceUpdate]] = []
        self.read_calls: list[list[str]] = []
        self.shipments: list[Shipment] = []
        self.refuse: set[str] = set()
        self.unknown: set[str] = set()
        self.fail_on_stock_call: int | None = None
        self.fulfil_errors: list[Exception] = []
        self.land_then_timeout = False

    def _batches(self, items: list[Any]) -> list[list[Any]]:
        return [items[i:i + self.cap] for i in range(0, len(items), self.cap)]

    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        results = []
        for batch in self._batches(updates):
            self.stock_calls.append(batch)
            if self.fail_on_stock_call == len(self.stock_calls):
                raise TransientError("fake: 503 after retries")
            for update in batch:
                if update.sku in self.refuse | self.unknown:
                    results.append(PushResult(update.sku, False, f"fake refuses {update.sku}"))
                else:
                    self.stock[update.sku] = update.available
                    results.append(PushResult(update.sku, True))
        return results

    def push_prices(self, updates: list[PriceUpdate]) -> list[PushResult]:
        results = []
        for batch in self._batches(updates):
            self.price_calls.append(batch)
            for update in batch:
                if update.sku in self.refuse | self.unknown:
                    results.append(PushResult(update.sku, False, "fake refuses the price"))
                else:
                    self.prices[update.sku] = (update.price, update.currency)
                    results.append(PushResult(update.sku, True))
        return results

    def read_stock(self, skus: list[str]) -> dict[str, int]:
        found = {}
        for batch in self._batches(skus):
            self.read_calls.append(batch)
            found.update({sku: self.stock[sku] for sku in batch if sku in self.stock and sku not in self.unknown})
        return found

    def push_fulfilment(self, shipment: Shipment) -> None:
        if self.fulfil_errors:
            raise self.fulfil_errors.pop(0)
        if any(s.external_order_id == shipment.external_order_id and not s.lines for s in self.shipments):
            raise PermanentError(f"fake: order {shipment.external_order_id} is already fulfilled")
        self.shipments.append(shipment)
        if self.land_then_timeout:
            self.land_then_timeout = False
            raise TransientError("fake: read timed out")

    @property
    def stock_updates(self) -> list[StockUpdate]:
        return [u for call in self.stock_calls for u in call]


@pytest.fixture
def market(env: SyncEnv) -> FakeMarket:
    """Installs connector kind "fake", which hands out this one FakeMarket."""
    fake = FakeMarket()
    env.registry.specs["fake"] = ConnectorSpec(
        kind="fake", title="Fake market", connector=lambda _connection: fake,
        capabilities=("inventory", "stock_levels", "prices", "fulfilment"), normalize=lambda _raw: [])
    return fake


@pytest.fixture
def fake_channel(make_channel: Callable[..., Channel], market: FakeMarket) -> Callable[..., Channel]:
    def make(seller_id: int, **columns: Any) -> Channel:
        return make_channel(seller_id, "fake", "http://fake.invalid", **columns)

    return make


def link(sessions: sessionmaker[Session], channel: Channel) -> int:
    with sessions.begin() as session:
        session.info["seller_id"] = channel.seller_id
        return link_all_products(session, channel)


def listings(sessions: sessionmaker[Session], channel: Channel) -> dict[str, Listing]:
    with sessions() as session:
        return {row.channel_sku: row for row in session.scalars(
            sa.select(Listing).where(Listing.channel_id == channel.id))}


def marketplace_order(sessions: sessionmaker[Session], actor: Actor, channel: Channel, external_id: str,
                      lines: list[tuple[str, int, str]], product_ids: dict[str, int | None],
                      status: OrderStatus = OrderStatus.PAID) -> int:
    """An imported order of `channel` (as the pull will make them): lines (sku, quantity, external line id),
    stock reserved for the matched ones."""
    now = datetime.now(UTC)
    with sessions.begin() as session:
        session.info["seller_id"] = actor.seller_id
        total = Decimal("10.00") * sum(q for _, q, _ in lines)
        order = Order(seller_id=actor.seller_id, channel_id=channel.id, external_id=external_id, status=status,
                      currency="EUR", subtotal=total, discount_total=Decimal(0), shipping_total=Decimal(0),
                      tax_total=Decimal(0), grand_total=total, placed_at=now, updated_at=now)
        for number, (sku, quantity, line_id) in enumerate(lines, start=1):
            order.lines.append(OrderLine(
                seller_id=actor.seller_id, line_no=number, sku=sku, product_id=product_ids.get(sku), title=sku,
                quantity=quantity, unit_price=Decimal("10.00"), line_total=Decimal("10.00") * quantity,
                external_line_id=line_id))
        session.add(order)
        session.flush()
        for line in order.lines:
            if line.product_id is not None:
                line.quantity_short = stock.reserve_available(session, actor, line)
        return order.id


# --- the Shopify sandbox over real HTTP ---------------------------------------------------------------

class Recorder:
    """WSGI middleware keeping every request body, to count the marketplace calls of one kind."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.bodies: list[str] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self.bodies.append(body.decode("utf-8", "replace"))
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

    def count(self, marker: str) -> int:
        return sum(marker in body for body in self.bodies)


@pytest.fixture(scope="module")
def shopify_front() -> Any:
    from hub.sandbox.server import running_mount

    with running_mount("shopify-sandbox-sync") as mounted:
        yield mounted


@pytest.fixture
def shopify(shopify_front: Any, clock: Any) -> Any:
    """A fresh Shopify sandbox per test behind the module's server: (recorder, app, base URL)."""
    from hub.sandbox.shopify import create_app

    mount, url = shopify_front
    app = create_app(seed=7, orders=30, clock=clock)
    recorder = Recorder(app)
    mount.app = recorder
    return recorder, app, url


@pytest.fixture
def shopify_channel(make_channel: Callable[..., Channel], shopify: Any) -> Callable[..., Channel]:
    _, app, url = shopify
    shop = app.extensions["sandbox"]

    def make(seller_id: int, **columns: Any) -> Channel:
        return make_channel(seller_id, "shopify", url, {"access_token": shop.access_token,
                                                        "api_secret": shop.api_secret}, **columns)

    return make
