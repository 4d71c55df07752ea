"""Validated inputs for the account use cases (shared by the dashboard forms and the JSON API)."""

from __future__ import annotations

from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from hub.accounts import tax_ids
from hub.accounts.models import Role
from hub.money import is_currency


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def check_locale(value: str) -> str:
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        raise ValueError(f"unknown locale {value!r} (use e.g. en_GB, de_DE, ja_JP)") from None


def check_timezone(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as Europe/Berlin)")
    return value


def check_currency(value: str) -> str:
    value = value.upper()
    if not is_currency(value):
        raise ValueError(f"unknown currency {value!r} (use an ISO 4217 code such as EUR)")
    return value


_TZ: frozenset[str] | None = None


def _timezones() -> frozenset[str]:
    global _TZ
    if _TZ is None:
        _TZ = frozenset(available_timezones())
    return _TZ


class SignUp(Strict):
    seller_name: str = Field(min_length=1, max_length=120)
    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    password: str = Field(max_length=256)
    base_currency: str = "EUR"
    default_locale: str = "en_GB"
    timezone: str = "UTC"

    _currency = field_validator("base_currency")(check_currency)
    _locale = field_validator("default_locale")(check_locale)
    _tz = field_validator("timezone")(check_timezone)


class ProfileUpdate(Strict):
    name: str = Field(min_length=1, max_length=120)
    locale: str | None = None
    timezone: str | None = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, v: str | None) -> str | None:
        return check_locale(v) if v else None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return check_timezone(v) if v else None


class PasswordChange(Strict):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class TaxIds(Strict):
    """The seller's identifiers for customs declarations (hub.accounts.tax_ids has the formats)."""

    ioss_number: str | None = None
    eori_number: str | None = None
    vat_number: str | None = None

    _ioss = field_validator("ioss_number")(tax_ids.optional(tax_ids.check_ioss))
    _eori = field_validator("eori_number")(tax_ids.optional(tax_ids.check_eori))
    _vat = field_validator("vat_number")(tax_ids.optional(tax_ids.check_vat))


class SellerSettings(TaxIds):
    name: str = Field(min_length=1, max_length=120)
    base_currency: str
    default_locale: str
    timezone: str
    prices_include_tax: bool = False
    # Convert orders with the newest rate there is, marked stale, instead of leaving them unconverted.
    allow_stale_rates: bool = False

    _currency = field_validator("base_currency")(check_currency)
    _locale = field_validator("default_locale")(check_locale)
    _tz = field_validator("timezone")(check_timezone)


def _not_admin(v: Role) -> Role:
    if v is Role.ADMIN:
        raise ValueError("platform admins are created with `hub create-admin`, not by sellers")
    return v


class NewUser(Strict):
    """An owner adds staff: they get a first password to hand over and change."""

    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    role: Role
    password: str = Field(max_length=256)

    _role = field_validator("role")(_not_admin)


class NewInvitation(Strict):
    """An owner invites someone by email: they choose their own name and password when they accept."""

    email: EmailStr
    role: Role

    _role = field_validator("role")(_not_admin)


class AcceptInvitation(Strict):
    name: str = Field(min_length=1, max_length=120)
    password: str = Field(max_length=256)


class NewToken(Strict):
    name: str = Field(min_length=1, max_length=80)
