"""Inventory and price push: tell a channel what it should list, sending only what changed since last time.

    push_inventory   available-to-sell per active linked listing -> connector.push_stock
    push_prices      listing.price (channel currency), else the channel's price rule -> connector.push_prices

Listings are read in keyset pages, each in its own short transaction, and the quantities of a page come from
one aggregated query (not one per listing), so tens of thousands of listings cost a few dozen queries.
No transaction stays open across a marketplace call (on SQLite it would hold the database's write lock).
Changed rows are sent CHUNK at a time and their bookkeeping (last pushed value, time, error) committed after
each chunk: a crash loses at most one chunk's record, and the next run simply sends that chunk again.

CHUNK is a multiple of every built-in connector's bulk cap (Shopify 250, WooCommerce 100, eBay 25, Amazon 1),
so K changed SKUs cost ceil(K / cap) marketplace calls however they are spread over the listing pages.
`full=True` sends everything regardless of what was last pushed (drift repair, a new channel).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import Session

from hub.catalog.models import Product, StockLevel, Warehouse
from hub.channels.models import Channel, ChannelWarehouse, Listing
from hub.channels.port import PriceUpdate, PushResult, StockUpdate
from hub.config import load_settings
from hub.currency import pricing
from hub.sync.env import SyncEnv
from hub.sync.runs import Run
from hub.sync.stock_rules import StockRules, available_to_sell
from hub.timeutil import utcnow

CHUNK = 1000
Progress = Callable[[dict[str, int]], None]


@dataclass(frozen=True)
class Expected:
    """What one listing should show, next to what was last pushed to it."""

    listing_id: int
    sku: str
    quantity: int
    last_pushed: int | None


# --- reading: available-to-sell in SQL ----------------------------------------------------------------

def channel_warehouses(channel: Channel) -> sa.ColumnElement[bool]:
    """Warehouses whose stock the channel sells: those assigned to it, or, with none assigned, every one of
    the seller's. Inactive warehouses never count (their stock cannot ship, as reservation also holds)."""
    assigned = sa.select(ChannelWarehouse.warehouse_id).where(ChannelWarehouse.channel_id == channel.id)
    any_assigned = sa.exists().where(ChannelWarehouse.channel_id == channel.id,
                                     ChannelWarehouse.seller_id == channel.seller_id)
    return sa.and_(Warehouse.seller_id == channel.seller_id, Warehouse.is_active.is_(True),
                   sa.or_(~any_assigned, Warehouse.id.in_(assigned)))


def stock_of(session: Session, channel: Channel, product_ids: list[int]) -> dict[int, int]:
    """product id -> on hand - reserved over the channel's warehouses: one aggregated query."""
    if not product_ids:
        return {}
    rows = session.execute(
        sa.select(StockLevel.product_id, sa.func.sum(StockLevel.on_hand - StockLevel.reserved))
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        # Explicit seller filters too: the scoped session adds them, but this must not depend on it.
        .where(StockLevel.seller_id == channel.seller_id, StockLevel.product_id.in_(product_ids),
               channel_warehouses(channel))
        .group_by(StockLevel.product_id)).all()
    return {product_id: int(total or 0) for product_id, total in rows}


def expected_page(session: Session, channel: Channel, *, after_id: int = 0, limit: int = CHUNK,
                  listing_ids: list[int] | None = None) -> list[Expected]:
    """One keyset page of the channel's active, linked listings with the quantity each should list.
    A listing of an inactive or deleted product lists 0: it is not for sale."""
    query = (sa.select(Listing.id, Listing.channel_sku, Listing.product_id, Listing.last_pushed_quantity,
                       sa.and_(Product.is_active.is_(True), Product.deleted_at.is_(None)))
             .join(Product, Product.id == Listing.product_id)
             .where(Listing.channel_id == channel.id, Listing.seller_id == channel.seller_id,
                    Listing.is_active.is_(True), Listing.id > after_id)
             .order_by(Listing.id).limit(limit))
    if listing_ids is not None:
        query = query.where(Listing.id.in_(listing_ids))
    rows = session.execute(query).all()
    stock = stock_of(session, channel, sorted({row[2] for row in rows if row[4]}))
    rules = StockRules.of(channel)
    return [Expected(listing_id, sku, available_to_sell(stock.get(product_id, 0), rules) if sellable else 0, last)
            for listing_id, sku, product_id, last, sellable in rows]


