"""The EasyPost adapter's requests and answers, against `responses`: shapes (customs only when international),
which failures are retried, the reference kept across retries, a lost purchase answer, webhook signatures."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import requests
import responses

from hub.errors import PermanentError, TransientError
from hub.logistics.customs import CustomsItem, Declaration, TaxId
from hub.logistics.easypost import webhooks
from hub.logistics.easypost.adapter import EasyPostCarrier
from hub.logistics.easypost.client import EasyPostClient
from hub.logistics.port import Address, Parcel, ShipmentRequest
from hub.money import Money
from hub.outbound.http import RetryPolicy

BASE = "https://ep.test"
KEY = "EZTK-test"
FROM = Address(name="Alice Tea Ltd", line1="1 Dock Road", city="London", postal_code="E14 8DW", country="GB")
TO_DE = Address(name="Anna Schmidt", line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")
TO_GB = Address(name="Bea Jones", line1="4 Drive", city="Leeds", postal_code="LS1 1AA", country="GB")
DECLARATION = Declaration(
    order_id=1, from_country="GB", to_country="DE", contents="gift", incoterm="DDP", currency="EUR",
    items=(CustomsItem(1, "TEA-1", "Black tea", 2, Decimal("20.00"), "EUR", 500, "0902300000", "IN"),),
    total_value=Decimal("20.00"), total_weight_grams=500,
    tax_ids=(TaxId("IOSS", "IM3010000019"), TaxId("EORI", "GB123456789000")), value_eur=Decimal("20.00"))
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def request(to: Address = TO_DE, declaration: Declaration | None = DECLARATION) -> ShipmentRequest:
    return ShipmentRequest(reference="hub-" + "a" * 32, ship_from=FROM, ship_to=to, parcel=Parcel(weight_grams=600),
                           declaration=declaration)


def carrier() -> EasyPostCarrier:
    return EasyPostCarrier(EasyPostClient.build(BASE, KEY, sleep=lambda _: None, retry=RetryPolicy(attempts=3)))


def shipment(bought: bool = False) -> dict:
    rate = {"id": "rate_1", "carrier": "USPS", "service": "PriorityMailInternational", "rate": "42.10",
            "currency": "USD", "delivery_days": 8}
    out = {"id": "shp_1", "object": "Shipment", "rates": [rate], "selected_rate": None, "postage_label": None,
           "tracking_code": None, "tracker": None}
    if bought:
        out.update(selected_rate=rate, tracking_code="9400111", tracker={"id": "trk_1"},
                   postage_label={"label_url": f"{BASE}/files/shp_1.pdf"})
    return out


def sent(call: responses.Call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_an_international_shipment_sends_customs_info_and_tax_ids_and_buys_the_chosen_rate():
    responses.post(f"{BASE}/v2/shipments", json=shipment(), status=201)
    responses.post(f"{BASE}/v2/shipments/shp_1/buy", json=shipment(bought=True))
    responses.get(f"{BASE}/files/shp_1.pdf", body=PDF, content_type="application/pdf")

    label = carrier().buy(request(), "USPS:PriorityMailInternational")

    body = sent(responses.calls[0])["shipment"]
    assert body["reference"] == "hub-" + "a" * 32
    assert (body["from_address"]["country"], body["to_address"]["zip"]) == ("GB", "10115")
    assert body["parcel"]["weight"] == 21.2  # ounces
    customs = body["customs_info"]
    assert (customs["contents_type"], customs["non_delivery_option"], customs["customs_certify"]) == (
        "gift", "return", True)
    assert customs["customs_items"] == [{"description": "Black tea", "quantity": 2, "value": 20.00, "currency": "EUR",
                                         "weight": 17.6, "hs_tariff_number": "0902300000", "origin_country": "IN",
                                         "code": "TEA-1"}]
    assert body["tax_identifiers"] == [
        {"entity": "SENDER", "tax_id": "IM3010000019", "tax_id_type": "IOSS", "issuing_country": "DE"},
        {"entity": "SENDER", "tax_id": "GB123456789000", "tax_id_type": "EORI", "issuing_country": "GB"}]
    assert body["options"] == {"incoterm": "DDP"}
    assert sent(responses.calls[1]) == {"rate": {"id": "rate_1"}}
    assert responses.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert label.pdf == PDF  # byte for byte, binary comment included
    assert (label.tracking_code, label.amount, label.tracker_id) == ("9400111", Money(Decimal("42.10"), "USD"),
                                                                      "trk_1")


@responses.activate
def test_a_domestic_shipment_sends_no_customs_info():
    responses.post(f"{BASE}/v2/shipments", json=shipment(), status=201)

    rates = carrier().quote(request(to=TO_GB, declaration=None))

    body = sent(responses.calls[0])["shipment"]
    assert "customs_info" not in body and "tax_identifiers" not in body and "options" not in body
    assert "reference" not in body  # a quote is never bought
    assert [(r.service, r.amount) for r in rates] == [("PriorityMailInternational", Money(Decimal("42.10"), "USD"))]


@responses.activate
def test_a_transient_failure_is_retried_with_the_same_reference():
    responses.post(f"{BASE}/v2/shipments", json={"error": {"code": "INTERNAL_SERVER_ERROR"}}, status=503)
    responses.post(f"{BASE}/v2/shipments", json=shipment(), status=201)
    responses.post(f"{BASE}/v2/shipments/shp_1/buy", json=shipment(bought=True))
    responses.get(f"{BASE}/files/shp_1.pdf", body=PDF)

    carrier().buy(request(), "PriorityMailInternational")

    creates = [c for c in responses.calls if c.request.url.endswith("/v2/shipments")]
    assert len(creates) == 2
    assert {sent(c)["shipment"]["reference"] for c in creates} == {"hub-" + "a" * 32}


@responses.activate
def test_a_refusal_is_not_retried():
    responses.post(f"{BASE}/v2/shipments", status=422,
                   json={"error": {"code": "SHIPMENT.CUSTOMS_INFO.REQUIRED", "message": "customs", "errors": []}})

    with pytest.raises(PermanentError):
        carrier().buy(request(), "PriorityMailInternational")
    assert len(responses.calls) == 1


@responses.activate
def test_failures_that_outlast_the_retries_stay_transient():
    responses.post(f"{BASE}/v2/shipments", body=requests.ConnectionError("reset"))

    with pytest.raises(TransientError):
        carrier().quote(request())
    assert len(responses.calls) == 3


@responses.activate
def test_a_purchase_whose_answer_was_lost_is_read_back_not_bought_again():
    responses.post(f"{BASE}/v2/shipments", json=shipment(), status=201)
    responses.post(f"{BASE}/v2/shipments/shp_1/buy", body=requests.ConnectionError("reset after purchase"))
    responses.post(f"{BASE}/v2/shipments/shp_1/buy", status=422, json={
        "error": {"code": "SHIPMENT.POSTAGE.EXISTS", "message": "The shipment already has postage.", "errors": []}})
    responses.get(f"{BASE}/v2/shipments/shp_1", json=shipment(bought=True))
    responses.get(f"{BASE}/files/shp_1.pdf", body=PDF)

    label = carrier().buy(request(), "PriorityMailInternational")

    assert label.tracking_code == "9400111"
    assert [c.request.method + " " + c.request.url.removeprefix(BASE) for c in responses.calls] == [
        "POST /v2/shipments", "POST /v2/shipments/shp_1/buy", "POST /v2/shipments/shp_1/buy",
        "GET /v2/shipments/shp_1", "GET /files/shp_1.pdf"]


@responses.activate
def test_a_service_the_carrier_does_not_offer_is_refused_before_buying():
    responses.post(f"{BASE}/v2/shipments", json=shipment(), status=201)
    with pytest.raises(PermanentError, match="offers no service 'Express'"):
        carrier().buy(request(), "Express")
    assert len(responses.calls) == 1


@responses.activate
def test_tracking_reads_the_tracker_details_in_the_hub_vocabulary():
    responses.get(f"{BASE}/v2/trackers/trk_1", json={"id": "trk_1", "tracking_code": "9400111", "tracking_details": [
        {"status": "pre_transit", "message": "Label created", "datetime": "2026-11-30T10:00:00Z"},
        {"status": "return_to_sender", "message": "Returned", "datetime": "2026-12-02T10:00:00Z",
         "tracking_location": {"city": "HOUSTON", "state": "TX", "country": "US"}}]})

    events = carrier().track("9400111", tracker_id="trk_1")

    assert [(e.status, e.carrier_status, e.location) for e in events] == [
        ("pre_transit", "pre_transit", ""), ("returned", "return_to_sender", "HOUSTON, TX, US")]
    assert events[1].occurred_at.isoformat() == "2026-12-02T10:00:00+00:00"


def test_a_webhook_signature_is_checked_against_the_raw_body():
    body = b'{"description": "tracker.updated", "result": {"tracking_code": "9400111", "tracking_details": []}}'
    good = {"X-Hmac-Signature": webhooks.signature(body, "s3cret")}

    assert [u.tracking_code for u in carrier().parse_webhook(good, body, "s3cret")] == ["9400111"]
    for headers, secret in ((good, "other"), ({}, "s3cret"), (good, "")):
        with pytest.raises(webhooks.BadSignature):
            carrier().parse_webhook(headers, body, secret)
    with pytest.raises(webhooks.BadSignature):
        carrier().parse_webhook(good, body + b" ", "s3cret")


@responses.activate
def test_a_retry_buys_on_the_shipment_the_first_attempt_created():
    responses.get(f"{BASE}/v2/shipments/shp_1", json=shipment())
    responses.post(f"{BASE}/v2/shipments/shp_1/buy", json=shipment(bought=True))
    responses.get(f"{BASE}/files/shp_1.pdf", body=PDF)
    seen: list[str] = []

    carrier().buy(request(), "PriorityMailInternational", carrier_shipment_id="shp_1", created=seen.append)

    assert [c.request.method + " " + c.request.url.removeprefix(BASE) for c in responses.calls] == [
        "GET /v2/shipments/shp_1", "POST /v2/shipments/shp_1/buy", "GET /files/shp_1.pdf"]
    assert seen == []  # nothing new was created


@responses.activate
def test_the_created_shipment_is_reported_before_it_is_bought():
    responses.post(f"{BASE}/v2/shipments", json=shipment(), status=201)
    responses.post(f"{BASE}/v2/shipments/shp_1/buy", body=requests.ConnectionError("reset"))
    seen: list[str] = []

    with pytest.raises(TransientError):
        carrier().buy(request(), "PriorityMailInternational", created=seen.append)
    assert seen == ["shp_1"]
