"""eBay order mapping, one rule per test. Payload shapes follow the Order type documentation,
https://developer.ebay.com/api-docs/sell/fulfillment/types/sel:Order (see fixtures/get_orders_page.json)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from hub.channels.ebay.mapping import map_order, normalize
from hub.channels.values import MappingError
from hub.orders.status import OrderStatus

FIXTURES = Path(__file__).parent / "fixtures"


def page() -> dict:
    return json.loads((FIXTURES / "get_orders_page.json").read_text(encoding="utf-8"), parse_float=Decimal)


def order(**changes) -> dict:
    raw = copy.deepcopy(page()["orders"][0])
    raw.update(changes)
    return raw


def money(value, currency="USD") -> dict:
    return {"value": value, "currency": currency}


def test_the_documented_order_maps_to_its_canonical_amounts_and_parties():
    [mapped] = normalize([page()])
    assert mapped.external_id == "6498414015!260000000562911"
    assert mapped.status is OrderStatus.PAID
    assert (mapped.currency, mapped.total, mapped.subtotal) == ("USD", Decimal("43.12"), Decimal("39.98"))
    assert (mapped.discount, mapped.shipping, mapped.tax) == (Decimal("5.00"), Decimal("4.99"), Decimal("3.15"))
    assert mapped.prices_include_tax is False
    assert mapped.flags == ()
    [line] = mapped.lines
    assert (line.sku, line.quantity, line.unit_price, line.line_total) == (
        "MUG-BLUE-12", 2, Decimal("19.99"), Decimal("39.98"))
    assert (line.tax, line.discount, line.external_line_id) == (Decimal("3.15"), Decimal("5.00"), "10000000562911")
    assert mapped.placed_at == datetime(2016, 3, 22, 18, 2, 42, tzinfo=UTC)
    assert mapped.updated_at == datetime(2016, 3, 23, 9, 12, 44, 768000, tzinfo=UTC)
    assert mapped.shipping_address.name == "Emily Chen" and mapped.shipping_address.city == "Seattle"
    assert mapped.billing_address.name == "José Álvarez"
    assert (mapped.buyer_name, mapped.buyer_email) == ("José Álvarez", "jose.alvarez@example.com")
    assert mapped.raw["orderId"] == "6498414015!260000000562911"


def test_cancellation_wins_over_refund_and_fulfilment():
    raw = order(orderFulfillmentStatus="FULFILLED", orderPaymentStatus="FULLY_REFUNDED",
                cancelStatus={"cancelState": "CANCELED", "cancelRequests": []})
    assert map_order(raw).status is OrderStatus.CANCELLED


def test_a_full_refund_wins_over_fulfilment():
    raw = order(orderFulfillmentStatus="FULFILLED", orderPaymentStatus="FULLY_REFUNDED")
    assert map_order(raw).status is OrderStatus.REFUNDED


def test_a_partial_refund_wins_over_fulfilment():
    raw = order(orderFulfillmentStatus="IN_PROGRESS", orderPaymentStatus="PARTIALLY_REFUNDED")
    assert map_order(raw).status is OrderStatus.PARTIALLY_REFUNDED


def test_fulfilment_in_progress_is_partially_fulfilled_and_fulfilled_is_fulfilled():
    assert map_order(order(orderFulfillmentStatus="IN_PROGRESS")).status is OrderStatus.PARTIALLY_FULFILLED
    assert map_order(order(orderFulfillmentStatus="FULFILLED")).status is OrderStatus.FULFILLED


def test_an_unpaid_or_failed_payment_is_pending_and_a_failure_is_flagged():
    assert map_order(order(orderPaymentStatus="PENDING")).status is OrderStatus.PENDING
    failed = map_order(order(orderPaymentStatus="FAILED"))
    assert failed.status is OrderStatus.PENDING
    assert any("FAILED" in flag for flag in failed.flags)


def test_a_cancellation_only_requested_does_not_cancel_but_is_flagged():
    mapped = map_order(order(cancelStatus={"cancelState": "IN_PROGRESS", "cancelRequests": []}))
    assert mapped.status is OrderStatus.PAID
    assert any("cancellation requested" in flag for flag in mapped.flags)


def test_amounts_that_a_float_would_break_stay_exact():
    raw = order()
    raw["lineItems"][0].update(quantity=3, lineItemCost=money("0.30"), appliedPromotions=[],
                               ebayCollectAndRemitTaxes=[], taxes=[])
    raw["pricingSummary"] = {"priceSubtotal": money("0.30"), "deliveryCost": money("0.00"),
                             "total": money(Decimal("0.1") + Decimal("0.2"))}
    mapped = map_order(raw)
    assert mapped.total == Decimal("0.3") and mapped.subtotal == Decimal("0.30")
    assert mapped.lines[0].unit_price == Decimal("0.1")
    assert mapped.flags == ()


def test_amounts_sent_as_json_numbers_parse_exactly_and_a_float_is_refused():
    raw = order()
    raw["pricingSummary"]["total"] = money(Decimal("43.12"))
    assert map_order(raw).total == Decimal("43.12")
    raw["pricingSummary"]["total"] = money(43.12)
    with pytest.raises(MappingError, match="float"):
        map_order(raw)


def test_a_line_cost_that_does_not_divide_by_its_quantity_has_no_unit_price_and_is_flagged():
    raw = order()
    raw["lineItems"][0].update(quantity=3, lineItemCost=money("10.00"))
    mapped = map_order(raw)
    assert mapped.lines[0].unit_price is None and mapped.lines[0].line_total == Decimal("10.00")
    assert any("not a whole multiple" in flag for flag in mapped.flags)


def test_a_huge_quantity_keeps_its_exact_line_total_and_unit_price():
    raw = order()
    raw["lineItems"][0].update(quantity=99999, lineItemCost=money("1998980.01"))
    line = map_order(raw).lines[0]
    assert (line.quantity, line.unit_price, line.line_total) == (99999, Decimal("19.99"), Decimal("1998980.01"))


def test_a_zero_or_fractional_quantity_is_refused():
    raw = order()
    raw["lineItems"][0]["quantity"] = 0
    with pytest.raises(MappingError, match="quantity"):
        map_order(raw)
    raw["lineItems"][0]["quantity"] = Decimal("1.5")
    with pytest.raises(MappingError, match="quantity"):
        map_order(raw)


def test_a_zero_decimal_currency_keeps_whole_amounts_and_flags_a_gap_larger_than_one_yen():
    raw = order()
    raw["lineItems"][0].update(quantity=3, lineItemCost=money("3000", "JPY"), appliedPromotions=[],
                               ebayCollectAndRemitTaxes=[], taxes=[])
    raw["pricingSummary"] = {"priceSubtotal": money("3000", "JPY"), "deliveryCost": money("500", "JPY"),
                             "total": money("3501", "JPY")}
    mapped = map_order(raw)
    assert (mapped.currency, mapped.total, mapped.lines[0].unit_price) == ("JPY", Decimal("3501"), Decimal("1000"))
    assert mapped.flags == ()  # one yen is JPY's minor unit: within tolerance
    raw["pricingSummary"]["total"] = money("3502", "JPY")
    assert any("differs from its parts" in flag for flag in map_order(raw).flags)


def test_a_three_decimal_currency_keeps_its_third_decimal():
    raw = order()
    raw["lineItems"][0].update(quantity=2, lineItemCost=money("25.250", "KWD"), appliedPromotions=[],
                               ebayCollectAndRemitTaxes=[], taxes=[])
    raw["pricingSummary"] = {"priceSubtotal": money("25.250", "KWD"), "deliveryCost": money("1.125", "KWD"),
                             "total": money("26.375", "KWD")}
    mapped = map_order(raw)
    assert (mapped.total, mapped.lines[0].unit_price, mapped.flags) == (Decimal("26.375"), Decimal("12.625"), ())


def test_a_total_that_differs_from_its_parts_is_flagged_and_kept():
    raw = order()
    raw["pricingSummary"]["total"] = money("43.50")
    mapped = map_order(raw)
    assert mapped.total == Decimal("43.50")
    assert any("43.50 USD differs" in flag for flag in mapped.flags)


def test_collect_and_remit_tax_listed_in_both_tax_arrays_is_counted_once():
    raw = order()
    del raw["pricingSummary"]["tax"]
    mapped = map_order(raw)
    assert (mapped.tax, mapped.lines[0].tax, mapped.flags) == (Decimal("3.15"), Decimal("3.15"), ())


def test_collect_and_remit_tax_alone_is_the_tax_when_the_summary_has_none():
    raw = order()
    del raw["pricingSummary"]["tax"]
    raw["lineItems"][0]["taxes"] = []
    assert map_order(raw).tax == Decimal("3.15")


def test_totals_not_given_yet_are_none_and_the_order_is_still_imported():
    raw = order(orderPaymentStatus="PENDING")
    raw["pricingSummary"] = {}
    del raw["lineItems"][0]["lineItemCost"]
    raw["lineItems"][0]["appliedPromotions"] = []
    raw["lineItems"][0]["ebayCollectAndRemitTaxes"] = raw["lineItems"][0]["taxes"] = []
    raw["lineItems"][0]["total"] = {"value": "", "currency": "USD"}
    mapped = map_order(raw)
    assert (mapped.total, mapped.subtotal, mapped.shipping, mapped.tax, mapped.discount) == (None,) * 5
    assert mapped.currency == "USD"  # from the line item's (still empty) total
    assert mapped.lines[0].unit_price is None and mapped.lines[0].line_total is None


def test_an_order_without_any_currency_is_refused():
    raw = order()
    raw["pricingSummary"] = {}
    raw["lineItems"][0].update(lineItemCost=None, total=None, appliedPromotions=[], ebayCollectAndRemitTaxes=[],
                               taxes=[])
    with pytest.raises(MappingError, match="currency"):
        map_order(raw)


def test_amounts_in_two_currencies_are_refused():
    raw = order()
    raw["pricingSummary"]["deliveryCost"] = money("4.99", "EUR")
    with pytest.raises(MappingError, match="currency EUR differs"):
        map_order(raw)


def test_a_missing_sku_falls_back_to_the_legacy_item_id_and_says_so():
    raw = order()
    del raw["lineItems"][0]["sku"]
    raw["lineItems"][0]["legacyVariationId"] = "400000012345"
    mapped = map_order(raw)
    assert mapped.lines[0].sku == "ebay-item:110188572651:400000012345"
    assert any("has no SKU" in flag for flag in mapped.flags)


def test_a_line_with_neither_sku_nor_item_id_uses_the_line_item_id():
    raw = order()
    for key in ("sku", "legacyItemId"):
        del raw["lineItems"][0][key]
    assert map_order(raw).lines[0].sku == "ebay-line:10000000562911"


def test_the_ship_to_country_comes_from_the_shipping_address_then_billing_then_the_site():
    raw = order()
    raw["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]["contactAddress"]["countryCode"] = "PL"
    assert map_order(raw).ship_to_country == "PL"
    raw["fulfillmentStartInstructions"] = []
    assert map_order(raw).ship_to_country == "US"  # the buyer's registration address
    raw["buyer"] = {"username": "j***a"}
    raw["lineItems"][0]["purchaseMarketplaceId"] = "EBAY_GB"
    mapped = map_order(raw)
    assert mapped.ship_to_country == "GB" and mapped.shipping_address is None and mapped.billing_address is None
    assert mapped.buyer_name == "j***a" and mapped.buyer_email is None


def test_missing_optional_contact_fields_leave_blanks_not_errors():
    raw = order()
    ship_to = raw["fulfillmentStartInstructions"][0]["shippingStep"]["shipTo"]
    for key in ("primaryPhone", "email"):
        del ship_to[key]
    del ship_to["contactAddress"]["stateOrProvince"]
    raw["buyer"] = {"username": "j***a"}
    mapped = map_order(raw)
    assert (mapped.buyer_email, mapped.buyer_phone, mapped.shipping_address.region) == (None, None, "")
    assert mapped.buyer_name == "Emily Chen"


def test_timestamps_are_aware_utc_and_a_timestamp_without_offset_is_refused():
    raw = order(lastModifiedDate="2016-03-23T09:12:44.768")
    with pytest.raises(MappingError, match="lastModifiedDate"):
        map_order(raw)


def test_unknown_status_values_are_refused_with_the_value_named():
    with pytest.raises(MappingError, match="SHIPPED_MAYBE"):
        map_order(order(orderFulfillmentStatus="SHIPPED_MAYBE"))
    with pytest.raises(MappingError, match="orderPaymentStatus"):
        map_order(order(orderPaymentStatus=None))


def test_an_order_without_lines_or_id_is_refused():
    with pytest.raises(MappingError, match="lineItems"):
        map_order(order(lineItems=[]))
    with pytest.raises(MappingError, match="orderId"):
        map_order(order(orderId=""))


def test_normalize_joins_pages_and_get_order_bodies_keeping_the_latest_version():
    older = order()
    newer = order(lastModifiedDate="2016-03-25T10:00:00.000Z", orderFulfillmentStatus="FULFILLED")
    other = order(orderId="12-34567-89012")
    for bodies in ([{"orders": [older, other]}, newer], [newer, {"orders": [other, older]}]):
        mapped = {o.external_id: o for o in normalize(bodies)}
        assert set(mapped) == {"6498414015!260000000562911", "12-34567-89012"}
        assert mapped["6498414015!260000000562911"].status is OrderStatus.FULFILLED


def test_normalize_refuses_an_error_body():
    with pytest.raises(MappingError, match="error body"):
        normalize([{"errors": [{"errorId": 1001, "message": "Invalid access token"}]}])
