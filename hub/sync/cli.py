"""`hub worker` (the scheduler process) and `hub sync CHANNEL` (one job now, as "sync now" does).

The sync engine is imported inside the commands: building the app (every web process) registers these
commands, and must neither pay for the connectors and crypto nor start anything.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from hub.sync.models import Job

if TYPE_CHECKING:
    from hub.channels.models import Channel
    from hub.sync.env import SyncEnv
    from hub.sync.jobs import Progress

# The models module is light (no connectors, no crypto) and the app has loaded its base already.
JOBS = tuple(job.value for job in Job)

EXIT_FAILED = 1
EXIT_SKIPPED = 3  # nothing ran: the channel is disabled, its circuit is open, or the job is running elsewhere


def _env() -> SyncEnv:
    from hub.sync.env import SyncEnv

    hub = current_app.extensions["hub"]
    return SyncEnv.build(hub.engine, hub.sessions, current_app.config)


@click.command("worker", help="Run the sync jobs on their schedules. Start one or more (one leads, the others "
                              "stand by and take over when it dies); never inside the web process.")
@with_appcontext
def worker_command() -> None:
    from hub.sync.worker import Worker

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is ours to write
    Worker(_env(), current_app.config).run_forever()


def parse_since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time, e.g. 2026-03-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_channel(env: SyncEnv, ref: str) -> Channel:
    """A channel by id, or by name when exactly one channel (of any seller) has it."""
    import sqlalchemy as sa

    from hub.channels.models import Channel
    from hub.db import MAX_ID

    with env.sessions() as session:
        if ref.isdigit() and 0 < int(ref) <= MAX_ID:
            channel = session.get(Channel, int(ref))
            if channel is not None:
                return channel
        named = session.scalars(sa.select(Channel).where(Channel.name == ref).order_by(Channel.id)).all()
    if not named:
        raise click.ClickException(f"no channel {ref!r}: give a channel id, or the name of one")
    if len(named) > 1:
        ids = ", ".join(str(c.id) for c in named)
        raise click.ClickException(f"{len(named)} channels are named {ref!r} (ids {ids}): give the id")
    return named[0]


def _progress_line(stream: IO[str]) -> Progress | None:
    if not stream.isatty():
        return None

    def show(counts: dict[str, int]) -> None:
        stream.write("\r" + "  ".join(f"{name} {value}" for name, value in counts.items()) + " ")
        stream.flush()

    return show


@click.command("sync", help="Run one sync job of CHANNEL (an id, or a unique name) now, and print its result. "
                            "Exit status: 0 done, 1 failed, 3 skipped.")
@click.argument("channel")
@click.option("--job", type=click.Choice(JOBS), default="pull", show_default=True)
@click.option("--since", callback=parse_since, metavar="ISO-8601",
              help="Pull orders updated from this moment on, instead of from the cursor (naive times are UTC).")
@click.option("--repair", is_flag=True, help="With check-drift: push the expected quantity of every SKU found wrong.")
@with_appcontext
def sync_command(channel: str, job: str, since: datetime | None, repair: bool) -> None:
    from hub.sync.jobs import jobs_for, run_job
    from hub.sync.models import Outcome

    env = _env()
    row = find_channel(env, channel)
    chosen = Job(job)
    can = jobs_for(env, row)
    if chosen not in can:
        able = ", ".join(j.value for j in can) or "nothing"
        raise click.ClickException(f"{row.kind} channel {row.name} cannot {chosen.value} (it can: {able})")
    if since is not None and chosen is not Job.PULL:
        raise click.BadParameter("only a pull starts from a moment", param_hint="--since")
    if repair and chosen is not Job.CHECK_DRIFT:
        raise click.BadParameter("only a drift check repairs", param_hint="--repair")
    err = sys.stderr
    progress = _progress_line(err)
    try:
        result = run_job(env, row.id, chosen, trigger="cli", since=since, progress=progress,
                         **({"repair": True} if repair else {}))
    except Exception as exc:
        raise click.ClickException(f"{chosen.value} of {row.name} failed: {type(exc).__name__}: {exc}") from None
    finally:
        if progress is not None:
            err.write("\n")
    click.echo(f"{chosen.value} of {row.name} (channel {row.id}): {result.outcome.value}"
               + (f", run {result.run_id}" if result.run_id else ""))
    if result.counts:
        click.echo("  " + "  ".join(f"{name} {value}" for name, value in result.counts.items()))
    if result.message:
        click.echo(f"  {result.message}")
    if result.outcome is Outcome.FAILED:
        click.get_current_context().exit(EXIT_FAILED)
    if result.outcome is Outcome.SKIPPED:
        click.get_current_context().exit(EXIT_SKIPPED)
