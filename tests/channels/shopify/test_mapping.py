"""Shopify raw orders to canonical ones: both shapes (GraphQL Admin `Order` node, REST webhook order).

Fixtures follow https://shopify.dev/docs/api/admin-graphql/latest/objects/Order and
https://shopify.dev/docs/api/admin-rest/latest/resources/order (see fixtures/README.md).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.channels.port import ChannelAddress
from hub.channels.shopify import mapping
from hub.channels.values import MappingError
from hub.orders.status import OrderStatus as S
from hub.sandbox.shopify.state import build_shop, gql_order, rest_order

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def bag(amount: object, currency: str = "EUR", shop: object | None = None) -> dict[str, Any]:
    return {"shopMoney": {"amount": shop if shop is not None else amount, "currencyCode": "EUR"},
            "presentmentMoney": {"amount": amount, "currencyCode": currency}}


def rset(amount: object, currency: str = "USD") -> dict[str, Any]:
    return {"shop_money": {"amount": amount, "currency_code": currency},
            "presentment_money": {"amount": amount, "currency_code": currency}}


def gql_line(unit: object, quantity: object = 1, currency: str = "EUR", *, line_id: int = 1, sku: str = "SKU-1",
             total: object | None = None, tax: object | None = None) -> dict[str, Any]:
    return {"node": {
        "id": f"gid://shopify/LineItem/{line_id}", "sku": sku, "title": "Tasse", "quantity": quantity,
        "originalUnitPriceSet": bag(unit, currency), "originalTotalSet": bag(total if total is not None else unit,
                                                                             currency),
        "totalDiscountSet": bag("0.0", currency),
        "taxLines": [{"priceSet": bag(tax, currency)}] if tax is not None else [],
    }}


def gql_node(**overrides: Any) -> dict[str, Any]:
    node = copy.deepcopy(load("graphql_orders_page.json")["data"]["orders"]["edges"][0]["node"])
    node.update(overrides)
    return node


def rest(**overrides: Any) -> dict[str, Any]:
    order = load("rest_order_webhook.json")
    order.update(overrides)
    return order


# --- documented shapes ---------------------------------------------------------------------------

def test_a_graphql_orders_page_maps_every_order_with_exact_amounts():
    orders = mapping.normalize([load("graphql_orders_page.json")])
    first, second = orders
    assert first.external_id == "5683145394617"
    assert (first.total, first.subtotal, first.shipping, first.tax) == (
        Decimal("64.7"), Decimal("59.8"), Decimal("4.9"), Decimal("9.55"))
    assert first.currency == "EUR" and first.prices_include_tax is True
    assert first.status is S.PARTIALLY_FULFILLED
    assert [(ln.sku, ln.quantity, ln.unit_price, ln.line_total, ln.tax) for ln in first.lines] == [
        ("TEE-GUSS-1L", 1, Decimal("39.9"), Decimal("39.9"), Decimal("6.37")),
        ("BECHER-WEISS", 2, Decimal("9.95"), Decimal("19.9"), Decimal("3.18"))]
    assert first.lines[0].external_line_id == "13912485822649"
    assert first.updated_at == datetime(2026, 1, 12, 9, 15, 22, tzinfo=UTC)
    assert first.buyer_name == "Jürgen Müller" and first.buyer_email == "juergen.mueller@example.com"
    assert first.shipping_address == ChannelAddress(name="Jürgen Müller", line1="Maximilianstraße 5", city="München",
                                                    region="BY", postal_code="80539", country="DE")
    assert first.flags == ()
    assert second.external_id == "5683145427385"


def test_a_rest_webhook_order_maps_with_tax_added_and_offset_times_in_utc():
    order = mapping.map_order(load("rest_order_webhook.json"))
    assert order.external_id == "5683145459001"
    assert order.prices_include_tax is False
    assert (order.total, order.subtotal, order.tax, order.shipping, order.discount) == (
        Decimal("112.39"), Decimal("98.00"), Decimal("8.09"), Decimal("6.30"), Decimal("10.00"))
    assert order.updated_at == datetime(2026, 1, 12, 12, 30, 2, tzinfo=UTC)
    assert order.placed_at == datetime(2026, 1, 12, 11, 5, 40, tzinfo=UTC)
    assert order.status is S.PAID
    (line,) = order.lines
    assert (line.unit_price, line.quantity, line.discount, line.tax) == (
        Decimal("54.00"), 2, Decimal("10.00"), Decimal("8.09"))
    assert order.ship_to_country == "US"
    assert order.flags == ()


def test_the_raw_payload_is_kept_on_the_canonical_order():
    raw = load("rest_order_webhook.json")
    assert mapping.map_order(raw).raw == raw


def test_both_shapes_of_every_sandbox_order_map_to_the_same_canonical_order():
    shop = build_shop(seed=7, count=60)
    for order in shop.orders.values():
        from_graphql = mapping.map_graphql_order(json.loads(json.dumps(gql_order(shop, order))))
        from_rest = mapping.map_rest_order(json.loads(json.dumps(rest_order(shop, order)), parse_float=Decimal))
        for name in ("external_id", "status", "currency", "total", "subtotal", "shipping", "tax", "discount",
                     "updated_at", "placed_at", "ship_to_country", "prices_include_tax", "buyer_email"):
            assert getattr(from_graphql, name) == getattr(from_rest, name), (order.number, name)
        assert [(ln.sku, ln.quantity, ln.unit_price, ln.tax) for ln in from_graphql.lines] == \
            [(ln.sku, ln.quantity, ln.unit_price, ln.tax) for ln in from_rest.lines]
        assert from_graphql.flags == () and from_rest.flags == ()


# --- money ---------------------------------------------------------------------------------------

def test_point_one_plus_point_two_is_exactly_point_three():
    node = gql_node(
        taxesIncluded=True, totalPriceSet=bag("0.3"), subtotalPriceSet=bag("0.3"), totalShippingPriceSet=bag("0.0"),
        totalTaxSet=bag("0.0"), totalDiscountsSet=bag("0.0"),
        lineItems={"edges": [gql_line("0.1", line_id=1), gql_line("0.2", line_id=2)]})
    order = mapping.map_graphql_order(node)
    assert sum(ln.unit_price for ln in order.lines) == Decimal("0.3") == order.subtotal
    assert order.flags == ()


def test_amounts_are_written_to_the_currency_minor_units_when_nothing_is_lost():
    page = mapping.normalize([load("graphql_orders_page.json")])
    assert str(page[0].total) == "64.70" and str(page[1].total) == "7150"


def test_amounts_sent_as_json_numbers_are_read_as_exact_decimals():
    body = json.loads('{"price": 19.99, "price_set": null}', parse_float=Decimal)
    order = mapping.map_rest_order(rest(line_items=[{"id": 1, "sku": "A", "title": "A", "quantity": 1,
                                                     "price": body["price"], "total_discount": "0.00"}]))
    assert order.lines[0].unit_price == Decimal("19.99")


def test_a_float_amount_is_refused_rather_than_rounded():
    with pytest.raises(MappingError, match="float"):
        mapping.map_graphql_order(gql_node(totalPriceSet=bag(0.1 + 0.2)))


def test_an_unrounded_unit_price_is_kept_and_never_multiplied_back_into_a_line_total():
    item = {"id": 9, "sku": "A", "title": "A", "quantity": 3, "price": "3.333333", "total_discount": "0.00"}
    order = mapping.map_rest_order(rest(line_items=[item], presentment_currency="USD", total_price_set=None,
                                        total_price="10.00"))
    (line,) = order.lines
    assert line.unit_price == Decimal("3.333333")
    assert line.line_total is None
    assert order.total == Decimal("10.00")


def test_presentment_money_is_used_and_shop_money_only_when_no_presentment_is_sent():
    order = mapping.normalize([load("graphql_orders_page.json")])[1]
    assert order.currency == "JPY" and order.total == Decimal("7150.0")
    shop_only = {"shopMoney": {"amount": "64.7", "currencyCode": "EUR"}}
    node = gql_node(presentmentCurrencyCode=None, totalPriceSet=shop_only)
    assert mapping.map_graphql_order(node).total == Decimal("64.7")


def test_a_rest_order_without_money_sets_in_a_foreign_currency_has_no_totals_rather_than_shop_amounts():
    raw = {k: v for k, v in load("rest_order_webhook.json").items() if not k.endswith("_set")}
    raw["presentment_currency"] = "CAD"
    raw["line_items"] = [{k: v for k, v in i.items() if not k.endswith("_set")} for i in raw["line_items"]]
    for entry in raw["line_items"][0]["tax_lines"] + raw["shipping_lines"]:
        entry.pop("price_set")
    order = mapping.map_rest_order(raw)
    assert order.currency == "CAD"
    assert order.total is None and order.subtotal is None and order.lines[0].unit_price is None


def test_a_zero_decimal_currency_keeps_whole_yen():
    order = mapping.normalize([load("graphql_orders_page.json")])[1]
    assert order.total == 7150 and order.lines[0].unit_price == 6500 and order.tax == 591
    assert order.flags == ()


def test_a_three_decimal_currency_keeps_fils():
    node = gql_node(
        presentmentCurrencyCode="KWD", taxesIncluded=True, totalPriceSet=bag("12.345", "KWD"),
        subtotalPriceSet=bag("10.725", "KWD"), totalShippingPriceSet=bag("1.62", "KWD"),
        totalTaxSet=bag("0.0", "KWD"), totalDiscountsSet=bag("0.0", "KWD"),
        lineItems={"edges": [gql_line("3.575", 3, "KWD", total="10.725")]})
    order = mapping.map_graphql_order(node)
    assert order.total == Decimal("12.345") and order.lines[0].unit_price == Decimal("3.575")
    assert order.flags == ()


def test_a_difference_of_one_fils_is_tolerated_but_two_are_flagged():
    def kwd(total: str):
        return mapping.map_graphql_order(gql_node(
            presentmentCurrencyCode="KWD", taxesIncluded=True, totalPriceSet=bag(total, "KWD"),
            subtotalPriceSet=bag("10.725", "KWD"), totalShippingPriceSet=bag("1.62", "KWD"),
            totalTaxSet=bag("0.0", "KWD"), totalDiscountsSet=bag("0.0", "KWD"),
            lineItems={"edges": [gql_line("3.575", 3, "KWD", total="10.725")]}))
    assert kwd("12.346").flags == ()
    flagged = kwd("12.347")
    assert flagged.total == Decimal("12.347") and "differs from its parts" in flagged.flags[0]


def test_a_vietnamese_dong_order_keeps_its_large_whole_amounts():
    node = gql_node(
        presentmentCurrencyCode="VND", totalPriceSet=bag("1457000.0", "VND"), subtotalPriceSet=bag("1323000.0", "VND"),
        totalShippingPriceSet=bag("134000.0", "VND"), totalTaxSet=bag("120273.0", "VND"),
        totalDiscountsSet=bag("0.0", "VND"), lineItems={"edges": [gql_line("441000.0", 3, "VND", total="1323000.0")]})
    order = mapping.map_graphql_order(node)
    assert order.total == 1457000 and order.flags == ()


def test_a_total_that_differs_from_its_parts_is_flagged_and_kept():
    order = mapping.map_graphql_order(gql_node(totalPriceSet=bag("70.00")))
    assert order.total == Decimal("70.00")
    assert len(order.flags) == 1 and "the marketplace's total is kept" in order.flags[0]


def test_a_large_quantity_is_kept_whole():
    node = gql_node(lineItems={"edges": [gql_line("0.01", 99999, total="999.99")]}, totalPriceSet=None,
                    subtotalPriceSet=None)
    assert mapping.map_graphql_order(node).lines[0].quantity == 99999


# --- totals not given yet ------------------------------------------------------------------------

def test_totals_not_given_are_none_and_the_order_is_still_imported():
    order = mapping.map_graphql_order(gql_node(totalTaxSet=None, totalShippingPriceSet=None, totalPriceSet=None))
    assert order.tax is None and order.shipping is None and order.total is None
    assert order.subtotal == Decimal("59.8")
    assert order.flags == ()


def test_a_rest_order_without_total_tax_has_tax_none_not_zero():
    raw = rest(total_tax=None, total_tax_set=None)
    assert mapping.map_rest_order(raw).tax is None


# --- status precedence ---------------------------------------------------------------------------

@pytest.mark.parametrize(("cancelled", "financial", "fulfillment", "expected"), [
    ("2026-01-12T10:00:00Z", "REFUNDED", "FULFILLED", S.CANCELLED),
    ("2026-01-12T10:00:00Z", "VOIDED", "UNFULFILLED", S.CANCELLED),
    (None, "REFUNDED", "FULFILLED", S.REFUNDED),
    (None, "PARTIALLY_REFUNDED", "FULFILLED", S.PARTIALLY_REFUNDED),
    (None, "PAID", "FULFILLED", S.FULFILLED),
    (None, "PAID", "PARTIALLY_FULFILLED", S.PARTIALLY_FULFILLED),
    (None, "PAID", "UNFULFILLED", S.PAID),
    (None, "AUTHORIZED", "UNFULFILLED", S.PENDING),
    (None, "PENDING", "UNFULFILLED", S.PENDING),
    (None, None, "UNFULFILLED", S.PENDING),
])
def test_cancellation_wins_over_refund_over_fulfilment_over_payment(cancelled, financial, fulfillment, expected):
    node = gql_node(cancelledAt=cancelled, displayFinancialStatus=financial, displayFulfillmentStatus=fulfillment)
    assert mapping.map_graphql_order(node).status is expected


@pytest.mark.parametrize(("cancelled", "financial", "fulfillment", "expected"), [
    ("2026-01-12T05:00:00-05:00", "refunded", "fulfilled", S.CANCELLED),
    (None, "partially_refunded", "partial", S.PARTIALLY_REFUNDED),
    (None, "paid", "fulfilled", S.FULFILLED),
    (None, "paid", "partial", S.PARTIALLY_FULFILLED),
    (None, "paid", None, S.PAID),
    (None, "pending", None, S.PENDING),
])
def test_rest_statuses_follow_the_same_precedence(cancelled, financial, fulfillment, expected):
    order = mapping.map_rest_order(rest(cancelled_at=cancelled, financial_status=financial,
                                        fulfillment_status=fulfillment))
    assert order.status is expected


# --- optional fields and countries ---------------------------------------------------------------

def test_the_ship_to_country_is_the_shipping_address_country():
    node = gql_node(billingAddress={**gql_node()["billingAddress"], "countryCodeV2": "AT"})
    assert mapping.map_graphql_order(node).ship_to_country == "DE"


def test_without_a_shipping_address_the_billing_country_is_used():
    node = gql_node(shippingAddress=None, billingAddress={**gql_node()["billingAddress"], "countryCodeV2": "AT"})
    assert mapping.map_graphql_order(node).ship_to_country == "AT"


def test_an_order_without_addresses_customer_email_or_phone_is_still_imported():
    node = gql_node(shippingAddress=None, billingAddress=None, customer=None, email=None, phone=None)
    order = mapping.map_graphql_order(node)
    assert order.ship_to_country is None and order.shipping_address is None
    assert order.buyer_email is None and order.buyer_phone is None and order.buyer_name == ""


def test_a_line_without_a_sku_falls_back_to_its_variant_sku():
    line = gql_line("39.9", total="39.9")
    line["node"]["sku"] = None
    line["node"]["variant"] = {"sku": "VAR-SKU"}
    order = mapping.map_graphql_order(gql_node(lineItems={"edges": [line]}, totalPriceSet=None))
    assert order.lines[0].sku == "VAR-SKU"


# --- unmappable orders ---------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "reason"), [
    ({"id": None, "legacyResourceId": None}, "without an id"),
    ({"lineItems": {"edges": []}}, "no line items"),
    ({"displayFinancialStatus": "SOMETHING_NEW"}, "unknown financial status"),
    ({"presentmentCurrencyCode": "EURO", "currencyCode": "EURO"}, "not a currency code"),
    ({"updatedAt": "yesterday"}, "not an ISO 8601 timestamp"),
    ({"totalPriceSet": {"shopMoney": {"amount": "1.0", "currencyCode": "USD"}}}, "no amount in EUR"),
])
def test_an_unmappable_order_raises_a_clear_reason(overrides, reason):
    with pytest.raises(MappingError, match=reason):
        mapping.map_graphql_order(gql_node(**overrides))


def test_an_order_of_an_unexpected_shape_is_unmappable_rather_than_a_crash():
    with pytest.raises(MappingError, match="unexpected shape"):
        mapping.map_graphql_order(gql_node(lineItems={"edges": ["not an edge"]}))
    with pytest.raises(MappingError, match="unexpected shape"):
        mapping.map_rest_order(rest(line_items=[["a list, not a line"]]))


def test_a_zero_quantity_line_is_unmappable():
    with pytest.raises(MappingError, match="quantity"):
        mapping.map_graphql_order(gql_node(lineItems={"edges": [gql_line("1.0", 0)]}))


# --- normalize -----------------------------------------------------------------------------------

def test_normalize_takes_pages_and_webhooks_in_any_order_and_keeps_the_latest_version():
    page = load("graphql_orders_page.json")
    newer = rest(id=5683145394617, updated_at="2026-01-13T10:00:00+01:00", financial_status="refunded",
                 fulfillment_status="fulfilled", cancelled_at=None)
    older = rest(id=5683145394617, updated_at="2026-01-11T10:00:00+01:00")
    orders = mapping.normalize([newer, page, older, load("rest_order_webhook.json")])
    assert sorted(o.external_id for o in orders) == ["5683145394617", "5683145427385", "5683145459001"]
    merged = next(o for o in orders if o.external_id == "5683145394617")
    assert merged.status is S.REFUNDED


def test_normalize_joins_second_call_line_item_pages_to_their_order():
    page = load("graphql_orders_page.json")
    node = page["data"]["orders"]["edges"][0]["node"]
    first_line, second_line = node["lineItems"]["edges"]
    node["lineItems"] = {"edges": [first_line], "pageInfo": {"hasNextPage": True, "endCursor": "c1"}}
    more = {"data": {"order": {"id": node["id"], "lineItems": {
        "edges": [second_line], "pageInfo": {"hasNextPage": False, "endCursor": "c2"}}}}}
    orders = mapping.normalize([more, page])
    order = next(o for o in orders if o.external_id == "5683145394617")
    assert [ln.sku for ln in order.lines] == ["TEE-GUSS-1L", "BECHER-WEISS"]
    assert order.flags == ()


def test_an_order_whose_later_line_pages_are_missing_is_flagged():
    node = gql_node()
    node["lineItems"]["pageInfo"] = {"hasNextPage": True, "endCursor": "c1"}
    assert any("more line items" in f for f in mapping.map_graphql_order(node).flags)


def test_a_graphql_error_answer_is_not_mistaken_for_orders():
    with pytest.raises(MappingError, match="GraphQL error answer"):
        mapping.normalize([load("graphql_throttled.json")])