def expected_pages(env: SyncEnv, channel: Channel, page: int = CHUNK) -> Iterator[list[Expected]]:
    """Every active linked listing of the channel, page by page, each page read in its own transaction."""
    after = 0
    while True:
        with env.sessions.begin() as session:
            session.info["seller_id"] = channel.seller_id
            rows = expected_page(session, channel, after_id=after, limit=page)
        if not rows:
            return
        yield rows
        after = rows[-1].listing_id


# --- writing: what was pushed ------------------------------------------------------------------------

def _results_by_sku(results: list[PushResult]) -> dict[str, PushResult]:
    return {result.sku: result for result in results}


def _outcomes(sent: list[Any], results: list[PushResult]) -> tuple[list[Any], list[tuple[Any, str]]]:
    """(accepted items, [(refused item, why)]); an item the connector said nothing about counts as refused."""
    by_sku = _results_by_sku(results)
    accepted, refused = [], []
    for item in sent:
        result = by_sku.get(item.sku)
        if result is not None and result.ok:
            accepted.append(item)
        else:
            refused.append((item, (result.message if result else "") or "refused without a reason"))
    return accepted, refused


def _remember(session: Session, kind: str, accepted: list[dict[str, Any]], refused: list[tuple[int, str]],
              **columns: Any) -> None:
    """One executemany for the accepted rows and one for the refused. push_error holds one line per kind
    ("stock: ...", "price: ..."): a good stock push clears only a stock error, never a price refusal."""
    table = Listing.__table__
    if accepted:
        session.execute(
            table.update().where(table.c.id == sa.bindparam("listing_id"))
            .values(push_error=sa.case((table.c.push_error.like(f"{kind}:%"), ""), else_=table.c.push_error),
                    **{name: sa.bindparam(param) for name, param in columns.items()}),
            accepted)
    if refused:
        session.execute(table.update().where(table.c.id == sa.bindparam("listing_id"))
                        .values(push_error=sa.bindparam("error")),
                        [{"listing_id": listing_id, "error": f"{kind}: {why}"[:2000]} for listing_id, why in refused])


def record_stock(env: SyncEnv, channel: Channel, sent: list[Expected], results: list[PushResult], run: Run) -> None:
    """Remember what the channel accepted; a refusal keeps the old value (so it is sent again) and its reason."""
    accepted, refused = _outcomes(sent, results)
    now = utcnow()
    with env.sessions.begin() as session:
        session.info["seller_id"] = channel.seller_id
        _remember(session, "stock",
                  [{"listing_id": e.listing_id, "new_quantity": e.quantity, "at": now} for e in accepted],
                  [(e.listing_id, why) for e, why in refused],
                  last_pushed_quantity="new_quantity", quantity_pushed_at="at")
    run.add(pushed=len(accepted), push_failed=len(refused))


def send_stock(env: SyncEnv, channel: Channel, connector: Any, items: list[Expected], run: Run) -> None:
    if items:
        results = connector.push_stock([StockUpdate(item.sku, item.quantity) for item in items])
        record_stock(env, channel, items, results, run)


# --- jobs ----------------------------------------------------------------------------------------------

def push_inventory(env: SyncEnv, channel: Channel, connector: Any, run: Run, *, since: object = None,
                   progress: Progress | None = None, full: bool = False, chunk: int = CHUNK,
                   **_options: object) -> None:
    pending: list[Expected] = []
    for page in expected_pages(env, channel, chunk):
        changed = [e for e in page if full or e.quantity != e.last_pushed]
        run.add(fetched=len(page), unchanged=len(page) - len(changed))
        pending += changed
        while len(pending) >= chunk:
            send_stock(env, channel, connector, pending[:chunk], run)
            pending = pending[chunk:]
            if progress:
                progress(run.counts)
    send_stock(env, channel, connector, pending, run)
    if progress:
        progress(run.counts)
    run.message = f"{run.counts['pushed']} quantities pushed, {run.counts['push_failed']} refused, " \
                  f"{run.counts['unchanged']} unchanged"


@dataclass(frozen=True)
class PriceRow:
    listing_id: int
    sku: str
    price: Decimal


def price_text(price: Decimal, currency: str) -> Decimal:
    """The price at the currency's minor units when that is exact (19.9900 -> 19.99, 1500.0000 -> 1500), as the
    connectors expect; otherwise unchanged, so the connector refuses it with its reason rather than us rounding."""
    return pricing.at_minor_units(price, currency)


