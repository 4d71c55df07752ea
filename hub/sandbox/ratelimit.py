"""Rate limiters as the real APIs apply them, with an injectable clock so tests need not sleep."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`rate` tokens per second refill a bucket of `burst`; a request costs `cost` tokens.

    Amazon SP-API's usage plans, Shopify GraphQL's cost points and Shopify REST's leaky bucket
    (40 calls, 2/s) are all this shape.
    """

    rate: float
    burst: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _at: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = self.burst
        self._at = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def take(self, cost: float = 1.0) -> float | None:
        """Spend `cost` tokens: None if allowed, else the seconds until it would be."""
        with self._lock:
            self._refill()
            if self._tokens >= cost:
                self._tokens -= cost
                return None
            return (cost - self._tokens) / self.rate

    @property
    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens
