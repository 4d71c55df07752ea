"""Which connectors are installed: the built-ins and third-party plugins, all through one entry-point
group, `order_hub.channels`. Each entry point names a `ConnectorSpec`; it is checked when loaded, and a
broken plugin is reported by name and skipped, never taking the hub down with it.

    [project.entry-points."order_hub.channels"]
    acme = "acme_hub:SPEC"
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from hub.channels.port import CAPABILITIES, ChannelOrder
from hub.outbound.audit import AuditSink, LogAudit

log = logging.getLogger(__name__)

GROUP = "order_hub.channels"


@dataclass(frozen=True)
class Connection:
    """Everything a connector needs to talk to one account: where, who, and what to record."""

    base_url: str
    credentials: Mapping[str, str]
    options: Mapping[str, Any] = field(default_factory=dict)
    audit: AuditSink = field(default_factory=LogAudit)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic  # seconds, monotonic; tests fake it together with `sleep`
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read: for every HTTP call the connector makes


@dataclass(frozen=True)
class ConnectorSpec:
    kind: str  # lower-case identifier, e.g. "woocommerce"
    title: str
    connector: type  # built as connector(Connection)
    capabilities: tuple[str, ...]  # what the connector class implements; checked on load
    normalize: Callable[[list[Any]], list[ChannelOrder]]  # raw API bodies -> canonical orders, no I/O
    sandbox: Callable[..., Any] | None = None  # a factory for the local stand-in Flask app
    sandbox_port: int | None = None
    docs: str = ""  # the vendor's API reference


class PluginError(Exception):
    pass


def check(spec: object, name: str) -> ConnectorSpec:
    if not isinstance(spec, ConnectorSpec):
        raise PluginError(f"{name}: entry point gives {type(spec).__name__}, not a ConnectorSpec")
    if spec.kind != name:
        raise PluginError(f"{name}: its spec calls itself {spec.kind!r}")
    unknown = set(spec.capabilities) - set(CAPABILITIES)
    if unknown:
        raise PluginError(f"{name}: unknown capabilities {sorted(unknown)}")
    for capability in spec.capabilities:
        _, methods = CAPABILITIES[capability]
        missing = [m for m in methods if not callable(getattr(spec.connector, m, None))]
        if missing:
            raise PluginError(f"{name}: claims {capability} but lacks {', '.join(sorted(missing))}")
    if not callable(spec.normalize):
        raise PluginError(f"{name}: normalize is not callable")
    return spec


@dataclass
class Registry:
    specs: dict[str, ConnectorSpec]
    broken: dict[str, str]  # name -> why it was skipped

    def get(self, kind: str) -> ConnectorSpec:
        try:
            return self.specs[kind]
        except KeyError:
            known = ", ".join(sorted(self.specs)) or "none"
            raise KeyError(f"no connector {kind!r} (installed: {known})") from None


def load(points: list[EntryPoint] | None = None) -> Registry:
    points = list(entry_points(group=GROUP)) if points is None else points
    specs: dict[str, ConnectorSpec] = {}
    broken: dict[str, str] = {}
    for point in sorted(points, key=lambda p: p.name):
        try:
            spec = check(point.load(), point.name)
            if spec.kind in specs:
                raise PluginError(f"{point.name}: a connector of that kind is already installed")
        except Exception as exc:  # a plugin may fail any way it likes; the hub goes on without it
            broken[point.name] = f"{type(exc).__name__}: {exc}"
            log.error("channel plugin %s skipped: %s", point.name, broken[point.name])
            continue
        specs[spec.kind] = spec
    return Registry(specs, broken)
