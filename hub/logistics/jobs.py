"""Scheduled logistics work for `hub worker`: finish interrupted label purchases, then poll tracking.

`poll_tracking_job` is shaped like hub.sync.worker.prune_audit: a module-level function (APScheduler stores a
textual reference to it) that finds the process's SyncEnv in the running Worker.
"""

from __future__ import annotations

import logging

from hub.logistics.carriers import CarrierFactory, carrier_for
from hub.logistics.models import CarrierAccount
from hub.logistics.port import CarrierPort
from hub.logistics.services import poll_tracking, resume_purchases

log = logging.getLogger(__name__)


def carriers_of(env) -> CarrierFactory:  # env: hub.sync.env.SyncEnv
    """Adapters built from the worker's credential box, every call audited against the account's seller."""
    from hub.outbound.audit_store import DbAudit

    def build(account: CarrierAccount) -> CarrierPort:
        return carrier_for(account, env.box, audit=DbAudit(env.sessions, seller_id=account.seller_id),
                           sleep=env.sleep, timeout=env.timeout)

    return build


def run_logistics(env) -> tuple[int, int]:
    """(purchases finished, shipments polled): one pass, for the job and for `hub` commands or tests."""
    carriers = carriers_of(env)
    return resume_purchases(env.sessions, carriers), poll_tracking(env.sessions, carriers)


def poll_tracking_job() -> None:
    from hub.sync import worker

    runtime = worker._current()  # the running Worker's environment, as the worker's own jobs find it
    resumed, polled = run_logistics(runtime.env)
    log.info("logistics: %d interrupted label purchases finished, %d shipments' tracking polled", resumed, polled)
