"""`hub customers backfill`: link the orders that came in before customer matching existed (or were never linked)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from hub.extensions import hub


@click.group("customers", help="Customer profiles: buyers recognised across channels.")
def customers_group() -> None:
    pass


@customers_group.command("backfill", help="Link every order without a customer link to its buyer's profile "
                                          "(one seller with --seller, otherwise all), committing in batches.")
@click.option("--seller", "seller_id", type=click.IntRange(1), default=None)
@click.option("--batch", type=click.IntRange(1, 10_000), default=500)
@with_appcontext
def backfill_command(seller_id: int | None, batch: int) -> None:
    from hub.accounts.models import Seller
    from hub.customers.services import backfill
    from hub.db import unit_of_work

    sessions = hub().sessions
    with sessions() as session:
        sellers = [seller_id] if seller_id else list(session.scalars(sa.select(Seller.id).order_by(Seller.id)))
    total = 0
    for sid in sellers:
        linked = None
        while linked != 0:
            # One transaction per batch: a long history commits as it goes, and a rerun picks up where it stopped.
            with unit_of_work(sessions, sid) as session:
                linked = backfill(session, sid, batch=batch, limit=batch)
            total += linked
    click.echo(f"{total} orders linked across {len(sellers)} seller(s)")
