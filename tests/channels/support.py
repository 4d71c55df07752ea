"""Helpers shared by the connector contract tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any


class FakeClock:
    """A monotonic clock that moves only when something sleeps on it (pass `clock` and `clock.sleep`)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pull_all(connector: Any, since: datetime, *, cursor: str | None = None,
             between: Callable[[int], None] | None = None,
             fresh: Callable[[], Any] | None = None) -> tuple[list, list, int]:
    """Every page from `cursor` (the start when None): (orders, rejected, pages).

    `between(pages)` runs after each page (to change the sandbox mid-pull); with `fresh`, each page after the
    first is pulled by a new connector from the cursor alone, which proves the cursor is resumable.
    """
    orders: list = []
    rejected: list = []
    pages = 0
    while True:
        source = fresh() if fresh and cursor else connector
        page = source.pull_orders(since, cursor)
        orders += page.orders
        rejected += page.rejected
        pages += 1
        if between:
            between(pages)
        cursor = page.next_cursor
        if cursor is None:
            return orders, rejected, pages
