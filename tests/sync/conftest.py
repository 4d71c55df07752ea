"""Fixtures for the sync engine: a SyncEnv on the test database and channels of a seller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from hub.channels.models import Channel
from hub.sync.env import SyncEnv
from tests.channels.support import FakeClock
from tests.sync.push_support import fake_channel, market, shopify, shopify_channel, shopify_front  # noqa: F401


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def env(app: Flask, clock: FakeClock) -> SyncEnv:
    """The app's database, settings and installed connectors; connectors sleep on a fake clock."""
    hub = app.extensions["hub"]
    sync_env = SyncEnv.build(hub.engine, hub.sessions, app.config)
    sync_env.sleep, sync_env.clock = clock.sleep, clock
    return sync_env


@pytest.fixture
def make_channel(env: SyncEnv) -> Callable[..., Channel]:
    """A marketplace channel of a seller with encrypted credentials; returns the (detached) row."""

    def make(seller_id: int, kind: str, base_url: str, credentials: dict[str, str] | None = None,
             name: str | None = None, currency: str = "EUR", options: dict[str, Any] | None = None,
             **columns: Any) -> Channel:
        with env.sessions.begin() as session:
            channel = Channel(seller_id=seller_id, kind=kind, name=name or f"{kind} shop", currency=currency,
                              base_url=base_url, credentials_encrypted=env.box.seal(credentials or {}),
                              options=options or {}, schedule={}, **columns)
            session.add(channel)
            session.flush()
            session.expunge(channel)
        return channel

    return make
