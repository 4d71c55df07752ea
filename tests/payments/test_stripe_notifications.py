"""Stripe webhook verification and reading, without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from hub.money import Money
from hub.payments.port import PaymentStatus, ProviderEvent, SignatureInvalid
from hub.payments.stripe.notifications import StripeNotifications, sign

SECRET = "whsec_test"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def event(kind: str, obj: dict[str, object], event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": kind, "created": int(NOW.timestamp()),
                       "data": {"object": obj}}).encode()


def parse(body: bytes, header: str, now: datetime = NOW) -> ProviderEvent:
    return StripeNotifications(SECRET).parse({"Stripe-Signature": header}, body, now)


def test_a_correctly_signed_succeeded_event_reports_the_captured_amount():
    body = event("payment_intent.succeeded", {"id": "pi_1", "amount": 1050, "amount_received": 1050,
                                              "currency": "eur", "metadata": {"reference": "pay_x"}})
    parsed = parse(body, sign(SECRET, int(NOW.timestamp()), body))
    assert (parsed.event_id, parsed.provider_id, parsed.status) == ("evt_1", "pi_1", PaymentStatus.CAPTURED)
    assert parsed.amount == Money.of("10.50", "EUR") and parsed.reference == "pay_x"


def test_any_of_several_v1_signatures_may_match_while_a_secret_is_rolled():
    body = event("payment_intent.canceled", {"id": "pi_1", "amount": 100, "currency": "usd"})
    t = int(NOW.timestamp())
    good = sign(SECRET, t, body).split(",")[1]
    assert parse(body, f"t={t},v1={'0' * 64},{good}").status is PaymentStatus.VOIDED


def test_a_partial_refund_event_reports_the_cumulative_refunded_amount():
    body = event("charge.refunded", {"id": "ch_1", "payment_intent": "pi_1", "amount_captured": 3000,
                                     "amount_refunded": 1000, "refunded": False, "currency": "jpy"})
    parsed = parse(body, sign(SECRET, int(NOW.timestamp()), body))
    assert parsed.status is PaymentStatus.PARTIALLY_REFUNDED and parsed.amount == Money.of("1000", "JPY")
    assert parsed.provider_id == "pi_1"


@pytest.mark.parametrize(("why", "header"), [
    ("another secret", lambda body, t: sign("whsec_other", t, body)),
    ("older than 300 s", lambda body, t: sign(SECRET, t - 301, body)),
    ("more than 300 s ahead", lambda body, t: sign(SECRET, t + 301, body)),
    ("no timestamp", lambda body, t: sign(SECRET, t, body).split(",")[1]),
    ("no signature", lambda body, t: f"t={t}"),
    ("a timestamp that is not a number", lambda body, t: f"t=soon,v1={'0' * 64}"),
    ("an empty header", lambda body, t: ""),
])
def test_a_bad_signature_is_refused(why, header):
    body = event("payment_intent.succeeded", {"id": "pi_1", "amount": 100, "currency": "eur"})
    with pytest.raises(SignatureInvalid):
        parse(body, header(body, int(NOW.timestamp())))


def test_a_signature_within_the_tolerance_is_taken():
    body = event("payment_intent.payment_failed", {"id": "pi_1", "amount": 100, "currency": "eur"})
    old = int((NOW - timedelta(seconds=299)).timestamp())
    assert parse(body, sign(SECRET, old, body)).status is PaymentStatus.FAILED


def test_an_event_kind_the_hub_does_not_follow_is_read_as_no_news():
    body = event("customer.created", {"id": "cus_1"})
    assert parse(body, sign(SECRET, int(NOW.timestamp()), body)).status is PaymentStatus.PENDING
