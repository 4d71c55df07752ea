"""The ECB euro foreign exchange reference rates (1 EUR = x), in both of the ECB's formats.

https://www.ecb.europa.eu/stats/eurofxref/: eurofxref-daily.xml, eurofxref-hist-90d.xml, eurofxref-hist.xml
(XML, `Cube` elements in the eurofxref namespace) and eurofxref.zip / eurofxref-hist.zip (CSV). Published
about 16:00 CET on TARGET working days only. The offline provider parses the bundled CSV with `parse_csv`, so
both read the same way.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from xml.etree import ElementTree as ET

from hub.currency.providers import newest_on_or_before
from hub.currency.rates import PIVOT, Quote
from hub.errors import PermanentError
from hub.outbound.audit import AuditSink, LogAudit
from hub.outbound.http import HttpClient, RetryPolicy
from hub.timeutil import utcnow

NS = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
BASE_URL = "https://www.ecb.europa.eu/stats/eurofxref/"
SOURCE = "ecb"
# The 90-day file covers about 64 working days; older days need the full history (a few MB).
RECENT_DAYS = 85


def _rate(raw: str) -> Decimal | None:
    raw = raw.strip()
    if not raw or raw == "N/A":
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value > 0 else None


def parse_xml(text: str | bytes, source: str = SOURCE) -> list[Quote]:
    """Rows of an eurofxref XML file (daily, 90-day or full history)."""
    try:
        # ElementTree expands no external entities, and expat >= 2.4.1 refuses entity bombs.
        root = ET.fromstring(text)  # noqa: S314
    except ET.ParseError as exc:
        raise PermanentError(f"the ECB file is not XML: {exc}") from None
    rows: list[Quote] = []
    for day_cube in root.iter(f"{NS}Cube"):
        when = day_cube.get("time")
        if when is None:
            continue
        as_of = date.fromisoformat(when)
        for cube in day_cube.findall(f"{NS}Cube"):
            currency, rate = cube.get("currency"), _rate(cube.get("rate") or "")
            if currency and rate is not None:
                rows.append(Quote(PIVOT, currency.strip(), rate, as_of, source))
    if not rows:
        raise PermanentError("the ECB file holds no rates (not an eurofxref file?)")
    return rows


def _csv_day(raw: str) -> date:
    raw = raw.strip()
    # The history file writes 2026-10-30; the daily file "30 October 2026".
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return datetime.strptime(raw, "%d %B %Y").date()  # a calendar day; %B is English month names


def parse_csv(lines: Iterable[str], source: str = SOURCE) -> Iterator[Quote]:
    """Rows of an eurofxref CSV (eurofxref.csv or eurofxref-hist.csv): `Date, USD, JPY, ...,` then one line a
    day; "N/A" where a currency was not quoted that day (before it joined, after it left)."""
    reader = csv.reader(lines, skipinitialspace=True)
    header = next(reader, None)
    if not header or header[0].strip() != "Date":
        raise PermanentError("the ECB CSV has no `Date, ...` header")
    currencies = [c.strip() for c in header[1:]]
    for line in reader:
        if not line or not line[0].strip():
            continue
        as_of = _csv_day(line[0])
        for currency, raw in zip(currencies, line[1:], strict=False):
            rate = _rate(raw)
            if currency and rate is not None:
                yield Quote(PIVOT, currency, rate, as_of, source)


@dataclass
class EcbProvider:
    """Fetches from the ECB through the hub's HttpClient (timeout, retries of transient failures, audit)."""

    name = "ecb"
    source = SOURCE
    audit: AuditSink = field(default_factory=LogAudit)
    base_url: str = BASE_URL
    # An ECB outage should not hold the refresh for minutes: the next provider is a fallback.
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3, max_seconds=5.0))
    timeout: tuple[float, float] = (5.0, 20.0)
    sleep: Callable[[float], None] = time.sleep

    def _client(self) -> HttpClient:
        return HttpClient(self.base_url, service=self.name, timeout=self.timeout, retry=self.retry,
                          audit=self.audit, sleep=self.sleep)

    def fetch(self, day: date | None) -> list[Quote]:
        if day is None:
            path = "eurofxref-daily.xml"
        elif day >= utcnow().date() - timedelta(days=RECENT_DAYS):
            path = "eurofxref-hist-90d.xml"
        else:
            path = "eurofxref-hist.xml"
        response = self._client().request("GET", path)
        return newest_on_or_before(parse_xml(response.text.encode()), day)
