"""Incremental order pull: page by page, each page's orders and the cursor committed in one transaction.

A pass asks the marketplace for orders updated since the watermark minus an overlap (late-arriving
updates are not missed; what comes twice is UNCHANGED by the updated-at versioning). Each page is fetched
outside any transaction, then applied: every order in its own savepoint, an order that cannot be held going
to quarantine with its reason, raw payload and page cursor while the rest of the page goes on; the cursor
row moves in the same commit. A crash therefore loses at most the page in flight, which the next run asks
for again from the stored cursor, and applying it twice changes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random

from hub.channels.models import Channel
from hub.channels.port import ChannelOrder, OrderPage
from hub.channels.values import MappingError
from hub.db import insert_ignoring_duplicates
from hub.errors import PermanentError
from hub.sync import quarantine
from hub.sync.apply import apply_order, resolve_skus
from hub.sync.connect import capable
from hub.sync.env import SyncEnv
from hub.sync.jobs import Progress
from hub.sync.models import SyncCursor
from hub.sync.runs import Run
from hub.timeutil import ensure_utc, utcnow

# A crash-resume's stored page cursor may have expired at the marketplace: the pass then starts again from its
# `since`. Only this many such restarts per run, so a marketplace refusing every cursor cannot loop forever.
MAX_PASS_RESTARTS = 1
# A page's transaction lost to a deadlock or a lock timeout is tried again this many times in all.
PAGE_ATTEMPTS = 4


def pull_orders(env: SyncEnv, channel: Channel, connector: Any, run: Run, *, since: datetime | None = None,
                progress: Progress | None = None, **_: Any) -> None:
    """One pass over the orders changed since the watermark (or `since`, for a manual backfill)."""
    if capable(env, channel, "webhooks"):
        # Deliveries stored for later (Shopee's pushes need a fetch, which a webhook request must not make)
        # are applied first, under this job's lock, so the pass below reconciles what they left out.
        from hub.sync.webhooks import process_pending

        process_pending(env, channel.id)
    start, cursor = _begin(env, channel, since)
    restarts = 0
    while True:
        try:
            page: OrderPage = connector.pull_orders(start, cursor)
        except PermanentError:
            if cursor is None or restarts >= MAX_PASS_RESTARTS:
                raise
            restarts += 1
            run.message = "the stored page cursor was refused; the pass started again from its beginning"
            cursor = None
            continue
        counts = _commit_page(env, channel, run.id, page, cursor)
        run.add(pages=1, **counts)
        if progress:
            progress(dict(run.counts))
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _begin(env: SyncEnv, channel: Channel, since: datetime | None) -> tuple[datetime, str | None]:
    """Where this pass starts: a forced `since`, a pass a crash interrupted, or the watermark minus the overlap."""
    with env.sessions.begin() as session:
        # The first run of a channel makes its cursor row; two first runs at once make one.
        insert_ignoring_duplicates(session, SyncCursor.__table__, {
            "channel_id": channel.id, "seller_id": channel.seller_id, "pages": 0, "updated_at": utcnow()})
        row = session.get(SyncCursor, channel.id, with_for_update=True, populate_existing=True)
        if since is not None:
            row.pass_since, row.page_cursor, row.pass_high, row.pages = ensure_utc(since), None, None, 0
        elif row.pass_since is None or row.page_cursor is None:
            first = utcnow() - env.settings.backfill
            row.pass_since = (row.watermark - env.settings.overlap) if row.watermark else first
            row.page_cursor, row.pass_high, row.pages = None, None, 0
        row.updated_at = utcnow()
        return row.pass_since, row.page_cursor


def _commit_page(env: SyncEnv, channel: Channel, run_id: int, page: OrderPage, cursor: str | None) -> dict[str, int]:
    """Apply the page and move the cursor in one transaction. A deadlock (a webhook applying one of these orders
    at the same moment, PostgreSQL) or a lock timeout rolls it back whole; it is simply done again."""
    for attempt in Retrying(retry=retry_if_exception(_lost_a_lock_race), stop=stop_after_attempt(PAGE_ATTEMPTS),
                            wait=wait_random(0.05, 0.5), reraise=True):
        with attempt, env.sessions.begin() as session:
            session.info["seller_id"] = channel.seller_id
            counts = _apply_page(session, channel, run_id, page, cursor)
            _advance(session, channel, page)
    return counts


def _lost_a_lock_race(exc: BaseException) -> bool:
    sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, OperationalError) and (sqlstate in ("40P01", "40001", "55P03")
                                                  or "database is locked" in str(exc))


def _apply_page(session: Session, channel: Channel, run_id: int, page: OrderPage,
                cursor: str | None) -> dict[str, int]:
    counts = dict.fromkeys(("fetched", "created", "updated", "unchanged", "quarantined"), 0)
    counts["fetched"] = len(page.orders) + len(page.rejected)
    products = resolve_skus(session, channel, {line.sku for o in page.orders for line in o.lines
                                               if line.sku and len(line.sku) <= 64})
    for order in page.orders:
        try:
            with session.begin_nested():
                outcome, _ = apply_order(session, channel, order, products)
        except (MappingError, IntegrityError, ValueError) as exc:
            _hold(session, channel, run_id, order.external_id, _reason(exc), order.raw or _describe(order), cursor)
            counts["quarantined"] += 1
            continue
        counts[outcome.value] += 1
    for external_id, reason, raw in page.rejected:
        _hold(session, channel, run_id, external_id, reason, raw, cursor)
        counts["quarantined"] += 1
    return counts


def _hold(session: Session, channel: Channel, run_id: int, external_id: str, reason: str, raw: dict,
          cursor: str | None) -> None:
    quarantine.hold(session, channel, reason=reason, payload=raw if isinstance(raw, dict) else {"raw": raw},
                    external_id=external_id, run_id=run_id, source="pull", page_cursor=cursor)


def _reason(exc: Exception) -> str:
    if isinstance(exc, IntegrityError):
        return f"the database refused the order: {type(exc.orig).__name__}: {str(exc.orig).splitlines()[0]}"
    return str(exc)


def _describe(order: ChannelOrder) -> dict:
    return {"external_id": order.external_id, "note": "the connector kept no raw payload for this order"}


def _advance(session: Session, channel: Channel, page: OrderPage) -> None:
    row = session.get(SyncCursor, channel.id, with_for_update=True)
    newest = max((o.updated_at for o in page.orders), default=None)
    if newest is not None and (row.pass_high is None or newest > row.pass_high):
        row.pass_high = newest
    row.pages += 1
    row.updated_at = utcnow()
    if page.next_cursor is not None:
        row.page_cursor = page.next_cursor
        return
    # The pass is complete: the watermark moves to the newest version seen (never backwards).
    if row.pass_high is not None and (row.watermark is None or row.pass_high > row.watermark):
        row.watermark = row.pass_high
    row.pass_since, row.page_cursor, row.pass_high, row.pages = None, None, None, 0
