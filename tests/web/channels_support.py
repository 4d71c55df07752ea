"""Helpers for the channel and quarantine dashboard tests (no tests here).

`fakeshop` is a connector that needs no network: its orders are in the channel's options, each pull page is
recorded in the audit trail as one throttled attempt (429) and one retry (200), like a real client would. Its
mapping knows currency aliases from ALIASES, so a test can "fix the connector" between a pull and a replay.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from flask import Flask

from hub.accounts.actor import Actor
from hub.channels import registry as channel_registry
from hub.channels.models import Channel, Listing
from hub.channels.port import ChannelLine, ChannelOrder, OrderPage
from hub.channels.registry import Connection, ConnectorSpec, Registry
from hub.channels.secrets import CredentialBox
from hub.channels.values import MappingError
from hub.orders.status import OrderStatus
from hub.outbound.audit import CallRecord
from hub.outbound.models import ExternalCall
from hub.sync.env import SyncEnv
from hub.sync.models import Job, Outcome, QuarantinedOrder, SyncRun
from hub.sync.quarantine import digest

FAKE = "fakeshop"
ALIASES: dict[str, str] = {}  # currency spellings the connector understands; tests add to it to "fix" it
SECRET = "sk_live_51HxQjLkT0pSecretValue99"  # what must never appear on a page


def normalize(bodies: list[Any]) -> list[ChannelOrder]:
    orders = []
    for raw in bodies:
        if not raw.get("id"):
            raise MappingError("the order has no id")
        when = datetime.fromisoformat(raw.get("updated", "2025-03-01T10:00:00+00:00")).astimezone(UTC)
        currency = ALIASES.get(raw["currency"], raw["currency"])
        lines = tuple(ChannelLine(sku=sku, title=sku, quantity=int(qty), unit_price=Decimal(price))
                      for sku, qty, price in raw["lines"])
        orders.append(ChannelOrder(
            external_id=raw["id"], status=OrderStatus(raw.get("status", "paid")), currency=currency, total=None,
            subtotal=None, shipping=None, tax=None, discount=None, placed_at=when, updated_at=when, lines=lines,
            ship_to_country="DE", buyer_name="Anna Schmidt", raw=raw))
    return orders


class FakeShop:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        url = f"{self.connection.base_url}/orders?updated_min=REDACTED"
        self.connection.audit.record(CallRecord("fakeshop", "GET", url, 429, 5, 1, throttled=True))
        self.connection.audit.record(CallRecord("fakeshop", "GET", url, 200, 17, 2))
        orders, rejected = [], []
        for raw in self.connection.options.get("orders", []):
            try:
                orders += normalize([raw])
            except (MappingError, KeyError, ValueError) as exc:
                rejected.append((str(raw.get("id", "")), str(exc), raw))
        return OrderPage(tuple(orders), tuple(rejected), None)


SPEC = ConnectorSpec(kind=FAKE, title="Fake shop", connector=FakeShop, capabilities=("orders",),
                     normalize=normalize)


def install_fakeshop(app: Flask) -> SyncEnv:
    """The app's sync environment with the installed connectors plus fakeshop."""
    hub = app.extensions["hub"]
    installed = channel_registry.load()
    registry = Registry({**installed.specs, FAKE: channel_registry.check(SPEC, FAKE)}, {})
    env = SyncEnv.build(hub.engine, hub.sessions, app.config, registry=registry)
    app.extensions["sync"] = env
    return env


def order_payload(external_id: str, sku: str, qty: int = 1, currency: str = "EUR") -> dict[str, Any]:
    return {"id": external_id, "currency": currency, "lines": [[sku, qty, "9.50"]]}


def make_sync_records(app: Flask, actor: Actor, name: str = "Woo EU") -> dict[str, int]:
    """A channel with a finished run and its API call, an open quarantined order and an unmatched listing,
    written straight to the tables: the ids every dashboard route of these areas takes."""
    sessions = app.extensions["hub"].sessions
    box = CredentialBox.from_settings(app.config)
    with sessions.begin() as session:
        channel = Channel(seller_id=actor.seller_id, kind="woocommerce", name=name, currency="EUR",
                          base_url="https://shop.example.com", options={}, schedule={},
                          credentials_encrypted=box.seal({"consumer_key": "ck_" + "k" * 20,
                                                          "consumer_secret": SECRET}))
        session.add(channel)
        session.flush()
        run = SyncRun(seller_id=actor.seller_id, channel_id=channel.id, job=Job.PULL, trigger="schedule",
                      outcome=Outcome.PARTIAL, finished_at=datetime.now(UTC), fetched=2, created=1, quarantined=1,
                      api_calls=1)
        session.add(run)
        session.flush()
        session.add(ExternalCall(at=datetime.now(UTC), seller_id=actor.seller_id, channel_id=channel.id,
                                 service="woocommerce", method="GET", url="https://shop.example.com/wp-json/wc/v3/orders",
                                 status=200, duration_ms=42, attempt=1, run_id=run.id))
        payload = order_payload("W-1", "TEA-1", currency="EURO")
        item = QuarantinedOrder(seller_id=actor.seller_id, channel_id=channel.id, run_id=run.id, source="pull",
                                external_id="W-1", reason="unknown currency 'EURO'", payload=payload,
                                payload_sha256=digest(payload))
        listing = Listing(seller_id=actor.seller_id, channel_id=channel.id, channel_sku="WOO-TEA", product_id=None)
        session.add_all([item, listing])
        session.flush()
        return {"channel_id": channel.id, "run_id": run.id, "item_id": item.id, "listing_id": listing.id}
