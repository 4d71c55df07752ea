"""A listing's price on a channel: its fixed price, or the product's base price by the channel's price rule.

    price_for(base_price, rate, markup, rounding, currency) -> Decimal       pure
    channel_prices(session, channel) -> [PricePreview]                       what push_prices would send

The rule: base price x rate (product currency -> channel currency, today's rate from rates.lookup) x
(1 + channel.price_markup), then rounded by channel.price_rounding:

    "minor"  to the currency's ISO 4217 minor units, half-up (as shops quote prices): 12.345 EUR -> 12.35
    "whole"  to whole units, half-up: 1234.5 JPY -> 1235, 12.49 EUR -> 12.00
    "99"     the smallest price at or above the value that ends in .99: 12.01 -> 12.99, 12.99 -> 12.99,
    "95"     ... or in .95: 12.96 -> 13.95. The ending is in the currency's minor units (KWD 12.990,
             CLF 12.9900). A currency without minor units (JPY, KRW, ISK, ...) has no cents to end in,
             so there the last two whole digits end in 99 / 95: 1234 JPY -> 1299, 1200 -> 1295.

A zero value stays 0 whatever the rounding (a free item is not priced up to 0.99). "99"/"95" never go below the
converted value; "minor" and "whole" round half-up, so they may go below it by less than half a unit.
A fixed price (Listing.price, already in the channel currency) always wins over the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.models import Seller
from hub.catalog.models import Product
from hub.channels.models import Channel, Listing
from hub.currency.rates import Quote, RateUnavailable, lookup
from hub.errors import ValidationError
from hub.money import CurrencyError, minor_units
from hub.timeutil import utcnow

ROUNDINGS = ("minor", "99", "95", "whole")
FIXED, COMPUTED = "fixed", "computed"
DEFAULT_MAX_AGE_DAYS = 5  # config/defaults.toml FX_MAX_AGE_DAYS; callers pass the configured value


def _ending(rounding: str) -> Decimal:
    return Decimal(int(rounding))


def price_for(base_price: Decimal, rate: Decimal, markup: Decimal, rounding: str, currency: str) -> Decimal:
    """base_price x rate x (1 + markup), rounded by `rounding` in `currency` (see the module docstring)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown price rounding {rounding!r} (one of {', '.join(ROUNDINGS)})")
    exponent = minor_units(currency)  # CurrencyError for an unknown code
    value = base_price * rate * (Decimal(1) + markup)
    if value < 0:
        raise ValueError("a price cannot be negative")
    quantum = Decimal(1).scaleb(-exponent)
    if value == 0:
        return Decimal(0).quantize(quantum)
    if rounding == "minor":
        return value.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounding == "whole":
        return value.quantize(Decimal(1), rounding=ROUND_HALF_UP).quantize(quantum)
    if exponent >= 2:
        # n + 0.99 >= value  <=>  n >= value - 0.99: the smallest such whole n.
        ending = _ending(rounding).scaleb(-2)
        whole = (value - ending).to_integral_value(rounding=ROUND_CEILING)
        return (max(whole, Decimal(0)) + ending).quantize(quantum)
    # No cents (or one decimal): the price in minor units ends in 99 / 95, in steps of 100 minor units.
    minor = value.scaleb(exponent)
    ending = _ending(rounding)
    hundreds = ((minor - ending) / 100).to_integral_value(rounding=ROUND_CEILING)
    return ((max(hundreds, Decimal(0)) * 100 + ending).scaleb(-exponent)).quantize(quantum)


def at_minor_units(price: Decimal, currency: str) -> Decimal:
    """A stored price (Numeric, 2500.0000) at the currency's minor units when that is exact (2500 JPY); an
    inexact one (12.5 JPY) is kept as it is, for the channel to refuse with its reason rather than us rounding."""
    try:
        exact = price.quantize(Decimal(1).scaleb(-minor_units(currency)))
    except (CurrencyError, ArithmeticError):
        return price
    return exact if exact == price else price


@dataclass(frozen=True)
class PricePreview:
    """One listing's price on its channel, as push_prices would send it; `price` None with `error` when refused."""

    listing_id: int
    sku: str  # the channel's SKU
    product: str  # the product's SKU and title, "" for a listing linked to none
    kind: str  # FIXED or COMPUTED
    price: Decimal | None
    currency: str
    base_price: Decimal | None = None
    base_currency: str | None = None
    rate: Decimal | None = None
    source: str = ""
    as_of: date | None = None
    stale: bool = False
    error: str = ""


@dataclass(frozen=True)
class _Row:
    listing_id: int
    sku: str
    fixed: Decimal | None
    product_sku: str | None
    title: str | None
    base_price: Decimal | None
    base_currency: str | None


