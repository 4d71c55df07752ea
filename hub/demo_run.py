"""`hub demo run`: the whole demo in one process tree, stopped by one Ctrl-C.

    marketplace sandboxes   `hub sandbox serve` (a child), on their fixed ports 5101-5105, seeded with orders in
                            several currencies and countries, a few of them malformed so quarantine has something
    the worker              `hub worker` (a child): pulls the orders, pushes stock back, on the demo channels'
                            short schedules (hub.demo.DEMO_SCHEDULE)
    the dashboard           served in this process, in the foreground, on 127.0.0.1:5000

Heavy imports stay inside the command: every `hub` process (and the web app) registers it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from typing import NoReturn

import click
from flask import current_app
from flask.cli import with_appcontext

SANDBOX_START_SECONDS = 30.0
# The first pull reaches this far back: the Shopify sandbox's orders are from around 2026-01-01, the others'
# from the last 30 to 90 days (eBay's API itself never reaches past 90 days).
DEMO_BACKFILL_DAYS = "400"
HUB = [sys.executable, "-c", "from hub.cli import main; main()"]  # this interpreter, whatever the venv
SANDBOXES = ("shopify", "woocommerce", "amazon", "ebay", "shopee")


def _wait_for_ports(ports: Iterable[int], child: subprocess.Popen[bytes], host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + SANDBOX_START_SECONDS
    for port in ports:
        while True:
            if child.poll() is not None:
                raise click.ClickException(f"the sandboxes stopped (exit {child.returncode}): is one of the ports "
                                           "5101-5105 in use by another program?")
            try:
                socket.create_connection((host, port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise click.ClickException(f"no sandbox answered on port {port}") from None
                time.sleep(0.2)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Each child by its own id, the last started first (the worker finishes its runs while the sandboxes still
    answer). Ctrl-C reaches the children too (one process group); a SIGTERM to us does not."""
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _terminated(_signum: int, _frame: object) -> NoReturn:
    raise SystemExit(0)  # unwinds through the server, so the children are stopped in `finally`


@click.command("run", help="Serve the marketplace sandboxes, run the sync worker and serve the dashboard on "
                           "127.0.0.1:5000, with the demo data seeded; Ctrl-C stops everything.")
@click.option("--orders", default=60, show_default=True, help="Orders each sandbox starts with.")
@click.option("--malformed-order-rate", default=0.05, show_default=True, type=click.FloatRange(0.0, 1.0),
              help="Share of sandbox orders served malformed (they land in quarantine).")
@click.option("--port", default=5000, show_default=True, help="Port of the dashboard.")
@with_appcontext
def demo_run(orders: int, malformed_order_rate: float, port: int) -> None:
    from werkzeug.serving import run_simple

    from hub.channels import registry
    from hub.channels.secrets import CredentialBox
    from hub.demo import DEMO_EMAIL, DEMO_PASSWORD, demo_credentials_keys, reset_credentials, seed
    from hub.extensions import hub

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    keys = demo_credentials_keys(app.config)
    box = CredentialBox.from_settings({**app.config, "CREDENTIALS_KEYS": keys})
    seed(hub(), box)
    reset_credentials(hub(), box)
    # The children build their own app from the environment: same database, same credentials key.
    env = {**os.environ, "HUB_DEMO": "true", "HUB_CREDENTIALS_KEYS": keys}
    env.setdefault("HUB_SYNC_BACKFILL_DAYS", DEMO_BACKFILL_DAYS)
    ports = {kind: s.sandbox_port for kind, s in registry.load().specs.items() if s.sandbox and s.sandbox_port}
    missing = set(SANDBOXES) - set(ports)
    if missing:
        raise click.ClickException(f"the demo needs the sandboxes of {', '.join(sorted(missing))}: not installed")

    children: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, _terminated)
    # Ctrl-C must stop us even when started with SIGINT ignored (a background job of a script): the children
    # then start with the default disposition too, instead of inheriting the ignore.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        children.append(subprocess.Popen([*HUB, "sandbox", "serve", *SANDBOXES, "--orders", str(orders),  # noqa: S603
                                          "--malformed-order-rate", str(malformed_order_rate)], env=env))
        _wait_for_ports([ports[name] for name in SANDBOXES], children[0])
        children.append(subprocess.Popen([*HUB, "worker"], env=env))  # noqa: S603
        # This process serves the dashboard: it must open the credentials with the same key.
        app.config["CREDENTIALS_KEYS"] = keys
        app.extensions.pop("sync", None)
        click.echo(f"dashboard on http://127.0.0.1:{port}/login as {DEMO_EMAIL} / {DEMO_PASSWORD}; "
                   "the worker's first pulls start within about 20 s. Ctrl-C stops everything.")
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        _stop(children)
