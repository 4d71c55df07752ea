"""Imports every model so that `Base.metadata` is complete (Alembic, tests)."""

from hub.accounts.models import ApiToken, Invitation, Role, Seller, User
from hub.buyers.models import BuyerAccount, BuyerAddress, BuyerOrder, BuyerToken
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
from hub.customers.models import Customer, CustomerLink, CustomerMerge
from hub.db import Base
from hub.logistics.models import CarrierAccount, Shipment, TrackingEvent
from hub.orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from hub.outbound.models import ExternalCall
from hub.outbox.models import OutboxDelivery, OutboxEvent, WebhookEndpoint
from hub.payments.models import Payment, PaymentAccount, PaymentAttempt, PaymentNotification
from hub.recommend.models import BehaviourEvent, BoughtTogether, ForBuyer, ListingOpportunity, Popular, RecommendRun
from hub.reports_models import FxUsageDaily, SalesDaily, SalesRefresh
from hub.reviews.models import Review, ReviewRevision
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
    "BehaviourEvent",
    "BoughtTogether",
    "BuyerAccount",
    "BuyerAddress",
    "BuyerOrder",
    "BuyerToken",
    "CarrierAccount",
    "Channel",
    "ChannelCircuit",
    "ChannelWarehouse",
    "Customer",
    "CustomerLink",
    "CustomerMerge",
    "ExternalCall",
    "ForBuyer",
    "Fulfillment",
    "FulfillmentLine",
    "FxRate",
    "FxUsageDaily",
    "Invitation",
    "Lease",
    "Listing",
    "ListingOpportunity",
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
    "Popular",
    "Product",
    "ProductTranslation",
    "QuarantinedOrder",
    "RecommendRun",
    "Review",
    "ReviewRevision",
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
