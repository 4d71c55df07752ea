"""Where exchange rates come from: one port, one adapter per source.

    provider.fetch(None)  -> the newest published quotes (1 EUR = x)
    provider.fetch(day)   -> the quotes published on `day`, or on the newest publishing day before it

Every adapter returns EUR-based rows as hub.currency.rates.Quote (its `source` is what FxRate.source stores),
and raises hub.errors.ExternalError (TransientError / PermanentError) when it cannot answer, so the store can
try the next provider. Adapters do no database work: storing is hub.currency.store's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Protocol

from hub.currency.rates import Quote
from hub.outbound.audit import AuditSink, LogAudit


class RateProvider(Protocol):
    name: str  # as FX_PROVIDERS spells it
    source: str  # as FxRate.source stores it

    def fetch(self, day: date | None) -> list[Quote]: ...


def newest_on_or_before(rows: Iterable[Quote], day: date | None) -> list[Quote]:
    """The rows of the newest day not after `day` (any day when None): a source publishes on working days only."""
    chosen = [r for r in rows if day is None or r.as_of <= day]
    if not chosen:
        return []
    newest = max(r.as_of for r in chosen)
    return [r for r in chosen if r.as_of == newest]


def parse_names(raw: str | Sequence[str]) -> list[str]:
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    return [n.strip() for n in names if n.strip()]


def build_providers(settings: Mapping[str, Any], audit: AuditSink | None = None,
                    only: str | None = None) -> list[RateProvider]:
    """The providers named by FX_PROVIDERS, in that order (or just `only`). Unknown names are refused early."""
    from hub.currency.providers.ecb import EcbProvider
    from hub.currency.providers.forex import ForexPythonProvider
    from hub.currency.providers.offline import OfflineProvider

    sink = audit or LogAudit()
    makers = {
        EcbProvider.name: lambda: EcbProvider(audit=sink),
        ForexPythonProvider.name: lambda: ForexPythonProvider(
            audit=sink, deadline_seconds=float(settings.get("FX_CALL_DEADLINE_SECONDS", 10))),
        OfflineProvider.name: OfflineProvider,
    }
    names = [only] if only else parse_names(settings.get("FX_PROVIDERS", "ecb,forex-python,offline"))
    unknown = [n for n in names if n not in makers]
    if unknown:
        raise ValueError(f"unknown rate provider(s) {', '.join(unknown)}; known: {', '.join(makers)}")
    return [makers[n]() for n in names]
