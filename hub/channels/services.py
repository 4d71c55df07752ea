"""Channel use cases: connect, settings, credentials, health, runs with their API calls, unmatched SKUs.

Reading is for every role, operating (SKU mapping) for staff, managing channels for owners. Another seller's
channel, run or listing is a NotFound, exactly like one that does not exist. Credentials go in sealed and come
out masked: nothing here returns, raises or logs a secret in full.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.catalog.models import Product, Warehouse
from hub.channels.models import DIRECT, Channel, ChannelWarehouse, Listing
from hub.channels.registry import Registry
from hub.channels.schemas import ChannelIn, ChannelSettings, CredentialsIn, SkuMapping
from hub.channels.secrets import CredentialBox, CredentialsUnreadable, masked
from hub.db import unique_or_raise
from hub.errors import Conflict, NotFound, ValidationError
from hub.orders.models import Order, OrderLine
from hub.outbound.models import ExternalCall
from hub.sync.models import ChannelCircuit, Job, QuarantinedOrder, QuarantineStatus, SyncRun
from hub.tenancy import owned

MAX_CALLS = 1000  # a run page lists at most this many API calls (a long backfill makes thousands)


# --- channels ------------------------------------------------------------------------------------

def connect_channel(session: Session, actor: Actor, box: CredentialBox, data: ChannelIn, *,
                    registry: Registry) -> Channel:
    actor.require(Role.OWNER, "connect channels")
    seller_id = actor.acting_seller("connect channels")
    if data.kind not in registry.specs:
        known = ", ".join(sorted(registry.specs)) or "none"
        raise ValidationError(f"no connector {data.kind!r} is installed (installed: {known})",
                              fields={"kind": "not an installed connector"})
    channel = Channel(seller_id=seller_id, kind=data.kind, name=data.name, currency=data.currency,
                      timezone=data.timezone, base_url=data.base_url, options=data.options, schedule={},
                      credentials_encrypted=box.seal(data.credentials), is_active=True)

    def taken() -> Conflict:
        return Conflict(f"a channel called {data.name!r} already exists", fields={"name": "already used"})

    with unique_or_raise(session, taken):
        session.add(channel)
    return channel


def list_channels(session: Session, actor: Actor) -> list[Channel]:
    return list(session.scalars(sa.select(Channel).where(actor.sees(Channel.seller_id)).order_by(Channel.name)))


def get_channel(session: Session, actor: Actor, channel_id: int, *, for_update: bool = False) -> Channel:
    query = sa.select(Channel).where(Channel.id == channel_id, actor.sees(Channel.seller_id))
    channel = session.scalar(query.with_for_update() if for_update else query)
    if channel is None:
        raise NotFound(f"no channel {channel_id}")
    return channel


def _managed(session: Session, actor: Actor, channel_id: int, action: str) -> Channel:
    """A channel the actor may change: the role first (a 403 tells nothing about ids), then the lookup."""
    actor.require(Role.OWNER, action)
    return get_channel(session, actor, channel_id, for_update=True)


def update_settings(session: Session, actor: Actor, channel_id: int, data: ChannelSettings) -> Channel:
    channel = _managed(session, actor, channel_id, "change channel settings")
    channel.base_url, channel.options, channel.timezone = data.base_url, data.options, data.timezone
    channel.stock_buffer, channel.stock_percent = data.stock_buffer, data.stock_percent
    channel.stock_max, channel.stock_zero_below = data.stock_max, data.stock_zero_below
    channel.schedule = data.schedule.as_schedule()
    channel.price_markup, channel.price_rounding = data.price_markup, data.price_rounding
    _assign_warehouses(session, channel, data.warehouse_ids)
    session.flush()
    return channel


def _assign_warehouses(session: Session, channel: Channel, wanted_ids: Iterable[int]) -> None:
    wanted = set(wanted_ids)
    known = set(session.scalars(sa.select(Warehouse.id).where(Warehouse.seller_id == channel.seller_id,
                                                              Warehouse.id.in_(wanted))))
    if wanted - known:
        raise ValidationError("unknown warehouse selected", fields={"warehouse_ids": "unknown warehouse"})
    have = set(warehouse_ids(session, channel))
    if have - wanted:
        session.execute(sa.delete(ChannelWarehouse).where(ChannelWarehouse.channel_id == channel.id,
                                                          ChannelWarehouse.warehouse_id.in_(have - wanted)))
    for warehouse_id in sorted(wanted - have):
        session.add(ChannelWarehouse(seller_id=channel.seller_id, channel_id=channel.id, warehouse_id=warehouse_id))


def warehouse_ids(session: Session, channel: Channel) -> list[int]:
    return list(session.scalars(sa.select(ChannelWarehouse.warehouse_id)
                                .where(ChannelWarehouse.channel_id == channel.id).order_by(ChannelWarehouse.id)))


def set_active(session: Session, actor: Actor, channel_id: int, active: bool) -> Channel:
    channel = _managed(session, actor, channel_id, "enable or disable channels")
    if channel.kind == DIRECT and not active:
        raise ValidationError("the direct channel (orders entered in the hub) cannot be disabled")
    channel.is_active = active
    return channel


def replace_credentials(session: Session, actor: Actor, box: CredentialBox, channel_id: int,
                        data: CredentialsIn) -> Channel:
    """All credentials at once: a partial update would leave a half-old pair (key of one, secret of another)."""
    channel = _managed(session, actor, channel_id, "change channel credentials")
    if channel.kind == DIRECT:
        raise ValidationError("the direct channel has no connector and no credentials")
    channel.credentials_encrypted = box.seal(data.credentials)
    return channel


def masked_credentials(box: CredentialBox, channel: Channel) -> list[tuple[str, str]] | None:
    """(name, masked value) pairs to show; None when the stored credentials cannot be decrypted."""
    try:
        return [(key, masked(str(value))) for key, value in sorted(box.open(channel.credentials_encrypted).items())]
    except CredentialsUnreadable:
        return None


# --- health and runs -----------------------------------------------------------------------------

@dataclass
class Health:
    last_runs: dict[Job, SyncRun] = field(default_factory=dict)  # the newest run of each job
    circuit: ChannelCircuit | None = None  # None: never failed, i.e. closed
    open_quarantine: int = 0

    @property
    def last_run(self) -> SyncRun | None:
        return max(self.last_runs.values(), key=lambda run: run.id, default=None)


HEALTH_CHANNELS_PER_STATEMENT = 50


def health(session: Session, actor: Actor, channels: list[Channel], per_job: bool = True) -> dict[int, Health]:
    """Per channel id: its newest run of each job (only the newest run of all when not `per_job`), circuit and
    open quarantine count."""
    ids = [c.id for c in channels]
    out = {channel_id: Health() for channel_id in ids}
    if not ids:
        return out
    # The newest runs: one probe each down ix_sync_runs_channel_id, however many runs the channels have piled up
    # (a GROUP BY over all of them grew with every run ever made). A UNION ALL of the probes,
    # HEALTH_CHANNELS_PER_STATEMENT channels at a time (SQLite allows 500 arms).
    jobs: list[Job | None] = list(Job) if per_job else [None]
    for start in range(0, len(ids), HEALTH_CHANNELS_PER_STATEMENT):
        newest = sa.union_all(*(
            sa.select(sa.func.max(SyncRun.id)).where(SyncRun.channel_id == channel_id, actor.sees(SyncRun.seller_id),
                                                     *(() if job is None else (SyncRun.job == job,)))
            for channel_id in ids[start:start + HEALTH_CHANNELS_PER_STATEMENT] for job in jobs))
        for run in session.scalars(sa.select(SyncRun).where(SyncRun.id.in_(newest))):
            out[run.channel_id].last_runs[run.job] = run
    # Circuits and open quarantine counts per channel in one statement (most channels have neither).
    open_quarantine = (sa.select(sa.func.count()).where(
        QuarantinedOrder.channel_id == Channel.id, actor.sees(QuarantinedOrder.seller_id),
        QuarantinedOrder.status == QuarantineStatus.OPEN).scalar_subquery())
    for channel_id, circuit, count in session.execute(
            sa.select(Channel.id, ChannelCircuit, open_quarantine)
            .outerjoin(ChannelCircuit, sa.and_(ChannelCircuit.channel_id == Channel.id,
                                               actor.sees(ChannelCircuit.seller_id)))
            .where(Channel.id.in_(ids), actor.sees(Channel.seller_id))):
        out[channel_id].circuit, out[channel_id].open_quarantine = circuit, count
    return out


def list_runs(session: Session, actor: Actor, channel: Channel, limit: int = 25) -> list[SyncRun]:
    return list(session.scalars(sa.select(SyncRun).where(SyncRun.channel_id == channel.id,
                                                         actor.sees(SyncRun.seller_id))
                                .order_by(SyncRun.id.desc()).limit(limit)))


def get_run(session: Session, actor: Actor, run_id: int) -> SyncRun:
    return owned(session, actor, SyncRun, run_id, "sync run")


def run_calls(session: Session, actor: Actor, run: SyncRun, limit: int = MAX_CALLS) -> list[ExternalCall]:
    """The run's outbound calls in the order made. ExternalCall is not tenant-scoped (platform calls have no
    seller), so the seller is checked here explicitly, on top of the run's own check."""
    return list(session.scalars(sa.select(ExternalCall).where(ExternalCall.run_id == run.id,
                                                              ExternalCall.seller_id == run.seller_id,
                                                              actor.sees(ExternalCall.seller_id))
                                .order_by(ExternalCall.id).limit(limit)))


