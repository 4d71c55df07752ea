"""A channel row -> a live connector: its spec from the registry, its credentials decrypted in memory."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from hub.channels.models import Channel
from hub.channels.registry import Connection
from hub.errors import ValidationError
from hub.outbound.audit import AuditSink
from hub.sync.env import SyncEnv


def open_connector(env: SyncEnv, channel: Channel, audit: AuditSink) -> Any:
    try:
        spec = env.registry.get(channel.kind)
    except KeyError as exc:
        raise ValidationError(str(exc.args[0]), code="unknown_connector") from None
    options: dict[str, Any] = dict(channel.options or {})
    options["on_tokens"] = _token_saver(env, channel.id)
    connection = Connection(base_url=channel.base_url, credentials=env.box.open(channel.credentials_encrypted),
                            options=options, audit=audit, sleep=env.sleep, clock=env.clock, timeout=env.timeout)
    return spec.connector(connection)


def capable(env: SyncEnv, channel: Channel, capability: str) -> bool:
    spec = env.registry.specs.get(channel.kind)
    return spec is not None and capability in spec.capabilities


def _token_saver(env: SyncEnv, channel_id: int) -> Callable[[Any], None]:
    """Where a refresh hands out a new refresh token (Shopee), the old one stops working: store the new one
    at once, in its own transaction, so a crash right after cannot lock the hub out of the shop."""

    def save(tokens: Any) -> None:
        fresh = dataclasses.asdict(tokens) if dataclasses.is_dataclass(tokens) else dict(tokens)
        with env.sessions.begin() as session:
            channel = session.get(Channel, channel_id, with_for_update=True)
            credentials = env.box.open(channel.credentials_encrypted)
            credentials.update({k: str(v) for k, v in fresh.items() if k in ("access_token", "refresh_token")})
            channel.credentials_encrypted = env.box.seal(credentials)

    return save
