"""WooCommerce order JSON -> canonical orders.

Payloads follow the order properties of the REST API v3 reference,
https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties ; the fixture
`docs_list_orders.json` is the reference's own "List all orders" example.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.channels.values import MappingError
from hub.channels.woocommerce.mapping import map_order, normalize
from hub.orders.status import OrderStatus

FIXTURES = Path(__file__).parent / "fixtures"
D = Decimal


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def order(**changes: Any) -> dict[str, Any]:
    """A processing order of two lines, as GET /wp-json/wc/v3/orders/<id> returns it."""
    raw: dict[str, Any] = {
        "id": 1001, "number": "1001", "status": "processing", "currency": "EUR", "prices_include_tax": False,
        "date_created": "2026-03-01T11:00:00", "date_created_gmt": "2026-03-01T10:00:00",
        "date_modified": "2026-03-01T11:05:00", "date_modified_gmt": "2026-03-01T10:05:00",
        "date_paid_gmt": "2026-03-01T10:01:00", "date_completed_gmt": None,
        "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": "4.90", "shipping_tax": "0.00",
        "cart_tax": "5.70", "total": "40.60", "total_tax": "5.70",
        "billing": {"first_name": "Jürgen", "last_name": "Müller", "company": "", "address_1": "Maximilianstraße 5",
                    "address_2": "", "city": "München", "state": "BY", "postcode": "80539", "country": "DE",
                    "email": "juergen@example.com", "phone": "+49 89 123456"},
        "shipping": {"first_name": "Jürgen", "last_name": "Müller", "company": "", "address_1": "Rue de Rivoli 1",
                     "address_2": "", "city": "Paris", "state": "", "postcode": "75001", "country": "FR",
                     "phone": ""},
        "line_items": [
            {"id": 1, "name": "Mug", "product_id": 10, "variation_id": 0, "quantity": 2, "sku": "MUG-1",
             "subtotal": "20.00", "subtotal_tax": "3.80", "total": "20.00", "total_tax": "3.80", "price": D("10")},
            {"id": 2, "name": "Tea", "product_id": 11, "variation_id": 0, "quantity": 1, "sku": "TEA-1",
             "subtotal": "10.00", "subtotal_tax": "1.90", "total": "10.00", "total_tax": "1.90", "price": D("10")},
        ],
        "shipping_lines": [{"id": 3, "method_id": "flat_rate", "total": "4.90", "total_tax": "0.00"}],
        "fee_lines": [], "coupon_lines": [], "refunds": [],
    }
    raw.update(changes)
    return raw


def test_the_documented_list_example_maps_both_orders():
    first, second = normalize([load("docs_list_orders.json")])
    assert (first.external_id, second.external_id) == ("723", "727")
    assert second.status is OrderStatus.PAID
    assert second.total == D("29.35") and second.subtotal == D("18.00") and second.tax == D("1.35")
    assert second.lines[1].title == "Ship Your Idea \u2013 Color: Black, Size: M Test"
    assert second.placed_at == datetime(2017, 3, 22, 19, 28, 2, tzinfo=UTC)
    assert not [f for f in second.flags if "differs" in f]


def test_a_completed_order_with_refunds_below_its_total_is_partially_refunded():
    (completed,) = [o for o in normalize([load("docs_list_orders.json")]) if o.external_id == "723"]
    assert completed.status is OrderStatus.PARTIALLY_REFUNDED
    assert any("refunded 19.00 USD" in f for f in completed.flags)


def test_a_processing_order_is_paid_and_keeps_its_raw_payload():
    raw = order()
    mapped = map_order(raw)
    assert mapped.status is OrderStatus.PAID
    assert mapped.raw is raw
    assert mapped.flags == ()


def test_a_completed_order_is_fulfilled():
    assert map_order(order(status="completed")).status is OrderStatus.FULFILLED


@pytest.mark.parametrize("status", ["pending", "on-hold", "failed", "checkout-draft"])
def test_unpaid_statuses_are_pending(status):
    assert map_order(order(status=status, date_paid_gmt=None)).status is OrderStatus.PENDING


def test_a_failed_payment_is_flagged():
    assert "payment failed" in map_order(order(status="failed", date_paid_gmt=None)).flags


def test_cancellation_wins_over_a_refund():
    raw = order(status="cancelled", refunds=[{"id": 9, "refund": "", "total": "-40.60"}])
    assert map_order(raw).status is OrderStatus.CANCELLED


def test_a_trashed_order_is_cancelled_and_flagged():
    mapped = map_order(order(status="trash"))
    assert mapped.status is OrderStatus.CANCELLED
    assert any("bin" in f for f in mapped.flags)


def test_refund_wins_over_fulfilment():
    raw = order(status="completed", refunds=[{"id": 9, "refund": "damaged", "total": "-10.00"}])
    assert map_order(raw).status is OrderStatus.PARTIALLY_REFUNDED


def test_refunds_adding_up_to_the_total_are_a_full_refund_even_before_the_status_changes():
    raw = order(status="completed", refunds=[{"id": 9, "total": "-40.00"}, {"id": 10, "total": "-0.60"}])
    assert map_order(raw).status is OrderStatus.REFUNDED


def test_the_refunded_status_is_a_full_refund():
    assert map_order(order(status="refunded")).status is OrderStatus.REFUNDED


def test_an_unknown_status_is_refused_with_the_reason():
    with pytest.raises(MappingError, match="unknown status 'shipped'"):
        map_order(order(status="shipped"))


def test_amounts_are_exact_decimals_from_the_strings():
    mapped = map_order(order())
    assert mapped.total == D("40.60") and mapped.shipping == D("4.90") and mapped.tax == D("5.70")
    assert mapped.subtotal == D("30.00") and mapped.discount == D("0.00")
    assert all(isinstance(v, Decimal) for v in (mapped.total, mapped.subtotal, mapped.tax))


def test_point_one_plus_point_two_is_point_three():
    lines = [
        {"id": 1, "name": "A", "quantity": 1, "sku": "A", "subtotal": "0.10", "subtotal_tax": "0.00",
         "total": "0.10", "total_tax": "0.00", "price": D("0.1")},
        {"id": 2, "name": "B", "quantity": 1, "sku": "B", "subtotal": "0.20", "subtotal_tax": "0.00",
         "total": "0.20", "total_tax": "0.00", "price": D("0.2")},
    ]
    mapped = map_order(order(line_items=lines, shipping_total="0.00", total_tax="0.00", total="0.30"))
    assert mapped.subtotal == D("0.30")
    assert mapped.flags == ()


def test_an_unrounded_float_unit_price_is_never_multiplied_back():
    line = {"id": 1, "name": "Third", "quantity": 3, "sku": "T", "subtotal": "10.00", "subtotal_tax": "0.00",
            "total": "10.00", "total_tax": "0.00", "price": D("3.3333333333333335")}
    mapped = map_order(order(line_items=[line], shipping_total="0.00", total_tax="0.00", total="10.00"))
    assert mapped.lines[0].line_total == D("10.00")
    assert mapped.subtotal == D("10.00")
    assert mapped.flags == ()


def test_a_body_parsed_with_floats_is_refused():
    raw = json.loads(json.dumps({**order(), "line_items": []}))
    raw["line_items"] = [{"id": 1, "name": "X", "quantity": 3, "sku": "X", "total": "10.00",
                          "price": 3.3333333333333335}]
    with pytest.raises(MappingError, match="float"):
        map_order(raw)


def test_a_line_without_a_total_falls_back_to_its_price_as_sent():
    line = {"id": 1, "name": "X", "quantity": 2, "sku": "X", "price": D("12.5")}
    mapped = map_order(order(line_items=[line], total=None))
    assert mapped.lines[0].unit_price == D("12.5")
    assert mapped.lines[0].line_total is None


def test_a_coupon_discount_is_the_line_subtotal_minus_its_total():
    line = {"id": 1, "name": "Mug", "quantity": 2, "sku": "MUG", "subtotal": "20.00", "subtotal_tax": "0.00",
            "total": "18.00", "total_tax": "0.00", "price": D("9")}
    mapped = map_order(order(line_items=[line], discount_total="2.00", shipping_total="0.00", total_tax="0.00",
                             total="18.00"))
    assert mapped.lines[0].unit_price == D("10.00")
    assert mapped.lines[0].discount == D("2.00")
    assert mapped.discount == D("2.00")
    assert mapped.flags == ()


def test_prices_including_tax_give_gross_amounts_that_add_up_to_the_total():
    line = {"id": 1, "name": "Mug", "quantity": 1, "sku": "MUG", "subtotal": "16.81", "subtotal_tax": "3.19",
            "total": "16.81", "total_tax": "3.19", "price": D("16.81")}
    mapped = map_order(order(line_items=[line], prices_include_tax=True, shipping_total="4.12", shipping_tax="0.78",
                             total_tax="3.97", total="24.90"))
    assert mapped.prices_include_tax is True
    assert mapped.subtotal == D("20.00") and mapped.shipping == D("4.90") and mapped.tax == D("3.97")
    assert mapped.lines[0].line_total == D("20.00")
    assert mapped.flags == ()


def test_a_total_that_does_not_add_up_is_kept_and_flagged():
    mapped = map_order(order(total="40.65"))
    assert mapped.total == D("40.65")
    assert any("differs" in f for f in mapped.flags)


def test_a_difference_of_one_minor_unit_is_not_flagged():
    assert map_order(order(total="40.61")).flags == ()


def test_yen_orders_have_no_decimals():
    line = {"id": 1, "name": "抹茶", "quantity": 3, "sku": "MATCHA", "subtotal": "4500", "subtotal_tax": "450",
            "total": "4500", "total_tax": "450", "price": D("1500")}
    mapped = map_order(order(currency="JPY", line_items=[line], shipping_total="800", total_tax="450",
                             total="5750"))
    assert mapped.total == D("5750") and mapped.lines[0].unit_price == D("1500")
    assert mapped.flags == ()


def test_dong_orders_have_no_decimals_either():
    line = {"id": 1, "name": "Cà phê", "quantity": 2, "sku": "CAPHE", "subtotal": "250000", "subtotal_tax": "0",
            "total": "250000", "total_tax": "0", "price": D("125000")}
    mapped = map_order(order(currency="VND", line_items=[line], shipping_total="30000", total_tax="0",
                             total="280000"))
    assert mapped.total == D("280000") and mapped.flags == ()


def test_kuwaiti_dinars_keep_three_decimals_and_one_fils_is_tolerated():
    line = {"id": 1, "name": "Dates", "quantity": 1, "sku": "DATES", "subtotal": "12.345", "subtotal_tax": "0.000",
            "total": "12.345", "total_tax": "0.000", "price": D("12.345")}
    mapped = map_order(order(currency="KWD", line_items=[line], shipping_total="1.500", total_tax="0.000",
                             total="13.846"))
    assert mapped.total == D("13.846") and mapped.subtotal == D("12.345")
    assert mapped.flags == ()
    assert map_order(order(currency="KWD", line_items=[line], shipping_total="1.500", total_tax="0.000",
                           total="13.847")).flags


def test_large_quantities_are_kept_as_ordered():
    line = {"id": 1, "name": "Screw", "quantity": 99999, "sku": "SCREW", "subtotal": "4999.95",
            "subtotal_tax": "0.00", "total": "4999.95", "total_tax": "0.00", "price": D("0.05")}
    mapped = map_order(order(line_items=[line], shipping_total="0.00", total_tax="0.00", total="4999.95"))
    assert mapped.lines[0].quantity == 99999
    assert mapped.lines[0].unit_price == D("0.05")


def test_a_zero_quantity_line_is_refused():
    line = {"id": 1, "name": "X", "quantity": 0, "sku": "X", "total": "0.00", "price": D("0")}
    with pytest.raises(MappingError, match="quantity"):
        map_order(order(line_items=[line]))


def test_the_ship_to_country_is_the_shipping_address_country():
    assert map_order(order()).ship_to_country == "FR"


def test_without_a_shipping_address_the_billing_country_is_used():
    empty = {"first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
             "state": "", "postcode": "", "country": ""}
    mapped = map_order(order(shipping=empty))
    assert mapped.ship_to_country == "DE"
    assert mapped.shipping_address is None


def test_missing_optional_fields_do_not_stop_the_import():
    raw = order()
    for key in ("billing", "shipping", "date_modified_gmt", "date_paid_gmt", "fee_lines", "refunds",
                "discount_total", "discount_tax", "shipping_total", "shipping_tax"):
        raw.pop(key)
    mapped = map_order(raw)
    assert mapped.ship_to_country is None and mapped.buyer_email is None and mapped.buyer_name == ""
    assert mapped.updated_at == mapped.placed_at
    assert mapped.shipping is None and mapped.discount is None


def test_totals_not_given_are_none_and_the_order_is_still_imported():
    mapped = map_order(order(total=None, total_tax="", line_items=[], status="pending", date_paid_gmt=None))
    assert mapped.total is None and mapped.tax is None and mapped.subtotal is None
    assert mapped.status is OrderStatus.PENDING


def test_buyer_details_come_from_the_billing_address():
    mapped = map_order(order())
    assert mapped.buyer_name == "Jürgen Müller"
    assert mapped.buyer_email == "juergen@example.com" and mapped.buyer_phone == "+49 89 123456"
    assert mapped.shipping_address.city == "Paris"


def test_gmt_dates_without_an_offset_are_read_as_utc():
    mapped = map_order(order())
    assert mapped.placed_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert mapped.updated_at == datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


def test_an_order_without_a_creation_date_is_refused():
    with pytest.raises(MappingError, match="date_created_gmt"):
        map_order(order(date_created_gmt=None))


def test_an_unknown_currency_is_refused():
    with pytest.raises(MappingError, match="currency"):
        map_order(order(currency="XYZ"))


def test_a_non_numeric_total_is_refused():
    with pytest.raises(MappingError, match="total"):
        map_order(order(total="12,50"))


def test_a_line_without_a_sku_is_flagged():
    (paid,) = [o for o in normalize([load("docs_list_orders.json")]) if o.external_id == "727"]
    assert any("Woo Single #1" in f and "no SKU" in f for f in paid.flags)


def test_fees_count_in_the_subtotal_and_are_flagged():
    fee = {"id": 5, "name": "Gift wrap", "total": "2.50", "total_tax": "0.00"}
    mapped = map_order(order(fee_lines=[fee], total="43.10"))
    assert mapped.subtotal == D("32.50")
    assert any("Gift wrap" in f for f in mapped.flags)
    assert not any("differs" in f for f in mapped.flags)


def test_normalize_joins_copies_of_an_order_and_keeps_the_newest_in_any_order():
    old = order(status="processing")
    new = order(status="completed", date_modified_gmt="2026-03-02T08:00:00")
    for bodies in ([[old], new], [new, [old]]):
        (mapped,) = normalize(bodies)
        assert mapped.status is OrderStatus.FULFILLED


def test_normalize_refuses_an_error_body_with_its_code():
    error = {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
             "data": {"status": 401}}
    with pytest.raises(MappingError, match="woocommerce_rest_cannot_view"):
        normalize([error])


def test_a_webhook_payload_is_a_single_order_body():
    (mapped,) = normalize([copy.deepcopy(order())])
    assert mapped.external_id == "1001"
