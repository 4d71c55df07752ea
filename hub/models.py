"""Imports every model so that `Base.metadata` is complete (Alembic, tests)."""

from hub.accounts.models import ApiToken, Invitation, Role, Seller, User
from hub.catalog.models import (
    MovementKind,
    Product,
    ProductTranslation,
    StockLevel,
    StockMovement,
    StockReservation,
    Warehouse,
)
from hub.channels.models import Channel, ChannelWarehouse, Listing
from hub.currency.models import FxRate, OrderFx
from hub.customers.models import Customer
from hub.db import Base
from hub.logistics.models import CarrierAccount, Shipment, TrackingEvent
from hub.orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from hub.outbound.models import ExternalCall
from hub.outbox.models import OutboxDelivery, OutboxEvent, WebhookEndpoint
from hub.payments.models import Payment, PaymentAccount, PaymentAttempt, PaymentNotification
from hub.reports_models import FxUsageDaily, SalesDaily, SalesRefresh
from hub.sync.models import (
    ChannelCircuit,
    Lease,
    QuarantinedOrder,
    SyncCursor,
    SyncRun,
    WebhookDelivery,
)

__all__ = [
    "ApiToken",
    "Base",
    "CarrierAccount",
    "Channel",
    "ChannelCircuit",
    "ChannelWarehouse",
    "Customer",
    "ExternalCall",
    "Fulfillment",
    "FulfillmentLine",
    "FxRate",
    "FxUsageDaily",
    "Invitation",
    "Lease",
    "Listing",
    "MovementKind",
    "Order",
    "OrderEvent",
    "OrderFx",
    "OrderLine",
    "OutboxDelivery",
    "OutboxEvent",
    "Payment",
    "PaymentAccount",
    "PaymentAttempt",
    "PaymentNotification",
    "Product",
    "ProductTranslation",
    "QuarantinedOrder",
    "Role",
    "SalesDaily",
    "SalesRefresh",
    "Seller",
    "Shipment",
    "StockLevel",
    "StockMovement",
    "StockReservation",
    "SyncCursor",
    "SyncRun",
    "TrackingEvent",
    "User",
    "Warehouse",
    "WebhookDelivery",
    "WebhookEndpoint",
]
