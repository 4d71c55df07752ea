"""Who bought this order: the keys a buyer is recognised by across channels, and the rule deciding a match.
Pure functions, no database.

    email_key("A.Nna+shop@GoogleMail.com") -> "anna@gmail.com"
    phone_key("030 1234567", "DE")         -> "+49301234567"
    identify(OrderView) -> Identity        (the keys, whether the buyer is masked, the channel's buyer id)

The rule (hub.customers.services applies it): the same normalised email is the same customer ("email"); an order
without an email is the customer of an earlier order with the same phone, the same name and the same address
(postal code + country) ("phone+name+address"), and so is an order whose email is new to the seller when that
earlier profile has no email yet (it takes this one); a same email under another name still matches on the email (the
email is what the buyer controls; names are typed differently on every site) but the conflict is recorded.
Masked buyers (marketplaces that hide the buyer from the seller) are never matched with anyone: each gets a profile
of its own per channel buyer id, or none without one.

What this does not know: phone numbering plans. The `phonenumbers` package is not installed, so `phone_key` only
knows country calling codes and trunk prefixes for the countries in CALLING_CODES; it does not validate lengths. A
number in national format from a country it does not know is kept as "<country>:<digits>", comparable only with
numbers from that same country written the same way. That is enough to compare two orders of one buyer, not to
dial the number.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

# Providers known to ignore dots and "+tags" in the local part. Elsewhere both may be significant (many hosts
# deliver "a.b@" and "ab@" to different people), so they are kept as typed.
GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# Relay addresses: the marketplace forwards mail to the buyer, the seller never learns the real address.
_RELAY = re.compile(r"@(?:marketplace\.amazon\.[a-z.]+|members\.ebay\.[a-z.]+)$")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

# Channels whose buyers are masked unless the order says otherwise: they never hand the seller a real email.
MASKING_KINDS = frozenset({"amazon", "ebay", "shopee"})

# ISO 3166-1 alpha-2 -> (country calling code, national trunk prefix dropped after the code, or "" if kept).
CALLING_CODES: dict[str, tuple[str, str]] = {
    "US": ("1", "1"), "CA": ("1", "1"), "GB": ("44", "0"), "IE": ("353", "0"), "DE": ("49", "0"),
    "AT": ("43", "0"), "CH": ("41", "0"), "FR": ("33", "0"), "BE": ("32", "0"), "NL": ("31", "0"),
    "LU": ("352", ""), "IT": ("39", ""), "ES": ("34", ""), "PT": ("351", ""), "DK": ("45", ""),
    "SE": ("46", "0"), "NO": ("47", ""), "FI": ("358", "0"), "PL": ("48", ""), "CZ": ("420", ""),
    "SK": ("421", "0"), "HU": ("36", "06"), "GR": ("30", ""), "RO": ("40", "0"), "BG": ("359", "0"),
    "HR": ("385", "0"), "SI": ("386", "0"), "EE": ("372", ""), "LV": ("371", ""), "LT": ("370", "8"),
    "TR": ("90", "0"), "JP": ("81", "0"), "CN": ("86", "0"), "HK": ("852", ""), "TW": ("886", "0"),
    "KR": ("82", "0"), "SG": ("65", ""), "MY": ("60", "0"), "TH": ("66", "0"), "VN": ("84", "0"),
    "PH": ("63", "0"), "ID": ("62", "0"), "IN": ("91", "0"), "AU": ("61", "0"), "NZ": ("64", "0"),
    "BR": ("55", "0"), "MX": ("52", ""), "AR": ("54", "0"), "CL": ("56", ""), "ZA": ("27", "0"),
    "AE": ("971", "0"), "IL": ("972", "0"), "SA": ("966", "0"), "UA": ("380", "0"),
}
MIN_PHONE_DIGITS = 6  # shorter is an extension or a typo, never a buyer's number


def is_masked_text(value: str | None) -> bool:
    """Asterisks stand for hidden characters (Shopee's "j*****n", "12******89", Alipay's "buy***@")."""
    return bool(value) and "*" in value  # type: ignore[operator]


def is_relay_email(email: str | None) -> bool:
    return bool(email) and _RELAY.search(email.strip().lower()) is not None  # type: ignore[union-attr]


def email_key(email: str | None) -> str | None:
    """Lower-case and trimmed; for Gmail only, dots and a "+tag" in the local part dropped. None if not an
    address, or a masked or relay one (they stand for no person the seller could recognise elsewhere)."""
    if not email:
        return None
    value = email.strip().lower()
    if not _EMAIL.fullmatch(value) or is_masked_text(value) or is_relay_email(value):
        return None
    local, _, domain = value.rpartition("@")
    if domain in GMAIL_DOMAINS:
        local, domain = local.split("+", 1)[0].replace(".", ""), "gmail.com"
        if not local:
            return None
    return f"{local}@{domain}"[:254]


def phone_key(phone: str | None, country: str | None) -> str | None:
    """"+<calling code><number>" from a number as typed: international ("+49 30 ..." or "0049 ...") as is,
    national ("030 ...") with the ship-to country's code and its trunk prefix dropped. See the module docstring
    for what is not known."""
    if not phone or is_masked_text(phone):
        return None
    text = phone.strip()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    else:
        international = ""
    if international:
        return f"+{international}"[:40] if len(international) >= MIN_PHONE_DIGITS else None
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    code = (country or "").upper()
    if code not in CALLING_CODES:
        return f"{code or '??'}:{digits}"[:40]
    calling, trunk = CALLING_CODES[code]
    if trunk and digits.startswith(trunk):
        digits = digits[len(trunk):]
    elif calling == "1" and len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return f"+{calling}{digits}"[:40]


def fold(text: str | None) -> str:
    """Case-folded, accents and punctuation gone, whitespace collapsed: "Zoë  O'Brien-Smith" -> "zoe o brien smith".
    Letters without a decomposition (ø, ł, CJK) are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


