"""The PayPal adapter's HTTP calls, against `responses`: exact request shapes, what is retried and what is not.

https://developer.paypal.com/docs/api/orders/v2/, https://developer.paypal.com/api/rest/reference/idempotency/
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import responses

from hub.errors import PermanentError
from hub.money import Money
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.payments import paypal
from hub.payments.paypal import mapping
from hub.payments.port import (
    NotificationParser,
    PaymentDeclined,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    SignatureInvalid,
)

BASE = "https://api-m.sandbox.paypal.com"
NO_WAIT = RetryPolicy(attempts=4, initial_seconds=0, max_seconds=0, jitter_seconds=0)


@pytest.fixture
def credentials() -> dict[str, str]:
    """A client id of its own per test: tokens are cached per process, by host and credentials."""
    return {"client_id": f"cid-{uuid.uuid4().hex[:8]}", "client_secret": "csecret", "webhook_id": "WH1"}


def http() -> HttpClient:
    return HttpClient(BASE, "paypal", retry=NO_WAIT, audit=MemoryAudit(), sleep=lambda _s: None)


def token(rsps: responses.RequestsMock, access: str = "T1") -> None:
    rsps.post(f"{BASE}/v1/oauth2/token", json={"access_token": access, "token_type": "Bearer", "expires_in": 32400})


def order(order_id: str = "O1", status: str = "CREATED", value: str = "1500", currency: str = "JPY",
          **payments: Any) -> dict[str, Any]:
    return {"id": order_id, "intent": "CAPTURE", "status": status,
            "purchase_units": [{"reference_id": "pay_1", "invoice_id": "pay_1",
                                "amount": {"currency_code": currency, "value": value}, "payments": payments}],
            "links": [{"rel": "approve", "href": "https://www.sandbox.paypal.com/checkoutnow?token=O1"}]}


def sent(call: Any) -> dict[str, Any]:
    return json.loads(call.request.body)


@responses.activate
def test_create_sends_the_amount_as_a_string_in_the_currencys_minor_units_with_the_key_as_request_id(credentials):
    token(responses)
    responses.post(f"{BASE}/v2/checkout/orders", json=order(), status=201)
    provider = paypal.provider(BASE, credentials, http())

    payment = provider.create(PaymentRequest("pay_1", Money(Decimal("1500"), "JPY")), "key-1")

    create = responses.calls[1]
    assert sent(create) == {"intent": "CAPTURE", "purchase_units": [
        {"reference_id": "pay_1", "invoice_id": "pay_1", "amount": {"currency_code": "JPY", "value": "1500"}}]}
    assert create.request.headers["PayPal-Request-Id"] == "key-1"
    assert create.request.headers["Authorization"] == "Bearer T1"
    assert payment.status is PaymentStatus.PENDING
    assert payment.action_url == "https://www.sandbox.paypal.com/checkoutnow?token=O1"


@responses.activate
def test_the_token_is_asked_for_with_basic_auth_once_and_cached_for_later_adapters(credentials):
    token(responses)
    responses.get(f"{BASE}/v2/checkout/orders/O1", json=order())
    provider = paypal.provider(BASE, credentials, http())

    provider.query("O1")
    paypal.provider(BASE, credentials, http()).query("O1")  # the core builds an adapter per operation

    token_calls = [c for c in responses.calls if c.request.url.endswith("/v1/oauth2/token")]
    assert len(token_calls) == 1
    basic = base64.b64encode(f"{credentials['client_id']}:csecret".encode()).decode()
    assert token_calls[0].request.headers["Authorization"] == "Basic " + basic
    assert token_calls[0].request.body == "grant_type=client_credentials"


def test_amounts_are_formatted_with_the_decimals_paypal_takes_and_never_as_floats():
    assert mapping.amount(Money(Decimal("10.5"), "EUR")) == {"currency_code": "EUR", "value": "10.50"}
    assert mapping.value(Money(Decimal("1500"), "JPY")) == "1500"
    assert mapping.value(Money(Decimal("12.345"), "KWD")) == "12.345"
    assert mapping.value(Money(Decimal("300"), "HUF")) == "300"  # ISO has 2 decimals, PayPal takes none
    with pytest.raises(PermanentError):
        mapping.value(Money(Decimal("300.50"), "HUF"))


@responses.activate
def test_a_capture_that_meets_a_503_is_sent_again_with_the_same_request_id(credentials):
    token(responses)
    responses.get(f"{BASE}/v2/checkout/orders/O1", json=order(status="APPROVED"))
    responses.post(f"{BASE}/v2/checkout/orders/O1/capture", json={"name": "INTERNAL_SERVER_ERROR"}, status=503)
    captured = order(status="COMPLETED", captures=[
        {"id": "C1", "status": "COMPLETED", "amount": {"currency_code": "JPY", "value": "1500"}}])
    responses.post(f"{BASE}/v2/checkout/orders/O1/capture", json=captured, status=201)
    provider = paypal.provider(BASE, credentials, http())

    payment = provider.capture("O1", None, "cap-key")

    captures = [c for c in responses.calls if c.request.url.endswith("/capture")]
    assert [c.request.headers["PayPal-Request-Id"] for c in captures] == ["cap-key", "cap-key"]
    assert payment.status is PaymentStatus.CAPTURED
    assert payment.captured == Money(Decimal("1500"), "JPY")


@responses.activate
def test_a_400_is_not_retried(credentials):
    token(responses)
    responses.post(f"{BASE}/v2/checkout/orders", json={"name": "INVALID_REQUEST"}, status=400)
    provider = paypal.provider(BASE, credentials, http())

    with pytest.raises(PermanentError):
        provider.create(PaymentRequest("pay_1", Money(Decimal("10.00"), "EUR")), "key-1")

    assert len([c for c in responses.calls if c.request.url.endswith("/orders")]) == 1


@responses.activate
def test_instrument_declined_at_capture_is_a_payment_declined_and_is_not_retried(credentials):
    token(responses)
    responses.get(f"{BASE}/v2/checkout/orders/O1", json=order(status="APPROVED"))
    responses.post(f"{BASE}/v2/checkout/orders/O1/capture", status=422, json={
        "name": "UNPROCESSABLE_ENTITY", "details": [{"issue": "INSTRUMENT_DECLINED", "description": "declined"}]})
    provider = paypal.provider(BASE, credentials, http())

    with pytest.raises(PaymentDeclined):
        provider.capture("O1", None, "cap-key")

    assert len([c for c in responses.calls if c.request.url.endswith("/capture")]) == 1


@responses.activate
def test_a_401_renews_the_token_once_and_repeats_the_call(credentials):
    token(responses, "OLD")
    token(responses, "NEW")
    responses.get(f"{BASE}/v2/checkout/orders/O1", json={"error": "invalid_token"}, status=401)
    responses.get(f"{BASE}/v2/checkout/orders/O1", json=order())
    provider = paypal.provider(BASE, credentials, http())

    assert provider.query("O1").provider_id == "O1"

    gets = [c for c in responses.calls if "/orders/O1" in c.request.url]
    assert [c.request.headers["Authorization"] for c in gets] == ["Bearer OLD", "Bearer NEW"]


@responses.activate
def test_a_partial_refund_sends_the_amount_and_the_key_to_the_orders_capture(credentials):
    token(responses)
    responses.get(f"{BASE}/v2/checkout/orders/O1", json=order(status="COMPLETED", value="20.00", currency="EUR",
                  captures=[{"id": "C1", "status": "COMPLETED", "amount": {"currency_code": "EUR", "value": "20.00"}}]))
    responses.post(f"{BASE}/v2/payments/captures/C1/refund", status=201,
                   json={"id": "R1", "status": "COMPLETED", "amount": {"currency_code": "EUR", "value": "5.00"}})
    provider = paypal.provider(BASE, credentials, http())

    refund = provider.refund("O1", Money(Decimal("5"), "EUR"), "refund-key")

    call = responses.calls[-1]
    assert sent(call) == {"amount": {"currency_code": "EUR", "value": "5.00"}, "invoice_id": "pay_1"}
    assert call.request.headers["PayPal-Request-Id"] == "refund-key"
    assert (refund.provider_id, refund.amount, refund.succeeded) == ("R1", Money(Decimal("5.00"), "EUR"), True)


HEADERS = {"PAYPAL-TRANSMISSION-ID": "t-1", "PAYPAL-TRANSMISSION-TIME": "2026-11-30T10:00:00Z",
           "PAYPAL-TRANSMISSION-SIG": "c2ln", "PAYPAL-CERT-URL": "https://api.paypal.com/v1/notifications/certs/C",
           "PAYPAL-AUTH-ALGO": "SHA256withRSA"}
EVENT = {"id": "WH-1", "create_time": "2026-11-30T10:00:00Z", "event_type": "PAYMENT.CAPTURE.DENIED",
         "resource": {"id": "C1", "status": "DECLINED", "invoice_id": "pay_1",
                      "amount": {"currency_code": "EUR", "value": "20.00"},
                      "supplementary_data": {"related_ids": {"order_id": "O1"}}}}


@responses.activate
def test_a_webhook_is_verified_by_paypal_with_its_headers_our_webhook_id_and_the_event(credentials):
    token(responses)
    responses.post(f"{BASE}/v1/notifications/verify-webhook-signature", json={"verification_status": "SUCCESS"})
    parser = paypal.notifications(BASE, credentials, http())

    event = parser.parse(HEADERS, json.dumps(EVENT).encode(), datetime.now(UTC))

    assert sent(responses.calls[-1]) == {
        "auth_algo": "SHA256withRSA", "cert_url": "https://api.paypal.com/v1/notifications/certs/C",
        "transmission_id": "t-1", "transmission_sig": "c2ln", "transmission_time": "2026-11-30T10:00:00Z",
        "webhook_id": "WH1", "webhook_event": EVENT}
    assert (event.event_id, event.provider_id, event.status) == ("WH-1", "O1", PaymentStatus.FAILED)
    assert event.reference == "pay_1"


@responses.activate
def test_a_webhook_paypal_does_not_verify_is_signature_invalid(credentials):
    token(responses)
    responses.post(f"{BASE}/v1/notifications/verify-webhook-signature", json={"verification_status": "FAILURE"})
    parser = paypal.notifications(BASE, credentials, http())

    with pytest.raises(SignatureInvalid):
        parser.parse(HEADERS, json.dumps(EVENT).encode(), datetime.now(UTC))


def test_a_webhook_without_its_transmission_headers_is_refused_before_any_call(credentials):
    parser = paypal.notifications(BASE, credentials, http())  # no responses: a call would fail to connect
    headers = {k: v for k, v in HEADERS.items() if k != "PAYPAL-TRANSMISSION-SIG"}

    with pytest.raises(SignatureInvalid):
        parser.parse(headers, json.dumps(EVENT).encode(), datetime.now(UTC))


def test_webhook_events_map_to_the_payment_status_they_report():
    voided = {**EVENT, "event_type": "PAYMENT.AUTHORIZATION.VOIDED", "resource": {**EVENT["resource"],
                                                                                  "status": "VOIDED"}}
    refunded = {**EVENT, "event_type": "PAYMENT.CAPTURE.REFUNDED", "resource": {
        **EVENT["resource"], "amount": {"currency_code": "EUR", "value": "5.00"},
        "seller_payable_breakdown": {"total_refunded_amount": {"currency_code": "EUR", "value": "8.00"}}}}

    assert mapping.event(voided).status is PaymentStatus.VOIDED
    assert mapping.event(refunded).status is PaymentStatus.PARTIALLY_REFUNDED
    assert mapping.event(refunded).amount == Money(Decimal("8.00"), "EUR")
    with pytest.raises(PermanentError):
        mapping.event({**EVENT, "event_type": "BILLING.SUBSCRIPTION.CREATED"})


def test_the_package_is_what_the_payments_core_loads_by_name(credentials):
    from hub.payments.registry import package

    module = package("paypal")

    assert (module.NAME, module.CREDENTIAL_FIELDS) == ("paypal", ("client_id", "client_secret", "webhook_id"))
    assert isinstance(module.provider(BASE, credentials, http()), PaymentProvider)
    assert isinstance(module.notifications(BASE, credentials, http()), NotificationParser)