@dataclass
class PricePage:
    """One keyset page of priced listings: what to send, what could not be priced (and why), where to go on."""

    changed: list[PriceRow]
    unpriced: list[tuple[int, str]]
    seen: int
    last_id: int


def fx_max_age(env: SyncEnv) -> int:
    """FX_MAX_AGE_DAYS: from env.extra when set (tests, a caller that knows better), else the app's settings
    (the worker and the CLI run in an app context), else the hub's settings as loaded from the defaults."""
    if "FX_MAX_AGE_DAYS" in env.extra:
        return pricing.max_age_from(env.extra)
    if has_app_context():
        return pricing.max_age_from(current_app.config)
    return pricing.max_age_from(load_settings())


def price_page(session: Session, channel: Channel, rates: pricing.Rates, *, after_id: int, limit: int,
               full: bool) -> PricePage:
    """The next `limit` listings with a price: a fixed one, else one computed by the channel's price rule
    (pricing.channel_prices). Only those whose price differs from the last accepted push are sent (compared as
    numbers: 19.99 equals 19.9900), unless `full`. A listing that cannot be priced (no rate) is refused."""
    rows = pricing.previews(session, channel, rates, after_id=after_id, limit=limit)
    last = dict(session.execute(sa.select(Listing.id, Listing.last_pushed_price)
                                .where(Listing.id.in_([r.listing_id for r in rows]))).all()) if rows else {}
    changed, unpriced = [], []
    for row in rows:
        if row.price is None:
            unpriced.append((row.listing_id, row.error or "no price"))
        elif full or last.get(row.listing_id) is None or last[row.listing_id] != row.price:
            changed.append(PriceRow(row.listing_id, row.sku, row.price))
    return PricePage(changed, unpriced, len(rows), rows[-1].listing_id if rows else after_id)


def record_prices(env: SyncEnv, channel: Channel, sent: list[PriceRow], results: list[PushResult], run: Run) -> None:
    accepted, refused = _outcomes(sent, results)
    now = utcnow()
    with env.sessions.begin() as session:
        session.info["seller_id"] = channel.seller_id
        _remember(session, "price",
                  [{"listing_id": r.listing_id, "new_price": r.price, "at": now} for r in accepted],
                  [(r.listing_id, why) for r, why in refused],
                  last_pushed_price="new_price", price_pushed_at="at")
    run.add(pushed=len(accepted), push_failed=len(refused))


def record_unpriced(env: SyncEnv, channel: Channel, unpriced: list[tuple[int, str]], run: Run) -> None:
    """Listings refused before any call (no exchange rate): the reason in push_error, counted as failed."""
    if not unpriced:
        return
    with env.sessions.begin() as session:
        session.info["seller_id"] = channel.seller_id
        _remember(session, "price", [], unpriced)
    run.add(push_failed=len(unpriced))


def send_prices(env: SyncEnv, channel: Channel, connector: Any, rows: list[PriceRow], run: Run) -> None:
    if rows:
        results = connector.push_prices([PriceUpdate(r.sku, price_text(r.price, channel.currency), channel.currency)
                                         for r in rows])
        record_prices(env, channel, rows, results, run)


def push_prices(env: SyncEnv, channel: Channel, connector: Any, run: Run, *, since: object = None,
                progress: Progress | None = None, full: bool = False, chunk: int = CHUNK,
                **_options: object) -> None:
    """Each active listing's price: fixed wins, else base price x today's rate x (1 + markup), rounded by the
    channel's rule. Changed prices are sent `chunk` at a time however they are spread over the pages."""
    after = 0
    pending: list[PriceRow] = []
    max_age = fx_max_age(env)
    while True:
        with env.sessions.begin() as session:
            session.info["seller_id"] = channel.seller_id
            rates = pricing.rates_for(session, channel, max_age_days=max_age)
            page = price_page(session, channel, rates, after_id=after, limit=chunk, full=full)
        if not page.seen:
            break
        run.add(fetched=page.seen, unchanged=page.seen - len(page.changed) - len(page.unpriced))
        record_unpriced(env, channel, page.unpriced, run)
        pending += page.changed
        while len(pending) >= chunk:
            send_prices(env, channel, connector, pending[:chunk], run)
            pending = pending[chunk:]
            if progress:
                progress(run.counts)
        after = page.last_id  # keyset: refused rows stay "changed" but are not asked again this run
    send_prices(env, channel, connector, pending, run)
    if progress:
        progress(run.counts)
    run.message = f"{run.counts['pushed']} prices pushed, {run.counts['push_failed']} refused"