class Rates:
    """Today's quotes for one channel, each pair looked up once (products are mostly in one currency)."""

    def __init__(self, session: Session, quote: str, on: date, max_age_days: int, allow_stale: bool):
        self.session, self.quote, self.on = session, quote, on
        self.max_age_days, self.allow_stale = max_age_days, allow_stale
        self._cache: dict[str, Quote | RateUnavailable] = {}

    def get(self, base: str) -> Quote:
        if base not in self._cache:
            try:
                self._cache[base] = lookup(self.session, base, self.quote, self.on,
                                           max_age_days=self.max_age_days, allow_stale=self.allow_stale)
            except RateUnavailable as exc:
                self._cache[base] = exc
        found = self._cache[base]
        if isinstance(found, RateUnavailable):
            raise found
        return found


def rates_for(session: Session, channel: Channel, *, on: date | None = None, max_age_days: int | None = None,
              allow_stale: bool | None = None) -> Rates:
    if allow_stale is None:
        allow_stale = bool(session.scalar(sa.select(Seller.allow_stale_rates).where(Seller.id == channel.seller_id)))
    return Rates(session, channel.currency, on or utcnow().date(),
                 DEFAULT_MAX_AGE_DAYS if max_age_days is None else max_age_days, allow_stale)


def _preview(row: _Row, channel: Channel, rates: Rates) -> PricePreview:
    product = f"{row.product_sku} · {row.title}" if row.product_sku else ""
    common = {"listing_id": row.listing_id, "sku": row.sku, "product": product, "currency": channel.currency}
    if row.fixed is not None:
        return PricePreview(**common, kind=FIXED, price=at_minor_units(row.fixed, channel.currency))
    if row.base_price is None or row.base_currency is None:
        return PricePreview(**common, kind=COMPUTED, price=None,
                            error="no fixed price and not linked to a product: nothing to price it from")
    extra = {"base_price": row.base_price, "base_currency": row.base_currency}
    try:
        quote = rates.get(row.base_currency)
        price = price_for(row.base_price, quote.rate, channel.price_markup or Decimal(0),
                          channel.price_rounding or "minor", channel.currency)
    except RateUnavailable as exc:
        return PricePreview(**common, **extra, kind=COMPUTED, price=None, error=str(exc))
    except (CurrencyError, ValueError) as exc:
        return PricePreview(**common, **extra, kind=COMPUTED, price=None, error=str(exc))
    return PricePreview(**common, **extra, kind=COMPUTED, price=price, rate=quote.rate, source=quote.source,
                        as_of=quote.as_of, stale=quote.stale)


def _rows_query(channel: Channel) -> sa.Select:
    """Active listings that have a price to push: a fixed one, or a live product to compute one from."""
    live = sa.and_(Product.id == Listing.product_id, Product.deleted_at.is_(None))
    return (sa.select(Listing.id, Listing.channel_sku, Listing.price, Product.sku, Product.title,
                      Product.base_price, Product.currency)
            .outerjoin(Product, live)
            .where(Listing.channel_id == channel.id, Listing.seller_id == channel.seller_id,
                   Listing.is_active.is_(True), sa.or_(Listing.price.is_not(None), Product.id.is_not(None)))
            .order_by(Listing.id))


def previews(session: Session, channel: Channel, rates: Rates, *, after_id: int = 0,
             limit: int | None = None) -> list[PricePreview]:
    """One keyset page of the channel's listings priced (push_prices reads these)."""
    query = _rows_query(channel).where(Listing.id > after_id)
    if limit is not None:
        query = query.limit(limit)
    return [_preview(_Row(*row), channel, rates) for row in session.execute(query).all()]


def channel_prices(session: Session, channel: Channel, *, on: date | None = None, max_age_days: int | None = None,
                   allow_stale: bool | None = None) -> list[PricePreview]:
    """Every active listing's price on the channel (fixed wins, else the rule), nothing pushed.

    `max_age_days` is FX_MAX_AGE_DAYS from the settings; `allow_stale` defaults to the seller's choice."""
    return previews(session, channel, rates_for(session, channel, on=on, max_age_days=max_age_days,
                                                allow_stale=allow_stale))


def max_age_from(settings: Mapping[str, object] | None) -> int:
    """FX_MAX_AGE_DAYS from a settings mapping (app.config), else the default."""
    value = (settings or {}).get("FX_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS)
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise ValidationError(f"FX_MAX_AGE_DAYS is not a number of days: {value!r}") from None


def summary(rows: Iterable[PricePreview]) -> dict[str, int]:
    counts = {"fixed": 0, "computed": 0, "refused": 0}
    for row in rows:
        counts["refused" if row.error else row.kind] += 1
    return counts
