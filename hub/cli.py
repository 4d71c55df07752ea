"""The `hub` command: Flask's CLI (run, shell, routes) plus the hub's own commands."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from hub.extensions import hub


def register_cli(app: Flask) -> None:
    from hub.currency.cli import fx_group
    from hub.customers.cli import customers_group
    from hub.outbox.cli import outbox_group
    from hub.recommend.cli import recommend_group
    from hub.sync.cli import sync_command, worker_command
    from hub.sync.quarantine_cli import quarantine_group, status_command

    app.cli.add_command(db_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(create_admin)
    app.cli.add_command(worker_command)
    app.cli.add_command(sync_command)
    app.cli.add_command(quarantine_group)
    app.cli.add_command(status_command)
    app.cli.add_command(fx_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(recommend_group)
    app.cli.add_command(customers_group)


@click.group("db", help="Database schema migrations (Alembic).")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="Migrate the database to the newest schema (or REVISION).")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    from hub import migrate

    engine = hub().engine
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        from pathlib import Path

        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(engine, revision)
    click.echo(f"database at {engine.url.render_as_string(hide_password=True)} is at {revision}")


@db_group.command("downgrade", help="Migrate the database back to REVISION.")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    from hub import migrate

    migrate.downgrade(hub().engine, revision)


@db_group.command("revision", help="Autogenerate a migration from the models (for developers).")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    from hub import migrate

    migrate.revision(hub().engine, message)


@click.group("audit", help="The audit trail of outbound calls.")
def audit_group() -> None:
    pass


@audit_group.command("prune", help="Delete outbound-call audit rows and sync runs older than AUDIT_RETENTION_DAYS "
                                    "(or --days); each channel's newest run of each job stays.")
@click.option("--days", type=click.IntRange(min=1), default=None)
@with_appcontext
def audit_prune(days: int | None) -> None:
    from flask import current_app

    from hub.outbound.audit_store import prune
    from hub.sync.runs import prune_runs

    keep = days or current_app.config["AUDIT_RETENTION_DAYS"]
    with hub().sessions.begin() as session:
        removed, runs = prune(session, keep), prune_runs(session, keep)
    click.echo(f"removed {removed} audit rows and {runs} sync runs older than {keep} days")


@click.group("demo", help="Demo data.")
def demo_group() -> None:
    pass


@demo_group.command("seed", help="Create the demo seller, catalog, stock, orders and sandbox channels (once).")
@with_appcontext
def demo_seed() -> None:
    from flask import current_app

    from hub.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_box, seed

    created = seed(hub(), demo_box(current_app.config))
    click.echo(("created" if created else "found") + " the demo seller")
    click.echo(f"  log in at http://127.0.0.1:5000/login as {DEMO_EMAIL} / {DEMO_PASSWORD}")


def _add_demo_run() -> None:
    from hub.buyers.walkthrough import buyer_story
    from hub.demo_run import demo_run
    from hub.demo_story import demo_story

    demo_group.add_command(demo_run)
    demo_group.add_command(demo_story)
    demo_group.add_command(buyer_story)


_add_demo_run()


@click.command("create-admin", help="Create a platform admin, who sees every seller.")
@click.argument("email")
@click.option("--name", default="Platform admin")
@click.password_option()
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    from hub.accounts.models import Role, User
    from hub.db import unique_or_raise
    from hub.errors import DomainError

    security = hub().security
    try:
        security.policy.check(password, user_inputs=(email, name))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    def taken() -> click.ClickException:
        return click.ClickException(f"a user with the email {email} already exists")

    with hub().sessions.begin() as session, unique_or_raise(session, taken):
        session.add(User(seller_id=None, email=email.lower(), name=name, role=Role.ADMIN,
                         password_hash=security.hasher.hash(password)))
    click.echo(f"created platform admin {email}")


def _create_app():
    from hub import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, help="Order Hub.", set_debug_flag=False)


def _add_app_free_commands() -> None:
    # These need no application, database or secret key: FlaskGroup finds its own commands
    # before it builds the app.
    from hub.channels.cli import channels_group, sandbox_group

    cli.add_command(channels_group)
    cli.add_command(sandbox_group)


_add_app_free_commands()


def main() -> None:
    cli(prog_name="hub")
