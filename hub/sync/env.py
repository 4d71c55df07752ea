"""What every sync job needs, built once per process (worker, CLI, web) from the settings."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.channels import registry as channel_registry
from hub.channels.secrets import CredentialBox
from hub.sync.locks import Locks
from hub.sync.models import Job


@dataclass(frozen=True)
class SyncSettings:
    intervals: Mapping[Job, int]  # seconds between runs of each job, unless a channel says otherwise
    overlap: timedelta
    backfill: timedelta
    circuit_failures: int
    circuit_pause: timedelta
    circuit_max_pause: timedelta

    @classmethod
    def from_settings(cls, s: Mapping[str, object]) -> SyncSettings:
        def seconds(key: str) -> int:
            return int(s[key])  # type: ignore[call-overload]

        return cls(
            intervals={
                Job.PULL: seconds("SYNC_PULL_SECONDS"),
                Job.PUSH_INVENTORY: seconds("SYNC_PUSH_INVENTORY_SECONDS"),
                Job.PUSH_PRICES: seconds("SYNC_PUSH_PRICES_SECONDS"),
                Job.PUSH_FULFILMENTS: seconds("SYNC_PUSH_FULFILMENTS_SECONDS"),
                Job.CHECK_DRIFT: seconds("SYNC_CHECK_DRIFT_SECONDS"),
            },
            overlap=timedelta(seconds=seconds("SYNC_OVERLAP_SECONDS")),
            backfill=timedelta(days=seconds("SYNC_BACKFILL_DAYS")),
            circuit_failures=seconds("SYNC_CIRCUIT_FAILURES"),
            circuit_pause=timedelta(seconds=seconds("SYNC_CIRCUIT_PAUSE_SECONDS")),
            circuit_max_pause=timedelta(seconds=seconds("SYNC_CIRCUIT_MAX_PAUSE_SECONDS")),
        )


@dataclass
class SyncEnv:
    engine: Engine
    sessions: sessionmaker[Session]
    settings: SyncSettings
    box: CredentialBox
    registry: channel_registry.Registry
    locks: Locks
    # Handed to connectors (Connection.sleep/clock): tests replace both to run rate limits without waiting.
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read, for every marketplace call
    extra: dict[str, object] = field(default_factory=dict)

    @classmethod
    def build(cls, engine: Engine, sessions: sessionmaker[Session], settings: Mapping[str, object],
              registry: channel_registry.Registry | None = None) -> SyncEnv:
        return cls(engine=engine, sessions=sessions, settings=SyncSettings.from_settings(settings),
                   box=CredentialBox.from_settings(settings), registry=registry or channel_registry.load(),
                   locks=Locks(engine, lease_seconds=float(settings.get("SYNC_LEASE_SECONDS", 15))))
