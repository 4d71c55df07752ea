"""Fault injection for sandboxes: seeded, so a failing test replays the same faults."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Faults:
    error_rate: float = 0.0  # share of requests answered 500
    throttle_burst: int = 0  # the next N requests are throttled (429 or the API's throttled body)
    latency_seconds: float = 0.0  # added to every request
    timeout_rate: float = 0.0  # share of requests that hang for `hang_seconds`
    hang_seconds: float = 10.0
    malformed_rate: float = 0.0  # share of answers whose body is cut in half
    repeat_across_pages: bool = False  # the last order of a page appears again on the next
    seed: int = 0
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311  (test data, not security)

    def roll(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._random.random() < rate

    def take_throttle(self) -> bool:
        with self._lock:
            if self.throttle_burst > 0:
                self.throttle_burst -= 1
                return True
            return False

    def delay(self) -> None:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        if self.roll(self.timeout_rate):
            time.sleep(self.hang_seconds)

    def update(self, **knobs: object) -> None:
        for name, value in knobs.items():
            if name.startswith("_") or not hasattr(self, name):
                raise ValueError(f"unknown fault knob {name!r}")
            current = getattr(self, name)
            if isinstance(current, bool) and isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            setattr(self, name, type(current)(value))
        if "seed" in knobs:
            self._random = random.Random(self.seed)  # noqa: S311
