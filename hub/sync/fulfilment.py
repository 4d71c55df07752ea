"""Fulfilment push-back: tell the marketplace about each shipment recorded here, once.

Each pending Fulfillment of the channel's orders goes through three steps, each its own transaction or call:

    claim   count the attempt and commit it *before* the call (channel_attempts + 1)
    call    connector.push_fulfilment(Shipment)
    settle  pushed / failed / still pending, with an event on the order's timeline

Exactly once, as far as the outside allows: a crash (or a timeout) after the marketplace accepted but before
we settled leaves the row pending with attempts >= 1. The retry then finds the order already fulfilled there;
connectors say so with a PermanentError (Shopify: nothing left to fulfil; eBay: no line left to send; Shopee:
status cannot arrange shipment), which on a retry, and only then, is taken as "done". Amazon and WooCommerce
repeat a shipment idempotently (same package id; status completed), so their retry simply succeeds.

TransientError (the HTTP client has already retried within the call): the row stays pending for the next run,
its error kept visible; after MAX_ATTEMPTS it is given up as failed. Several transient errors in a row mean
the marketplace is down: the run stops and fails, so the channel's circuit sees it. PermanentError: "failed"
with channel_error for a human, counted in push_failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.channels.models import Channel
from hub.channels.port import Shipment
from hub.errors import ExternalError, PermanentError, TransientError
from hub.orders.models import Fulfillment, FulfillmentLine, Order, OrderEvent, OrderLine
from hub.sync.env import SyncEnv
from hub.sync.push import Progress
from hub.sync.runs import Run
from hub.timeutil import utcnow

PENDING, PUSHED, FAILED = "pending", "pushed", "failed"
MAX_ATTEMPTS = 10
TRANSIENT_STREAK = 3  # transient failures in a row that end the run
PAGE = 100
# Refusals that mean "the marketplace has this shipment already" (lower case, matched in the error message).
ALREADY_DONE = (
    "nothing left to fulfil", "fewer open units than shipped", "unfulfillable status",  # shopify
    "lineitems is required",  # ebay: a whole-order shipment with every line already FULFILLED sends no lines
    "cannot arrange shipment", "ship_order_invalid_status",  # shopee: no longer READY_TO_SHIP
    "already fulfilled", "already shipped",  # any connector saying it plainly
)
ACTOR = "channel sync"


@dataclass(frozen=True)
class Claim:
    fulfillment_id: int
    order_id: int
    attempt: int
    shipment: Shipment | None  # None: cannot be described to the channel; `problem` says why
    problem: str = ""


def already_done(exc: ExternalError) -> bool:
    text = str(exc).lower()
    return any(marker in text for marker in ALREADY_DONE)


def pending_ids(session: Session, channel: Channel, after_id: int, limit: int = PAGE) -> list[int]:
    return list(session.scalars(
        sa.select(Fulfillment.id).join(Order, Order.id == Fulfillment.order_id)
        .where(Order.channel_id == channel.id, Order.seller_id == channel.seller_id,
               Fulfillment.channel_status == PENDING, Fulfillment.id > after_id)
        .order_by(Fulfillment.id).limit(limit)))


def shipment_of(session: Session, fulfillment: Fulfillment, order: Order) -> tuple[Shipment | None, str]:
    """The shipment as the port has it. Lines are named only when the fulfilment ships part of the order: a
    shipment of every unit of every line goes as () ("the whole order"), which each connector handles natively."""
    shipped: dict[int, int] = {line_id: quantity for line_id, quantity in session.execute(
        sa.select(FulfillmentLine.order_line_id, FulfillmentLine.quantity)
        .where(FulfillmentLine.fulfillment_id == fulfillment.id))}
    lines = session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order.id)
                            .order_by(OrderLine.line_no)).all()
    whole = bool(lines) and all(shipped.get(line.id, 0) == line.quantity for line in lines)
    parts: tuple[tuple[str, int], ...] = ()
    if not whole:
        unnamed = [line.line_no for line in lines if line.id in shipped and not line.external_line_id]
        if unnamed:
            return None, (f"a partial shipment, but order line(s) {', '.join(map(str, unnamed))} carry no "
                          "marketplace line id to report it with")
        parts = tuple((line.external_line_id, shipped[line.id]) for line in lines if shipped.get(line.id))
    return Shipment(external_order_id=order.external_id, carrier=fulfillment.carrier,
                    tracking_number=fulfillment.tracking_number, shipped_at=fulfillment.created_at,
                    lines=parts), ""


def claim(env: SyncEnv, channel: Channel, fulfillment_id: int) -> Claim | None:
    """Count the attempt and commit it before the call; None if the row is no longer pending."""
    with env.sessions.begin() as session:
        session.info["seller_id"] = channel.seller_id
        fulfillment = session.scalar(sa.select(Fulfillment).where(
            Fulfillment.id == fulfillment_id, Fulfillment.channel_status == PENDING).with_for_update())
        if fulfillment is None:
            return None
        order = session.get(Order, fulfillment.order_id)
        assert order is not None
        if fulfillment.channel_attempts >= MAX_ATTEMPTS:
            # Also ends a shipment whose call keeps crashing the run before it can settle.
            return Claim(fulfillment.id, order.id, fulfillment.channel_attempts, None,
                         f"gave up after {fulfillment.channel_attempts} attempts. {fulfillment.channel_error}".strip())
        fulfillment.channel_attempts += 1
        shipment, problem = shipment_of(session, fulfillment, order)
        return Claim(fulfillment.id, order.id, fulfillment.channel_attempts, shipment, problem)


def settle(env: SyncEnv, channel: Channel, claimed: Claim, status: str, message: str, error: str = "") -> None:
    with env.sessions.begin() as session:
        session.info["seller_id"] = channel.seller_id
        fulfillment = session.get(Fulfillment, claimed.fulfillment_id)
        assert fulfillment is not None
        fulfillment.channel_status = status
        fulfillment.channel_error = error[:2000]
        if status == PUSHED:
            fulfillment.channel_pushed_at = utcnow()
        if status != PENDING:  # a retry to come is no news for the timeline; the outcome is
            session.add(OrderEvent(seller_id=channel.seller_id, order_id=claimed.order_id, kind="channel",
                                   actor=ACTOR, message=message))


def push_one(env: SyncEnv, channel: Channel, connector: Any, claimed: Claim, run: Run) -> TransientError | None:
    """Push one claimed shipment and settle it; returns the transient error that left it pending, if any."""
    what = f"shipment {claimed.fulfillment_id} to {channel.name}"
    if claimed.shipment is None:
        settle(env, channel, claimed, FAILED, f"{what} not reported: {claimed.problem}", claimed.problem)
        run.add(push_failed=1)
        return None
    try:
        connector.push_fulfilment(claimed.shipment)
    except TransientError as exc:
        if claimed.attempt >= MAX_ATTEMPTS:
            settle(env, channel, claimed, FAILED, f"{what} failed after {claimed.attempt} attempts: {exc}", str(exc))
            run.add(push_failed=1)
        else:
            settle(env, channel, claimed, PENDING, "", f"attempt {claimed.attempt}: {exc}")
        return exc
    except PermanentError as exc:
        if claimed.attempt > 1 and already_done(exc):
            settle(env, channel, claimed, PUSHED, f"{what}: the channel already had it (an earlier attempt "
                   f"landed unconfirmed): {exc}")
            run.add(pushed=1)
        else:
            settle(env, channel, claimed, FAILED, f"{what} refused: {exc}", str(exc))
            run.add(push_failed=1)
        return None
    tracking = f"{claimed.shipment.carrier} {claimed.shipment.tracking_number}".strip()
    settle(env, channel, claimed, PUSHED, f"{what} reported" + (f" ({tracking})" if tracking else ""))
    run.add(pushed=1)
    return None


def push_fulfilments(env: SyncEnv, channel: Channel, connector: Any, run: Run, *, since: object = None,
                     progress: Progress | None = None, **_options: object) -> None:
    after = 0
    streak = retrying = 0
    while True:
        with env.sessions.begin() as session:
            session.info["seller_id"] = channel.seller_id
            ids = pending_ids(session, channel, after)
        if not ids:
            break
        for fulfillment_id in ids:
            after = fulfillment_id  # keyset: a row left pending is retried next run, not again in this one
            claimed = claim(env, channel, fulfillment_id)
            if claimed is None:
                continue
            transient = push_one(env, channel, connector, claimed, run)
            streak = streak + 1 if transient else 0
            retrying += bool(transient)
            if transient and streak >= TRANSIENT_STREAK:
                raise transient
        if progress:
            progress(run.counts)
    run.message = f"{run.counts['pushed']} shipments reported, {run.counts['push_failed']} failed" + (
        f", {retrying} left for a retry" if retrying else "")
