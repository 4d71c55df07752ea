"""Tracking statuses normalised to one vocabulary, with one pure table per carrier.

    pre_transit          label bought, nothing scanned yet
    in_transit           moving through the network
    out_for_delivery     on the van
    available_for_pickup waiting at a service point or depot
    delivered            handed over (final)
    exception            held, failed attempt, damaged: needs a look
    returned             on its way back or back at the sender (final)

A shipment's status is that of its latest event, except that a final one sticks: an "in_transit" reported after
"delivered" (webhooks arrive out of order, carriers rescan) does not undo the delivery.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.logistics.port import TrackEvent

PRE_TRANSIT = "pre_transit"
IN_TRANSIT = "in_transit"
OUT_FOR_DELIVERY = "out_for_delivery"
AVAILABLE_FOR_PICKUP = "available_for_pickup"
DELIVERED = "delivered"
EXCEPTION = "exception"
RETURNED = "returned"
STATUSES = (PRE_TRANSIT, IN_TRANSIT, OUT_FOR_DELIVERY, AVAILABLE_FOR_PICKUP, DELIVERED, EXCEPTION, RETURNED)
FINAL = frozenset({DELIVERED, RETURNED})

# EasyPost tracker statuses: https://docs.easypost.com/docs/trackers#tracker-object
EASYPOST: dict[str, str] = {
    "unknown": PRE_TRANSIT,
    "pre_transit": PRE_TRANSIT,
    "in_transit": IN_TRANSIT,
    "out_for_delivery": OUT_FOR_DELIVERY,
    "available_for_pickup": AVAILABLE_FOR_PICKUP,
    "delivered": DELIVERED,
    "return_to_sender": RETURNED,
    "failure": EXCEPTION,
    "error": EXCEPTION,
    "cancelled": EXCEPTION,
}

# DHL Express checkpoint codes (MyDHL API tracking `events[].typeCode`):
# https://developer.dhl.com/api-reference/dhl-express-mydhl-api#operations-tracking-exp-api-shipments-tracking
DHL: dict[str, str] = {
    "SD": PRE_TRANSIT,  # shipment data received
    "PU": IN_TRANSIT,  # picked up
    "PL": IN_TRANSIT,  # processed at location
    "DF": IN_TRANSIT,  # departed facility
    "AF": IN_TRANSIT,  # arrived at facility
    "AR": IN_TRANSIT,  # arrived at delivery facility
    "CC": IN_TRANSIT,  # awaiting collection by the customs broker / clearance
    "CR": IN_TRANSIT,  # customs clearance released
    "WC": OUT_FOR_DELIVERY,  # with delivery courier
    "BA": EXCEPTION,  # bad address
    "CA": EXCEPTION,  # closed on arrival
    "NH": EXCEPTION,  # not home
    "OH": EXCEPTION,  # on hold
    "HP": AVAILABLE_FOR_PICKUP,  # held for pickup at a service point
    "OK": DELIVERED,
    "DD": DELIVERED,  # delivered damaged: still delivered
    "RT": RETURNED,  # returned to shipper
}

TABLES = {"easypost": EASYPOST, "dhl": DHL}


def normalise(carrier: str, raw: str) -> str:
    """The hub's status for a carrier's; one the table does not know is in transit (it moved, we know no more)."""
    return TABLES[carrier].get((raw or "").strip().lower() if carrier == "easypost" else (raw or "").strip().upper(),
                               IN_TRANSIT)


def current_status(previous: str | None, events: Iterable[TrackEvent]) -> str | None:
    """The shipment's status after `events` (all of them, in any order): that of the latest event, but a final
    status already reached or among the events stays."""
    ordered = sorted(events, key=lambda e: (e.occurred_at, STATUSES.index(e.status)))
    final = [e.status for e in ordered if e.status in FINAL]
    if previous in FINAL:
        return previous
    if final:
        return final[-1]
    return ordered[-1].status if ordered else previous
