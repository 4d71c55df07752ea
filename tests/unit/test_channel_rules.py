from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hub.channels import values
from hub.channels.rules import Level, canonical_status, total_mismatch
from hub.orders.status import OrderStatus as S


@pytest.mark.parametrize(("facts", "expected"), [
    ({"cancelled": True, "refunded": Level.FULL, "fulfilled": Level.FULL, "paid": True}, S.CANCELLED),
    ({"refunded": Level.FULL, "fulfilled": Level.FULL, "paid": True}, S.REFUNDED),
    ({"refunded": Level.PARTIAL, "fulfilled": Level.FULL, "paid": True}, S.PARTIALLY_REFUNDED),
    ({"fulfilled": Level.FULL, "paid": True}, S.FULFILLED),
    ({"fulfilled": Level.PARTIAL, "paid": True}, S.PARTIALLY_FULFILLED),
    ({"fulfilled": Level.FULL, "paid": False}, S.FULFILLED),
    ({"delivered": True, "fulfilled": Level.FULL, "paid": True}, S.DELIVERED),
    ({"paid": True}, S.PAID),
    ({}, S.PENDING),
])
def test_cancellation_beats_refund_beats_fulfilment_beats_payment(facts, expected):
    args = {"cancelled": False, "refunded": Level.NONE, "fulfilled": Level.NONE, "delivered": False, "paid": False}
    assert canonical_status(**{**args, **facts}) is expected


def test_a_total_off_by_more_than_one_minor_unit_is_flagged_not_corrected():
    flag = total_mismatch("EUR", Decimal("10.05"), subtotal=Decimal("10.00"), discount=None, shipping=None,
                          tax=Decimal("0"), tax_included=False)
    assert flag and "differs from its parts" in flag and "0.05" in flag
    assert total_mismatch("EUR", Decimal("10.01"), subtotal=Decimal("10.00"), discount=None, shipping=None,
                          tax=None, tax_included=False) is None
    assert total_mismatch("JPY", Decimal("1001"), subtotal=Decimal("1000"), discount=None, shipping=None,
                          tax=None, tax_included=False) is None
    assert total_mismatch("EUR", None, subtotal=Decimal("1"), discount=None, shipping=None, tax=None,
                          tax_included=False) is None


def test_included_tax_is_not_added_again():
    assert total_mismatch("EUR", Decimal("119.00"), subtotal=Decimal("119.00"), discount=None, shipping=None,
                          tax=Decimal("19.00"), tax_included=True) is None


def test_amounts_parse_exactly_from_strings_and_decimal_json_numbers_and_refuse_floats():
    assert values.amount("24.90", "total") == Decimal("24.90")
    assert values.amount(Decimal("0.1"), "price") + values.amount(Decimal("0.2"), "price") == Decimal("0.3")
    assert values.amount(99999, "qty") == Decimal(99999)
    with pytest.raises(values.MappingError, match="float"):
        values.amount(0.1, "price")
    with pytest.raises(values.MappingError, match="not an amount"):
        values.amount("12,90", "price")
    assert values.optional_amount(None, "total") is None


def test_quantities_are_positive_whole_numbers():
    assert values.quantity("99999", "q") == 99999
    assert values.quantity(Decimal("3"), "q") == 3
    for bad in ("1.5", 0, -2, True, "x"):
        with pytest.raises(values.MappingError):
            values.quantity(bad, "q")


def test_timestamps_become_aware_utc_and_naive_ones_only_when_documented_as_utc():
    assert values.iso_time("2026-11-25T10:00:00+09:00", "t") == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert values.iso_time("2026-11-25T01:00:00Z", "t") == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert values.iso_time("2026-11-25T01:00:00", "t", naive_is_utc=True) == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    with pytest.raises(values.MappingError, match="without an offset"):
        values.iso_time("2026-11-25T01:00:00", "t")
    assert values.unix_time(1764032400, "t") == datetime(2025, 11, 25, 1, 0, tzinfo=UTC)


def test_unknown_countries_become_none_not_a_failed_import():
    assert values.country(" de ") == "DE"
    assert values.country("XX") is None
    assert values.country(None) is None
