"""A seller with stock, a paid order and a carrier account, for the logistics tests."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.models import Seller
from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.channels.secrets import CredentialBox
from hub.logistics import services
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import OrderIn, StatusMove
from hub.orders.status import OrderStatus
from tests.conftest import TEST_SETTINGS, Account

TEA = {"hs_code": "0902300000", "country_of_origin": "IN", "weight_grams": 250,
       "customs_description": "Black tea, fermented, in packs of 250 g"}
MUG = {"hs_code": "691200", "country_of_origin": "CN", "weight_grams": 400, "customs_description": "Stoneware mug"}
ORIGIN = {"name": "Alice Tea Ltd", "company": "Alice Tea Ltd", "line1": "1 Dock Road", "city": "London",
          "postal_code": "E14 8DW", "country": "GB", "phone": "+44 20 7946 0000", "email": "ship@teas.example.com"}
BOX = CredentialBox.from_settings(TEST_SETTINGS)  # the key the test app derives from its settings


def shop(sessions: sessionmaker[Session], account: Account, country: str = "GB") -> None:
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        stock.create_warehouse(session, account.actor, WarehouseIn(code="MAIN", name="Main", country=country))
        for sku, fields in (("TEA-1", TEA), ("MUG-1", MUG)):
            products.create_product(session, account.actor, ProductIn(sku=sku, title=f"Title {sku}",
                                                                      base_price=Decimal(10), **fields))
            stock.receive(session, account.actor, StockReceipt(sku=sku, warehouse="MAIN", quantity=100))
        seller = session.get(Seller, account.seller_id)
        seller.ioss_number, seller.eori_number = "IM3010000019", "GB123456789000"


def paid_order(sessions: sessionmaker[Session], account: Account, to: str = "DE",
               lines: tuple[tuple[str, int, str], ...] = (("TEA-1", 2, "10.00"), ("MUG-1", 1, "15.50"))) -> int:
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        order = orders.create_order(session, account.actor, OrderIn.model_validate({
            "currency": "EUR", "buyer": {"name": "Anna Schmidt", "email": "anna@example.com"},
            "shipping_address": {"name": "Anna Schmidt", "line1": "Hauptstr. 1", "city": "Berlin",
                                 "postal_code": "10115", "country": to, "phone": "+49 30 000000"},
            "lines": [{"sku": sku, "quantity": qty, "unit_price": price} for sku, qty, price in lines]}))
        orders.move(session, account.actor, order.id, StatusMove(status=OrderStatus.PAID))
        return order.id


def carrier_account(sessions: sessionmaker[Session], account: Account, kind: str, base_url: str,
                    credentials: dict[str, str], webhook_secret: str = "", origin: dict[str, str] | None = None) -> int:
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        created = services.create_account(session, account.actor, BOX, kind=kind, name=f"{kind} account",
                                          base_url=base_url, credentials=credentials, webhook_secret=webhook_secret,
                                          origin=origin or ORIGIN)
        return created.id


def order_status(sessions: sessionmaker[Session], order_id: int) -> OrderStatus:
    with sessions() as session:
        return session.get(Order, order_id).status
