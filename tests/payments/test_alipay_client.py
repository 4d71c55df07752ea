"""The Alipay adapter's gateway calls and notify checks, against `responses`: RSA2 signatures both ways,
exact parameters, the idempotency fields across retries, and what is retried.

https://opendocs.alipay.com/common/02kf5q (signing), https://opendocs.alipay.com/apis/api_1/alipay.trade.refund
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import responses
from cryptography.hazmat.primitives.asymmetric import rsa

from hub.errors import PermanentError
from hub.money import Money
from hub.outbound.audit import MemoryAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.payments import alipay
from hub.payments.alipay import signing
from hub.payments.alipay.client import AlipayClient, AlipayError
from hub.payments.alipay.provider import AlipayProvider
from hub.payments.port import (
    NotificationParser,
    PaymentDeclined,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    SignatureInvalid,
)
from hub.sandbox.alipay import APP_ID, credentials, keys

BASE = "https://openapi-sandbox.dl.alipaydev.com"
GATEWAY = f"{BASE}/gateway.do"
NO_WAIT = RetryPolicy(attempts=4, initial_seconds=0, max_seconds=0, jitter_seconds=0)
# 2026-11-30 10:00:00 UTC is 18:00:00 in Beijing.
NOW = datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)


def client() -> AlipayClient:
    http = HttpClient(BASE, "alipay", retry=NO_WAIT, audit=MemoryAudit(), sleep=lambda _s: None)
    app_key, alipay_key = keys()
    return AlipayClient(http, APP_ID, app_key, alipay_key.public_key(), clock=lambda: NOW)


def provider() -> AlipayProvider:
    return AlipayProvider(client())


def answer(node: str, content: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
    text = json.dumps(content, ensure_ascii=False)
    return f'{{"{node}":{text},"sign":"{signing.sign(text, key or keys()[1])}"}}'


def form(call: Any) -> dict[str, str]:
    return dict(parse_qsl(call.request.body))


def pkcs1_v15_sha256_verifies(content: str, signature: str, public: rsa.RSAPublicKey) -> bool:
    """RSA verification done by hand (RFC 8017 EMSA-PKCS1-v1_5 with SHA-256's DigestInfo), independent of the
    signing code's library calls."""
    numbers = public.public_numbers()
    size = (numbers.n.bit_length() + 7) // 8
    em = pow(int.from_bytes(base64.b64decode(signature), "big"), numbers.e, numbers.n).to_bytes(size, "big")
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(content.encode()).digest()
    return em == b"\x00\x01" + b"\xff" * (size - 3 - len(digest_info)) + b"\x00" + digest_info


REFUND_OK = {"code": "10000", "msg": "Success", "trade_no": "2026113022001", "out_trade_no": "pay_1",
             "fund_change": "Y", "refund_fee": "10.00", "gmt_refund_pay": "2026-11-30 18:00:00"}


@responses.activate
def test_a_refund_is_an_rsa2_signed_form_with_the_common_parameters_and_the_key_as_out_request_no():
    responses.post(GATEWAY, body=answer("alipay_trade_refund_response", REFUND_OK))

    refund = provider().refund("pay_1", Money(Decimal("10"), "CNY"), "refund-key-1")

    params = form(responses.calls[0])
    assert {k: v for k, v in params.items() if k not in ("sign", "biz_content")} == {
        "app_id": APP_ID, "method": "alipay.trade.refund", "format": "JSON", "charset": "utf-8",
        "sign_type": "RSA2", "timestamp": "2026-11-30 18:00:00", "version": "1.0"}
    assert json.loads(params["biz_content"]) == {"out_trade_no": "pay_1", "refund_amount": "10.00",
                                                 "out_request_no": "refund-key-1"}
    content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign")
    assert pkcs1_v15_sha256_verifies(content, params["sign"], keys()[0].public_key())
    assert (refund.provider_id, refund.amount, refund.succeeded) == ("refund-key-1", Money(Decimal("10.00"), "CNY"),
                                                                     True)


@responses.activate
def test_a_refund_repeated_after_a_503_carries_the_same_out_request_no():
    responses.post(GATEWAY, body="busy", status=503)
    responses.post(GATEWAY, body=answer("alipay_trade_refund_response", {**REFUND_OK, "fund_change": "N"}))

    refund = provider().refund("pay_1", Money(Decimal("10.00"), "CNY"), "refund-key-2")

    sent = [json.loads(form(c)["biz_content"])["out_request_no"] for c in responses.calls]
    assert sent == ["refund-key-2", "refund-key-2"]
    assert refund.succeeded  # fund_change N: the first call moved the money


@responses.activate
def test_code_20000_is_asked_again_and_a_business_refusal_is_not():
    responses.post(GATEWAY, body=answer("alipay_trade_query_response", {
        "code": "20000", "msg": "Service Currently Unavailable", "sub_code": "isp.unknow-error"}))
    responses.post(GATEWAY, body=answer("alipay_trade_query_response", {
        "code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST", "sub_msg": "交易不存在"}))

    with pytest.raises(AlipayError) as refused:
        client().query("pay_1")

    assert refused.value.sub_code == "ACQ.TRADE_NOT_EXIST"
    assert len(responses.calls) == 2


@responses.activate
def test_a_payer_side_refusal_is_a_payment_declined():
    responses.post(GATEWAY, body=answer("alipay_trade_refund_response", {
        "code": "40004", "msg": "Business Failed", "sub_code": "ACQ.PAYMENT_FAIL", "sub_msg": "支付失败"}))

    with pytest.raises(PaymentDeclined):
        client().refund("pay_1", "1.00", "k")
    assert len(responses.calls) == 1


@responses.activate
def test_an_answer_signed_with_another_key_is_not_trusted():
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    responses.post(GATEWAY, body=answer("alipay_trade_query_response", {
        "code": "10000", "msg": "Success", "out_trade_no": "pay_1", "trade_status": "TRADE_SUCCESS",
        "total_amount": "88.80"}, key=stranger))

    with pytest.raises(PermanentError, match="signature"):
        client().query("pay_1")


@responses.activate
def test_a_query_reads_the_signed_object_exactly_as_it_stands_in_the_body():
    # Alipay's own spacing and escapes: the signature covers this text, not a re-serialization of it.
    text = '{"code":"10000","msg":"Success","out_trade_no":"pay_1","trade_status":"TRADE_SUCCESS",' \
           '"total_amount":"88.80","send_pay_date":"2026-11-30 18:00:00","buyer_logon_id":"a\\/b"}'
    body = f'{{"alipay_trade_query_response": {text},"sign":"{signing.sign(text, keys()[1])}"}}'
    responses.post(GATEWAY, body=body)

    payment = provider().query("pay_1")

    assert payment.status is PaymentStatus.CAPTURED
    assert payment.captured == Money(Decimal("88.80"), "CNY")


def test_page_pay_is_a_signed_gateway_url_with_the_amount_in_yuan_and_the_notify_url():
    created = provider().create(PaymentRequest("pay_9", Money(Decimal("88.8"), "CNY"), description="茶",
                                               notify_url="https://hub.example/notify", return_url=None), "k")

    params = dict(parse_qsl(urlsplit(created.action_url).query))
    assert created.action_url.startswith(GATEWAY + "?")
    assert params["method"] == "alipay.trade.page.pay"
    assert params["notify_url"] == "https://hub.example/notify"
    assert json.loads(params["biz_content"]) == {"out_trade_no": "pay_9", "total_amount": "88.80", "subject": "茶",
                                                 "product_code": "FAST_INSTANT_TRADE_PAY"}
    assert signing.verify(signing.request_content(params), params["sign"], keys()[0].public_key())
    assert (created.provider_id, created.status) == ("pay_9", PaymentStatus.PENDING)


def test_amounts_alipay_cannot_take_are_refused_before_anything_is_sent():
    with pytest.raises(PermanentError):
        provider().create(PaymentRequest("pay_1", Money(Decimal("10.00"), "EUR")), "k")
    with pytest.raises(PermanentError):
        provider().create(PaymentRequest("pay_1", Money(Decimal("10.00"), "CNY"), capture=False), "k")


def notify_fields(**changes: str) -> dict[str, str]:
    fields = {"notify_time": "2026-11-30 18:00:05", "notify_type": "trade_status_sync", "notify_id": "n-1",
              "app_id": APP_ID, "charset": "utf-8", "version": "1.0", "trade_no": "2026113022001",
              "out_trade_no": "pay_1", "trade_status": "TRADE_SUCCESS", "total_amount": "88.80",
              "gmt_payment": "2026-11-30 18:00:00", "subject": "茶 & 点心", **changes}
    fields["sign_type"] = "RSA2"
    fields["sign"] = signing.sign(signing.notify_content(fields), keys()[1])
    return fields


def parser() -> Any:
    return alipay.notifications(BASE, credentials(), HttpClient(BASE, "alipay"))


def test_a_genuine_notify_is_read_as_a_capture_at_its_payment_time_in_utc():
    event = parser().parse({}, urlencode(notify_fields()).encode(), NOW)

    assert (event.event_id, event.provider_id, event.status) == ("n-1", "pay_1", PaymentStatus.CAPTURED)
    assert event.amount == Money(Decimal("88.80"), "CNY")
    assert event.occurred_at == datetime(2026, 11, 30, 10, 0, 0, tzinfo=UTC)
    assert parser().acknowledgement() == (200, "text/plain", "success")


def test_a_notify_with_a_changed_field_or_for_another_app_or_signed_rsa1_is_signature_invalid():
    tampered = {**notify_fields(), "total_amount": "0.01"}
    other_app = notify_fields(app_id="2021000000000999")
    rsa1 = {**notify_fields(), "sign_type": "RSA"}

    for fields in (tampered, other_app, rsa1):
        with pytest.raises(SignatureInvalid):
            parser().parse({}, urlencode(fields).encode(), NOW)


def test_refund_and_close_notifies_map_to_partly_refunded_refunded_and_voided():
    partial = notify_fields(notify_id="n-2", refund_fee="10.00", gmt_refund="2026-11-30 18:10:00", out_biz_no="r1")
    full = notify_fields(notify_id="n-3", trade_status="TRADE_CLOSED", refund_fee="88.80",
                         gmt_refund="2026-11-30 18:20:00")
    closed = notify_fields(notify_id="n-4", trade_status="TRADE_CLOSED", gmt_close="2026-11-30 18:30:00")
    unpaid = {k: v for k, v in closed.items() if k not in ("gmt_payment", "sign")}
    unpaid["sign"] = signing.sign(signing.notify_content(unpaid), keys()[1])

    assert parser().parse({}, urlencode(partial).encode(), NOW).status is PaymentStatus.PARTIALLY_REFUNDED
    assert parser().parse({}, urlencode(partial).encode(), NOW).amount == Money(Decimal("10.00"), "CNY")
    assert parser().parse({}, urlencode(full).encode(), NOW).status is PaymentStatus.REFUNDED
    assert parser().parse({}, urlencode(unpaid).encode(), NOW).status is PaymentStatus.VOIDED


def test_the_package_is_what_the_payments_core_loads_by_name():
    from hub.payments.registry import package

    module = package("alipay")

    assert (module.NAME, module.CREDENTIAL_FIELDS) == ("alipay", ("app_id", "app_private_key", "alipay_public_key"))
    assert isinstance(module.provider(BASE, credentials(), HttpClient(BASE, "alipay")), PaymentProvider)
    assert isinstance(module.notifications(BASE, credentials(), HttpClient(BASE, "alipay")), NotificationParser)


def test_keys_are_read_from_the_consoles_bare_base64_as_well_as_from_pem():
    pem = credentials()["alipay_public_key"]
    bare = "".join(line for line in pem.splitlines() if not line.startswith("-----"))

    assert signing.load_public_key(bare).public_numbers() == signing.load_public_key(pem).public_numbers()
