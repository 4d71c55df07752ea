"""The payment's own state machine, and the rule that keeps it from moving backwards.

    pending ──► authorized ──► captured ──► partially_refunded ──► refunded
       │            │
       ▼            ▼
     failed       voided

Provider news arrives twice, late and out of order (a webhook after the answer it repeats, a
`payment_intent.succeeded` delivered after `charge.refunded`). So a report only ever moves a payment forward:
a status of lower rank changes nothing, and amounts captured and refunded only grow. A failed payment may still
turn out captured (the provider is the judge of whether money moved); a voided one is final.
"""

from __future__ import annotations

from hub.payments.port import PaymentStatus

P = PaymentStatus

# The moves a report may make; anything else is stale news and is ignored.
FORWARD: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    P.PENDING: frozenset({P.AUTHORIZED, P.CAPTURED, P.PARTIALLY_REFUNDED, P.REFUNDED, P.FAILED, P.VOIDED}),
    P.FAILED: frozenset({P.AUTHORIZED, P.CAPTURED, P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.AUTHORIZED: frozenset({P.CAPTURED, P.PARTIALLY_REFUNDED, P.REFUNDED, P.VOIDED}),
    P.CAPTURED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.PARTIALLY_REFUNDED: frozenset({P.PARTIALLY_REFUNDED, P.REFUNDED}),
    P.REFUNDED: frozenset(),
    P.VOIDED: frozenset(),
}

OPEN = frozenset({P.PENDING, P.AUTHORIZED})  # the payer's money is not settled either way yet
HOLDS_MONEY = frozenset({P.AUTHORIZED, P.CAPTURED, P.PARTIALLY_REFUNDED})


def advances(current: PaymentStatus, reported: PaymentStatus) -> bool:
    return reported in FORWARD[current]
