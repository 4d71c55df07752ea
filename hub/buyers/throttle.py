"""A per-client limit on login attempts, in front of the per-account lockout.

The lockout (hub.buyers.services.login) stops guessing one buyer's password; this stops one client from trying
many buyers' passwords (credential stuffing), which no per-account counter sees. Kept in the process's memory: a
sliding window of attempt times per (store, client address). With several processes each counts its own share,
which still bounds a client to a small multiple of the limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from hub.errors import DomainError


class TooManyAttempts(DomainError):
    code = "rate_limited"
    http_status = 429

    def __init__(self, retry_after: int):
        super().__init__(f"too many login attempts from here: try again in {retry_after} seconds")
        self.retry_after = retry_after


class LoginThrottle:
    def __init__(self, limit: int = 10, window_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self._clock = limit, window_seconds, clock
        self._seen: dict[tuple[int, str], deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, seller_id: int, client: str) -> None:
        """Count one attempt, or raise TooManyAttempts (not counted) when the window is full."""
        now = self._clock()
        with self._lock:
            if len(self._seen) > 100_000:  # forget idle clients rather than grow without bound
                self._seen = {k: v for k, v in self._seen.items() if v and v[-1] > now - self.window}
            attempts = self._seen.setdefault((seller_id, client), deque())
            while attempts and attempts[0] <= now - self.window:
                attempts.popleft()
            if len(attempts) >= self.limit:
                raise TooManyAttempts(int(attempts[0] + self.window - now) + 1)
            attempts.append(now)
