"""`hub recommend`: recompute the lists now, evaluate them offline, add the demo behaviour (operator tools)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hub.extensions import hub


@click.group("recommend", help="Recommendations: recompute the precomputed lists, evaluate the model.")
def recommend_group() -> None:
    pass


@recommend_group.command("recompute", help="Rebuild the lists of every seller (or --seller), one transaction each.")
@click.option("--seller", "seller_id", type=click.IntRange(1, 2**31 - 1), default=None)
@with_appcontext
def recompute_command(seller_id: int | None) -> None:
    from hub.recommend.compute import recompute_all

    runs = recompute_all(hub().sessions, [seller_id] if seller_id else None)
    for run in runs:
        click.echo(f"seller {run.seller_id}: {run.bought_together} bought-together, {run.for_buyer} for-buyer, "
                   f"{run.opportunities} listing opportunities from {run.orders} orders and {run.events} events "
                   f"in {run.duration_ms} ms")


@recommend_group.command("evaluate", help="Split the history by time and compare the model with popularity.")
@click.option("--seller", "seller_id", type=click.IntRange(1, 2**31 - 1), default=None,
              help="default: every seller with orders")
@click.option("--k", type=click.IntRange(1, 100), default=10)
@click.option("--split-days", type=click.IntRange(1, 3650), default=30, help="test on the last N days")
@with_appcontext
def evaluate_command(seller_id: int | None, k: int, split_days: int) -> None:
    import sqlalchemy as sa

    from hub.orders.models import Order
    from hub.recommend.evaluate import evaluate, table

    with hub().sessions() as session:
        sellers = [seller_id] if seller_id else list(session.scalars(sa.select(Order.seller_id).distinct()
                                                                     .order_by(Order.seller_id)))
        if not sellers:
            raise click.ClickException("no orders to evaluate on")
        for sid in sellers:
            try:
                result = evaluate(session, sid, k=k, split_days=split_days)
            except ValueError as exc:
                raise click.ClickException(f"seller {sid}: {exc}") from None
            click.echo(f"seller {sid}")
            click.echo(table(result))


@recommend_group.command("demo-data", help="Add the deterministic demo behaviour (orders, customers, site events) "
                                           "to a seller.")
@click.option("--seller", "seller_id", type=click.IntRange(1, 2**31 - 1), required=True)
@click.option("--seed", type=int, default=8)
@with_appcontext
def demo_data_command(seller_id: int, seed: int) -> None:
    from hub.recommend.demo_data import generate

    with hub().sessions.begin() as session:
        made = generate(session, seller_id, seed=seed)
    click.echo(f"added {made.orders} orders ({made.lines} lines), {made.customers} customers, {made.events} events")
