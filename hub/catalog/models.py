from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db import Base, TenantOwned
from hub.money import Money
from hub.timeutil import utcnow


class Product(TenantOwned, Base):
    __tablename__ = "products"
    __table_args__ = (
        # Soft-deleted products free their SKU for reuse; their orders still point at them by id.
        sa.Index("uq_products_seller_sku_live", "seller_id", "sku", unique=True,
                 postgresql_where=sa.text("deleted_at IS NULL"), sqlite_where=sa.text("deleted_at IS NULL")),
        sa.CheckConstraint("base_price >= 0", name="price_not_negative"),
        sa.CheckConstraint("weight_grams IS NULL OR weight_grams >= 0", name="weight_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(sa.String(64))
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    base_price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(sa.String(3))
    weight_grams: Mapped[int | None]
    gtin: Mapped[str | None] = mapped_column(sa.String(14))
    hs_code: Mapped[str | None] = mapped_column(sa.String(10))
    country_of_origin: Mapped[str | None] = mapped_column(sa.String(2))
    customs_description: Mapped[str] = mapped_column(sa.String(255), default="", server_default=sa.text("''"))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Bought again and again (tea, filters): recommendations may suggest it again once the last one is old enough.
    consumable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None]

    translations: Mapped[list[ProductTranslation]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductTranslation.locale"
    )

    @property
    def price(self) -> Money:
        return Money(self.base_price, self.currency).rounded()

    def title_for(self, locale: str) -> str:
        """Title in `locale`, else in its language (de_AT -> de), else the default title."""
        by_locale = {t.locale: t.title for t in self.translations}
        return by_locale.get(locale) or by_locale.get(locale.split("_")[0]) or self.title


class ProductTranslation(TenantOwned, Base):
    __tablename__ = "product_translations"
    __table_args__ = (sa.UniqueConstraint("product_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")

    product: Mapped[Product] = relationship(back_populates="translations")


class Warehouse(TenantOwned, Base):
    __tablename__ = "warehouses"
    __table_args__ = (sa.UniqueConstraint("seller_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    name: Mapped[str] = mapped_column(sa.String(120))
    country: Mapped[str] = mapped_column(sa.String(2))
    # Lower ships first when an order's stock is spread over several warehouses.
    priority: Mapped[int] = mapped_column(default=100)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockLevel(TenantOwned, Base):
    """Current stock of one product in one warehouse: always the sum of its ledger rows."""

    __tablename__ = "stock_levels"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "warehouse_id"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        sa.CheckConstraint("on_hand >= reserved", name="available_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"), index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship()
    warehouse: Mapped[Warehouse] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(enum.StrEnum):
    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    RESERVATION = "reservation"
    RELEASE = "release"
    SHIPMENT = "shipment"


class StockMovement(TenantOwned, Base):
    """Append-only stock ledger. Never updated or deleted (an ORM guard refuses it)."""

    __tablename__ = "stock_movements"
    __table_args__ = (sa.Index("ix_stock_movements_level", "product_id", "warehouse_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"))
    kind: Mapped[MovementKind] = mapped_column(
        sa.Enum(MovementKind, native_enum=False, length=16, create_constraint=True, name="kind_valid",
                values_callable=lambda e: [m.value for m in e])
    )
    on_hand_delta: Mapped[int] = mapped_column(default=0)
    reserved_delta: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(sa.String(255), default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StockReservation(TenantOwned, Base):
    """Units held for one order line in one warehouse; `quantity` falls as units ship or are released."""

    __tablename__ = "stock_reservations"
    __table_args__ = (sa.CheckConstraint("quantity >= 0", name="quantity_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(sa.ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id", ondelete="CASCADE"))
    quantity: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@sa.event.listens_for(StockMovement, "before_update")
@sa.event.listens_for(StockMovement, "before_delete")
def _ledger_is_append_only(_mapper: object, _conn: object, target: StockMovement) -> None:
    raise RuntimeError(f"stock ledger row {target.id} is append-only")
