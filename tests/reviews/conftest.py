"""Fixtures for pulling reviews: a SyncEnv on the test database, channels of a seller, sandboxes over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from hub.channels.models import Channel
from hub.sandbox.server import Mount, running_mount
from hub.sync.env import SyncEnv
from tests.channels.support import FakeClock


@pytest.fixture
def env(app: Flask) -> SyncEnv:
    """The app's database, settings and installed connectors; connectors sleep on a fake clock."""
    hub = app.extensions["hub"]
    sync_env = SyncEnv.build(hub.engine, hub.sessions, app.config)
    clock = FakeClock()
    sync_env.sleep, sync_env.clock = clock.sleep, clock
    return sync_env


@pytest.fixture
def make_channel(env: SyncEnv) -> Callable[..., Channel]:
    def make(seller_id: int, kind: str, base_url: str, credentials: dict[str, str], name: str,
             currency: str = "EUR", options: dict[str, Any] | None = None) -> Channel:
        with env.sessions.begin() as session:
            channel = Channel(seller_id=seller_id, kind=kind, name=name, currency=currency, base_url=base_url,
                              credentials_encrypted=env.box.seal(credentials), options=options or {}, schedule={})
            session.add(channel)
            session.flush()
            session.expunge(channel)
        return channel

    return make


@pytest.fixture(scope="module")
def woo_front() -> Iterator[tuple[Mount, str]]:
    with running_mount("woocommerce-reviews") as mounted:
        yield mounted


@pytest.fixture(scope="module")
def shopee_front() -> Iterator[tuple[Mount, str]]:
    with running_mount("shopee-reviews") as mounted:
        yield mounted