def name_key(name: str | None) -> str:
    """The folded name's words in sorted order: "Schmidt, Anna" and "anna schmidt" are the same person."""
    return " ".join(sorted(fold(name).split()))[:200]


def address_key(postal_code: str | None, country: str | None) -> str:
    """Postal code without spaces or dashes, upper-case, with the country: "10115|DE". "" when either is missing."""
    postal = re.sub(r"[\s\-]+", "", postal_code or "").upper()
    country_code = (country or "").strip().upper()
    if not postal or not country_code or is_masked_text(postal):
        return ""
    return f"{postal}|{country_code}"[:40]


@dataclass(frozen=True)
class OrderView:
    """What matching reads of an order (hub.orders.models.Order has all of it, plus its channel's kind)."""

    channel_id: int
    channel_kind: str
    buyer_name: str
    buyer_email: str | None
    buyer_phone: str | None
    shipping_address: dict[str, Any] | None
    ship_country: str | None
    raw: dict[str, Any] | None


@dataclass(frozen=True)
class Identity:
    email: str | None
    phone: str | None
    name: str
    address: str
    masked: bool
    masked_why: str  # "" when not masked
    buyer_id: str | None  # the channel's own id for a masked buyer, when it gives one


def channel_buyer_id(kind: str, raw: dict[str, Any] | None, email: str | None) -> str | None:
    """The marketplace's stable id of a buyer it masks: Amazon's relay address (one per buyer and seller), eBay's
    username, Shopee's buyer_user_id (or username)."""
    raw = raw if isinstance(raw, dict) else {}
    if kind == "amazon":
        relay = (email or "").strip().lower()
        return relay if is_relay_email(relay) else None
    if kind == "ebay":
        buyer = raw.get("buyer") if isinstance(raw.get("buyer"), dict) else {}
        value = buyer.get("username")
    elif kind == "shopee":
        value = raw.get("buyer_user_id") or raw.get("buyer_username")
    else:
        return None
    text = str(value).strip() if value not in (None, "") else ""
    return text[:100] or None


def identify(order: OrderView) -> Identity:
    address = order.shipping_address if isinstance(order.shipping_address, dict) else {}
    country = address.get("country") or order.ship_country
    phone_raw = order.buyer_phone or address.get("phone") or None
    reasons = []
    if is_relay_email(order.buyer_email):
        reasons.append("relay email")
    if any(is_masked_text(v) for v in (order.buyer_email, order.buyer_name, order.buyer_phone)):
        reasons.append("asterisked buyer data")
    if not (order.buyer_email or "").strip() and order.channel_kind in MASKING_KINDS:
        reasons.append(f"{order.channel_kind} gives no email")
    masked = bool(reasons)
    return Identity(
        email=None if masked else email_key(order.buyer_email),
        phone=None if masked else phone_key(phone_raw, country),
        name=name_key(order.buyer_name or address.get("name")),
        address=address_key(address.get("postal_code"), country),
        masked=masked, masked_why=", ".join(reasons),
        buyer_id=channel_buyer_id(order.channel_kind, order.raw, order.buyer_email) if masked else None,
    )


def channel_key(channel_id: int, buyer_id: str) -> str:
    """The one profile of a masked buyer: per channel, never shared with another channel's."""
    return f"masked:{channel_id}:{buyer_id}"[:160]


def contact_key(identity: Identity) -> str | None:
    """The key of an email-less profile found by phone, name and address; None if any of them is missing."""
    if not (identity.phone and identity.name and identity.address):
        return None
    return f"phone:{identity.phone}|{identity.name}|{identity.address}"[:160]


def names_conflict(a: str, b: str) -> bool:
    """Two names that share no word: "Anna Schmidt" / "A. Schmidt" agree, "Anna Schmidt" / "Jan Novak" do not."""
    words_a, words_b = set(name_key(a).split()), set(name_key(b).split())
    return bool(words_a and words_b) and not (words_a & words_b)
