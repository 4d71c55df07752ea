"""`hub quarantine list|show|replay|discard`: the operator's view of orders that could not be imported.

The CLI acts as the platform operator (it sees every seller); the dashboard offers the same to each seller.
"""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.accounts.models import Role

OPERATOR = Actor(user_id=None, seller_id=None, role=Role.ADMIN, label="cli operator")


@click.group("quarantine", help="Orders that could not be imported: list, show, replay, discard.")
def quarantine_group() -> None:
    pass


def _sessions() -> sessionmaker[Session]:
    return current_app.extensions["hub"].sessions


@quarantine_group.command("list", help="Open quarantined orders, oldest first.")
@click.option("--channel", "channel_id", type=click.IntRange(1, 2**31 - 1), default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@with_appcontext
def list_command(channel_id: int | None, limit: int) -> None:
    from hub.sync import quarantine

    with _sessions()() as session:
        items = quarantine.list_open(session, OPERATOR, channel_id=channel_id, limit=limit)
        for item in items:
            click.echo(f"{item.id:>6}  channel {item.channel_id:<4} {item.external_id or '-':<16} "
                       f"seen {item.seen:<3} {item.reason[:90]}")
    if not items:
        click.echo("nothing in quarantine")


@quarantine_group.command("show", help="One quarantined order: its reason, origin and raw payload.")
@click.argument("item_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def show_command(item_id: int) -> None:
    from hub.errors import DomainError
    from hub.jsonexact import dumps_exact
    from hub.sync import quarantine

    with _sessions()() as session:
        try:
            item = quarantine.get(session, OPERATOR, item_id)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"#{item.id} {item.status} channel {item.channel_id} order {item.external_id or '-'} "
                   f"({item.source}, run {item.run_id}, seen {item.seen} times, page cursor {item.page_cursor})")
        click.echo(f"reason: {item.reason}")
        click.echo(json.dumps(json.loads(dumps_exact(item.payload)), indent=2, ensure_ascii=False))


@quarantine_group.command("replay", help="Map and import quarantined orders again (after a fix or a mapping).")
@click.argument("item_ids", nargs=-1, type=click.IntRange(1, 2**31 - 1))
@click.option("--all", "replay_all", is_flag=True, help="Every open item (of --channel, if given).")
@click.option("--channel", "channel_id", type=click.IntRange(1, 2**31 - 1), default=None)
@with_appcontext
def replay_command(item_ids: tuple[int, ...], replay_all: bool, channel_id: int | None) -> None:
    from hub.channels.registry import load
    from hub.errors import DomainError
    from hub.sync import quarantine

    if bool(item_ids) == replay_all:
        raise click.UsageError("give quarantine ids, or --all")
    registry = load()
    failed = 0
    with _sessions()() as session:
        ids = list(item_ids) or [i.id for i in quarantine.list_open(session, OPERATOR, channel_id=channel_id,
                                                                    limit=100_000)]
    for item_id in ids:
        with _sessions().begin() as session:
            try:
                result = quarantine.replay(session, OPERATOR, registry, item_id)
            except DomainError as exc:
                result = quarantine.ReplayResult(False, exc.message)
        failed += not result.ok
        click.echo(f"{item_id:>6}  {'imported' if result.ok else 'still quarantined'}: {result.message}")
    if failed:
        raise click.ClickException(f"{failed} of {len(ids)} could not be imported")


@quarantine_group.command("discard", help="Give up on quarantined orders (kept, marked discarded).")
@click.argument("item_ids", nargs=-1, required=True, type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def discard_command(item_ids: tuple[int, ...]) -> None:
    from hub.errors import DomainError
    from hub.sync import quarantine

    for item_id in item_ids:
        with _sessions().begin() as session:
            try:
                quarantine.discard(session, OPERATOR, item_id)
            except DomainError as exc:
                raise click.ClickException(exc.message) from None
        click.echo(f"{item_id:>6}  discarded")


@click.command("status", help="Every channel's health: its newest run per job, circuit and open quarantine.")
@with_appcontext
def status_command() -> None:
    from hub.channels import services

    with _sessions()() as session:
        channels = services.list_channels(session, OPERATOR)
        health = services.health(session, OPERATOR, channels)
        for channel in channels:
            h = health[channel.id]
            circuit = h.circuit
            state = circuit.state.value if circuit else "closed"
            if circuit and circuit.retry_at and state == "open":
                state += f" until {circuit.retry_at:%Y-%m-%d %H:%M:%S} UTC ({circuit.failures} failures)"
            click.echo(f"{channel.id:>4}  {channel.name:<28} {channel.kind:<12} "
                       f"{'active' if channel.is_active else 'disabled':<9} circuit {state}  "
                       f"quarantine {h.open_quarantine}")
            for job, run in sorted(h.last_runs.items()):
                click.echo(f"        {job:<17} run {run.id:<6} {run.outcome.value:<8} "
                           f"{run.started_at:%Y-%m-%d %H:%M:%S}  fetched {run.fetched} created {run.created} "
                           f"updated {run.updated} quarantined {run.quarantined} pushed {run.pushed} "
                           f"calls {run.api_calls} retries {run.retries} 429s {run.throttled}")
        if not channels:
            click.echo("no channels")
