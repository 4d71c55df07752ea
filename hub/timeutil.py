"""Time is kept in UTC and timezone-aware everywhere; local time exists only on screen."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Aware datetime in UTC; a naive one is refused rather than guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: give a timezone (e.g. 2026-11-25T10:00:00Z)")
    return value.astimezone(UTC)
