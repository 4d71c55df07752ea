"""The one HTTP client every adapter uses. Failures map onto the hub's exception tree:

    TransientError   connection refused/reset, timeout, 408, 425, 429, 5xx  -> retried
    PermanentError   any other 4xx, a body that is not the JSON promised    -> raised at once

`request_json` parses a 2xx body inside the retried attempt: a body that is not whole JSON (cut short in
transit) is then an UnreadableBody (a TransientError), asked for again, when the call is safe to repeat (GET
and HEAD, or `idempotent=True`), and a PermanentError otherwise, since a mutation may already have been
applied. Unreadable bodies have their own budget (RetryPolicy.body_attempts), and each one starts the count of
transport failures afresh: the server did answer.

JSON bodies are parsed with Decimal for every non-integer number: marketplaces send money as JSON
floats (WooCommerce, Shopee) and a float must never touch an amount.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_exponential_jitter

from hub.errors import PermanentError, TransientError
from hub.jsonexact import dumps_exact, parse_json
from hub.outbound.audit import AuditSink, CallRecord, LogAudit

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Query parameters and headers whose values never reach a log or the audit table.
SECRET_NAMES = frozenset({
    "access_token", "token", "sign", "signature", "client_secret", "consumer_secret", "consumer_key",
    "refresh_token", "password", "api_key", "key", "partner_key", "code",
    "oauth_consumer_key", "oauth_signature", "oauth_token", "oauth_nonce",
})
MAX_RETRY_AFTER_SECONDS = 120.0
# Methods whose call may be made again without changing anything more: a cut body is asked for again.
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # tries in a row that fail in transport (timeout, refused, 408/425/429/5xx)
    initial_seconds: float = 0.5
    max_seconds: float = 30.0
    jitter_seconds: float = 0.5
    body_attempts: int = 3  # request_json: 2xx answers whose body is not whole JSON, before giving up


class UnreadableBody(TransientError):
    """A 2xx answer to a call that may be repeated, whose body is not whole JSON: cut short in transit."""


@dataclass
class _Budget:
    """When the retry loop gives up: after `attempts` transport failures in a row, or after `body_attempts`
    unreadable bodies; an unreadable body starts the transport count afresh."""

    policy: RetryPolicy
    failures: int = 0
    unreadable: int = 0

    def spent(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, UnreadableBody):
            self.unreadable += 1
            self.failures = 0
            return self.unreadable >= self.policy.body_attempts
        self.failures += 1
        return self.failures >= self.policy.attempts


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    text: str
    url: str

    def json(self) -> Any:
        try:
            return parse_json(self.text)
        except ValueError as exc:
            raise PermanentError(f"{redact_url(self.url)} answered {self.status} with a body that is not JSON: {exc}"
                                 ) from None


@dataclass
class HttpClient:
    """One base URL, one session, one policy. `prepare` may add auth to each request (and re-sign retries)."""

    base_url: str
    service: str  # names the counterpart in the audit log, e.g. "woocommerce"
    timeout: tuple[float, float] = (5.0, 30.0)  # connect, read
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    audit: AuditSink = field(default_factory=LogAudit)
    prepare: Callable[[requests.PreparedRequest], None] | None = None
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session = field(default_factory=requests.Session)
    # Called before every attempt (retries too): a client-side rate limiter waits there (hub.outbound.pacing).
    pace: Callable[[], None] | None = None
    # Whether an answer is a throttle the status does not show (a 2xx body saying "throttled"); 429 always is.
    throttled: Callable[[Response], bool] | None = None
    # The counterpart's own word on retrying a failed answer (Stripe-Should-Retry): True retries, False raises
    # at once, None leaves it to the status (RETRYABLE_STATUS).
    should_retry: Callable[[Response], bool | None] | None = None

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None,
                data: Any = None, headers: Mapping[str, str] | None = None, ok: tuple[int, ...] = ()) -> Response:
        """Send with retries. Returns 2xx responses and those listed in `ok`; raises otherwise."""
        _, response = self._request(method, path, params=params, json_body=json_body, data=data, headers=headers,
                                    ok=ok, parse=None)
        return response

    def request_json(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                     json_body: Any = None, data: Any = None, headers: Mapping[str, str] | None = None,
                     ok: tuple[int, ...] = (), idempotent: bool | None = None) -> tuple[Any, Response]:
        """request(), with a 2xx body parsed as JSON (Decimal for non-integer numbers) inside the retried attempt.

        A 2xx body that is not JSON (cut short in transit, most likely) raises UnreadableBody, a TransientError, so
        it is asked for again and each attempt is audited, when the call is safe to repeat: by default for GET and
        HEAD, and for any call marked `idempotent=True` (a GraphQL query sent by POST, a PUT of absolute values).
        Any other call raises PermanentError at once: the counterpart may already have applied the mutation. After
        RetryPolicy.body_attempts unreadable bodies the last UnreadableBody is raised.

        Returns (body, response). The body is None for 204 and HEAD, and for a non-2xx status accepted through
        `ok`, whose text is left to the caller (response.json() still parses it on demand).
        """
        repeatable = method.upper() in SAFE_METHODS if idempotent is None else idempotent
        return self._request(method, path, params=params, json_body=json_body, data=data, headers=headers, ok=ok,
                             parse=repeatable)

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None, json_body: Any, data: Any,
                 headers: Mapping[str, str] | None, ok: tuple[int, ...],
                 parse: bool | None) -> tuple[Any, Response]:
        """The retry loop. `parse` None leaves bodies alone; True/False parses 2xx bodies, a bad one being
        transient (True: the call may be repeated) or permanent (False)."""
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/") if not path.startswith("http") else path
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=_Budget(self.retry).spent,
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                return self._send(method, url, number, params=params, json_body=json_body, data=data,
                                  headers=headers, ok=ok, parse=parse)
        raise AssertionError("unreachable: tenacity re-raises the last error")

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential_jitter(multiplier=self.retry.initial_seconds, max=self.retry.max_seconds,
                                          jitter=self.retry.jitter_seconds)(state)
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        return max(backoff, retry_after) if retry_after is not None else backoff

    def _send(self, method: str, url: str, attempt: int, *, params: Mapping[str, Any] | None, json_body: Any,
              data: Any, headers: Mapping[str, str] | None, ok: tuple[int, ...],
              parse: bool | None) -> tuple[Any, Response]:
        headers = dict(headers or {})
        if json_body is not None:
            # Our own encoder, not requests' json=: it writes Decimal amounts as exact JSON numbers.
            data = dumps_exact(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = requests.Request(method, url, params=params, data=data, headers=headers)
        prepared = self.session.prepare_request(request)
        if self.pace is not None:
            self.pace()
        if self.prepare is not None:
            self.prepare(prepared)
        started = time.monotonic()
        status: int | None = None
        error = ""
        body: Any = None
        throttled = False
        unreadable = ""  # why a body that was to be parsed is not JSON
        try:
            raw = self.session.send(prepared, timeout=self.timeout, allow_redirects=False)
            status = raw.status_code
            response = Response(status, raw.headers, raw.text, prepared.url or url)
            throttled = status == 429 or (self.throttled is not None and self.throttled(response))
            if parse is not None and 200 <= status < 300 and status != 204 and method.upper() != "HEAD":
                try:
                    body = parse_json(response.text)
                except ValueError as exc:
                    unreadable = str(exc)
                    error = "body: not JSON"
        except requests.Timeout as exc:
            error = f"timeout: {type(exc).__name__}"
            raise TransientError(f"{self.service}: {method} {redact_url(url)} timed out") from None
        except requests.ConnectionError as exc:
            error = f"connection: {type(exc).__name__}"
            raise TransientError(f"{self.service}: {method} {redact_url(url)} could not connect") from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            # The answer broke off mid-body: a transport fault like a reset connection.
            error = f"body: {type(exc).__name__}"
            raise TransientError(f"{self.service}: {method} {redact_url(url)} answer broke off") from None
        finally:
            self.audit.record(CallRecord(
                service=self.service, method=method, url=redact_url(prepared.url or url), status=status,
                duration_ms=round((time.monotonic() - started) * 1000), attempt=attempt, error=error,
                throttled=throttled))
        if unreadable:
            summary = (f"{self.service}: {method} {redact_url(response.url)} answered {status} with a body that is "
                       f"not JSON: {unreadable}")
            if parse:
                raise UnreadableBody(summary, status=status)
            raise PermanentError(summary, status=status)
        if 200 <= status < 300 or status in ok:
            return body, response
        summary = f"{self.service}: {method} {redact_url(response.url)} answered {status}: {response.text[:300]}"
        verdict = self.should_retry(response) if self.should_retry is not None else None
        if verdict or (verdict is None and status in RETRYABLE_STATUS):
            raise TransientError(summary, retry_after=parse_retry_after(response.headers.get("Retry-After")),
                                 status=status)
        raise PermanentError(summary, status=status)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), capped; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def redact_url(url: str) -> str:
    """The URL with secret query values replaced, fit for logs and the audit table."""
    parts = urlsplit(url)
    query = [(k, "***" if k.lower() in SECRET_NAMES else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query, safe="*:,[]"), ""))
