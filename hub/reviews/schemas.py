"""Validated inputs for reviews (shared by the buyer API and the dashboard)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from hub.accounts.schemas import Strict
from hub.db import MAX_ID

MAX_PHOTOS = 6
MAX_PHOTO_URL = 500
RATINGS = range(1, 6)


def check_photo_url(value: str) -> str:
    """An absolute http(s) URL with a host: a photo the dashboard can link to, never javascript: or data:."""
    if len(value) > MAX_PHOTO_URL:
        raise ValueError(f"a photo URL may have at most {MAX_PHOTO_URL} characters")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("a photo must be an http(s) URL with a host")
    if any(c.isspace() for c in value):
        raise ValueError("a photo URL may not contain spaces")
    return value


class ReviewIn(Strict):
    rating: int = Field(ge=1, le=5, description="1 to 5 stars")
    title: str = Field(default="", max_length=200)
    body: str = Field(default="", max_length=5000)
    photos: list[str] = Field(default_factory=list, max_length=MAX_PHOTOS,
                              description=f"Up to {MAX_PHOTOS} photo URLs (http or https)")

    @field_validator("photos")
    @classmethod
    def _photos(cls, value: list[str]) -> list[str]:
        checked = [check_photo_url(url.strip()) for url in value]
        if len(set(checked)) != len(checked):
            raise ValueError("the same photo is given twice")
        return checked


class ReviewFilters(Strict):
    """The dashboard's Reviews list: by channel, by rating, only the ones flagged for follow-up."""

    channel_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    rating: int | None = Field(default=None, ge=1, le=5)
    flagged: bool = False
    product_id: int | None = Field(default=None, ge=1, le=MAX_ID)
