import re

from hub.app import IdConverter
from hub.db import MAX_ID

ID = re.compile(IdConverter.regex)


def test_route_ids_match_exactly_one_to_the_largest_integer_id():
    for value in (1, 9, 10, 999_999_999, 1_000_000_000, 2_000_000_000, MAX_ID - 1, MAX_ID):
        assert ID.fullmatch(str(value)), value
    for text in ("0", "01", str(MAX_ID + 1), "2147483650", "2200000000", "99999999999", "-1"):
        assert not ID.fullmatch(text), text


def test_every_number_around_each_digit_boundary_is_judged_like_the_integer_comparison():
    for power in range(1, 11):
        for value in range(10**power - 50, 10**power + 50):
            assert bool(ID.fullmatch(str(value))) == (1 <= value <= MAX_ID), value
    for value in range(MAX_ID - 2000, MAX_ID + 2000):
        assert bool(ID.fullmatch(str(value))) == (value <= MAX_ID), value
