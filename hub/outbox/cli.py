"""`hub outbox`: run the dispatcher, list dead letters, requeue one (the operator's tools, across sellers)."""

from __future__ import annotations

import logging
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.extensions import hub


def _operator():  # -> Actor: a platform admin's view, every seller's deliveries
    from hub.accounts.actor import Actor
    from hub.accounts.models import Role

    return Actor(user_id=None, seller_id=None, role=Role.ADMIN, label="hub outbox")


@click.group("outbox", help="Notifications: deliver outbox events to the broker and sellers' webhooks.")
def outbox_group() -> None:
    pass


@outbox_group.command("dispatch", help="Deliver outbox events: with --once until nothing is due, then exit; "
                                       "otherwise every OUTBOX_DISPATCH_SECONDS until stopped (SIGTERM, Ctrl-C).")
@click.option("--once", is_flag=True)
@with_appcontext
def dispatch_command(once: bool) -> None:
    from hub.channels.secrets import CredentialBox
    from hub.outbox.dispatch import Dispatcher

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = current_app.config
    dispatcher = Dispatcher.build(hub().sessions, config, CredentialBox.from_settings(config))
    try:
        if once:
            result = dispatcher.drain()
            click.echo(f"{result.fanned_out} events fanned out, {result.delivered} delivered, "
                       f"{result.failed} failed (will retry), {result.dead} dead")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"dispatching every {dispatcher.settings.interval_seconds:g} s; broker: "
                   f"{'yes' if dispatcher.broker else 'none configured'}", err=True)
        dispatcher.run_forever(stop)
    finally:
        dispatcher.close()


@outbox_group.command("dead", help="List dead-lettered deliveries, newest first.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100)
@with_appcontext
def dead_command(limit: int) -> None:
    from hub.outbox.endpoints import dead_letters

    with hub().sessions() as session:
        rows = dead_letters(session, _operator(), limit)
    for row in rows:
        click.echo(f"{row.delivery_id}\t{row.kind}\t{row.subject}\t{row.destination}\t{row.attempts} attempts\t"
                   f"{row.event_id}\t{row.last_error[:120]}")
    if not rows:
        click.echo("no dead deliveries", err=True)


@outbox_group.command("requeue", help="Give dead delivery ID a fresh set of attempts, due now.")
@click.argument("delivery_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def requeue_command(delivery_id: int) -> None:
    from hub.errors import NotFound
    from hub.outbox.endpoints import requeue

    try:
        with hub().sessions.begin() as session:
            requeue(session, _operator(), delivery_id)
    except NotFound as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"delivery {delivery_id} requeued")


@outbox_group.command("prune", help="Delete events published more than OUTBOX_RETENTION_DAYS (or --days) ago.")
@click.option("--days", type=click.IntRange(min=1), default=None)
@with_appcontext
def prune_command(days: int | None) -> None:
    from hub.outbox.dispatch import prune

    keep = days or int(current_app.config.get("OUTBOX_RETENTION_DAYS", 30))
    with hub().sessions.begin() as session:
        removed = prune(session, keep)
    click.echo(f"removed {removed} outbox events published more than {keep} days ago")
