"""The payment jobs the worker schedules, shaped like hub.sync.worker's prune_audit and refresh_rates: no
arguments (the job store pickles only a reference), the process's SyncEnv found through the running Worker.

    apply_notifications_job   every few seconds: stored webhooks -> payments and orders
    reconcile_payments_job    every few minutes: payments and provider calls left pending or unknown
"""

from __future__ import annotations

import logging

from hub.payments import services
from hub.payments.registry import Providers

log = logging.getLogger(__name__)

RECONCILE_AFTER_MINUTES = 15  # a payer approving a redirect, or a webhook on its way, gets this long first


def apply_notifications_job() -> None:
    from hub.sync.worker import _current

    runtime = _current()
    with runtime.env.sessions() as session:
        counts = services.apply_pending_notifications(session)
        session.commit()
    if counts.applied or counts.failed:
        log.info("payment notifications: %d applied, %d unchanged, %d waiting for their payment, %d failed",
                 counts.applied, counts.unchanged, counts.waiting, counts.failed)


def reconcile_payments_job() -> None:
    from hub.sync.worker import _current

    runtime = _current()
    providers = Providers(runtime.env.box, sessions=runtime.env.sessions, timeout=runtime.env.timeout)
    # A plain session: the service commits per payment, since each provider call's key must be stored first.
    with runtime.env.sessions() as session:
        result = services.reconcile_pending(session, providers=providers.provider,
                                            older_than_minutes=RECONCILE_AFTER_MINUTES)
    if result.checked:
        log.info("payments reconciled: %d checked, %d changed, %d failed", result.checked, result.changed,
                 result.failed)
