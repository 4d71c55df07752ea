"""A channel's stock rules: from the units a channel may sell to the quantity it lists. Pure, no I/O.

    stock      = on hand - reserved, summed over the channel's warehouses (push.py reads it in SQL)
    sellable   = floor((stock - buffer) * percent / 100), never below 0
    listed     = 0 if sellable < zero_below, else min(sellable, maximum)

The threshold looks at what the channel would show before the cap, not after: a cap only trims a large
quantity and must never be what zeroes it (max 5 with threshold 10 would otherwise list nothing, ever).
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.channels.models import Channel


@dataclass(frozen=True)
class StockRules:
    buffer: int = 0  # units kept back from the channel
    percent: int = 100  # share of the rest offered, rounded down
    maximum: int | None = None  # never list more than this
    zero_below: int = 0  # list nothing while fewer than this would be listed

    @classmethod
    def of(cls, channel: Channel) -> StockRules:
        return cls(buffer=channel.stock_buffer or 0,
                   percent=100 if channel.stock_percent is None else channel.stock_percent,
                   maximum=channel.stock_max, zero_below=channel.stock_zero_below or 0)


DEFAULT = StockRules()


def available_to_sell(stock: int, rules: StockRules = DEFAULT) -> int:
    """The quantity to list for `stock` sellable units (on hand - reserved; may be below 0 for bad data)."""
    # Integer arithmetic: a float percentage could list 1 unit too many (e.g. 29 * 0.57).
    sellable = max(stock - rules.buffer, 0) * rules.percent // 100
    if sellable < rules.zero_below:
        return 0
    if rules.maximum is not None:
        sellable = min(sellable, rules.maximum)
    return max(sellable, 0)
