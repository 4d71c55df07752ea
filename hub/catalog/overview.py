"""Goods and stock at a glance: for a page of products, their stock per warehouse and, per channel, the quantity
the hub would list now next to what was last pushed; and a channel's listings with their push status.

Set-based, whatever the page size: one query for the page's stock levels (per warehouse, with what is reserved:
StockLevel.reserved moves in the same UPDATE as every reservation, so it needs no query of its own over the
reservations, which grow with the orders), one for the channels, one for the page's listings, and per channel
the two statements of hub.sync.push.expected_page. The quantity shown is therefore the one the push job would
send, from its own code (the channel's warehouses, its stock rules, inactive products listing 0), never a copy.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.catalog.models import Product, StockLevel, Warehouse
from hub.catalog.stock import levels_of_products, list_warehouses
from hub.channels.models import DIRECT, Channel, Listing
from hub.currency import pricing
from hub.errors import NotFound
from hub.sync import push

PAGE = 50


@dataclass(frozen=True)
class ListingState:
    """One listing with the quantity the hub would push now (`expected`) next to the last one pushed.

    `expected` is None where the push job sends nothing: an inactive listing, or one linked to no product.
    """

    listing: Listing
    expected: int | None
    product_sku: str | None = None
    product_title: str | None = None

    @property
    def drift(self) -> bool:
        """A quantity is waiting to be pushed: the channel shows something else than the hub would list."""
        return self.expected is not None and self.expected != self.listing.last_pushed_quantity

    @property
    def error(self) -> str:
        return self.listing.push_error or ""


@dataclass
class ProductRow:
    product: Product
    levels: dict[int, StockLevel] = field(default_factory=dict)  # warehouse id -> level
    listings: dict[int, list[ListingState]] = field(default_factory=dict)  # channel id -> its listings

    @property
    def on_hand(self) -> int:
        return sum(level.on_hand for level in self.levels.values())

    @property
    def reserved(self) -> int:
        return sum(level.reserved for level in self.levels.values())

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True)
class Overview:
    warehouses: list[Warehouse]
    channels: list[Channel]  # those the hub pushes to (not the direct channel), by name
    rows: list[ProductRow]


def pushed_channels(session: Session, actor: Actor) -> list[Channel]:
    """The seller's marketplace channels: the direct one has no listings to push to."""
    return list(session.scalars(sa.select(Channel).where(actor.sees(Channel.seller_id), Channel.kind != DIRECT)
                                .order_by(Channel.name, Channel.id)))


def expected_quantities(session: Session, channels: Iterable[Channel], listings: Iterable[Listing]) -> dict[int, int]:
    """listing id -> the quantity push_inventory would send now; two statements per channel, none per listing."""
    by_channel: dict[int, list[int]] = defaultdict(list)
    for listing in listings:
        if listing.product_id is not None and listing.is_active:
            by_channel[listing.channel_id].append(listing.id)
    found: dict[int, int] = {}
    for channel in channels:
        ids = by_channel.get(channel.id)
        if ids:
            found.update((e.listing_id, e.quantity)
                         for e in push.expected_page(session, channel, listing_ids=ids, limit=len(ids)))
    return found


def products_overview(session: Session, actor: Actor, products: list[Product]) -> Overview:
    """Stock per warehouse and listings per channel for `products` (a page of list_products)."""
    warehouses = list_warehouses(session, actor)
    channels = pushed_channels(session, actor)
    rows = {p.id: ProductRow(p) for p in products}
    for level in levels_of_products(session, actor, list(rows)):
        rows[level.product_id].levels[level.warehouse_id] = level
    if rows and channels:
        listings = list(session.scalars(
            sa.select(Listing).where(actor.sees(Listing.seller_id), Listing.product_id.in_(list(rows)),
                                     Listing.channel_id.in_([c.id for c in channels]))
            .order_by(Listing.channel_id, Listing.channel_sku)))
        expected = expected_quantities(session, channels, listings)
        for listing in listings:
            rows[listing.product_id].listings.setdefault(listing.channel_id, []).append(
                ListingState(listing, expected.get(listing.id)))
    return Overview(warehouses, channels, list(rows.values()))


