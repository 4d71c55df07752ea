"""The login throttle: a sliding window per (store, client), with a clock the test moves."""

from __future__ import annotations

import pytest

from hub.buyers.throttle import LoginThrottle, TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_attempt_over_the_limit_is_refused_until_the_oldest_leaves_the_window():
    clock = Clock()
    throttle = LoginThrottle(limit=2, window_seconds=60, clock=clock)
    throttle.check(1, "10.0.0.1")
    clock.now += 30
    throttle.check(1, "10.0.0.1")
    with pytest.raises(TooManyAttempts) as refused:
        throttle.check(1, "10.0.0.1")
    assert refused.value.retry_after == 31 and refused.value.http_status == 429

    clock.now += 30  # the first attempt is now a full window old
    throttle.check(1, "10.0.0.1")


def test_each_store_and_each_client_has_its_own_window():
    throttle = LoginThrottle(limit=1, window_seconds=60, clock=Clock())
    throttle.check(1, "10.0.0.1")
    throttle.check(2, "10.0.0.1")
    throttle.check(1, "10.0.0.2")
    with pytest.raises(TooManyAttempts):
        throttle.check(2, "10.0.0.1")
