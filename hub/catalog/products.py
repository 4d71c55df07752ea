"""Product use cases. Every query names the seller; the scoped session double-checks it."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from hub.accounts.actor import Actor
from hub.accounts.models import Role, Seller
from hub.catalog.models import Product, ProductTranslation
from hub.catalog.schemas import ProductIn
from hub.db import unique_or_raise
from hub.errors import Conflict, NotFound
from hub.orders.models import OrderLine
from hub.orders.totals import exact
from hub.timeutil import utcnow


def _seller(session: Session, actor: Actor) -> Seller:
    seller = session.get(Seller, actor.acting_seller("create products"))
    if seller is None:
        raise NotFound("no such seller")
    return seller


def get_product(session: Session, actor: Actor, product_id: int, *, include_deleted: bool = False) -> Product:
    query = (sa.select(Product).where(Product.id == product_id, actor.sees(Product.seller_id))
             .options(selectinload(Product.translations)))
    if not include_deleted:
        query = query.where(Product.deleted_at.is_(None))
    product = session.scalar(query)
    if product is None:
        raise NotFound(f"no product {product_id}")
    return product


def find_by_sku(session: Session, seller_id: int, sku: str) -> Product | None:
    return session.scalar(sa.select(Product).where(
        Product.seller_id == seller_id, Product.sku == sku, Product.deleted_at.is_(None)))


def list_products(session: Session, actor: Actor, *, search: str = "", active: bool | None = None,
                  after_id: int = 0, limit: int = 50) -> list[Product]:
    query = sa.select(Product).where(actor.sees(Product.seller_id), Product.deleted_at.is_(None), Product.id > after_id)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(sa.or_(sa.func.lower(Product.sku).like(like), sa.func.lower(Product.title).like(like),
                                   Product.gtin == search))
    if active is not None:
        query = query.where(Product.is_active.is_(active))
    return list(session.scalars(query.order_by(Product.id).limit(limit).options(selectinload(Product.translations))))


def create_product(session: Session, actor: Actor, data: ProductIn) -> Product:
    actor.require(Role.STAFF, "create products")
    seller = _seller(session, actor)
    product = Product(seller_id=seller.id, currency=seller.base_currency)
    with unique_or_raise(session, lambda: _duplicate_sku(data.sku)):
        _apply(product, data)
        session.add(product)
    return product


def update_product(session: Session, actor: Actor, product_id: int, data: ProductIn) -> Product:
    actor.require(Role.STAFF, "edit products")
    product = get_product(session, actor, product_id)
    with unique_or_raise(session, lambda: _duplicate_sku(data.sku)):
        _apply(product, data)
    return product


def _apply(product: Product, data: ProductIn) -> None:
    money = exact(data.base_price, product.currency, "base_price")  # EUR 1.001 is refused, not rounded
    fields = data.model_dump(exclude={"translations", "base_price"})
    for name, value in fields.items():
        setattr(product, name, value)
    product.base_price = money.amount
    existing = {t.locale: t for t in product.translations}
    wanted = {t.locale: t for t in data.translations}
    for locale, row in existing.items():
        if locale not in wanted:
            product.translations.remove(row)
    for locale, t in wanted.items():
        row = existing.get(locale)
        if row is None:
            product.translations.append(ProductTranslation(seller_id=product.seller_id, locale=locale,
                                                           title=t.title, description=t.description))
        else:
            row.title, row.description = t.title, t.description


def _duplicate_sku(sku: str) -> Conflict:
    return Conflict(f"SKU {sku} is already used by another product", fields={"sku": "already used"},
                    code="duplicate_sku")


def delete_product(session: Session, actor: Actor, product_id: int) -> bool:
    """Delete; a product that appears on orders is only marked deleted. Returns True if soft."""
    actor.require(Role.STAFF, "delete products")
    product = get_product(session, actor, product_id)
    on_orders = session.scalar(sa.select(sa.exists().where(OrderLine.product_id == product.id)))
    if on_orders:
        product.deleted_at = utcnow()
        product.is_active = False
        return True
    session.delete(product)
    return False
