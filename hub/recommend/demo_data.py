"""A deterministic history of orders and site behaviour with real structure, for the demo and the evaluation tests.

The seller's products are dealt into themes of four (a starter set and its complements: tea, a pot, a strainer, a
tin); each buyer has one or two favourite themes, a home country and a home channel. An order is mostly a basket
from a favourite theme (often two or three of its products together), sometimes one of a few global best sellers
(the noise a popularity list catches). Each theme sells on some channels only, so the other channels show as
listing opportunities. The site's events follow the same tastes: views and add-to-carts of the theme's products,
clicks, some of them on recommendations.

Orders are written as delivered history (no stock is reserved or moved: they happened before the demo began), with
a customer profile per buyer so the for-buyer lists have someone to be for. Products whose SKU starts with TEA are
marked consumable. Running it again for the same seller and seed adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.catalog.models import Product
from hub.channels.models import Channel
from hub.customers.models import Customer
from hub.db import dialect_insert
from hub.orders.models import Order, OrderLine
from hub.orders.status import OrderStatus
from hub.recommend.models import BehaviourEvent, EventKind, RecommendationList
from hub.timeutil import utcnow

THEME_SIZE = 4
COUNTRIES = ("DE", "DE", "DE", "NL", "NL", "FR", "FR", "AT", "IT", "GB")


@dataclass(frozen=True)
class Generated:
    orders: int
    lines: int
    customers: int
    events: int


def generate(session: Session, seller_id: int, *, buyers: int = 150, orders: int = 1200, days: int = 240,
             seed: int = 8, now: datetime | None = None) -> Generated:
    """Add the history to `seller_id` (which needs at least 8 products and one channel)."""
    prefix = f"REC{seed}-"
    if session.scalar(sa.select(Order.id).where(Order.seller_id == seller_id,
                                                Order.external_id.startswith(prefix)).limit(1)) is not None:
        return Generated(0, 0, 0, 0)
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = now or utcnow()
    products = session.execute(sa.select(Product.id, Product.sku, Product.title, Product.base_price, Product.currency)
                               .where(Product.seller_id == seller_id, Product.deleted_at.is_(None))
                               .order_by(Product.id)).all()
    channels = list(session.scalars(sa.select(Channel.id).where(Channel.seller_id == seller_id).order_by(Channel.id)))
    if len(products) < 2 * THEME_SIZE or not channels:
        raise ValueError("the demo behaviour needs at least 8 products and a channel")
    session.execute(sa.update(Product).where(Product.seller_id == seller_id, Product.sku.startswith("TEA"))
                    .values(consumable=True))

    shuffled = list(products)
    rng.shuffle(shuffled)
    themes = [shuffled[i:i + THEME_SIZE] for i in range(0, len(shuffled) - THEME_SIZE + 1, THEME_SIZE)]
    hits = shuffled[-3:] if len(shuffled) % THEME_SIZE >= 3 else [t[0] for t in themes[:3]]
    theme_channels = [rng.sample(channels, k=max(1, min(len(channels), rng.choice((1, 2, 2, 3)))))
                      for _ in themes]

    customers = []
    for i in range(buyers):
        email = f"{prefix.lower()}buyer{i}@demo.example"
        customers.append(Customer(seller_id=seller_id, name=f"Demo buyer {i}", email_key=email))
    session.add_all(customers)
    session.flush()
    tastes = [rng.sample(range(len(themes)), k=min(len(themes), rng.choice((1, 2, 2)))) for _ in range(buyers)]
    homes = [rng.choice(COUNTRIES) for _ in range(buyers)]
    # A few heavy buyers and many occasional ones, as in any shop.
    weights = [1.0 / (1 + i % 25) for i in range(buyers)]

    line_count, event_rows = 0, []
    for n in range(orders):
        b = rng.choices(range(buyers), weights=weights)[0]
        theme_index = rng.choice(tastes[b]) if rng.random() < 0.85 else rng.randrange(len(themes))
        theme = themes[theme_index]
        size = rng.choices((1, 2, 3), weights=(0.35, 0.45, 0.2))[0]
        basket = rng.sample(theme, k=size)
        if rng.random() < 0.25:
            basket.append(rng.choice(hits))
        basket = list({p.id: p for p in basket}.values())
        placed = now - timedelta(days=days * (1 - n / orders), minutes=rng.randrange(600))
        channel = rng.choice(theme_channels[theme_index])
        lines = [OrderLine(seller_id=seller_id, line_no=i + 1, sku=p.sku, product_id=p.id, title=p.title[:255],
                           quantity=rng.choice((1, 1, 1, 2)), unit_price=p.base_price, line_total=Decimal(0))
                 for i, p in enumerate(basket)]
        for line in lines:
            line.line_total = line.unit_price * line.quantity
        subtotal = sum((line.line_total for line in lines), Decimal(0))
        customer = customers[b]
        session.add(Order(
            seller_id=seller_id, channel_id=channel, external_id=f"{prefix}{n:06d}", status=OrderStatus.DELIVERED,
            currency=basket[0].currency, subtotal=subtotal, discount_total=Decimal(0), shipping_total=Decimal(0),
            tax_total=Decimal(0), grand_total=subtotal, buyer_name=customer.name, buyer_email=customer.email_key,
            ship_country=homes[b], placed_at=placed, updated_at=placed, customer_id=customer.id,
            customer_match="demo", lines=lines))
        line_count += len(lines)
        # Before buying: views of the theme, an add-to-cart, and now and then a click on a recommendation.
        for p in rng.sample(theme, k=min(len(theme), 2)) + basket[:1]:
            event_rows.append(_event(seller_id, f"{prefix}{len(event_rows)}", EventKind.VIEW, p.id, customer.id,
                                     placed - timedelta(minutes=rng.randrange(5, 120))))
        event_rows.append(_event(seller_id, f"{prefix}{len(event_rows)}", EventKind.ADD_TO_CART, basket[0].id,
                                 customer.id, placed - timedelta(minutes=3)))
        if rng.random() < 0.6:
            context = rng.choice((RecommendationList.BOUGHT_TOGETHER, RecommendationList.FOR_BUYER)) \
                if rng.random() < 0.4 else None
            event_rows.append(_event(seller_id, f"{prefix}{len(event_rows)}", EventKind.CLICK, basket[-1].id,
                                     customer.id, placed - timedelta(minutes=4), context))
    session.flush()
    table = BehaviourEvent.__table__
    for start in range(0, len(event_rows), 1000):
        session.execute(dialect_insert(session)(table).values(event_rows[start:start + 1000])
                        .on_conflict_do_nothing(index_elements=["seller_id", "event_id"]))
    return Generated(orders=orders, lines=line_count, customers=buyers, events=len(event_rows))


def _event(seller_id: int, event_id: str, kind: EventKind, product_id: int, customer_id: int, at: datetime,
           context: RecommendationList | None = None) -> dict[str, object]:
    return {"seller_id": seller_id, "event_id": event_id, "kind": str(kind), "product_id": product_id,
            "customer_id": customer_id, "visitor": "", "context": str(context) if context else "",
            "occurred_at": at, "received_at": at}