# --- unmatched SKUs ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unmatched:
    listing: Listing
    channel_name: str
    waiting_lines: int  # unmatched lines of this SKU on the channel's orders


def list_unmatched(session: Session, actor: Actor, limit: int = 200) -> list[Unmatched]:
    waiting = (sa.select(sa.func.count()).select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
               .where(Order.channel_id == Listing.channel_id, OrderLine.sku == Listing.channel_sku,
                      OrderLine.product_id.is_(None)).scalar_subquery())
    rows = session.execute(
        sa.select(Listing, Channel.name, waiting).join(Channel, Channel.id == Listing.channel_id)
        .where(actor.sees(Listing.seller_id), Listing.product_id.is_(None))
        .order_by(Channel.name, Listing.channel_sku).limit(limit))
    return [Unmatched(listing, name, count) for listing, name, count in rows]


def product_choices(session: Session, actor: Actor, limit: int = 2000) -> list[tuple[int, str, str]]:
    """(id, SKU, title) of the products a SKU can be mapped to, by SKU."""
    rows = session.execute(sa.select(Product.id, Product.sku, Product.title)
                           .where(actor.sees(Product.seller_id), Product.deleted_at.is_(None))
                           .order_by(Product.sku).limit(limit))
    return [(i, sku, title) for i, sku, title in rows]


def map_sku(session: Session, actor: Actor, listing_id: int, data: SkuMapping) -> tuple[Listing, int]:
    """Link a listing to a product; returns it and how many waiting order lines were relinked."""
    actor.require(Role.STAFF, "map channel SKUs")
    listing = session.scalar(sa.select(Listing).where(Listing.id == listing_id, actor.sees(Listing.seller_id))
                             .with_for_update())
    if listing is None:
        raise NotFound(f"no listing {listing_id}")
    product = session.scalar(sa.select(Product).where(Product.id == data.product_id,
                                                      Product.seller_id == listing.seller_id,
                                                      Product.deleted_at.is_(None)))
    if product is None:
        raise ValidationError(f"no product {data.product_id}", fields={"product_id": "unknown product"})
    if listing.product_id != product.id:
        listing.product_id = product.id
        # Another product's stock stands behind the SKU now: the next push must send it, whatever went before.
        listing.last_pushed_quantity = None
    session.flush()
    channel = session.get(Channel, listing.channel_id)
    # Imported late: the sync engine's listings module loads the order and stock services it needs.
    from hub.sync.listings import relink_order_lines

    relinked = relink_order_lines(session, channel, listing.channel_sku, product.id, actor=actor)
    return listing, relinked
