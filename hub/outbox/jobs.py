"""The worker's outbox job: drain what is due, as `hub outbox dispatch --once` does.

Shaped like hub.sync.worker.prune_audit: a plain function the job store can name, finding the worker's SyncEnv
in its runtime. The dispatcher (and its broker connection) is kept per SyncEnv, so the connection is reused
from run to run. Settings: the process's (config/defaults.toml + HUB_* variables, as `hub worker` reads them),
unless env.extra["outbox_settings"] holds a mapping of the app's config.
"""

from __future__ import annotations

import logging
import threading

from hub.outbox.dispatch import Dispatcher

log = logging.getLogger(__name__)

_lock = threading.Lock()


def dispatcher_for(env) -> Dispatcher:  # env: hub.sync.env.SyncEnv
    with _lock:
        dispatcher = env.extra.get("outbox_dispatcher")
        if dispatcher is None:
            from hub.config import load_settings

            settings = env.extra.get("outbox_settings") or load_settings()
            dispatcher = Dispatcher.build(env.sessions, settings, env.box)
            env.extra["outbox_dispatcher"] = dispatcher
        return dispatcher


def dispatch_outbox_job() -> None:
    from hub.sync.worker import _current

    runtime = _current()
    result = dispatcher_for(runtime.env).drain()
    level = logging.INFO if result.worked else logging.DEBUG
    log.log(level, "outbox: %d events fanned out, %d delivered, %d failed (will retry), %d dead",
            result.fanned_out, result.delivered, result.failed, result.dead)


def prune_outbox_job() -> None:
    """Published events older than OUTBOX_RETENTION_DAYS go, with their deliveries (daily is plenty)."""
    from hub.config import load_settings
    from hub.outbox.dispatch import prune
    from hub.sync.worker import _current

    runtime = _current()
    days = int((runtime.env.extra.get("outbox_settings") or load_settings()).get("OUTBOX_RETENTION_DAYS", 30))
    with runtime.env.sessions.begin() as session:
        removed = prune(session, days)
    log.info("pruned %d outbox events published more than %d days ago", removed, days)
