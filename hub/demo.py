"""Demo data: a seller with a catalog, stock in two warehouses and orders in several states.

Everything goes through the same services the dashboard and API use, so the demo is also a smoke
test of the real code paths.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from hub.accounts import services as accounts
from hub.accounts.models import User
from hub.accounts.schemas import SignUp
from hub.accounts.services import actor_for
from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.extensions import Hub
from hub.orders import services as orders
from hub.orders.schemas import OrderIn, ShipmentIn, StatusMove
from hub.timeutil import utcnow

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "orbit-kettle-meadow-42"  # noqa: S105  (printed for the demo on purpose)

CATALOG = [
    # sku, title, price, grams, gtin, hs, origin, {locale: title}
    ("TEA-SENCHA-100", "Sencha green tea, 100 g", "12.90", 120, "4006381333931", "090210", "JP",
     {"de": "Sencha Grüntee, 100 g", "ja": "煎茶 100g"}),
    ("TEA-EARL-250", "Earl Grey, loose leaf, 250 g", "14.50", 270, None, "090240", "IN",
     {"de": "Earl Grey, lose, 250 g", "fr": "Earl Grey en vrac, 250 g"}),
    ("MUG-STONE-BLUE", "Stoneware mug, blue", "18.00", 420, None, "691200", "PT", {"de": "Steinzeugbecher, blau"}),
    ("KETTLE-GOOSE-1L", "Gooseneck kettle, 1 l", "59.00", 980, None, "732393", "CN",
     {"de": "Schwanenhalskessel, 1 l", "fr": "Bouilloire col de cygne, 1 l"}),
    ("FILTER-PAPER-100", "Paper filters, 100 pcs", "4.20", 90, None, "482369", "DE", {}),
    ("SCALE-0.1G", "Coffee scale, 0.1 g", "34.90", 380, None, "842381", "CN", {"de": "Kaffeewaage, 0,1 g"}),
]
RECEIPTS = [("BER", 40), ("ROT", 15)]
ADDRESSES = [
    ("Anna Schmidt", "anna@example.de", "Torstraße 1", "Berlin", "10119", "DE"),
    ("Jan de Vries", "jan@example.nl", "Prinsengracht 12", "Amsterdam", "1015 DV", "NL"),
    ("Chloé Martin", "chloe@example.fr", "12 rue Oberkampf", "Paris", "75011", "FR"),
    ("Luca Rossi", "luca@example.it", "Via Roma 5", "Milano", "20121", "IT"),
]


def seed(hub: Hub) -> bool:
    """Create the demo data unless it exists. Returns True if it was created now."""
    with hub.sessions.begin() as session:
        if session.scalar(sa.select(User.id).where(User.email == DEMO_EMAIL)) is not None:
            return False
        owner = accounts.sign_up(session, hub.security, SignUp(
            seller_name="Kettle & Leaf", name="Demo Owner", email=DEMO_EMAIL, password=DEMO_PASSWORD,
            base_currency="EUR", default_locale="en_GB", timezone="Europe/Berlin"))
        session.info["seller_id"] = owner.seller_id
        actor = actor_for(owner)
        stock.create_warehouse(session, actor, WarehouseIn(code="BER", name="Berlin", country="DE", priority=10))
        stock.create_warehouse(session, actor, WarehouseIn(code="ROT", name="Rotterdam", country="NL", priority=20))
        for sku, title, price, grams, gtin, hs, origin, titles in CATALOG:
            products.create_product(session, actor, ProductIn(
                sku=sku, title=title, base_price=Decimal(price), weight_grams=grams, gtin=gtin, hs_code=hs,
                country_of_origin=origin, description=f"{title}. Demo product.",
                translations=[{"locale": loc, "title": t} for loc, t in titles.items()]))
            for code, qty in RECEIPTS:
                stock.receive(session, actor, StockReceipt(sku=sku, warehouse=code, quantity=qty,
                                                           reason="opening stock"))
        _orders(session, actor)
    return True


def _orders(session: sa.orm.Session, actor) -> None:
    now = utcnow()
    plan = [  # (address index, [(sku, qty)], days ago, final moves)
        (0, [("TEA-SENCHA-100", 2), ("MUG-STONE-BLUE", 1)], 6, ["paid", "ship", "delivered"]),
        (1, [("KETTLE-GOOSE-1L", 1)], 4, ["paid", "ship"]),
        (2, [("TEA-EARL-250", 3), ("FILTER-PAPER-100", 2)], 2, ["paid"]),
        (3, [("SCALE-0.1G", 1)], 1, []),
        (0, [("TEA-EARL-250", 1)], 3, ["cancelled"]),
    ]
    for addr, lines, days, moves in plan:
        name, email, line1, city, postal, country = ADDRESSES[addr]
        order = orders.create_order(session, actor, OrderIn(
            buyer={"name": name, "email": email},
            shipping_address={"name": name, "line1": line1, "city": city, "postal_code": postal, "country": country},
            lines=[{"sku": sku, "quantity": qty, "unit_price": _price(sku), "tax_rate": Decimal(19)}
                   for sku, qty in lines],
            shipping_total=Decimal("4.90"), placed_at=now - timedelta(days=days)))
        for step in moves:
            if step == "ship":
                shipment = ShipmentIn(carrier="DHL", tracking_number=f"00340434{order.id:06d}")
                orders.ship(session, actor, order.id, shipment)
            else:
                orders.move(session, actor, order.id, StatusMove(status=step))


def _price(sku: str) -> Decimal:
    return next(Decimal(price) for s, _t, price, *_ in CATALOG if s == sku)
