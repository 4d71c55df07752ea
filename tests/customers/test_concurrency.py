"""Two transactions linking orders of one new email at the same moment make one customer, not two.

Runs on both backends; on PostgreSQL the two INSERTs really race (the second waits for the first's commit on
the unique index), on SQLite the write lock serialises them."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from hub.customers.models import Customer
from tests.customers.support import customer_of, import_order, make_channels

THREADS = 6


def test_orders_of_one_new_email_imported_at_once_make_exactly_one_customer(sessions, alice):
    channel = make_channels(sessions, alice.seller_id, "shopify")["shopify"]
    start = threading.Barrier(THREADS)
    results: list[int | str] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        start.wait()
        try:
            outcome: int | str = import_order(sessions, channel, f"RACE-{n}", email="Racer@Example.com")
        except Exception as exc:  # any failure is what this test is about
            outcome = f"error: {exc!r}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert all(isinstance(r, int) for r in results) and len(results) == THREADS, results
    assert len({customer_of(sessions, order_id)[0] for order_id in results}) == 1
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
        assert session.scalar(sa.select(Customer.email_key)) == "racer@example.com"
