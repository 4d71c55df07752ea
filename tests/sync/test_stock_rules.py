"""The stock rules as properties: whatever the stock and the rules, the listed quantity keeps its promises."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hub.sync.stock_rules import StockRules, available_to_sell

stocks = st.integers(min_value=-1_000, max_value=1_000_000_000)
rules = st.builds(StockRules, buffer=st.integers(0, 10_000), percent=st.integers(0, 100),
                  maximum=st.none() | st.integers(0, 1_000_000), zero_below=st.integers(0, 10_000))


@given(stocks, rules)
def test_never_negative_and_never_more_than_the_stock(stock, r):
    listed = available_to_sell(stock, r)
    assert 0 <= listed <= max(stock, 0)


@given(stocks, rules)
def test_the_buffer_is_always_kept_back_and_the_percentage_rounds_down(stock, r):
    listed = available_to_sell(stock, r)
    assert listed <= max(stock - r.buffer, 0)
    assert listed * 100 <= max(stock - r.buffer, 0) * r.percent


@given(stocks, rules)
def test_never_above_the_maximum(stock, r):
    if r.maximum is not None:
        assert available_to_sell(stock, r) <= r.maximum


@given(stocks, rules)
def test_zero_below_the_threshold(stock, r):
    sellable = max(stock - r.buffer, 0) * r.percent // 100
    listed = available_to_sell(stock, r)
    if sellable < r.zero_below:
        assert listed == 0
    else:
        assert listed == (sellable if r.maximum is None else min(sellable, r.maximum))


@given(stocks, stocks, rules)
def test_more_stock_never_lists_less(a, b, r):
    low, high = sorted((a, b))
    assert available_to_sell(low, r) <= available_to_sell(high, r)


@given(stocks)
def test_without_rules_the_stock_is_listed_as_it_is(stock):
    assert available_to_sell(stock) == max(stock, 0)


def test_examples():
    assert available_to_sell(29, StockRules(percent=57)) == 16  # 16.53 rounds down, never up
    assert available_to_sell(10, StockRules(buffer=3)) == 7
    assert available_to_sell(2, StockRules(buffer=3)) == 0
    assert available_to_sell(100, StockRules(maximum=20)) == 20
    assert available_to_sell(4, StockRules(zero_below=5)) == 0
    assert available_to_sell(5, StockRules(zero_below=5)) == 5
    # The threshold looks at the quantity before the cap: a cap never zeroes a well-stocked SKU.
    assert available_to_sell(50, StockRules(maximum=5, zero_below=10)) == 5
    assert available_to_sell(20, StockRules(buffer=4, percent=50, maximum=6, zero_below=3)) == 6
