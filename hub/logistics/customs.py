"""Customs declarations (CN22/CN23 and the carriers' electronic equivalents) built from an order.

    declaration_for(session, actor, order_id, line_ids=None, contents="merchandise", incoterm="DAP")
        -> Declaration, or None when the route needs none

The route: from the ship-from country (given, else the warehouse the order's stock was reserved or shipped from,
else the seller's first warehouse by priority) to the order's ship-to country. No declaration is needed when
both are the same country, nor inside the EU customs union (DE -> FR moves goods, not across customs).

Each item: description (the product's customs_description, else the line's title), quantity, value and currency
(the line total, in the order currency), weight (the product's weight_grams x quantity), HS code, origin.

Tax identifiers: the seller's EORI and VAT numbers when set, and the IOSS number on a consignment into the EU
of at most EUR 150 intrinsic value (the goods, without shipping; converted to EUR with rates.lookup on the day
the order was placed when the order is not in EUR). A declaration that is incomplete for its route is refused
with one ValidationError naming every missing item ("lines[0].hs_code", "ioss_number", ...):

    every line     hs_code, country_of_origin, weight_grams (a line linked to no product misses all three)
    into the EU    ioss_number when the value is EUR 150 or less; eori_number when shipped DDP (the seller is
                   then the importer)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Seller
from hub.catalog.models import Product, StockMovement, StockReservation, Warehouse
from hub.currency.pricing import DEFAULT_MAX_AGE_DAYS
from hub.currency.rates import RateUnavailable, lookup
from hub.errors import ValidationError
from hub.orders.models import Order, OrderLine
from hub.orders.services import get_order

CONTENTS = ("merchandise", "gift", "documents", "sample", "return")
INCOTERMS = ("DDP", "DAP")
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
IOSS_LIMIT_EUR = Decimal(150)


@dataclass(frozen=True)
class CustomsItem:
    line_no: int
    sku: str
    description: str
    quantity: int
    value: Decimal  # the line total, in `currency`
    currency: str
    weight_grams: int
    hs_code: str
    origin: str  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class TaxId:
    kind: str  # "IOSS", "EORI", "VAT"
    number: str


@dataclass(frozen=True)
class Declaration:
    order_id: int
    from_country: str
    to_country: str
    contents: str
    incoterm: str
    currency: str
    items: tuple[CustomsItem, ...]
    total_value: Decimal
    total_weight_grams: int
    tax_ids: tuple[TaxId, ...] = field(default=())
    value_eur: Decimal | None = None  # for a consignment into the EU: what the IOSS limit was checked against


def needs_declaration(from_country: str, to_country: str) -> bool:
    """False for a domestic shipment and inside the EU customs union."""
    return from_country != to_country and not (from_country in EU and to_country in EU)


def ship_to(order: Order) -> str | None:
    country = order.ship_country or (order.shipping_address or {}).get("country")
    return str(country).upper() if country else None


def ship_from(session: Session, order: Order) -> str | None:
    """The country of the warehouse the order's stock was reserved or shipped from, else of the seller's first
    warehouse (by priority, then age)."""
    reserved = (sa.select(Warehouse.country).join(StockReservation, StockReservation.warehouse_id == Warehouse.id)
                .join(OrderLine, OrderLine.id == StockReservation.order_line_id)
                .where(OrderLine.order_id == order.id).order_by(StockReservation.id).limit(1))
    moved = (sa.select(Warehouse.country).join(StockMovement, StockMovement.warehouse_id == Warehouse.id)
             .where(StockMovement.order_id == order.id).order_by(StockMovement.id).limit(1))
    first = (sa.select(Warehouse.country).where(Warehouse.seller_id == order.seller_id)
             .order_by(Warehouse.is_active.desc(), Warehouse.priority, Warehouse.id).limit(1))
    for query in (reserved, moved, first):
        country = session.scalar(query)
        if country:
            return country.upper()
    return None


def _lines(order: Order, line_ids: Sequence[int] | None) -> list[OrderLine]:
    lines = sorted(order.lines, key=lambda line: line.line_no)
    if line_ids is None:
        return lines
    wanted = set(line_ids)
    unknown = wanted - {line.id for line in lines}
    if unknown:
        raise ValidationError(f"order {order.id} has no line {', '.join(map(str, sorted(unknown)))}",
                              fields={"line_ids": "not lines of this order"})
    chosen = [line for line in lines if line.id in wanted]
    if not chosen:
        raise ValidationError("a declaration needs at least one line", fields={"line_ids": "none chosen"})
    return chosen


def declaration_for(session: Session, actor: Actor, order_id: int, *, line_ids: Sequence[int] | None = None,
                    contents: str = "merchandise", incoterm: str = "DAP", from_country: str | None = None,
                    max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> Declaration | None:
    """The customs declaration of the order (or of `line_ids`, e.g. one parcel of a split shipment); None when
    the route needs none. Raises ValidationError naming every missing item."""
    order = get_order(session, actor, order_id)
    bad: dict[str, str] = {}
    if contents not in CONTENTS:
        bad["contents"] = f"one of {', '.join(CONTENTS)}"
    if incoterm not in INCOTERMS:
        bad["incoterm"] = f"one of {', '.join(INCOTERMS)}"
    if bad:
        raise ValidationError("not a valid declaration", fields=bad)
    lines = _lines(order, line_ids)

    to_country = ship_to(order)
    origin = (from_country or ship_from(session, order) or "").upper() or None
    route_missing = {}
    if to_country is None:
        route_missing["ship_country"] = "the order has no ship-to country"
    if origin is None:
        route_missing["ship_from"] = "no warehouse to ship from"
    if route_missing:
        raise ValidationError("the shipment's route is unknown", fields=route_missing)
    assert to_country is not None and origin is not None
    if not needs_declaration(origin, to_country):
        return None

    products = {p.id: p for p in session.scalars(sa.select(Product).where(
        Product.id.in_([line.product_id for line in lines if line.product_id is not None])))}
    missing: dict[str, str] = {}
    items = []
    for i, line in enumerate(lines):
        product = products.get(line.product_id) if line.product_id is not None else None
        hs_code = product.hs_code if product else None
        country = product.country_of_origin if product else None
        weight = product.weight_grams if product else None
        if not hs_code:
            missing[f"lines[{i}].hs_code"] = f"{line.sku} has no HS code"
        if not country:
            missing[f"lines[{i}].country_of_origin"] = f"{line.sku} has no country of origin"
        if weight is None:
            missing[f"lines[{i}].weight_grams"] = f"{line.sku} has no weight"
        description = (product.customs_description if product else "") or line.title
        items.append(CustomsItem(line.line_no, line.sku, description, line.quantity, line.line_total,
                                 order.currency, (weight or 0) * line.quantity, hs_code or "", country or ""))
    total = sum((item.value for item in items), Decimal(0))

    seller = session.get(Seller, order.seller_id)
    assert seller is not None
    tax_ids = []
    value_eur = None
    if to_country in EU:
        value_eur = _in_eur(session, order, seller, total, max_age_days, missing)
        if value_eur is not None and value_eur <= IOSS_LIMIT_EUR:
            if seller.ioss_number:
                tax_ids.append(TaxId("IOSS", seller.ioss_number))
            else:
                missing["ioss_number"] = f"a consignment into the EU of EUR {IOSS_LIMIT_EUR} or less needs the " \
                                         "seller's IOSS number"
        if incoterm == "DDP" and not seller.eori_number:
            missing["eori_number"] = "shipping DDP into the EU makes the seller the importer: an EORI is needed"
    if missing:
        raise ValidationError(f"the customs declaration for order {order.id} ({origin} -> {to_country}) is "
                              f"incomplete: {', '.join(missing)}", fields=missing)
    if seller.eori_number:
        tax_ids.append(TaxId("EORI", seller.eori_number))
    if seller.vat_number:
        tax_ids.append(TaxId("VAT", seller.vat_number))
    return Declaration(order.id, origin, to_country, contents, incoterm, order.currency, tuple(items), total,
                       sum(item.weight_grams for item in items), tuple(tax_ids), value_eur)


def _in_eur(session: Session, order: Order, seller: Seller, total: Decimal, max_age_days: int,
            missing: dict[str, str]) -> Decimal | None:
    if order.currency == "EUR":
        return total
    try:
        quote = lookup(session, order.currency, "EUR", order.placed_at.date(), max_age_days=max_age_days,
                       allow_stale=seller.allow_stale_rates)
    except RateUnavailable as exc:
        missing["currency"] = f"the value in EUR is needed for the IOSS limit: {exc}"
        return None
    return (total * quote.rate).quantize(Decimal("0.01"))
