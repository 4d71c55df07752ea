"""What a list shows of an order: its columns alone, without the mapped order.

The dashboard's order list and the overview's recent orders never show an order's payload, addresses or lines;
building those objects was a third of a list page's time. A row has the order's attribute names (id,
external_id, placed_at, buyer_name, ship_country, status, grand_total, currency) plus `channel`, the channel's
name. Select from Order joined to its Channel.
"""

from __future__ import annotations

from hub.channels.models import Channel
from hub.orders.models import Order

ROW_COLUMNS = (Order.id, Order.external_id, Order.placed_at, Channel.name.label("channel"), Order.buyer_name,
               Order.ship_country, Order.status, Order.grand_total, Order.currency)
