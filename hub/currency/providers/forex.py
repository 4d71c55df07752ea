"""forex-python (the user's choice of library), made safe to call.

forex-python calls `requests.get` with no timeout and no session to give one to, and its upstream host
(theratesapi.com) has had repeated outages. So each attempt runs in a daemon thread that we wait for at most
`deadline_seconds`; a thread still hanging after that is abandoned (it holds only its socket) and the attempt
counts as a timeout. Timeouts and refused connections are retried with tenacity; anything else (non-200, which
the library reports without its status, or a body that is not JSON) fails at once so the store falls back to
the next provider. Every attempt leaves a CallRecord (service "forex-python"; the URL carries no secret).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import requests
from forex_python.converter import CurrencyRates, RatesNotAvailableError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from hub.currency.rates import PIVOT, Quote
from hub.errors import ExternalError, PermanentError, TransientError
from hub.outbound.audit import AuditSink, CallRecord, LogAudit

SERVICE = "forex-python"
# Abandoned threads still blocked in forex-python beyond which no new call is started: a host that swallows
# connections must not make the worker pile up threads, one per refresh.
MAX_HUNG_THREADS = 4


class _Rates(CurrencyRates):
    """CurrencyRates that also keeps the day the answer is for (the library drops it) and whether it answered."""

    def __init__(self) -> None:
        super().__init__(force_decimal=True)
        self.answered = False
        self.day: str | None = None

    def _decode_rates(self, response: Any, use_decimal: bool = False, date_str: str | None = None) -> Any:
        self.answered = True  # only called on a 200
        decoded = super()._decode_rates(response, use_decimal=use_decimal, date_str=date_str)
        try:  # the day from the raw body, which the parent discards
            body = response.json()
            self.day = body.get("date") if isinstance(body, dict) else None
        except ValueError:
            pass
        return decoded


@dataclass
class _Outcome:
    rates: Any = None
    day: str | None = None
    answered: bool = False
    error: BaseException | None = None


@dataclass
class ForexPythonProvider:
    name: ClassVar[str] = "forex-python"
    source: ClassVar[str] = SERVICE
    audit: AuditSink = field(default_factory=LogAudit)
    deadline_seconds: float = 10.0
    attempts: int = 3
    wait_seconds: float = 0.5
    sleep: Callable[[float], None] = time.sleep

    _hung: ClassVar[list[threading.Thread]] = []
    _hung_lock: ClassVar[threading.Lock] = threading.Lock()

    def fetch(self, day: date | None) -> list[Quote]:
        retrying = Retrying(retry=retry_if_exception_type(TransientError), stop=stop_after_attempt(self.attempts),
                            wait=wait_exponential_jitter(multiplier=self.wait_seconds, max=5.0, jitter=0.2),
                            sleep=self.sleep, reraise=True)
        for attempt in retrying:
            with attempt:
                return self._attempt(day, attempt.retry_state.attempt_number)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _attempt(self, day: date | None, number: int) -> list[Quote]:
        path = day.isoformat() if day else "latest"
        url = f"https://theratesapi.com/api/{path}?base={PIVOT}"
        started = time.monotonic()
        status: int | None = None
        error = ""
        try:
            outcome = self._call_bounded(day)
            status = 200 if outcome.answered else None
            if outcome.error is not None:
                error = type(outcome.error).__name__
                raise _classify(outcome.error, url) from None
            return _rows(outcome, day)
        except ExternalError as exc:
            error = error or str(exc)[:200]
            raise
        finally:
            self.audit.record(CallRecord(service=SERVICE, method="GET", url=url, status=status,
                                         duration_ms=round((time.monotonic() - started) * 1000), attempt=number,
                                         error=error))

    def _call_bounded(self, day: date | None) -> _Outcome:
        with self._hung_lock:
            self._hung[:] = [t for t in self._hung if t.is_alive()]
            if len(self._hung) >= MAX_HUNG_THREADS:
                raise TransientError(f"{SERVICE}: {len(self._hung)} earlier calls still hang; not calling again")
        outcome = _Outcome()

        def call() -> None:
            rates = _Rates()
            try:
                outcome.rates = rates.get_rates(PIVOT, day)
            except BaseException as exc:  # handed to the caller's thread
                outcome.error = exc
            outcome.day, outcome.answered = rates.day, rates.answered

        thread = threading.Thread(target=call, name="forex-python call", daemon=True)
        thread.start()
        thread.join(self.deadline_seconds)
        if thread.is_alive():
            with self._hung_lock:
                self._hung.append(thread)
            raise TransientError(f"{SERVICE}: no answer within {self.deadline_seconds:g} s")
        return outcome


def _classify(exc: BaseException, url: str) -> ExternalError:
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return TransientError(f"{SERVICE}: GET {url} could not connect ({type(exc).__name__})")
    if isinstance(exc, RatesNotAvailableError):
        return PermanentError(f"{SERVICE}: GET {url} answered with an error status: {exc}")
    if isinstance(exc, ValueError):  # simplejson's JSONDecodeError: HTML or a cut body
        return PermanentError(f"{SERVICE}: GET {url} answered 200 with a body that is not JSON")
    return PermanentError(f"{SERVICE}: GET {url} failed: {type(exc).__name__}: {exc}")


def _rows(outcome: _Outcome, day: date | None) -> list[Quote]:
    if not isinstance(outcome.rates, dict) or not outcome.rates:
        raise PermanentError(f"{SERVICE}: the answer holds no rates")
    try:
        as_of = date.fromisoformat(outcome.day) if outcome.day else day
    except ValueError:
        as_of = day
    if as_of is None:
        # "latest" without its day: storing it under today would make it look fresher than it may be.
        raise PermanentError(f"{SERVICE}: the answer does not say which day its rates are for")
    rows = []
    for currency, raw in outcome.rates.items():
        try:
            rate = Decimal(str(raw))
        except InvalidOperation:
            continue
        if isinstance(currency, str) and len(currency) == 3 and rate.is_finite() and rate > 0 and currency != PIVOT:
            rows.append(Quote(PIVOT, currency, rate, as_of, SERVICE))
    if not rows:
        raise PermanentError(f"{SERVICE}: the answer holds no usable rates")
    return rows
