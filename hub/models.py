"""Imports every model so that `Base.metadata` is complete (Alembic, tests)."""

from hub.accounts.models import ApiToken, Role, Seller, User
from hub.catalog.models import (
    MovementKind,
    Product,
    ProductTranslation,
    StockLevel,
    StockMovement,
    StockReservation,
    Warehouse,
)
from hub.channels.models import Channel
from hub.db import Base
from hub.orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from hub.outbound.models import ExternalCall

__all__ = [
    "ApiToken", "Base", "Channel", "ExternalCall", "Fulfillment", "FulfillmentLine", "MovementKind", "Order",
    "OrderEvent", "OrderLine", "Product", "ProductTranslation", "Role", "Seller", "StockLevel", "StockMovement",
    "StockReservation", "User", "Warehouse",
]
