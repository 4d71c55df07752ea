from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from hub.db import JSON, Base, TenantOwned
from hub.timeutil import utcnow

DIRECT = "direct"


class Channel(TenantOwned, Base):
    """Where orders come from: a marketplace account, or the seller's own `direct` channel.

    A marketplace channel carries what its connector needs (`base_url`, `options`, and credentials that are
    only ever stored encrypted, see hub.channels.secrets), what the sync engine schedules (`schedule`: job ->
    seconds between runs) and the rules turning stock into the quantity listed (`stock_*`).
    """

    __tablename__ = "channels"
    __table_args__ = (
        sa.UniqueConstraint("seller_id", "name"),
        sa.CheckConstraint("stock_buffer >= 0", name="buffer_not_negative"),
        sa.CheckConstraint("stock_percent BETWEEN 0 AND 100", name="percent_in_range"),
        sa.CheckConstraint("stock_max IS NULL OR stock_max >= 0", name="max_not_negative"),
        sa.CheckConstraint("stock_zero_below >= 0", name="threshold_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(80))
    currency: Mapped[str] = mapped_column(sa.String(3))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    base_url: Mapped[str] = mapped_column(sa.String(500), default="", server_default=sa.text("''"))
    credentials_encrypted: Mapped[str | None] = mapped_column(sa.Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    schedule: Mapped[dict[str, int]] = mapped_column(JSON, default=dict, server_default="{}")
    # Available-to-sell = (stock in the channel's warehouses - reserved - buffer) * percent / 100,
    # capped at stock_max, and 0 when below stock_zero_below.
    stock_buffer: Mapped[int] = mapped_column(default=0, server_default="0")
    stock_percent: Mapped[int] = mapped_column(default=100, server_default="100")
    stock_max: Mapped[int | None]
    stock_zero_below: Mapped[int] = mapped_column(default=0, server_default="0")
    # The language the marketplace shows listings in, pushed where it takes one (e.g. "de_DE"); "" = the seller's.
    locale: Mapped[str] = mapped_column(sa.String(16), default="", server_default=sa.text("''"))
    # A listing without a fixed price sells at: the product's base price converted to the channel currency,
    # times (1 + markup), rounded by `price_rounding`: "minor" units, "99" / "95" endings, "whole" units.
    price_markup: Mapped[Decimal] = mapped_column(sa.Numeric(7, 4), default=Decimal(0), server_default="0")
    price_rounding: Mapped[str] = mapped_column(sa.String(8), default="minor", server_default="minor")


class ChannelWarehouse(TenantOwned, Base):
    """A warehouse whose stock a channel sells. A channel with none sells from every active warehouse."""

    __tablename__ = "channel_warehouses"
    __table_args__ = (sa.UniqueConstraint("channel_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)


class Listing(TenantOwned, Base):
    """A product as listed on one channel, under the channel's SKU, with what was last pushed to it.

    `product_id` None: the channel sells a SKU that matches none of the seller's products yet; its order
    lines wait, flagged, until someone maps it.
    """

    __tablename__ = "listings"
    __table_args__ = (
        sa.UniqueConstraint("channel_id", "channel_sku"),
        sa.CheckConstraint("price IS NULL OR price >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id", ondelete="CASCADE"))
    channel_sku: Mapped[str] = mapped_column(sa.String(64))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id", ondelete="SET NULL"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # A fixed price in the channel's currency (price rules from exchange rates come later); None: not pushed.
    price: Mapped[Decimal | None]
    last_pushed_quantity: Mapped[int | None]
    quantity_pushed_at: Mapped[datetime | None]
    last_pushed_price: Mapped[Decimal | None]
    price_pushed_at: Mapped[datetime | None]
    push_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
