"""The Amazon client's pieces that need no server: usage-plan pacing, cursors, request bodies, time format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub.channels.amazon.client import Pacer
from hub.channels.amazon.connector import amazon_time, confirm_shipment_body, decode_cursor, encode_cursor
from hub.channels.port import Shipment
from hub.errors import PermanentError


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_the_pacer_spends_the_burst_then_waits_one_token_at_the_plans_rate():
    clock = Clock()
    pacer = Pacer(rate=0.5, burst=3, clock=clock)
    assert [pacer.wait() for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = pacer.wait()
    assert wait == pytest.approx(2.0, rel=0.02)
    clock.now += wait
    assert pacer.wait() == pytest.approx(2.0, rel=0.02)  # the token that refilled while sleeping is already spent


def test_the_pacer_waits_a_full_token_when_the_server_says_the_bucket_is_empty():
    pacer = Pacer(rate=0.0167, burst=20, clock=Clock())
    assert pacer.empty() == pytest.approx(59.88, rel=0.01)


def test_a_cursor_round_trips_and_a_forged_one_is_refused():
    assert decode_cursor(encode_cursor("2YgYW55IGNhcm5hbCBwbGVhc3VyZS4")) == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4"
    for junk in ("", "not base64!", encode_cursor("x")[:-3]):
        with pytest.raises(PermanentError):
            decode_cursor(junk)


def test_times_sent_to_amazon_are_utc_with_z_and_naive_ones_are_refused():
    cest = timezone(timedelta(hours=2))
    assert amazon_time(datetime(2026, 7, 1, 12, 0, tzinfo=cest)) == "2026-07-01T10:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        amazon_time(datetime(2026, 7, 1, 12, 0))


def test_a_shipment_confirmation_body_has_the_documented_shape():
    shipment = Shipment("902-1106328-1059050", "FedEx", "112345678", datetime(2022, 2, 11, 1, 0, tzinfo=UTC))
    body = confirm_shipment_body(shipment, "ATVPDKIKX0DER", [("79039765272157", 1)])
    package = body["packageDetail"]
    assert body["marketplaceId"] == "ATVPDKIKX0DER"
    assert (package["carrierCode"], package["trackingNumber"], package["shipDate"]) == \
        ("FedEx", "112345678", "2022-02-11T01:00:00Z")
    assert package["orderItems"] == [{"orderItemId": "79039765272157", "quantity": 1}]
    assert package["packageReferenceId"].isdigit() and int(package["packageReferenceId"]) > 0
    assert confirm_shipment_body(shipment, "ATVPDKIKX0DER", [])["packageDetail"]["packageReferenceId"] == \
        package["packageReferenceId"]  # stable: sending it again edits the same package
    assert "carrierName" not in package


def test_amounts_are_written_as_exact_json_numbers_never_through_a_float():
    from decimal import Decimal

    from hub.outbound.http import dumps_exact as exact_json

    body = {"value_with_tax": Decimal("12.345"), "yen": Decimal("1500"), "list": [Decimal("0.10"), 3, "x", None]}
    assert exact_json(body) == '{"value_with_tax": 12.345, "yen": 1500, "list": [0.10, 3, "x", null]}'
    assert exact_json({"big": Decimal("12345678901234567.89")}) == '{"big": 12345678901234567.89}'
    with pytest.raises(TypeError):
        exact_json({"value_with_tax": 19.99})
