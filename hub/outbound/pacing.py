"""Client-side rate limiting: wait before a call the counterpart would refuse, instead of collecting a 429.

`Pacer` is the client's copy of a token bucket (`rate` tokens a second refilling `burst`), the shape of
hub.sandbox.ratelimit.TokenBucket, but it sleeps rather than refuses. Clock and sleep are injected
(Connection.clock and Connection.sleep) so tests run on a fake clock. A connector may share one Pacer
between its HTTP clients; give it to HttpClient as `pace=pacer.acquire`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

# Wait this much longer than the arithmetic says: the two clocks and float rounding differ a little, and a
# wait one microsecond short is a 429.
SAFETY_SECONDS = 0.001
# Pace a little under the published limit: calls sent exactly one interval apart can arrive closer together (the
# network, the server's threads), and at the limit that is an occasional 429. This much headroom costs 10 % of
# the throughput at saturation and buys none at all in steady state.
HEADROOM = 0.9

T = TypeVar("T")
_SHARED: dict[tuple[Hashable, ...], object] = {}
_SHARED_LOCK = threading.Lock()


def shared(key: tuple[Hashable, ...], make: Callable[[], T]) -> T:
    """The one limiter state of a counterpart account in this process. A connector is built per run, but the
    marketplace's bucket carries over from one run to the next: a fresh, full client bucket would overspend it.
    Put the clock in the key (it is held by the key, so its identity cannot be reused): limiters on a test's
    fake clock are never shared with another clock's."""
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = make()
        return _SHARED[key]  # type: ignore[return-value]


@dataclass
class Pacer:
    rate: float  # tokens per second
    burst: float  # bucket size; a fresh bucket is full
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    _tokens: float = field(init=False)
    _at: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a pacer needs a positive rate and a burst of at least one call")
        self.rate *= HEADROOM
        self.burst = max(1.0, float(int(self.burst * HEADROOM)))
        self._tokens = self.burst
        self._at = self.clock()

    def acquire(self, cost: float = 1.0) -> float:
        """Spend `cost` tokens, sleeping first while the bucket holds too few; returns the seconds slept."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + max(0.0, now - self._at) * self.rate)
            self._at = max(self._at, now)
            wait = 0.0
            if self._tokens < cost:
                wait = (cost - self._tokens) / self.rate + SAFETY_SECONDS
                # The tokens refill while we sleep; book them now so a concurrent caller queues behind us.
                self._tokens += wait * self.rate
                self._at += wait
            self._tokens -= cost
        if wait:
            self.sleep(wait)
        return wait
