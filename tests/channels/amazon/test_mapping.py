"""Amazon SP-API Orders v0 -> canonical orders. Payload shapes follow the Orders API v0 reference
(https://developer-docs.amazon.com/sp-api/docs/orders-api-v0-reference) and its model's documented examples
(fixtures/README.md)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.channels import cli
from hub.channels.amazon.mapping import map_order, normalize
from hub.channels.values import MappingError
from hub.orders.status import OrderStatus

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def money(amount, currency="EUR"):
    return {"CurrencyCode": currency, "Amount": amount}


def order(**overrides):
    base = {
        "AmazonOrderId": "302-1234567-7654321",
        "PurchaseDate": "2026-11-20T09:15:00Z",
        "LastUpdateDate": "2026-11-21T10:00:00Z",
        "OrderStatus": "Unshipped",
        "FulfillmentChannel": "MFN",
        "MarketplaceId": "A1PA6795UKMFR9",
        "OrderTotal": money("29.80"),
        "NumberOfItemsShipped": 0,
        "NumberOfItemsUnshipped": 2,
        "ShippingAddress": {"Name": "Jürgen Müller", "AddressLine1": "Maximilianstraße 5", "City": "München",
                            "PostalCode": "80539", "CountryCode": "DE", "Phone": "+49 891234"},
        "BuyerInfo": {"BuyerEmail": "abc123@marketplace.amazon.de", "BuyerName": "Jürgen Müller"},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def item(**overrides):
    base = {
        "ASIN": "B000TEST01",
        "OrderItemId": "11111111111111",
        "SellerSKU": "MUG-BLUE",
        "Title": "Tasse blau",
        "QuantityOrdered": 2,
        "QuantityShipped": 0,
        "ItemPrice": money("29.80"),
        "ItemTax": money("4.76"),
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_the_documented_us_example_maps_with_tax_added_on_top_and_no_flags():
    orders = normalize([load("docs_get_order_items_200.json"), load("docs_get_orders_200.json")])
    first = next(o for o in orders if o.external_id == "902-1845936-5435065")
    assert first.status is OrderStatus.PAID
    assert (first.currency, first.total, first.subtotal, first.tax) == ("USD", Decimal("11.01"), Decimal("10.00"),
                                                                        Decimal("1.01"))
    assert first.prices_include_tax is False
    assert first.flags == ()
    assert first.lines[0].sku == "NABetaASINB00551Q3CS"
    assert first.lines[0].unit_price == Decimal("10.00")
    assert first.ship_to_country == "US"  # no ShippingAddress: the marketplace's country
    assert first.placed_at == datetime(1970, 1, 19, 3, 58, 30, tzinfo=UTC)


def test_an_order_whose_items_were_not_given_is_still_imported_without_lines_or_parts():
    orders = {o.external_id: o for o in normalize([load("docs_get_orders_200.json")])}
    second = orders["902-8745147-1934268"]
    assert second.lines == () and second.subtotal is None and second.total == Decimal("11.01")


def test_european_prices_include_vat_and_the_parts_add_up():
    mapped = map_order(order(), [item()])
    assert mapped.prices_include_tax is True
    assert (mapped.total, mapped.subtotal, mapped.tax) == (Decimal("29.80"), Decimal("29.80"), Decimal("4.76"))
    assert mapped.flags == ()


def test_item_price_is_the_line_total_and_the_unit_price_is_derived_from_it():
    mapped = map_order(order(OrderTotal=money("10.00")), [item(QuantityOrdered=3, ItemPrice=money("10.00"))])
    line = mapped.lines[0]
    assert line.line_total == Decimal("10.00")  # kept exactly
    assert line.unit_price == Decimal("3.33")  # 10.00 / 3 rounded to cents, never multiplied back
    assert mapped.subtotal == Decimal("10.00")
    assert mapped.flags == ()


def test_amounts_given_as_json_numbers_are_exact_decimals_like_point_one_plus_point_two():
    body = json.loads('{"a": 0.1, "b": 0.2, "t": 0.3}', parse_float=Decimal)
    items = [item(OrderItemId="1", SellerSKU="A", QuantityOrdered=1, ItemPrice=money(body["a"]), ItemTax=None),
             item(OrderItemId="2", SellerSKU="B", QuantityOrdered=1, ItemPrice=money(body["b"]), ItemTax=None)]
    mapped = map_order(order(OrderTotal=money(body["t"])), items)
    assert mapped.subtotal == Decimal("0.3") == mapped.total
    assert mapped.flags == ()


def test_a_float_amount_is_refused_rather_than_rounded():
    with pytest.raises(MappingError, match="float"):
        map_order(order(OrderTotal=money(0.1 + 0.2)), [item()])


def test_an_unrounded_unit_price_never_leaks_into_the_line_total():
    items = [item(QuantityOrdered=7, ItemPrice=money("100.00"), ItemTax=None)]
    line = map_order(order(OrderTotal=money("100.00")), items).lines[0]
    assert line.unit_price == Decimal("14.29")
    assert line.line_total == Decimal("100.00")
    assert line.unit_price * 7 != line.line_total  # which is why the total is never rebuilt from it


def test_large_quantities_are_kept_as_ordered():
    items = [item(QuantityOrdered=99999, ItemPrice=money("99999.00"), ItemTax=None)]
    mapped = map_order(order(OrderTotal=money("99999.00")), items)
    assert mapped.lines[0].quantity == 99999
    assert mapped.lines[0].unit_price == Decimal("1.00")


def test_yen_has_no_minor_units_and_the_unit_price_is_rounded_to_whole_yen():
    items = [item(QuantityOrdered=3, ItemPrice=money("1000", "JPY"), ItemTax=money("91", "JPY"))]
    mapped = map_order(order(MarketplaceId="A1VC38T7YXB528", OrderTotal=money("1000", "JPY"),
                             ShippingAddress={"CountryCode": "JP", "City": "東京都"}), items)
    assert mapped.currency == "JPY"
    assert mapped.lines[0].unit_price == Decimal("333")
    assert mapped.prices_include_tax is True
    assert mapped.flags == ()


def test_a_three_decimal_currency_rounds_unit_prices_to_three_places():
    # No Amazon marketplace sells in KWD/BHD today; the mapping still follows ISO 4217 if one appears.
    items = [item(QuantityOrdered=3, ItemPrice=money("10.000", "KWD"), ItemTax=None)]
    mapped = map_order(order(MarketplaceId="UNKNOWN", OrderTotal=money("10.000", "KWD")), items)
    assert mapped.lines[0].unit_price == Decimal("3.333")
    assert mapped.flags == ()


def test_a_pending_order_has_no_total_and_no_prices_but_is_imported():
    pending = order(OrderStatus="Pending", OrderTotal=None, ShippingAddress=None, BuyerInfo=None)
    mapped = map_order(pending, [item(ItemPrice=None, ItemTax=None)])
    assert mapped.status is OrderStatus.PENDING
    assert mapped.total is None and mapped.subtotal is None and mapped.tax is None and mapped.shipping is None
    assert mapped.lines[0].unit_price is None and mapped.lines[0].line_total is None
    assert mapped.lines[0].quantity == 2
    assert mapped.ship_to_country == "DE"  # the marketplace's country
    assert mapped.buyer_name == "" and mapped.buyer_email is None


def test_a_canceled_order_has_no_total_and_is_cancelled_whatever_was_shipped():
    cancelled = order(OrderStatus="Canceled", OrderTotal=None, ShippingAddress=None)
    mapped = map_order(cancelled, [item(QuantityShipped=2, ItemPrice=None, ItemTax=None)])
    assert mapped.status is OrderStatus.CANCELLED
    assert mapped.total is None


def test_a_cancelled_line_with_quantity_zero_is_skipped_with_a_flag():
    mapped = map_order(order(OrderStatus="Canceled", OrderTotal=None), [item(QuantityOrdered=0, ItemPrice=None)])
    assert mapped.lines == ()
    assert any("QuantityOrdered 0" in flag for flag in mapped.flags)


def test_statuses_follow_amazon_order_status_with_cancellation_first():
    cases = {
        "PendingAvailability": OrderStatus.PENDING,
        "Unshipped": OrderStatus.PAID,
        "PartiallyShipped": OrderStatus.PARTIALLY_FULFILLED,
        "Shipped": OrderStatus.FULFILLED,
        "InvoiceUnconfirmed": OrderStatus.FULFILLED,
        "Canceled": OrderStatus.CANCELLED,
        "Unfulfillable": OrderStatus.CANCELLED,
    }
    for amazon, canonical in cases.items():
        assert map_order(order(OrderStatus=amazon), [item()]).status is canonical, amazon


def test_items_shipped_in_part_make_an_unshipped_order_partially_fulfilled():
    items = [item(OrderItemId="1", QuantityShipped=2), item(OrderItemId="2", SellerSKU="MUG-RED", QuantityShipped=0,
                                                             ItemPrice=money("0.00"), ItemTax=None)]
    assert map_order(order(), items).status is OrderStatus.PARTIALLY_FULFILLED


def test_an_easy_ship_delivery_marks_the_order_delivered():
    mapped = map_order(order(OrderStatus="Shipped", EasyShipShipmentStatus="Delivered"), [item(QuantityShipped=2)])
    assert mapped.status is OrderStatus.DELIVERED


def test_a_total_that_differs_from_its_parts_is_flagged_and_kept():
    mapped = map_order(order(OrderTotal=money("31.80")), [item()])
    assert mapped.total == Decimal("31.80")
    assert len(mapped.flags) == 1 and "differs" in mapped.flags[0]


def test_us_totals_add_item_and_shipping_tax_and_subtract_discounts():
    items = [item(ItemPrice=money("20.00", "USD"), ItemTax=money("1.60", "USD"), ShippingPrice=money("5.00", "USD"),
                  ShippingTax=money("0.40", "USD"), PromotionDiscount=money("2.00", "USD"),
                  ShippingDiscount=money("5.00", "USD"))]
    mapped = map_order(order(MarketplaceId="ATVPDKIKX0DER", OrderTotal=money("20.00", "USD"),
                             ShippingAddress={"CountryCode": "US", "StateOrRegion": "WA"}), items)
    assert (mapped.shipping, mapped.discount, mapped.tax) == (Decimal("5.00"), Decimal("7.00"), Decimal("2.00"))
    assert mapped.lines[0].discount == Decimal("2.00")
    assert mapped.flags == ()


def test_ship_to_country_is_the_shipping_address_country_when_given():
    mapped = map_order(order(ShippingAddress={"CountryCode": "FR", "City": "Paris"}), [item()])
    assert mapped.ship_to_country == "FR"
    assert mapped.shipping_address.city == "Paris" and mapped.shipping_address.name == ""


def test_without_a_restricted_data_token_the_buyer_name_is_absent_not_an_error():
    mapped = map_order(order(BuyerInfo={"BuyerEmail": "x@marketplace.amazon.de"},
                             ShippingAddress={"CountryCode": "DE", "PostalCode": "80539"}), [item()])
    assert mapped.buyer_name == ""
    assert mapped.buyer_email == "x@marketplace.amazon.de"
    assert mapped.buyer_phone is None


def test_non_ascii_names_and_addresses_survive():
    mapped = map_order(order(), [item()])
    assert mapped.buyer_name == "Jürgen Müller"
    assert mapped.shipping_address.line1 == "Maximilianstraße 5"
    assert mapped.buyer_phone == "+49 891234"


def test_timestamps_are_aware_utc_and_updated_at_is_last_update_date():
    mapped = map_order(order(LastUpdateDate="2026-11-21T10:00:00.123Z"), [item()])
    assert mapped.updated_at == datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC)
    assert mapped.placed_at.tzinfo is UTC


def test_the_raw_order_and_items_are_kept():
    raw_order, raw_item = order(), item()
    assert map_order(raw_order, [raw_item]).raw == {"order": raw_order, "items": [raw_item]}


def test_a_sku_falls_back_to_the_asin():
    assert map_order(order(), [item(SellerSKU=None)]).lines[0].sku == "B000TEST01"


@pytest.mark.parametrize(("broken", "reason"), [
    (order(OrderStatus="Lost"), "unknown OrderStatus"),
    (order(AmazonOrderId=""), "AmazonOrderId"),
    (order(LastUpdateDate="yesterday"), "LastUpdateDate"),
    (order(PurchaseDate="2026-11-20T09:15:00"), "without an offset"),
    (order(OrderTotal=money("29.80", "GBP")), "more than one currency"),
    (order(OrderTotal=money("abc")), "not an amount"),
])
def test_an_unmappable_order_raises_a_clear_reason(broken, reason):
    with pytest.raises(MappingError, match=reason):
        map_order(broken, [item()])


def test_a_fractional_or_negative_quantity_is_unmappable():
    for bad in (Decimal("1.5"), -1, "two"):
        with pytest.raises(MappingError, match="QuantityOrdered"):
            map_order(order(), [item(QuantityOrdered=bad)])


def test_normalize_joins_pages_and_item_pages_in_any_order_and_keeps_the_latest_version():
    older = order(LastUpdateDate="2026-11-21T10:00:00Z", OrderStatus="Unshipped")
    newer = order(LastUpdateDate="2026-11-22T10:00:00Z", OrderStatus="Shipped")
    items_page_1 = {"payload": {"AmazonOrderId": older["AmazonOrderId"], "NextToken": "t",
                                "OrderItems": [item(OrderItemId="1", ItemPrice=money("9.90"), ItemTax=None,
                                                    QuantityOrdered=1)]}}
    items_page_2 = {"payload": {"AmazonOrderId": older["AmazonOrderId"],
                                "OrderItems": [item(OrderItemId="2", SellerSKU="B", ItemPrice=money("19.90"),
                                                    ItemTax=None, QuantityOrdered=1)]}}
    bodies = [items_page_2, {"payload": {"Orders": [newer]}}, items_page_1,
              {"payload": {"Orders": [copy.deepcopy(older)], "NextToken": "n"}}]
    (mapped,) = normalize(bodies)
    assert mapped.status is OrderStatus.FULFILLED
    assert sorted(line.sku for line in mapped.lines) == ["B", "MUG-BLUE"]
    assert mapped.subtotal == Decimal("29.80") and mapped.flags == ()


def test_normalize_names_the_order_it_cannot_map_and_refuses_unknown_bodies():
    with pytest.raises(MappingError, match="302-1234567-7654321"):
        normalize([{"payload": {"Orders": [order(OrderStatus="Lost")]}}])
    with pytest.raises(MappingError, match="body 0"):
        normalize([{"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]}])


def test_hub_channels_normalize_prints_the_documented_example_as_canonical_json():
    files = [str(FIXTURES / "docs_get_orders_200.json"), str(FIXTURES / "docs_get_order_items_200.json")]
    result = CliRunner().invoke(cli.normalize, ["--kind", "amazon", *files])
    assert result.exit_code == 0, result.output
    printed = {o["external_id"]: o for o in json.loads(result.output)}
    first = printed["902-1845936-5435065"]
    assert (first["status"], first["total"], first["tax"]) == ("paid", "11.01", "1.01")
    assert first["lines"][0]["discount"] == "0.00"
