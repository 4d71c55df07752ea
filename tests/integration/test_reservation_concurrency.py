"""Sixteen buyers race for the last ten units: exactly ten are sold, available never goes below zero.

Runs on both backends (`make test` runs it on PostgreSQL too), each thread with its own connection
and transaction, as concurrent web requests would.
"""

import threading

import sqlalchemy as sa

from hub.catalog.models import StockLevel
from hub.errors import InsufficientStock
from hub.orders.models import Order
from tests.integration.helpers import place_order, stocked_product
from tests.integration.test_stock_ledger import assert_levels_equal_ledger

THREADS = 16


def test_sixteen_threads_reserving_the_last_ten_units_get_exactly_ten(sessions, alice):
    stocked_product(sessions, alice.actor, "LAST-10", {"BER": 6, "ROT": 4})
    start = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def buy() -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                session.info["seller_id"] = alice.seller_id
                place_order(session, alice.actor, [("LAST-10", 1)])
            result = "ok"
        except InsufficientStock:
            result = "sold out"
        except Exception as exc:  # anything else is a failure we want to see
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buy) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert sorted(outcomes) == ["ok"] * 10 + ["sold out"] * 6
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Order)) == 10
        levels = list(session.scalars(sa.select(StockLevel)))
        assert sum(lv.reserved for lv in levels) == 10
        assert all(lv.available == 0 for lv in levels)
        assert_levels_equal_ledger(session)
