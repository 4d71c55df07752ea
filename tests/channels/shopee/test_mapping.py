"""Shopee order bodies to canonical orders; payloads in fixtures.py follow the v2 reference:
https://open.shopee.com/documents/v2/v2.order.get_order_detail?module=94&type=1"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hub.channels.shopee.mapping import map_order, normalize
from hub.channels.values import MappingError
from hub.orders.status import OrderStatus
from tests.channels.shopee.fixtures import ORDER_DETAIL_BODY, ORDER_LIST_BODY, body, detail, item


def test_list_and_detail_bodies_are_joined_by_order_sn_in_any_order():
    forward = normalize([body(ORDER_LIST_BODY), body(ORDER_DETAIL_BODY)])
    backward = normalize([body(ORDER_DETAIL_BODY), body(ORDER_LIST_BODY)])
    assert [o.external_id for o in forward] == ["201218V2Y6E59M", "201218V2W2SJUS"]
    assert forward == backward


def test_a_listed_order_without_its_detail_is_refused_with_its_number():
    with pytest.raises(MappingError, match="201218V2W2SJUS"):
        normalize([body(ORDER_LIST_BODY), {"response": {"order_list": [detail()]}}])


def test_the_documented_sgd_order_maps_amounts_times_sku_and_address():
    order = normalize([body(ORDER_DETAIL_BODY)])[0]
    assert order.status is OrderStatus.PAID
    assert (order.currency, order.total, order.subtotal) == ("SGD", Decimal("25.8"), Decimal("25.8"))
    assert order.placed_at == datetime(2020, 12, 18, 7, 32, 22, tzinfo=UTC)
    assert order.updated_at == datetime.fromtimestamp(1608276809, UTC)
    line = order.lines[0]
    assert (line.sku, line.quantity, line.unit_price, line.line_total) == ("MUG-BLUE", 2, Decimal("12.9"),
                                                                            Decimal("25.8"))
    assert order.ship_to_country == "SG" and order.shipping_address.city == "Singapore"
    assert order.buyer_name == "Tan Wei Ling" and order.buyer_email is None
    assert order.prices_include_tax is True and order.raw["order_sn"] == "201218V2Y6E59M"


def test_item_sku_is_used_when_the_model_sku_is_empty_and_vnd_has_no_decimals():
    order = normalize([body(ORDER_DETAIL_BODY)])[1]
    line = order.lines[0]
    assert line.sku == "NON-LA"
    assert (line.unit_price, line.discount, line.line_total) == (Decimal(150000), Decimal(16000), Decimal(284000))
    assert order.total == Decimal(314000) and order.status is OrderStatus.DELIVERED
    assert order.shipping_address.line2 == "Phường Hàng Bạc, Quận Hoàn Kiếm"


def test_a_line_without_any_sku_makes_the_order_unmappable():
    with pytest.raises(MappingError, match="neither model_sku nor item_sku"):
        map_order(detail(item_list=[item(model_sku="", item_sku="")]))


def test_float_traps_stay_exact_when_the_body_is_parsed_with_decimal():
    order = map_order(detail(total_amount=body("0.30000000000000004"),
                             item_list=[item(model_original_price=body("0.1"), model_discounted_price=body("0.1"),
                                             model_quantity_purchased=3)]))
    assert order.total == Decimal("0.30000000000000004")
    assert order.lines[0].line_total == Decimal("0.3")


def test_an_unrounded_float_unit_price_is_kept_as_sent_not_rounded_or_rederived():
    price = body("3.3333333333333335")
    order = map_order(detail(total_amount=Decimal(10), item_list=[item(model_original_price=price,
                                                                         model_discounted_price=price,
                                                                         model_quantity_purchased=3)]))
    assert order.lines[0].unit_price == Decimal("3.3333333333333335")
    assert order.total == Decimal(10)


def test_a_python_float_is_refused_rather_than_rounded():
    with pytest.raises(MappingError, match="float"):
        map_order(detail(total_amount=12.9))


def test_large_quantities_are_the_ordered_ones():
    order = map_order(detail(item_list=[item(model_quantity_purchased=99999)], total_amount=Decimal("1289987.1")))
    assert order.lines[0].quantity == 99999
    assert order.lines[0].line_total == Decimal("1289987.1")


def test_idr_integer_prices_map_without_decimals():
    order = map_order(detail(currency="IDR", region="ID", total_amount=1250000,
                             item_list=[item(model_original_price=625000, model_discounted_price=625000)]))
    assert order.total == Decimal(1250000) and order.lines[0].unit_price == Decimal(625000)


def test_a_missing_total_is_none_and_the_order_is_still_imported():
    order = map_order(detail(total_amount=None, order_status="UNPAID", pay_time=None))
    assert order.total is None and order.status is OrderStatus.PENDING
    assert any("total_amount" in f for f in order.flags)


def test_a_missing_item_price_leaves_the_line_and_subtotal_unpriced():
    order = map_order(detail(item_list=[item(model_original_price=None, model_discounted_price=None)]))
    assert order.lines[0].unit_price is None and order.subtotal is None


def test_missing_optional_fields_are_tolerated():
    order = map_order(detail(recipient_address=None, buyer_username=None, package_list=None, pay_time=None,
                             region="MY", currency="MYR"))
    assert order.shipping_address is None and order.ship_to_country == "MY" and order.buyer_name == ""


def test_ship_to_country_is_the_recipient_region_before_the_shop_region():
    address = {**detail()["recipient_address"], "region": "MY"}
    assert map_order(detail(recipient_address=address, region="SG")).ship_to_country == "MY"


@pytest.mark.parametrize(("status", "expected"), [
    ("UNPAID", OrderStatus.PENDING),
    ("READY_TO_SHIP", OrderStatus.PAID),
    ("PROCESSED", OrderStatus.PAID),
    ("RETRY_SHIP", OrderStatus.PAID),
    ("SHIPPED", OrderStatus.FULFILLED),
    ("TO_CONFIRM_RECEIVE", OrderStatus.DELIVERED),
    ("COMPLETED", OrderStatus.DELIVERED),
    ("CANCELLED", OrderStatus.CANCELLED),
])
def test_each_shopee_status_has_its_canonical_status(status, expected):
    assert map_order(detail(order_status=status)).status is expected


def test_in_cancel_is_not_yet_cancelled_but_flagged():
    order = map_order(detail(order_status="IN_CANCEL"))
    assert order.status is OrderStatus.PAID
    assert any(f.startswith("IN_CANCEL") for f in order.flags)


def test_to_return_keeps_the_fulfilment_and_flags_the_requested_refund():
    order = map_order(detail(order_status="TO_RETURN"))
    assert order.status is OrderStatus.DELIVERED
    assert any(f.startswith("TO_RETURN") for f in order.flags)


def test_cancellation_wins_over_shipped_packages():
    packages = [{"package_number": "P1", "logistics_status": "LOGISTICS_PICKUP_DONE"},
                {"package_number": "P2", "logistics_status": "LOGISTICS_PICKUP_DONE"}]
    assert map_order(detail(order_status="CANCELLED", package_list=packages)).status is OrderStatus.CANCELLED


def test_a_split_order_with_one_package_gone_is_partially_fulfilled():
    packages = [{"package_number": "P1", "logistics_status": "LOGISTICS_PICKUP_DONE"},
                {"package_number": "P2", "logistics_status": "LOGISTICS_READY"}]
    order = map_order(detail(order_status="PROCESSED", split_up=True, package_list=packages))
    assert order.status is OrderStatus.PARTIALLY_FULFILLED


def test_an_unknown_status_or_currency_is_refused_with_the_reason():
    with pytest.raises(MappingError, match="unknown order_status 'LOST'"):
        map_order(detail(order_status="LOST"))
    with pytest.raises(MappingError, match="currency"):
        map_order(detail(currency="XX"))


def test_a_bad_amount_names_the_order_and_the_field():
    with pytest.raises(MappingError, match="201218V2Y6E59M: total_amount"):
        map_order(detail(total_amount="twelve"))


def test_an_error_envelope_is_not_taken_for_orders():
    with pytest.raises(MappingError, match="error_param"):
        normalize([{"request_id": "x", "error": "error_param", "message": "bad", "response": None}])


def test_the_newest_detail_of_an_order_wins_when_it_appears_twice():
    old = detail(update_time=1608276809, order_status="READY_TO_SHIP")
    new = detail(update_time=1608300000, order_status="SHIPPED")
    orders = normalize([{"response": {"order_list": [new]}}, {"response": {"order_list": [old]}}])
    assert len(orders) == 1 and orders[0].status is OrderStatus.FULFILLED
