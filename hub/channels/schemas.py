"""Validated inputs for channel use cases (shared by the dashboard forms and, later, the JSON API).

Credentials and options arrive from a form as text (`key=value` lines, a JSON object) or from an API as
objects; both shapes are accepted here so that every caller gets the same checks. Messages about credentials
never repeat a value: they name the line or the key, because a message may be shown or logged.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, field_validator

from hub.accounts.schemas import Strict, check_currency, check_timezone
from hub.db import MAX_ID
from hub.sync.models import Job

MAX_CREDENTIALS = 30
MAX_SECRET = 4000
MAX_OPTIONS_CHARS = 20_000
# A schedule entry: 0 means "sync now only"; otherwise between 30 seconds (gentle on marketplaces' rate
# limits) and 7 days (a longer gap would outrun the pull's overlap and backfill windows).
MIN_INTERVAL, MAX_INTERVAL = 30, 7 * 24 * 3600
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}", re.ASCII)
_KIND = r"^[a-z][a-z0-9_]{0,31}$"


def credential_lines(value: Any) -> Any:
    """`key=value` lines -> dict; blank lines and `#` comments are skipped. A dict passes through."""
    if not isinstance(value, str):
        return value
    out: dict[str, str] = {}
    for number, line in enumerate(value.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, secret = line.partition("=")
        key, secret = key.strip(), secret.strip()
        if not sep or not key:
            raise ValueError(f"line {number} is not key=value")
        if key in out:
            raise ValueError(f"line {number}: {key} is given twice")
        out[key] = secret
    return out


def check_credentials(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_CREDENTIALS:
        raise ValueError(f"at most {MAX_CREDENTIALS} credentials")
    for key, secret in value.items():
        if not _KEY.fullmatch(key):
            raise ValueError(f"{key[:64]!r} is not a valid name (letters, digits, _ . -)")
        if not secret:
            raise ValueError(f"{key} has no value")
        if len(secret) > MAX_SECRET:
            raise ValueError(f"{key} is longer than {MAX_SECRET} characters")
    return value


def json_object(value: Any) -> Any:
    """JSON text -> dict (numbers as Decimal, as everywhere in the hub); blank text is {}. A dict passes."""
    if not isinstance(value, str):
        return value
    if not value.strip():
        return {}
    if len(value) > MAX_OPTIONS_CHARS:
        raise ValueError(f"at most {MAX_OPTIONS_CHARS} characters")
    try:
        parsed = json.loads(value, parse_float=Decimal)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ValueError('must be a JSON object, e.g. {"inbox": "/data/in"}')
    return parsed


def check_base_url(value: str) -> str:
    """Blank (connectors without a server, e.g. csv) or an absolute http(s) URL without credentials in it."""
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ValueError("not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL, e.g. https://shop.example.com")
    if parts.username or parts.password:
        raise ValueError("put credentials in the credentials field, not in the URL")
    if any(c.isspace() for c in value):
        raise ValueError("must not contain spaces")
    return value.rstrip("/")


Credentials = Annotated[dict[str, str], BeforeValidator(credential_lines)]
Options = Annotated[dict[str, Any], BeforeValidator(json_object)]
Interval = Annotated[int | None, Field(ge=0, le=MAX_INTERVAL)]


class ChannelIn(Strict):
    kind: str = Field(pattern=_KIND, description="An installed connector, see `hub channels list`")
    name: str = Field(min_length=1, max_length=80)
    currency: str = Field(description="ISO 4217")
    base_url: str = Field(default="", max_length=500)
    credentials: Credentials = Field(default_factory=dict)
    options: Options = Field(default_factory=dict)
    timezone: str = "UTC"

    _currency = field_validator("currency")(check_currency)
    _tz = field_validator("timezone")(check_timezone)
    _url = field_validator("base_url")(check_base_url)
    _credentials = field_validator("credentials")(check_credentials)


class CredentialsIn(Strict):
    credentials: Credentials = Field(min_length=1)

    _credentials = field_validator("credentials")(check_credentials)


class ScheduleIn(Strict):
    """Seconds between runs per job; None: the hub's default, 0: only "sync now". Field names are the
    jobs' values with `_` for `-`, so that they can be form input names."""

    pull: Interval = None
    push_inventory: Interval = None
    push_prices: Interval = None
    push_fulfilments: Interval = None
    check_drift: Interval = None

    @field_validator("*")
    @classmethod
    def _bounds(cls, value: int | None) -> int | None:
        if value and value < MIN_INTERVAL:
            raise ValueError(f"0 (sync now only) or at least {MIN_INTERVAL} seconds")
        return value

    def as_schedule(self) -> dict[str, int]:
        """The stored shape: job value -> seconds, defaults left out."""
        return {Job(name.replace("_", "-")).value: seconds
                for name, seconds in self.model_dump().items() if seconds is not None}

    @classmethod
    def of(cls, schedule: dict[str, Any]) -> dict[str, Any]:
        """Form values from the stored shape."""
        return {job.value.replace("-", "_"): schedule.get(job.value) for job in Job}


class ChannelSettings(Strict):
    base_url: str = Field(default="", max_length=500)
    options: Options = Field(default_factory=dict)
    timezone: str = "UTC"
    warehouse_ids: list[Annotated[int, Field(gt=0, le=MAX_ID)]] = Field(default_factory=list, max_length=200)
    stock_buffer: int = Field(default=0, ge=0, le=1_000_000)
    stock_percent: int = Field(default=100, ge=0, le=100)
    stock_max: int | None = Field(default=None, ge=0, le=100_000_000)
    stock_zero_below: int = Field(default=0, ge=0, le=1_000_000)
    schedule: ScheduleIn = Field(default_factory=ScheduleIn)
    # The price rule for listings without a fixed price (hub.currency.pricing): 0.15 = +15 %, -0.1 = -10 %.
    price_markup: Decimal = Field(default=Decimal(0), ge=Decimal("-0.9"), le=Decimal(10), max_digits=7,
                                  decimal_places=4, description="A fraction: 0.15 = +15 %")
    price_rounding: Literal["minor", "99", "95", "whole"] = "minor"

    _tz = field_validator("timezone")(check_timezone)
    _url = field_validator("base_url")(check_base_url)


class SkuMapping(Strict):
    product_id: int = Field(gt=0, le=MAX_ID)
