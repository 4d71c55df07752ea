"""CSV order files -> canonical orders, one test per rule of docs/channel-mapping.md (format: hub.channels.csv)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from hub.channels.csv.mapping import Options, map_order, normalize, parse, read_rows, status_of
from hub.channels.values import MappingError
from hub.orders.status import OrderStatus

D = Decimal
HEADER = ("order_id", "status", "currency", "placed_at", "sku", "title", "quantity", "unit_price", "order_total",
          "shipping", "tax", "discount", "ship_country")


def row(**changes: Any) -> dict[str, str]:
    base = {"order_id": "A-1", "status": "paid", "currency": "EUR", "placed_at": "2026-03-01T10:00:00Z",
            "sku": "MUG-1", "title": "Mug", "quantity": "2", "unit_price": "12.50", "order_total": "29.90",
            "shipping": "4.90", "tax": "", "discount": "", "ship_country": "DE"}
    base.update(changes)
    return base


def text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    columns = list(dict.fromkeys(c for r in rows for c in r))
    lines = [delimiter.join(columns)] + [delimiter.join(r.get(c, "") for c in columns) for r in rows]
    return "\n".join(lines) + "\n"


def one(rows: list[dict[str, str]], **options: Any) -> Any:
    parsed = parse(rows, Options(**options))
    assert parsed.rejected == ()
    [order] = parsed.orders
    return order


# --- rule 1: status mapping and precedence ---------------------------------------------------------------------

@pytest.mark.parametrize("label", ["pending", "paid", "fulfilled", "cancelled", "refunded", "partially_refunded",
                                   "partially_fulfilled", "delivered"])
def test_canonical_status_names_map_to_themselves(label: str) -> None:
    assert status_of(label, Options()) == OrderStatus(label)
    assert status_of(label.upper(), Options()) == OrderStatus(label)


def test_seller_statuses_are_mapped_through_the_option() -> None:
    options = Options.of({"statuses": {"Bezahlt": "paid", "Versendet": "fulfilled", "Storniert": "cancelled"}})
    order = one([row(status="Versendet"), row(status="Versendet", sku="TEA", unit_price="0")],
                statuses=options.statuses)
    assert order.status is OrderStatus.FULFILLED
    assert status_of("bezahlt", options) is OrderStatus.PAID


@pytest.mark.parametrize(("label", "expected"), [
    ("paid+fulfilled", OrderStatus.FULFILLED),
    ("fulfilled+partially_refunded", OrderStatus.PARTIALLY_REFUNDED),
    ("refunded+cancelled", OrderStatus.CANCELLED),
    ("partially_fulfilled+fulfilled", OrderStatus.FULFILLED),
    ("delivered+refunded", OrderStatus.REFUNDED),
])
def test_several_statuses_follow_the_shared_precedence(label: str, expected: OrderStatus) -> None:
    assert status_of(label, Options()) is expected


def test_unknown_status_rejects_the_order_with_the_known_ones() -> None:
    parsed = parse([row(status="shipped")])
    [(order_id, reason, raw)] = parsed.rejected
    assert order_id == "A-1" and "unknown status 'shipped'" in reason and "fulfilled" in reason
    assert raw["rows"][0]["status"] == "shipped"


def test_a_status_option_naming_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="shipped"):
        Options.of({"statuses": {"Versendet": "shipped"}})


# --- rule 2: money is exact ---------------------------------------------------------------------------------------

def test_amounts_are_exact_and_0_1_plus_0_2_is_0_3() -> None:
    order = one([row(quantity="1", unit_price="0.1", order_total="0.30", shipping="0.2")])
    assert order.subtotal == D("0.1") and order.total == D("0.30") and order.shipping == D("0.2")
    assert order.subtotal + order.shipping == D("0.3")
    assert order.flags == ()


def test_line_total_is_unit_price_times_quantity_and_never_divided_back() -> None:
    order = one([row(quantity="3", unit_price="3.33", order_total="14.89", shipping="4.90")])
    [line] = order.lines
    assert line.unit_price == D("3.33") and line.line_total == D("9.99") and line.discount == 0


def test_a_given_line_total_below_the_price_is_the_lines_discount() -> None:
    order = one([row(line_total="20.00", order_total="24.90", discount="5.00")])
    [line] = order.lines
    assert line.line_total == D("20.00") and line.discount == D("5.00") and order.flags == ()


def test_decimal_comma_only_when_the_option_says_so() -> None:
    rows = [row(unit_price="12,50", order_total="1.029,90", shipping="4,90", quantity="82")]
    parsed = parse(rows)
    [(_, reason, _)] = parsed.rejected
    assert "decimal_comma" in reason and "unit_price" in reason
    order = one(rows, decimal_comma=True)
    assert order.lines[0].unit_price == D("12.50") and order.total == D("1029.90") and order.shipping == D("4.90")


def test_with_decimal_comma_a_point_that_does_not_group_thousands_is_refused() -> None:
    parsed = parse([row(unit_price="12.50")], Options(decimal_comma=True))
    [(_, reason, _)] = parsed.rejected
    assert "decimal comma" in reason


def test_json_numbers_are_read_exactly_and_floats_refused() -> None:
    order = one([row(unit_price=D("12.50"), quantity=2, order_total=D("29.90"))])  # type: ignore[arg-type]
    assert order.lines[0].unit_price == D("12.50") and order.total == D("29.90")
    [(_, reason, _)] = parse([row(unit_price=12.5)]).rejected  # type: ignore[arg-type]
    assert "float" in reason


def test_jpy_whole_amounts() -> None:
    order = one([row(currency="JPY", quantity="3", unit_price="1500", shipping="500", order_total="5000")])
    assert order.total == D("5000") and order.subtotal == D("4500") and order.flags == ()
    flagged = one([row(currency="JPY", quantity="3", unit_price="1500", shipping="500", order_total="5002")])
    assert len(flagged.flags) == 1 and "by 2" in flagged.flags[0]  # JPY's minor unit is one yen
    assert one([row(currency="JPY", quantity="3", unit_price="1500", shipping="500", order_total="5001")]).flags == ()


def test_kwd_three_decimals() -> None:
    order = one([row(currency="KWD", quantity="1", unit_price="12.345", shipping="1.005", order_total="13.350")])
    assert order.total == D("13.350") and order.lines[0].unit_price == D("12.345") and order.flags == ()
    flagged = one([row(currency="KWD", quantity="1", unit_price="12.345", shipping="1.005", order_total="13.352")])
    assert "differs" in flagged.flags[0]


def test_an_unknown_currency_rejects_the_order() -> None:
    [(_, reason, _)] = parse([row(currency="EURO")]).rejected
    assert "currency" in reason


# --- rule 3: taxes included or added ----------------------------------------------------------------------------

def test_tax_is_added_unless_prices_include_it() -> None:
    added = one([row(quantity="1", unit_price="100.00", shipping="0", tax="19.00", order_total="119.00")])
    assert added.prices_include_tax is False and added.flags == ()
    included = one([row(quantity="1", unit_price="119.00", shipping="0", tax="19.00", order_total="119.00",
                        prices_include_tax="yes")])
    assert included.prices_include_tax is True and included.flags == () and included.tax == D("19.00")


# --- rule 4: blank totals -----------------------------------------------------------------------------------------

def test_blank_order_total_is_none_and_the_order_is_still_imported() -> None:
    order = one([row(order_total="", shipping="")])
    assert order.total is None and order.shipping is None and order.subtotal == D("25.00") and order.flags == ()


def test_a_blank_unit_price_leaves_the_subtotal_unknown() -> None:
    order = one([row(unit_price="")])
    assert order.lines[0].unit_price is None and order.subtotal is None and order.flags == ()


# --- rule 5: quantities ------------------------------------------------------------------------------------------

def test_quantity_99999() -> None:
    order = one([row(quantity="99999", unit_price="0.01", shipping="0", order_total="999.99")])
    assert order.lines[0].quantity == 99999 and order.subtotal == D("999.99") and order.flags == ()


@pytest.mark.parametrize("qty", ["0", "-1", "1.5", "", "two"])
def test_a_quantity_must_be_a_positive_whole_number(qty: str) -> None:
    [(_, reason, _)] = parse([row(quantity=qty)]).rejected
    assert "quantity" in reason


# --- rule 6: ship-to country --------------------------------------------------------------------------------------

def test_ship_country_falls_back_to_billing_then_the_channel_country() -> None:
    assert one([row(ship_country="at")]).ship_to_country == "AT"
    assert one([row(ship_country="", billing_country="FR")]).ship_to_country == "FR"
    assert one([row(ship_country="", billing_country="")], country="NL").ship_to_country == "NL"
    assert one([row(ship_country="XX", billing_country="")]).ship_to_country is None  # unknown: None, imported
    assert one([row(ship_country="")]).ship_to_country is None


def test_the_shipping_address_is_read() -> None:
    order = one([row(ship_name="Jürgen Müller", ship_line1="Maximilianstraße 5", ship_city="München",
                     ship_postal_code="80539", buyer_name="Jürgen Müller", buyer_email="j@example.de")])
    address = order.shipping_address
    assert address is not None and address.city == "München" and address.country == "DE"
    assert order.buyer_name == "Jürgen Müller" and order.buyer_email == "j@example.de"


# --- rule 7: the total is authoritative ---------------------------------------------------------------------------

def test_a_total_differing_from_its_parts_is_flagged_not_corrected() -> None:
    order = one([row(order_total="30.00")])  # 2 x 12.50 + 4.90 = 29.90
    assert order.total == D("30.00")
    assert len(order.flags) == 1 and "differs from its parts" in order.flags[0] and "0.10" in order.flags[0]


def test_a_difference_of_one_minor_unit_is_not_flagged() -> None:
    assert one([row(order_total="29.91")]).flags == ()


# --- rule 8: timestamps -------------------------------------------------------------------------------------------

def test_offsets_are_converted_to_utc() -> None:
    order = one([row(placed_at="2026-03-01T11:00:00+01:00", updated_at="2026-03-02T09:30:00-05:00")])
    assert order.placed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert order.updated_at == datetime(2026, 3, 2, 14, 30, tzinfo=UTC)


def test_updated_at_defaults_to_placed_at() -> None:
    order = one([row(updated_at="")])
    assert order.updated_at == order.placed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)


def test_naive_times_are_read_in_the_channel_timezone_and_stored_utc() -> None:
    winter = one([row(placed_at="2026-01-15 10:00:00")], timezone="Europe/Berlin")
    summer = one([row(placed_at="2026-07-15T10:00:00")], timezone="Europe/Berlin")
    tokyo = one([row(placed_at="2026-07-15T10:00:00")], timezone="Asia/Tokyo")
    assert winter.placed_at == datetime(2026, 1, 15, 9, tzinfo=UTC)
    assert summer.placed_at == datetime(2026, 7, 15, 8, tzinfo=UTC)
    assert tokyo.placed_at == datetime(2026, 7, 15, 1, tzinfo=UTC)
    assert summer.placed_at.tzinfo is UTC


def test_a_naive_time_skipped_by_a_clock_change_is_refused() -> None:
    [(_, reason, _)] = parse([row(placed_at="2026-03-29 02:30")], Options(timezone="Europe/Berlin")).rejected
    assert "does not exist in Europe/Berlin" in reason


def test_a_naive_time_repeated_by_a_clock_change_is_the_earlier_instant_and_flagged() -> None:
    order = one([row(placed_at="2026-10-25 02:30")], timezone="Europe/Berlin")
    assert order.placed_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert len(order.flags) == 1 and "ambiguous" in order.flags[0]


def test_naive_times_without_a_channel_timezone_are_refused() -> None:
    [(_, reason, _)] = parse([row(placed_at="2026-03-01 10:00:00")]).rejected
    assert "placed_at" in reason and "timezone" in reason


def test_an_unknown_timezone_option_is_refused() -> None:
    with pytest.raises(ValueError, match="IANA"):
        Options(timezone="Mars/Olympus")


# --- rule 9: grouping, agreement, rejects -------------------------------------------------------------------------

def test_rows_are_grouped_by_order_id_in_file_order() -> None:
    parsed = parse([row(), row(order_id="A-2", quantity="1", order_total="17.40"),
                    row(sku="TEA-9", title="Tea", quantity="1", unit_price="0.00")])
    assert parsed.rejected == ()
    first, second = parsed.orders
    assert first.external_id == "A-1" and [ln.sku for ln in first.lines] == ["MUG-1", "TEA-9"]
    assert second.external_id == "A-2" and second.lines[0].quantity == 1
    assert first.raw["rows"][1]["sku"] == "TEA-9"


def test_disagreeing_order_fields_reject_the_order_naming_the_column_and_the_file_goes_on() -> None:
    content = text([row(), row(sku="TEA-9", unit_price="0", order_total="31.00"),
                    row(order_id="A-2", quantity="1", order_total="17.40")])
    parsed = parse(content, source="orders.csv")
    assert [o.external_id for o in parsed.orders] == ["A-2"]
    [(order_id, reason, raw)] = parsed.rejected
    assert order_id == "A-1" and "order A-1" in reason and "order_total" in reason
    assert raw["file"] == "orders.csv" and raw["lines"] == [2, 3] and [r["sku"] for r in raw["rows"]] == [
        "MUG-1", "TEA-9"]


def test_map_order_raises_mapping_error_with_the_reason() -> None:
    with pytest.raises(MappingError, match=r"order A-1: rows disagree on currency"):
        map_order("A-1", [row(), row(currency="USD")])


def test_a_row_without_an_order_id_is_rejected_alone() -> None:
    parsed = parse([row(order_id=""), row(order_id="A-2")])
    assert [o.external_id for o in parsed.orders] == ["A-2"]
    [(order_id, reason, raw)] = parsed.rejected
    assert order_id == "" and "order_id" in reason and raw["rows"][0]["sku"] == "MUG-1"


def test_a_row_with_more_cells_than_the_header_is_rejected() -> None:
    content = text([row()]) + "A-2,paid,EUR,2026-03-01T10:00:00Z,MUG-1,Mug,1,12.50,17.40,4.90,,,DE,extra\n"
    parsed = parse(content)
    assert [o.external_id for o in parsed.orders] == ["A-1"]
    assert "more cells" in parsed.rejected[0][1]


# --- the file ----------------------------------------------------------------------------------------------------

def test_bom_and_semicolons() -> None:
    content = "\ufeff" + text([row(unit_price="12,50", order_total="29,90", shipping="4,90",
                                   title="Mug; large")], delimiter=";").replace("Mug; large", '"Mug; large"')
    order = normalize([content], Options(decimal_comma=True))[0]
    assert order.external_id == "A-1" and order.lines[0].title == "Mug; large" and order.total == D("29.90")


def test_comma_files_with_quoted_commas_and_crlf() -> None:
    content = text([row(title="Mug, large")]).replace("Mug, large", '"Mug, large"').replace("\n", "\r\n")
    [order] = normalize([content])
    assert order.lines[0].title == "Mug, large" and order.flags == ()


def test_header_names_are_case_insensitive_and_blank_rows_skipped() -> None:
    content = text([row()]).replace("order_id", "Order_ID ", 1) + "\n,,,,\n"
    [order] = normalize([content])
    assert order.external_id == "A-1"


@pytest.mark.parametrize(("content", "message"), [
    ("sku,quantity\nMUG,1\n", "header"),
    ("order_id,status,currency\nA-1,paid,EUR\n", "missing required column"),
    ("order_id,order_id,status\n", "duplicated"),
])
def test_file_level_problems_raise(content: str, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        read_rows(content)


def test_an_empty_file_has_no_orders() -> None:
    assert normalize(["", "\ufeff"]) == []


def test_normalize_takes_row_dicts_and_bodies_with_options() -> None:
    body = {"options": {"timezone": "Europe/Berlin", "decimal_comma": True},
            "csv": text([row(placed_at="2026-03-01 11:00", unit_price="12,50", order_total="29,90",
                             shipping="4,90")], delimiter=";")}
    from_text, from_rows = normalize([body]), normalize([[row(order_id="A-2")]])
    assert from_text[0].placed_at == datetime(2026, 3, 1, 10, tzinfo=UTC) and from_text[0].total == D("29.90")
    assert from_rows[0].external_id == "A-2"


def test_normalize_keeps_the_copy_updated_last() -> None:
    old = text([row(status="paid", updated_at="2026-03-01T10:00:00Z")])
    new = text([row(status="fulfilled", updated_at="2026-03-02T10:00:00Z")])
    assert [(o.external_id, o.status) for o in normalize([new, old])] == [("A-1", OrderStatus.FULFILLED)]


def test_normalize_names_an_unmappable_order_and_its_reason_like_the_other_connectors() -> None:
    body = text([row(status="fulfilled"), row(order_id="A-9", currency="??")])
    with pytest.raises(MappingError, match="order A-9: currency: not an ISO 4217 currency"):
        normalize([body])
