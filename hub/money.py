"""Money: a Decimal amount and an ISO 4217 currency, never a float.

Minor units come from the ISO 4217 table (the `iso4217` package, which ships SIX's list), not from
babel/CLDR: CLDR's cash/accounting digits differ from ISO for about a dozen currencies (IQD, RSD,
LBP, ...), and books must follow ISO. babel is only used to display amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

import iso4217

# Codes in the ISO table that are not money one can price goods in (gold, test code, SDR, ...).
_NON_TRADING = {"XAU", "XAG", "XPT", "XPD", "XTS", "XXX", "XBA", "XBB", "XBC", "XBD", "XDR", "XSU", "XUA"}


class CurrencyError(ValueError):
    """Unknown currency code or an operation across currencies."""


@cache
def minor_units(code: str) -> int:
    """ISO 4217 minor units (exponent) of `code`: EUR 2, JPY 0, KWD 3."""
    try:
        exponent = iso4217.Currency(code).exponent
    except (ValueError, KeyError):
        raise CurrencyError(f"unknown currency code {code!r}") from None
    if exponent is None or code in _NON_TRADING:
        raise CurrencyError(f"{code} is not a trading currency")
    return exponent


def is_currency(code: object) -> bool:
    if not isinstance(code, str) or len(code) != 3 or not code.isupper():
        return False
    try:
        minor_units(code)
    except CurrencyError:
        return False
    return True


def _quantum(code: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(code))


def to_decimal(value: object) -> Decimal:
    if isinstance(value, float):
        raise TypeError("money amounts must not be floats; pass a str or Decimal")
    if isinstance(value, bool):
        raise TypeError("a bool is not an amount")
    try:
        result = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", to_decimal(self.amount))
        minor_units(self.currency)  # validates the code

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def of(cls, amount: object, currency: str) -> Money:
        """Money rounded to the currency's minor units (half-up, as shops quote prices)."""
        return cls(to_decimal(amount), currency).rounded(ROUND_HALF_UP)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency).rounded()

    # --- rounding -----------------------------------------------------------------------------
    def rounded(self, rounding: str = ROUND_HALF_EVEN) -> Money:
        """Round to ISO minor units; half-even by default, as books are kept."""
        return Money(self.amount.quantize(_quantum(self.currency), rounding=rounding), self.currency)

    @property
    def is_rounded(self) -> bool:
        return self.amount == self.amount.quantize(_quantum(self.currency))

    # --- arithmetic (same currency only) -----------------------------------------------------
    def _check(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} with {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._check(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._check(other).amount, self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        if isinstance(factor, float | Money):
            raise TypeError("multiply Money by an int or Decimal only")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._check(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._check(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._check(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._check(other).amount

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def sum_money(items: list[Money] | tuple[Money, ...], currency: str) -> Money:
    total = Money.zero(currency)
    for item in items:
        total = total + item
    return total