# --- one channel's listings -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListingsPage:
    channels: list[Channel]  # every channel the seller pushes to, for the filter
    rows: list[ListingState]
    next_after: int | None  # the cursor of the next page; None on the last one

    def channel(self, channel_id: int) -> Channel:
        return next(c for c in self.channels if c.id == channel_id)


def list_listings(session: Session, actor: Actor, *, channel_id: int | None = None, errors_only: bool = False,
                  drift_only: bool = False, search: str = "", after_id: int = 0, limit: int = PAGE) -> ListingsPage:
    """A keyset page of listings (of one channel, or of all), with their product, expected and pushed values.

    `channel_id` of another seller is NotFound. `search` matches the channel SKU, the product's SKU or its title
    (case-insensitive). `drift_only` filters the page after the fact (drift is computed, not stored),
    so a page may hold fewer rows than `limit`; the cursor still moves on by listing id.
    """
    channels = pushed_channels(session, actor)
    if channel_id is not None and channel_id not in {c.id for c in channels}:
        raise NotFound(f"no channel {channel_id}")
    query = (sa.select(Listing, Product.sku, Product.title)
             .outerjoin(Product, Product.id == Listing.product_id)
             .where(actor.sees(Listing.seller_id), Listing.id > after_id,
                    Listing.channel_id.in_([c.id for c in channels if channel_id in (None, c.id)])))
    if errors_only:
        query = query.where(Listing.push_error != "")
    if search:
        like = f"%{search.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Listing.channel_sku).like(like),
                                   sa.func.lower(Product.sku).like(like), sa.func.lower(Product.title).like(like)))
    rows = session.execute(query.order_by(Listing.id).limit(limit)).all()
    expected = expected_quantities(session, channels, [listing for listing, _, _ in rows])
    states = [ListingState(listing, expected.get(listing.id), sku, title) for listing, sku, title in rows]
    if drift_only:
        states = [s for s in states if s.drift]
    return ListingsPage(channels, states, rows[-1][0].id if len(rows) >= limit else None)


# --- one product's listings with their prices -----------------------------------------------------------

@dataclass(frozen=True)
class PricedListing:
    """A listing of one product with the price push_prices would send now (`price` None: cannot be priced)."""

    state: ListingState
    channel: Channel
    price: Decimal | None
    price_kind: str = ""  # pricing.FIXED or pricing.COMPUTED
    price_error: str = ""
    rate_as_of: date | None = None

    @property
    def price_drift(self) -> bool:
        pushed = self.state.listing.last_pushed_price
        return self.price is not None and self.state.listing.is_active and (pushed is None or pushed != self.price)


def product_listings(session: Session, actor: Actor, row: ProductRow, channels: list[Channel], *,
                     fx_max_age_days: int) -> list[PricedListing]:
    """The product's listings channel by channel, each priced by pricing.previews (what push_prices reads).

    One statement per listing for its price, plus the rates of each channel: a product has a handful of
    listings, so this is for the product page only, never for a list.
    """
    out: list[PricedListing] = []
    for channel in channels:
        states = row.listings.get(channel.id, [])
        if not states:
            continue
        rates = pricing.rates_for(session, channel, max_age_days=fx_max_age_days)
        for state in states:
            # previews is a keyset page over the channel's priced listings: the one after id - 1 is this one
            # exactly when the push job would price it (active, with a fixed price or a live product).
            found = pricing.previews(session, channel, rates, after_id=state.listing.id - 1, limit=1)
            preview = found[0] if found and found[0].listing_id == state.listing.id else None
            if preview is None:
                out.append(PricedListing(state, channel, None))
            else:
                out.append(PricedListing(state, channel, preview.price, preview.kind, preview.error, preview.as_of))
    return out
