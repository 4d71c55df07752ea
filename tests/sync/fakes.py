"""Hand-written fakes at the connector ports, for service tests of the sync engine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder, OrderPage
from hub.orders.status import OrderStatus

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def channel_order(external_id: str, *, updated: int = 0, status: OrderStatus = OrderStatus.PAID,
                  lines: tuple[tuple[str, int], ...] = (("TEA-1", 1),), currency: str = "EUR",
                  city: str = "Berlin") -> ChannelOrder:
    """An order as a connector maps it; `updated` is minutes after T0 (its version)."""
    channel_lines = tuple(ChannelLine(sku=sku, title=sku, quantity=qty, unit_price=Decimal("10.00"),
                                      line_total=Decimal("10.00") * qty, external_line_id=f"{external_id}-{i}")
                          for i, (sku, qty) in enumerate(lines))
    total = sum((line.line_total for line in channel_lines), Decimal(0))
    return ChannelOrder(
        external_id=external_id, status=status, currency=currency, total=total, subtotal=total,
        shipping=Decimal(0), tax=Decimal(0), discount=Decimal(0), placed_at=T0,
        updated_at=T0 + timedelta(minutes=updated), lines=channel_lines, ship_to_country="DE",
        buyer_name="Anna Schmidt", buyer_email="anna@example.com",
        shipping_address=ChannelAddress(name="Anna Schmidt", line1="Torstraße 1", city=city, country="DE"),
        raw={"id": external_id, "updated": updated, "status": str(status)})


class FakeOrderSource:
    """A marketplace's order list: the latest version of each order, served oldest change first, `page_size`
    per page, the cursor an offset (as many real APIs do: an order changing mid-pass can shift the pages).

    `fail_after` pages raises to simulate a crash; `rejects` are served on the first page as unmappable;
    `redeliver` serves each page's last order again at the start of the next page."""

    def __init__(self, page_size: int = 3, redeliver: bool = False) -> None:
        self.orders: dict[str, ChannelOrder] = {}
        self.page_size = page_size
        self.redeliver = redeliver
        self.rejects: list[tuple[str, str, dict]] = []
        self.fail_after: int | None = None
        self.calls: list[tuple[datetime, str | None]] = []

    def put(self, *orders: ChannelOrder) -> None:
        for order in orders:
            self.orders[order.external_id] = order

    def bump(self, external_id: str, minutes: int, **changes: object) -> ChannelOrder:
        order = self.orders[external_id]
        self.orders[external_id] = replace(order, updated_at=order.updated_at + timedelta(minutes=minutes),
                                           **changes)
        return self.orders[external_id]

    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        assert since.tzinfo is not None and since.utcoffset() == timedelta(0), "since must be UTC"
        self.calls.append((since, cursor))
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise ConnectionResetError("the worker died mid-pull")
        listed = sorted((o for o in self.orders.values() if o.updated_at >= since),
                        key=lambda o: (o.updated_at, o.external_id))
        start = int(cursor or 0)
        page = listed[start:start + self.page_size]
        if self.redeliver and start > 0:
            page = [listed[start - 1], *page]
        end = start + self.page_size
        rejects = tuple(self.rejects) if start == 0 else ()
        return OrderPage(tuple(page), rejects, str(end) if end < len(listed) else None)
