"""`hub channels ...` and `hub sandbox serve`: what is installed, raw bodies to canonical orders, sandboxes."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from hub.channels import registry
from hub.channels.port import ChannelOrder
from hub.channels.values import MappingError


def order_json(order: ChannelOrder) -> dict[str, Any]:
    """The canonical order as printed by `hub channels normalize`: amounts as decimal strings or null."""
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime):
            return value.isoformat().replace("+00:00", "Z")
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value

    data = asdict(order)
    data.pop("raw", None)
    data["status"] = str(order.status)
    return plain(data)


@click.group("channels", help="Sales channel connectors.")
def channels_group() -> None:
    pass


@channels_group.command("list", help="Installed connectors and their capabilities.")
def list_connectors() -> None:
    found = registry.load()
    for kind, spec in sorted(found.specs.items()):
        click.echo(f"{kind:<12} {spec.title:<28} {', '.join(spec.capabilities)}")
    for name, why in sorted(found.broken.items()):
        click.echo(f"{name:<12} BROKEN, skipped: {why}", err=True)


@channels_group.command("normalize", help="Raw API response bodies (files) to canonical orders as JSON. "
                        "Needs no database and no network.")
@click.option("--kind", required=True, help="shopify, woocommerce, amazon, ebay, shopee or csv")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def normalize(kind: str, files: tuple[Path, ...]) -> None:
    try:
        spec = registry.load().get(kind)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--kind") from None
    bodies: list[Any] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8-sig")
            # A .csv file is handed over as text (the csv connector reads it); API bodies are JSON.
            bodies.append(text if path.suffix.lower() == ".csv" else json.loads(text, parse_float=Decimal))
        except (ValueError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{path}: not JSON: {exc}") from None
    try:
        orders = spec.normalize(bodies)
    except MappingError as exc:
        raise click.ClickException(f"cannot map: {exc}") from None
    json.dump([order_json(o) for o in orders], sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


@click.group("sandbox", help="Local marketplace sandboxes.")
def sandbox_group() -> None:
    pass


@sandbox_group.command("serve", help="Serve sandboxes on 127.0.0.1 (all with a sandbox when none is named).")
@click.argument("names", nargs=-1)
@click.option("--seed", default=42, show_default=True, help="Seed of the generated demo data.")
@click.option("--orders", "order_count", default=200, show_default=True, help="Orders per sandbox.")
@click.option("--malformed-order-rate", "malformed_order_rate", default=0.0, show_default=True,
              type=click.FloatRange(0.0, 1.0), help="Share of orders served malformed (for quarantine demos).")
@click.option("--port", "port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (one sandbox only; 0 picks a free one).")
def serve(names: tuple[str, ...], seed: int, order_count: int, malformed_order_rate: float,
          port: int | None) -> None:
    import logging
    import threading

    from werkzeug.serving import make_server

    # A marketplace does not print its callers' tokens and signatures to their terminal: no access log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    found = registry.load()
    chosen = [found.get(n) for n in names] if names else [s for s in found.specs.values() if s.sandbox]
    servers = []
    for spec in chosen:
        if spec.sandbox is None:
            raise click.ClickException(f"{spec.kind} has no sandbox")
        app = spec.sandbox(seed=seed, orders=order_count, malformed_order_rate=malformed_order_rate)
        if port is not None and len(chosen) != 1:
            raise click.ClickException("--port needs exactly one sandbox name")
        server = make_server("127.0.0.1", port if port is not None else spec.sandbox_port or 0, app, threaded=True)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        click.echo(f"{spec.kind:<12} http://127.0.0.1:{server.server_port}")
    if not servers:
        raise click.ClickException("no sandboxes to serve")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        for server in servers:
            server.shutdown()
