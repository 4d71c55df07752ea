"""Writing exchange rates: fetched quotes, the bundled history, and an admin's manual rates.

Fetched rows are inserted with ON CONFLICT DO NOTHING on (base, quote, as_of, source): refreshing twice, or two
workers refreshing at once, stores each quote once. Network calls happen before any transaction opens, so a
slow provider never holds a database connection.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.currency.models import FxRate
from hub.currency.providers import RateProvider
from hub.currency.providers.offline import OfflineProvider
from hub.currency.rates import MANUAL, PIVOT, Quote
from hub.db import dialect_insert
from hub.errors import ExternalError, PermissionDenied, ValidationError
from hub.money import is_currency
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

# Rows per INSERT statement batch: large enough for speed, small enough for SQLite's variable limit per row set.
CHUNK = 5000
# The bundled history loaded by default: enough for any order still being converted, ~10x faster than all 27 y.
OFFLINE_YEARS = 3
# Numeric(28, 12): at most 16 digits before the point.
MAX_RATE = Decimal("1e16")
FIRST_DAY = date(1999, 1, 4)  # the euro's first reference rates; no order the hub converts is older


def store_quotes(session: Session, rows: Iterable[Quote]) -> int:
    """Insert quotes, skipping those already stored; returns how many were new."""
    table = FxRate.__table__
    insert = dialect_insert(session)
    stmt = insert(table).on_conflict_do_nothing(
        index_elements=[table.c.base, table.c.quote, table.c.as_of, table.c.source]).returning(table.c.id)
    now = utcnow()
    stored = 0
    batch: list[dict[str, object]] = []

    def flush() -> int:
        if not batch:
            return 0
        # executemany with RETURNING (SQLAlchemy's insertmanyvalues): one round trip per batch, and the
        # returned ids count exactly the rows the conflict clause let through.
        count = len(session.execute(stmt, batch).all())
        batch.clear()
        return count

    for row in rows:
        batch.append({"base": row.base, "quote": row.quote, "rate": row.rate, "as_of": row.as_of,
                      "source": row.source, "fetched_at": now})
        if len(batch) >= CHUNK:
            stored += flush()
    return stored + flush()


@dataclass(frozen=True)
class Refreshed:
    provider: str | None  # the provider whose quotes were stored; None when every one failed
    as_of: date | None
    fetched: int
    stored: int  # new rows (an unchanged day stores nothing)
    failures: tuple[tuple[str, str], ...] = ()  # (provider, why) for each one tried before

    @property
    def ok(self) -> bool:
        return self.provider is not None


def refresh(sessions: sessionmaker[Session], providers: Sequence[RateProvider], *,
            day: date | None = None) -> Refreshed:
    """Ask the providers in order (FX_PROVIDERS, see providers.build_providers) until one answers; store its
    quotes. A failing provider is logged and the next one tried; all failing is reported, not raised, so the
    scheduled job and the CLI decide what a failure means."""
    failures: list[tuple[str, str]] = []
    for provider in providers:
        try:
            rows = provider.fetch(day)
        except ExternalError as exc:
            log.warning("rates from %s failed: %s", provider.name, exc)
            failures.append((provider.name, str(exc)))
            continue
        if not rows:
            failures.append((provider.name, "no rates for that day"))
            continue
        with sessions.begin() as session:
            stored = store_quotes(session, rows)
        as_of = max(r.as_of for r in rows)
        log.info("rates from %s as of %s: %d fetched, %d new", provider.name, as_of, len(rows), stored)
        return Refreshed(provider.name, as_of, len(rows), stored, tuple(failures))
    return Refreshed(None, None, 0, 0, tuple(failures))


def ensure_offline_history(session: Session, years: int | None = OFFLINE_YEARS,
                           provider: OfflineProvider | None = None) -> int:
    """Load the bundled ECB history (the last `years`, or all of it for None) unless already loaded; returns
    the rows stored. Checking both ends of the window makes a second call cost two indexed reads."""
    provider = provider or OfflineProvider()
    newest = provider.fetch(None)
    if not newest:
        return 0
    last = newest[0].as_of
    since = last - timedelta(days=365 * years) if years is not None else None
    rows = provider.history(since)
    first = min(r.as_of for r in rows)

    def has(day: date) -> bool:
        return session.scalar(sa.select(sa.exists().where(
            FxRate.base == PIVOT, FxRate.source == provider.source, FxRate.as_of == day))) or False

    if has(first) and has(last):
        return 0
    return store_quotes(session, rows)


def set_manual_rate(session: Session, actor: Actor, base: str, quote: str, rate: Decimal | str, day: date) -> FxRate:
    """An admin's rate: 1 `base` = `rate` `quote` on `day`. It wins over fetched ones for that day (see
    rates.lookup); setting it again for the same day replaces it."""
    if not actor.is_admin:
        raise PermissionDenied("only a platform admin may set exchange rates")
    base, quote = str(base).strip().upper(), str(quote).strip().upper()
    errors: dict[str, str] = {}
    for field_name, code in (("base", base), ("quote", quote)):
        if not is_currency(code):
            errors[field_name] = f"{code!r} is not an ISO 4217 currency"
    if not errors and base == quote:
        errors["quote"] = "a rate needs two different currencies"
    try:
        value = Decimal(str(rate))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        errors["rate"] = "the rate must be a number greater than 0"
    elif value >= MAX_RATE or value.quantize(Decimal("1e-12")) == 0:
        errors["rate"] = "the rate is out of range (below 1e-12 or 16 digits before the point)"
    # Tomorrow is allowed: in time zones ahead of UTC it is already today.
    if not FIRST_DAY <= day <= utcnow().date() + timedelta(days=1):
        errors["day"] = f"the day must be between {FIRST_DAY:%Y-%m-%d} and tomorrow"
    if errors:
        raise ValidationError("invalid manual exchange rate", fields=errors)
    table = FxRate.__table__
    values = {"base": base, "quote": quote, "rate": value, "as_of": day, "source": MANUAL,
              "fetched_at": utcnow(), "entered_by": actor.user_id}
    stmt = dialect_insert(session)(table).values(**values)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[table.c.base, table.c.quote, table.c.as_of, table.c.source],
        set_={"rate": value, "fetched_at": values["fetched_at"], "entered_by": actor.user_id}))
    row = session.scalars(sa.select(FxRate).where(FxRate.base == base, FxRate.quote == quote,
                                                  FxRate.as_of == day, FxRate.source == MANUAL)
                          .execution_options(populate_existing=True)).one()
    log.info("manual rate %s/%s = %s on %s set by %s", base, quote, value, day, actor.label)
    return row
