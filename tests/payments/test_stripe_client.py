"""The Stripe adapter against canned answers (`responses`): the wire format, and what is retried."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs

import pytest
import requests
import responses

from hub.errors import PermanentError, TransientError, ValidationError
from hub.money import Money
from hub.outbound.http import HttpClient
from hub.payments import stripe
from hub.payments.port import PaymentDeclined, PaymentRequest, PaymentStatus
from hub.payments.stripe import mapping
from tests.payments.conftest import NO_WAIT

BASE = "https://api.stripe.test"
INTENTS = f"{BASE}/v1/payment_intents"


def provider() -> stripe.StripeProvider:
    http = HttpClient(BASE, service="stripe", retry=NO_WAIT, sleep=lambda _s: None)
    return stripe.provider(BASE, {"secret_key": "sk_test_x", "webhook_secret": "whsec_x"}, http)


def intent(amount: int, currency: str, status: str = "succeeded", **extra: object) -> dict[str, object]:
    return {"id": "pi_1", "object": "payment_intent", "amount": amount, "currency": currency, "status": status,
            "amount_received": amount if status == "succeeded" else 0, **extra}


def form_of(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


@responses.activate
def test_a_euro_amount_is_sent_form_encoded_in_cents_with_the_key_and_the_secret():
    responses.post(INTENTS, json=intent(1050, "eur"))
    result = provider().create(PaymentRequest(reference="pay_1", amount=Money.of("10.50", "EUR"),
                                              payment_method="pm_card_visa"), "key-1")
    call = responses.calls[0]
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert call.request.headers["Idempotency-Key"] == "key-1"
    assert call.request.headers["Authorization"] == "Bearer sk_test_x"
    form = form_of(call)
    assert form["amount"] == ["1050"] and form["currency"] == ["eur"]
    assert form["metadata[reference]"] == ["pay_1"] and form["confirm"] == ["true"]
    assert form["capture_method"] == ["automatic"]
    assert result.status is PaymentStatus.CAPTURED and result.captured == Money.of("10.50", "EUR")


@responses.activate
def test_yen_is_zero_decimal_so_1200_yen_is_sent_as_1200():
    responses.post(INTENTS, json=intent(1200, "jpy", status="requires_capture"))
    result = provider().create(PaymentRequest(reference="pay_2", amount=Money.of("1200", "JPY"), capture=False,
                                              payment_method="pm_card_visa"), "key-2")
    form = form_of(responses.calls[0])
    assert form["amount"] == ["1200"] and form["capture_method"] == ["manual"]
    assert result.status is PaymentStatus.AUTHORIZED and result.amount == Money(Decimal("1200"), "JPY")


def test_minor_units_follow_stripes_table_including_three_decimal_steps():
    assert mapping.to_minor(Money.of("19.99", "USD")) == 1999
    assert mapping.to_minor(Money.of("5000", "KRW")) == 5000
    assert mapping.to_minor(Money.of("1.250", "KWD")) == 1250
    with pytest.raises(ValidationError):
        mapping.to_minor(Money(Decimal("1.255"), "KWD"))  # Stripe wants three-decimal amounts to end in 0
    with pytest.raises(ValidationError):
        mapping.to_minor(Money(Decimal("10.5"), "JPY"))
    assert mapping.from_minor(1999, "usd") == Money(Decimal("19.99"), "USD")


@responses.activate
def test_a_retry_after_a_server_error_sends_the_very_same_idempotency_key():
    responses.post(INTENTS, status=500, json={"error": {"type": "api_error"}})
    responses.post(INTENTS, status=503, json={"error": {"type": "api_error"}})
    responses.post(INTENTS, json=intent(1000, "eur"))
    provider().create(PaymentRequest(reference="pay_3", amount=Money.of("10", "EUR")), "key-3")
    assert [c.request.headers["Idempotency-Key"] for c in responses.calls] == ["key-3"] * 3


@responses.activate
def test_stripe_should_retry_false_stops_the_retry_of_a_server_error():
    responses.post(INTENTS, status=503, json={"error": {"type": "api_error"}}, headers={"Stripe-Should-Retry": "false"})
    with pytest.raises(PermanentError):
        provider().create(PaymentRequest(reference="pay_4", amount=Money.of("10", "EUR")), "key-4")
    assert len(responses.calls) == 1


@responses.activate
def test_stripe_should_retry_true_retries_even_a_client_error():
    responses.post(INTENTS, status=400, json={"error": {"type": "invalid_request_error", "code": "lock_timeout"}},
                   headers={"Stripe-Should-Retry": "true"})
    responses.post(INTENTS, json=intent(1000, "eur"))
    provider().create(PaymentRequest(reference="pay_5", amount=Money.of("10", "EUR")), "key-5")
    assert len(responses.calls) == 2


@responses.activate
def test_a_conflict_on_a_key_still_in_flight_is_retried():
    responses.post(INTENTS, status=409, json={"error": {"type": "idempotency_error"}})
    responses.post(INTENTS, json=intent(1000, "eur"))
    provider().create(PaymentRequest(reference="pay_6", amount=Money.of("10", "EUR")), "key-6")
    assert len(responses.calls) == 2


@responses.activate
def test_a_declined_card_is_a_payment_declined_and_is_not_retried():
    responses.post(INTENTS, status=402, headers={"Stripe-Should-Retry": "false"}, json={"error": {
        "type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
        "message": "Your card was declined.", "payment_intent": intent(1000, "eur", "requires_payment_method")}})
    with pytest.raises(PaymentDeclined) as declined:
        provider().create(PaymentRequest(reference="pay_7", amount=Money.of("10", "EUR"),
                                         payment_method="pm_card_chargeDeclined"), "key-7")
    assert len(responses.calls) == 1
    assert declined.value.reason == "generic_decline"


@responses.activate
def test_connection_errors_are_retried_until_the_budget_is_spent():
    responses.post(INTENTS, body=requests.ConnectionError("reset"))
    with pytest.raises(TransientError):
        provider().create(PaymentRequest(reference="pay_8", amount=Money.of("10", "EUR")), "key-8")
    assert len(responses.calls) == NO_WAIT.attempts


@responses.activate
def test_partial_capture_sends_amount_to_capture_and_refund_sends_the_intent_and_amount():
    responses.post(f"{INTENTS}/pi_1/capture", json=intent(3000, "eur", amount_received=2500))
    responses.post(f"{BASE}/v1/refunds", json={"id": "re_1", "object": "refund", "amount": 500, "currency": "eur",
                                                "status": "succeeded", "payment_intent": "pi_1"})
    captured = provider().capture("pi_1", Money.of("25.00", "EUR"), "key-9")
    refund = provider().refund("pi_1", Money.of("5.00", "EUR"), "key-10")
    assert form_of(responses.calls[0])["amount_to_capture"] == ["2500"]
    assert form_of(responses.calls[1]) == {"payment_intent": ["pi_1"], "amount": ["500"]}
    assert responses.calls[1].request.headers["Idempotency-Key"] == "key-10"
    assert captured.captured == Money.of("25.00", "EUR")
    assert refund.succeeded and refund.amount == Money.of("5.00", "EUR")


@responses.activate
def test_retrieving_a_refunded_intent_reads_the_refunds_from_its_charge():
    responses.get(f"{INTENTS}/pi_1", json=intent(3000, "eur", latest_charge={
        "id": "ch_1", "amount_captured": 3000, "amount_refunded": 1000, "refunded": False}))
    result = provider().query("pi_1")
    assert responses.calls[0].request.url.endswith("expand%5B%5D=latest_charge")
    assert result.status is PaymentStatus.PARTIALLY_REFUNDED and result.refunded == Money.of("10.00", "EUR")
