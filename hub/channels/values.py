"""Exact parsing of the values marketplaces send: amounts, quantities, timestamps, countries.

Amounts arrive as strings ("24.90") or as JSON numbers (WooCommerce, Shopee). `hub.outbound.http`
parses JSON numbers as Decimal, so a float never reaches here; one that does is refused rather than
silently rounded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import pycountry


class MappingError(ValueError):
    """A raw order cannot be turned into a canonical one; the reason goes to quarantine with the payload."""


def amount(value: object, field: str) -> Decimal:
    if isinstance(value, float):
        raise MappingError(f"{field}: got a float ({value!r}); parse JSON with Decimal")
    if isinstance(value, bool) or value is None:
        raise MappingError(f"{field}: missing amount")
    try:
        result = Decimal(str(value).strip())
    except InvalidOperation:
        raise MappingError(f"{field}: not an amount: {value!r}") from None
    if not result.is_finite():
        raise MappingError(f"{field}: not a finite amount: {value!r}")
    return result


def optional_amount(value: object, field: str) -> Decimal | None:
    return None if value in (None, "") else amount(value, field)


def quantity(value: object, field: str) -> int:
    if isinstance(value, bool):
        raise MappingError(f"{field}: not a quantity: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{field}: not a quantity: {value!r}") from None
    if number != number.to_integral_value() or number <= 0:
        raise MappingError(f"{field}: a quantity must be a positive whole number, got {value!r}")
    return int(number)


def iso_time(value: object, field: str, *, naive_is_utc: bool = False) -> datetime:
    """An ISO 8601 timestamp as aware UTC. A naive one is refused unless the API documents it as UTC."""
    if not isinstance(value, str) or not value:
        raise MappingError(f"{field}: missing timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingError(f"{field}: not an ISO 8601 timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        if not naive_is_utc:
            raise MappingError(f"{field}: timestamp without an offset: {value!r}")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def unix_time(value: object, field: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise MappingError(f"{field}: not a unix timestamp: {value!r}")
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError):
        raise MappingError(f"{field}: not a unix timestamp: {value!r}") from None


def country(value: object) -> str | None:
    """ISO 3166-1 alpha-2, or None for a blank or unknown code (the order is still imported)."""
    if not isinstance(value, str) or not value.strip():
        return None
    code = value.strip().upper()
    return code if pycountry.countries.get(alpha_2=code) else None
