"""A seller's tax identifiers for customs: IOSS (EU import VAT one-stop shop), EORI, VAT.

    IOSS  IM + 10 digits (IM3010000019)
    EORI  the issuing country's ISO code + up to 15 letters or digits (DE123456789012345, GB123456789000)
    VAT   a country prefix (EL for Greece, XI for Northern Ireland) + 2 to 18 letters or digits, at most 20 in all

Spaces, dots and dashes as people type them are dropped and letters upper-cased before the check; a blank value
clears the identifier.
"""

from __future__ import annotations

import re
from collections.abc import Callable

IOSS = re.compile(r"IM\d{10}")
EORI = re.compile(r"[A-Z]{2}[A-Z0-9]{1,15}")
VAT = re.compile(r"[A-Z]{2}[A-Z0-9+*]{2,18}")


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value).upper()


def check_ioss(value: str) -> str:
    value = _compact(value)
    if not IOSS.fullmatch(value):
        raise ValueError("an IOSS number is IM followed by 10 digits, e.g. IM3010000019")
    return value


def check_eori(value: str) -> str:
    value = _compact(value)
    if not EORI.fullmatch(value):
        raise ValueError("an EORI number is a two-letter country code and up to 15 letters or digits, "
                         "e.g. DE123456789012345")
    return value


def check_vat(value: str) -> str:
    value = _compact(value)
    if not VAT.fullmatch(value):
        raise ValueError("a VAT number is a two-letter country prefix and 2 to 18 letters or digits, "
                         "e.g. DE123456789")
    return value


def optional(check: Callable[[str], str]) -> Callable[[str | None], str | None]:
    """A validator that lets a blank value clear the identifier."""
    def run(value: str | None) -> str | None:
        return check(value) if value and value.strip() else None
    return run
