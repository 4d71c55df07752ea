"""The DHL Express adapter's requests and answers, against `responses`: the export declaration and registration
numbers of an international shipment and none for a domestic one, Message-Reference kept across retries, which
failures are retried, tracking checkpoints read into UTC and the hub's vocabulary."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import requests
import responses

from hub.errors import PermanentError
from hub.logistics.customs import CustomsItem, Declaration, TaxId
from hub.logistics.dhl.adapter import DhlCarrier
from hub.logistics.dhl.client import DhlClient
from hub.logistics.port import Address, Parcel, ShipmentRequest
from hub.money import Money
from hub.outbound.http import RetryPolicy

BASE = "https://dhl.test/mydhlapi"
FROM = Address(name="Alice Tea Ltd", line1="1 Dock Road", city="London", postal_code="E14 8DW", country="GB",
               phone="+44 20 7946 0000")
TO_DE = Address(name="Anna Schmidt", line1="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")
TO_GB = Address(name="Bea Jones", line1="4 Drive", city="Leeds", postal_code="LS1 1AA", country="GB")
DECLARATION = Declaration(
    order_id=1, from_country="GB", to_country="DE", contents="merchandise", incoterm="DDP", currency="EUR",
    items=(CustomsItem(1, "TEA-1", "Black tea", 2, Decimal("20.00"), "EUR", 500, "0902300000", "IN"),
           CustomsItem(2, "MUG-1", "Stoneware mug", 3, Decimal("10.00"), "EUR", 1200, "691200", "CN")),
    total_value=Decimal("30.00"), total_weight_grams=1700,
    tax_ids=(TaxId("IOSS", "IM3010000019"), TaxId("EORI", "GB123456789000")), value_eur=Decimal("30.00"))
KEY = "hub-" + "b" * 32
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n%%EOF\n"
CREATED = {"shipmentTrackingNumber": "1234567890", "documents": [
    {"imageFormat": "PDF", "content": base64.b64encode(PDF).decode(), "typeCode": "label"}],
    "shipmentCharges": [{"currencyType": "BILLC", "priceCurrency": "EUR", "price": 61.03}]}
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def request(to: Address = TO_DE, declaration: Declaration | None = DECLARATION) -> ShipmentRequest:
    return ShipmentRequest(reference=KEY, ship_from=FROM, ship_to=to, parcel=Parcel(weight_grams=1800),
                           declaration=declaration)


def carrier() -> DhlCarrier:
    client = DhlClient.build(BASE, "user", "pass", sleep=lambda _: None, retry=RetryPolicy(attempts=4))
    return DhlCarrier(client, "123456789", clock=lambda: NOW)


def sent(call: responses.Call) -> dict:
    return json.loads(call.request.body)


@responses.activate
def test_an_international_shipment_carries_the_export_declaration_and_registration_numbers():
    responses.post(f"{BASE}/shipments", json=CREATED, status=201)

    label = carrier().buy(request(), "P")

    body = sent(responses.calls[0])
    assert (body["productCode"], body["plannedShippingDateAndTime"]) == ("P", "2026-11-30T13:00:00GMT+00:00")
    assert body["accounts"] == [{"typeCode": "shipper", "number": "123456789"}]
    shipper = body["customerDetails"]["shipperDetails"]
    assert shipper["postalAddress"] == {"postalCode": "E14 8DW", "cityName": "London", "countryCode": "GB",
                                        "addressLine1": "1 Dock Road"}
    assert shipper["registrationNumbers"] == [
        {"typeCode": "SDT", "number": "IM3010000019", "issuerCountryCode": "DE"},
        {"typeCode": "EOR", "number": "GB123456789000", "issuerCountryCode": "GB"}]
    content = body["content"]
    assert (content["isCustomsDeclarable"], content["declaredValue"], content["declaredValueCurrency"],
            content["incoterm"], content["unitOfMeasurement"]) == (True, 30.00, "EUR", "DDP", "metric")
    tea, mug = content["exportDeclaration"]["lineItems"]
    assert tea == {"number": 1, "description": "Black tea", "price": 10.00,
                   "quantity": {"value": 2, "unitOfMeasurement": "PCS"},
                   "commodityCodes": [{"typeCode": "outbound", "value": "0902300000"}], "manufacturerCountry": "IN",
                   "weight": {"netValue": 0.5, "grossValue": 0.5}}
    assert (mug["price"], mug["manufacturerCountry"]) == (3.33, "CN")  # unit price, rounded to cents
    assert content["packages"] == [{"weight": 1.8, "dimensions": {"length": 30, "width": 20, "height": 10}}]
    assert body["valueAddedServices"] == [{"serviceCode": "DD"}]  # DDP: duties paid by the shipper
    assert responses.calls[0].request.headers["Message-Reference"] == KEY
    assert (label.tracking_code, label.pdf, label.amount) == ("1234567890", PDF, Money(Decimal("61.03"), "EUR"))


@responses.activate
def test_a_domestic_shipment_is_not_declarable():
    responses.post(f"{BASE}/shipments", json=CREATED, status=201)

    carrier().buy(request(to=TO_GB, declaration=None), "N")

    body = sent(responses.calls[0])
    assert body["content"]["isCustomsDeclarable"] is False
    assert "exportDeclaration" not in body["content"] and "declaredValue" not in body["content"]
    assert "registrationNumbers" not in body["customerDetails"]["shipperDetails"]
    assert "valueAddedServices" not in body


@responses.activate
def test_retries_after_a_lost_answer_or_a_5xx_send_the_same_message_reference():
    responses.post(f"{BASE}/shipments", body=requests.ConnectionError("reset after the shipment was made"))
    responses.post(f"{BASE}/shipments", status=503, json={"title": "Service Unavailable", "status": "503"})
    responses.post(f"{BASE}/shipments", json=CREATED, status=201)

    carrier().buy(request(), "P")

    assert len(responses.calls) == 3
    assert {c.request.headers["Message-Reference"] for c in responses.calls} == {KEY}


@responses.activate
def test_a_refused_shipment_is_not_retried():
    responses.post(f"{BASE}/shipments", status=422, json={
        "instance": "/shipments", "detail": "exportDeclaration.lineItems[0]: commodityCodes required",
        "title": "Unprocessable Entity", "status": "422"})

    with pytest.raises(PermanentError, match="commodityCodes"):
        carrier().buy(request(), "P")
    assert len(responses.calls) == 1


@responses.activate
def test_rates_are_read_as_decimals_from_the_billing_currency_price():
    responses.post(f"{BASE}/rates", json={"products": [
        {"productCode": "P", "productName": "EXPRESS WORLDWIDE", "deliveryCapabilities": {"totalTransitDays": "3"},
         "totalPrice": [{"currencyType": "PULCL", "priceCurrency": "GBP", "price": 40.1},
                        {"currencyType": "BILLC", "priceCurrency": "EUR", "price": 48.15}]}]})

    (rate,) = carrier().quote(request())

    assert (rate.service, rate.amount, rate.delivery_days) == ("P", Money(Decimal("48.15"), "EUR"), 3)
    body = sent(responses.calls[0])
    assert body["isCustomsDeclarable"] is True
    assert body["monetaryAmount"] == [{"typeCode": "declaredValue", "value": 30.00, "currency": "EUR"}]
    assert body["customerDetails"]["receiverDetails"]["countryCode"] == "DE"


@responses.activate
def test_tracking_checkpoints_are_read_in_utc_and_normalised():
    responses.get(f"{BASE}/shipments/1234567890/tracking", json={"shipments": [{"events": [
        {"date": "2026-11-30", "time": "18:30:00", "GMTOffset": "+01:00", "typeCode": "PU",
         "description": "Shipment picked up", "serviceArea": [{"code": "LHR", "description": "London-GB"}]},
        {"date": "2026-12-01", "time": "09:15:00", "GMTOffset": "-05:00", "typeCode": "OK",
         "description": "Delivered"}]}]})

    picked, delivered = carrier().track("1234567890")

    assert (picked.status, picked.carrier_status, picked.location) == ("in_transit", "PU", "London-GB")
    assert picked.occurred_at == datetime(2026, 11, 30, 17, 30, tzinfo=UTC)
    assert (delivered.status, delivered.occurred_at) == ("delivered", datetime(2026, 12, 1, 14, 15, tzinfo=UTC))
    assert responses.calls[0].request.params == {"trackingView": "all-checkpoints", "levelOfDetail": "all"}


def test_dhl_has_no_webhooks_to_parse():
    with pytest.raises(PermanentError):
        carrier().parse_webhook({}, b"{}", "secret")
