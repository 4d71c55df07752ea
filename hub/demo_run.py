"""`hub demo run`: the whole demo in one process tree, stopped by one Ctrl-C.

    marketplace sandboxes   `hub sandbox serve` (a child), on their fixed ports 5101-5105, seeded with orders in
                            several currencies and countries, a few of them malformed so quarantine has something
    the worker              `hub worker` (a child): pulls the orders, pushes stock back, on the demo channels'
                            short schedules (hub.demo.DEMO_SCHEDULE); applies payment notifications, polls
                            tracking and delivers outbox events (hub.sync.worker.PLATFORM_JOBS)
    payments and carriers   the Stripe (5106), EasyPost (5107) and DHL (5108) sandboxes, served in this process
                            (threads), told to push their signed webhooks to the dashboard
    webhook receiver        127.0.0.1:5109/events, the demo seller's webhook endpoint: logs each event it gets
                            with its verified signature (GET lists the last ones)
    the dashboard           served in this process, in the foreground, on 127.0.0.1:5000

`hub demo story` (hub.demo_story) then walks one direct order through payment, label and delivery.

Heavy imports stay inside the command: every `hub` process (and the web app) registers it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, NoReturn

import click
import requests
from flask import Flask, current_app, request
from flask.cli import with_appcontext

if TYPE_CHECKING:
    from hub.channels.secrets import CredentialBox
    from hub.extensions import Hub

SANDBOX_START_SECONDS = 30.0
# The first pull reaches this far back: the Shopify sandbox's orders are from around 2026-01-01, the others'
# from the last 30 to 90 days (eBay's API itself never reaches past 90 days).
DEMO_BACKFILL_DAYS = "400"
# Carrier webhooks bring tracking at once; the poll (default every 5 minutes) shows itself sooner in the demo.
DEMO_TRACKING_POLL_SECONDS = "60"
HUB = [sys.executable, "-c", "from hub.cli import main; main()"]  # this interpreter, whatever the venv
SANDBOXES = ("shopify", "woocommerce", "amazon", "ebay", "shopee")
BROKER = ("127.0.0.1", 5672)  # RabbitMQ's default: used when it answers, the demo runs without it too
DEMO_BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
RECEIVED_KEPT = 100


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


def _reachable(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=0.5).close()
    except OSError:
        return False
    return True


def receiver_app(secret: str) -> Flask:
    """The demo seller's webhook endpoint: checks each delivery's X-Hub-Signature as a seller's code would, logs
    it, and keeps the last RECEIVED_KEPT for GET /events."""
    from hub.outbox.signing import EVENT_ID_HEADER, EVENT_KIND_HEADER, SIGNATURE_HEADER, verify
    from hub.timeutil import utcnow

    app = Flask("demo-receiver")
    received: deque[dict[str, object]] = deque(maxlen=RECEIVED_KEPT)

    @app.post("/events")
    def receive() -> tuple[dict[str, object], int]:
        body = request.get_data()
        verified = verify(secret, request.headers.get(SIGNATURE_HEADER, ""), body, int(time.time()))
        try:
            message = json.loads(body)
        except ValueError:
            message = {}
        message = message if isinstance(message, dict) else {}
        subject = str(message.get("subject", ""))
        entry = {"event_id": request.headers.get(EVENT_ID_HEADER) or message.get("event_id", ""),
                 "kind": request.headers.get(EVENT_KIND_HEADER) or message.get("kind", ""), "subject": subject,
                 "verified": verified, "received_at": utcnow().isoformat()}
        received.append(entry)
        click.echo(f"webhook receiver: {entry['kind']} {subject} ({entry['event_id']}), signature "
                   f"{'verified' if verified else 'INVALID'}")
        return ({"ok": True}, 200) if verified else ({"error": "bad signature"}, 400)

    @app.get("/events")
    def listing() -> dict[str, object]:
        return {"events": list(received)}

    return app


def payments_and_carriers(stack: ExitStack, hub_: Hub, box: CredentialBox, dashboard: str,
                          ports: Mapping[str, int] | None = None) -> dict[str, tuple[Flask, str]]:
    """Serve the payment and carrier sandboxes and the webhook receiver (on their demo ports unless `ports` says,
    0: any free one) until `stack` closes, and point the sandboxes' webhooks at the dashboard, each with the secret
    the seeded account shares with it. Returns name -> (app, base URL)."""
    from hub import demo
    from hub.outbox.models import WebhookEndpoint
    from hub.sandbox import stripe
    from hub.sandbox.dhl import app as dhl
    from hub.sandbox.easypost import app as easypost
    from hub.sandbox.server import running

    accounts = demo.demo_accounts(hub_)
    secret = ""
    if accounts.endpoint_id is not None:
        with hub_.sessions() as session:
            endpoint = session.get(WebhookEndpoint, accounts.endpoint_id)
            secret = box.open(endpoint.secret_sealed)["secret"] if endpoint is not None else ""
    served = [("Stripe", stripe.create_app(), demo.STRIPE_PORT),
              ("EasyPost", easypost.create_app(), demo.EASYPOST_PORT), ("DHL", dhl.create_app(), demo.DHL_PORT),
              ("webhook receiver", receiver_app(secret), demo.RECEIVER_PORT)]
    result: dict[str, tuple[Flask, str]] = {}
    for name, app, port in served:
        port = (ports or {}).get(name, port)
        try:
            result[name] = (app, stack.enter_context(running(app, port)))
        except OSError as exc:
            raise click.ClickException(f"the {name} sandbox cannot listen on port {port}: {exc}") from None
    # The control endpoints, as a test would use them: the sandboxes push to the running dashboard from now on.
    requests.post(f"{result['Stripe'][1]}/_sandbox/webhook", timeout=5,
                  json={"url": demo.stripe_webhook_url(accounts.stripe_id, dashboard)}).raise_for_status()
    requests.post(f"{result['EasyPost'][1]}/_sandbox/config", timeout=5, json={
        "webhook_url": demo.easypost_webhook_url(accounts.easypost_id, dashboard),
        "webhook_secret": easypost.WEBHOOK_SECRET}).raise_for_status()
    return result


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
    env = {**os.environ, "HUB_DEMO": "true", "HUB_CREDENTIALS_KEYS": keys,
           # The seller's webhook endpoint is the receiver on loopback: the demo's, and only the demo's, to allow.
           "HUB_OUTBOX_WEBHOOK_ALLOW_PRIVATE": "true"}
    env.setdefault("HUB_SYNC_BACKFILL_DAYS", DEMO_BACKFILL_DAYS)
    env.setdefault("HUB_TRACKING_POLL_SECONDS", DEMO_TRACKING_POLL_SECONDS)
    if not env.get("HUB_BROKER_URL") and _reachable(BROKER):
        env["HUB_BROKER_URL"] = DEMO_BROKER_URL
    ports = {kind: s.sandbox_port for kind, s in registry.load().specs.items() if s.sandbox and s.sandbox_port}
    missing = set(SANDBOXES) - set(ports)
    if missing:
        raise click.ClickException(f"the demo needs the sandboxes of {', '.join(sorted(missing))}: not installed")

    children: list[subprocess.Popen[bytes]] = []
    signal.signal(signal.SIGTERM, _terminated)
    # Ctrl-C must stop us even when started with SIGINT ignored (a background job of a script): the children
    # then start with the default disposition too, instead of inheriting the ignore.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = ExitStack()
    try:
        payments_and_carriers(stack, hub(), box, f"http://127.0.0.1:{port}")
        children.append(subprocess.Popen([*HUB, "sandbox", "serve", *SANDBOXES, "--orders", str(orders),  # noqa: S603
                                          "--malformed-order-rate", str(malformed_order_rate)], env=env))
        _wait_for_ports([ports[name] for name in SANDBOXES], children[0])
        children.append(subprocess.Popen([*HUB, "worker"], env=env))  # noqa: S603
        # This process serves the dashboard: it must open the credentials with the same key.
        app.config["CREDENTIALS_KEYS"] = keys
        app.extensions.pop("sync", None)
        click.echo(f"dashboard on http://127.0.0.1:{port}/login as {DEMO_EMAIL} / {DEMO_PASSWORD}; "
                   "the worker's first pulls start within about 20 s. Ctrl-C stops everything.")
        click.echo("Stripe, EasyPost and DHL sandboxes on 127.0.0.1:5106-5108, webhook receiver on 5109; broker: "
                   + (env["HUB_BROKER_URL"] if env.get("HUB_BROKER_URL") else "none (RabbitMQ not reachable)")
                   + ". `HUB_DEMO=true .venv/bin/hub demo story` walks an order through payment and delivery.")
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        _stop(children)
        stack.close()
