"""Order files (CSV, one row per order line) -> canonical orders. Pure: no I/O, no clock.

The file format is documented in `hub.channels.csv` (the package docstring). In short: UTF-8 with or
without a BOM, a header row, comma or semicolon delimiter (told apart by the header, which must name
`order_id`), one row per order line, rows grouped by `order_id`. Order-level columns must carry the same
value on every row of an order.

Seller options (per channel, see `Options`): `timezone` (IANA name; naive timestamps are read in it),
`decimal_comma` (amounts use a decimal comma; never guessed), `statuses` (the seller's own status labels
-> canonical status names) and `country` (the channel's country, the last ship-to fallback).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.channels.port import ChannelAddress, ChannelLine, ChannelOrder
from hub.channels.rules import Level, canonical_status, total_mismatch
from hub.channels.values import MappingError, amount, country, quantity
from hub.money import is_currency

REQUIRED = ("order_id", "status", "currency", "placed_at", "sku", "quantity", "unit_price")
LINE_COLUMNS = ("sku", "title", "quantity", "unit_price", "line_total", "line_id")
ADDRESS_COLUMNS = {  # column -> ChannelAddress field
    "ship_name": "name", "ship_company": "company", "ship_line1": "line1", "ship_line2": "line2",
    "ship_city": "city", "ship_region": "region", "ship_postal_code": "postal_code", "ship_phone": "phone",
}
ORDER_COLUMNS = (
    "status", "currency", "placed_at", "updated_at", "order_total", "shipping", "tax", "discount",
    "prices_include_tax", "buyer_name", "buyer_email", "buyer_phone", "ship_country", "billing_country",
    *ADDRESS_COLUMNS,
)
KNOWN = frozenset({"order_id", *LINE_COLUMNS, *ORDER_COLUMNS})

# canonical status name -> (cancelled, refunded, fulfilled, delivered, paid)
STATUSES: dict[str, tuple[bool, Level, Level, bool, bool]] = {
    "pending": (False, Level.NONE, Level.NONE, False, False),
    "paid": (False, Level.NONE, Level.NONE, False, True),
    "partially_fulfilled": (False, Level.NONE, Level.PARTIAL, False, True),
    "fulfilled": (False, Level.NONE, Level.FULL, False, True),
    "delivered": (False, Level.NONE, Level.FULL, True, True),
    "partially_refunded": (False, Level.PARTIAL, Level.NONE, False, True),
    "refunded": (False, Level.FULL, Level.NONE, False, True),
    "cancelled": (True, Level.NONE, Level.NONE, False, False),
}
_LEVELS = {Level.NONE: 0, Level.PARTIAL: 1, Level.FULL: 2}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}
_GROUPED_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")  # 1.234,56 with decimal_comma


@dataclass(frozen=True)
class Options:
    """How one seller's files are read. Built from the channel's options by `Options.of`."""

    timezone: str | None = None  # IANA zone of naive timestamps; None: a naive timestamp is refused
    decimal_comma: bool = False  # "12,50" is 12.50; "." may then only group thousands ("1.234,50")
    statuses: Mapping[str, str] = field(default_factory=dict)  # seller label (any case) -> canonical name(s)
    country: str | None = None  # the channel's country: ship-to when neither ship_ nor billing_country is given

    def __post_init__(self) -> None:
        if self.timezone is not None:
            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"csv: timezone {self.timezone!r} is not an IANA time zone") from None
        for label, target in self.statuses.items():
            for name in _split_status(target):
                if name not in STATUSES:
                    raise ValueError(f"csv: status {label!r} maps to {name!r}, not one of {', '.join(STATUSES)}")

    @classmethod
    def of(cls, options: Mapping[str, Any] | None) -> Options:
        options = options or {}
        decimal_comma = options.get("decimal_comma", False)
        if isinstance(decimal_comma, str):
            decimal_comma = decimal_comma.strip().lower() in _TRUE
        statuses = options.get("statuses") or {}
        if not isinstance(statuses, Mapping):
            raise ValueError("csv: the statuses option must map seller labels to canonical status names")
        return cls(timezone=options.get("timezone") or None, decimal_comma=bool(decimal_comma),
                   statuses={str(k).strip().lower(): str(v) for k, v in statuses.items()},
                   country=options.get("country") or None)

    def as_dict(self) -> dict[str, Any]:
        """The options as `of` takes them (plain JSON), kept in every raw payload so that a replay of that payload
        alone (`normalize([raw])`) reads it as the pull did."""
        return {"timezone": self.timezone, "decimal_comma": self.decimal_comma, "statuses": dict(self.statuses),
                "country": self.country}


@dataclass(frozen=True)
class Parsed:
    """One file's worth: the orders that mapped and the ones that did not (external id, reason, raw rows)."""

    orders: tuple[ChannelOrder, ...]
    rejected: tuple[tuple[str, str, dict[str, Any]], ...]


def _split_status(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split("+") if part.strip()]


def _cell(value: object) -> str:
    return "" if value is None else str(value).strip()


# --- reading the file -----------------------------------------------------------------------------------------

def _delimiter(header_line: str) -> str:
    for delimiter in (",", ";"):
        names = [_cell(n).lower() for n in next(csv.reader([header_line], delimiter=delimiter), [])]
        if "order_id" in names:
            return delimiter
    raise MappingError("the first row must be a header naming order_id (comma or semicolon separated)")


def read_rows(text: str) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for each non-blank data row; column names lower-cased and stripped.

    A file-level problem (no header, a required column missing, a duplicated column) raises MappingError."""
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        return []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    header: list[str] | None = None
    rows: list[tuple[int, dict[str, Any]]] = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            _check_header(header)
            continue
        # Every column of the header, a short row's missing cells blank: the row read alone (a replay) has them all.
        row: dict[str, Any] = dict.fromkeys((name for name in header if name), "")
        row.update((name, value) for name, value in zip(header, cells, strict=False) if name)
        if len(cells) > len(header):
            row["__extra__"] = cells[len(header):]
        rows.append((reader.line_num, row))
    return rows


def _check_header(header: list[str]) -> None:
    duplicated = sorted({n for n in header if n and header.count(n) > 1})
    if duplicated:
        raise MappingError(f"header: duplicated column(s) {', '.join(duplicated)}")
    missing = [n for n in REQUIRED if n not in header]
    if missing:
        raise MappingError(f"header: missing required column(s) {', '.join(missing)}")


# --- values ---------------------------------------------------------------------------------------------------

def _amount(value: object, column: str, options: Options) -> Decimal | None:
    """An exact amount, None when blank. Strings follow the seller's decimal separator, nothing is guessed."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return amount(value, column)  # a JSON number (Decimal or int); a float is refused there
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    if options.decimal_comma:
        if "." in text:
            if not _GROUPED_COMMA.match(text):
                raise MappingError(f"{column}: {value!r} is not an amount with a decimal comma")
            text = text.replace(".", "")
        text = text.replace(",", ".")
    elif "," in text:
        raise MappingError(f"{column}: {value!r} has a comma; set the channel's decimal_comma option "
                           "if its files use a decimal comma")
    return amount(text, column)


def _time(value: object, column: str, options: Options, flags: list[str] | None = None) -> datetime:
    text = _cell(value)
    if not text:
        raise MappingError(f"{column}: missing timestamp")
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise MappingError(f"{column}: not an ISO 8601 timestamp: {text!r}") from None
    if parsed.tzinfo is None:
        if options.timezone is None:
            raise MappingError(f"{column}: timestamp without an offset ({text!r}) and the channel has no "
                               "timezone option")
        zone = ZoneInfo(options.timezone)
        naive, parsed = parsed, parsed.replace(tzinfo=zone)
        if parsed.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise MappingError(f"{column}: {text!r} does not exist in {options.timezone} (a clock change skips it)")
        if parsed.utcoffset() != parsed.replace(fold=1).utcoffset() and flags is not None:
            flags.append(f"{column} {text!r} is ambiguous in {options.timezone} (a clock change repeats it); "
                         "the earlier instant is taken")
    return parsed.astimezone(UTC)


def _flag(value: object, column: str) -> bool:
    text = _cell(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise MappingError(f"{column}: not a yes/no value: {value!r}")


def status_of(label: object, options: Options) -> Any:
    """The canonical status of a status cell: the seller's label (mapped by the `statuses` option) or canonical
    names, several joined by "+" ("fulfilled+partially_refunded"); precedence decides between them."""
    text = _cell(label).lower()
    if not text:
        raise MappingError("status: missing")
    names = _split_status(options.statuses.get(text, text))
    unknown = [n for n in names if n not in STATUSES]
    if unknown or not names:
        known = ", ".join([*STATUSES, *options.statuses])
        raise MappingError(f"status: unknown status {_cell(label)!r} (known: {known})")
    facts = [STATUSES[n] for n in names]
    return canonical_status(
        cancelled=any(f[0] for f in facts),
        refunded=max((f[1] for f in facts), key=_LEVELS.__getitem__),
        fulfilled=max((f[2] for f in facts), key=_LEVELS.__getitem__),
        delivered=any(f[3] for f in facts),
        paid=any(f[4] for f in facts),
    )


# --- one order ------------------------------------------------------------------------------------------------

def _order_field(order_id: str, rows: list[dict[str, Any]], column: str) -> str | Any:
    """An order-level cell, which every row of the order must agree on (blank counts as a value)."""
    values = [row.get(column) for row in rows]
    distinct = list(dict.fromkeys(_cell(v) for v in values))
    if len(distinct) > 1:
        shown = ", ".join(repr(v) for v in distinct[:4])
        raise MappingError(f"order {order_id}: rows disagree on {column} ({shown})")
    return values[0]


def map_order(order_id: str, rows: list[dict[str, Any]], options: Options | None = None) -> ChannelOrder:
    """The rows of one order (in file order) -> a canonical order; raises MappingError with the reason."""
    options = options or Options()
    if not order_id:
        raise MappingError("a row without an order_id")
    for row in rows:
        if "__extra__" in row:
            raise MappingError(f"order {order_id}: a row has more cells than the header has columns")
    try:
        return _map(order_id, rows, options)
    except MappingError as exc:
        message = str(exc)
        raise MappingError(message if message.startswith(f"order {order_id}:") else f"order {order_id}: {message}"
                           ) from None


def _map(order_id: str, rows: list[dict[str, Any]], options: Options) -> ChannelOrder:
    def order(column: str) -> Any:
        return _order_field(order_id, rows, column)

    currency = _cell(order("currency")).upper()
    if not is_currency(currency):
        raise MappingError(f"currency: not an ISO 4217 currency: {_cell(order('currency'))!r}")
    status = status_of(order("status"), options)
    flags: list[str] = []
    placed_at = _time(order("placed_at"), "placed_at", options, flags)
    updated = _cell(order("updated_at"))
    updated_at = _time(updated, "updated_at", options, flags) if updated else placed_at
    include_tax = _flag(order("prices_include_tax"), "prices_include_tax")

    lines: list[ChannelLine] = []
    subtotal: Decimal | None = Decimal(0)
    for index, row in enumerate(rows, start=1):
        where = f"line {index}"
        qty = quantity(_cell(row.get("quantity")), f"{where} quantity")
        unit_price = _amount(row.get("unit_price"), f"{where} unit_price", options)
        given_total = _amount(row.get("line_total"), f"{where} line_total", options)
        gross = unit_price * qty if unit_price is not None else None
        line_total = given_total if given_total is not None else gross
        discount = gross - given_total if gross is not None and given_total is not None else Decimal(0)
        sku = _cell(row.get("sku"))
        if not sku:
            raise MappingError(f"{where}: missing sku")
        lines.append(ChannelLine(sku=sku, title=_cell(row.get("title")), quantity=qty, unit_price=unit_price,
                                 line_total=line_total, discount=discount, external_line_id=_cell(row.get("line_id"))))
        subtotal = None if subtotal is None or gross is None else subtotal + gross

    total = _amount(order("order_total"), "order_total", options)
    shipping = _amount(order("shipping"), "shipping", options)
    tax = _amount(order("tax"), "tax", options)
    discount_total = _amount(order("discount"), "discount", options)
    mismatch = total_mismatch(currency, total, subtotal=subtotal, discount=discount_total, shipping=shipping,
                              tax=tax, tax_included=include_tax)
    if mismatch:
        flags.append(mismatch)

    address = ChannelAddress(**{name: _cell(order(column)) for column, name in ADDRESS_COLUMNS.items()},
                             country=country(_cell(order("ship_country"))))
    shipping_address = None if address == ChannelAddress() else address
    billing_country = country(_cell(order("billing_country")))
    billing_address = ChannelAddress(country=billing_country) if billing_country else None
    ship_to = address.country or billing_country or country(options.country)

    return ChannelOrder(
        external_id=order_id, status=status, currency=currency, total=total, subtotal=subtotal, shipping=shipping,
        tax=tax, discount=discount_total, placed_at=placed_at, updated_at=updated_at, lines=tuple(lines),
        ship_to_country=ship_to, buyer_name=_cell(order("buyer_name")),
        buyer_email=_cell(order("buyer_email")) or None, buyer_phone=_cell(order("buyer_phone")) or None,
        shipping_address=shipping_address, billing_address=billing_address, prices_include_tax=include_tax,
        flags=tuple(flags), raw={"options": options.as_dict(), "rows": [dict(row) for row in rows]},
    )


# --- a file ---------------------------------------------------------------------------------------------------

def parse(content: str | Iterable[Mapping[str, Any]], options: Options | None = None, source: str = "") -> Parsed:
    """A file's text (or its rows as dicts) -> the orders that map and the rejected ones with their raw rows.

    A file-level problem (no header, a required column missing) raises MappingError; an order-level one
    rejects that order only and the rest of the file goes on."""
    options = options or Options()
    if isinstance(content, str):
        numbered = read_rows(content)
    else:
        numbered = []
        for index, row in enumerate(content, start=2):
            if not isinstance(row, Mapping):
                raise MappingError(f"row {index - 1}: not an object")
            numbered.append((index, {_cell(k).lower(): v for k, v in row.items()}))
        if numbered:
            _check_header(list(numbered[0][1]))
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for line, row in numbered:
        groups.setdefault(_cell(row.get("order_id")), []).append((line, row))
    orders: list[ChannelOrder] = []
    rejected: list[tuple[str, str, dict[str, Any]]] = []
    for order_id, members in groups.items():
        rows = [row for _, row in members]
        try:
            orders.append(map_order(order_id, rows, options))
        except MappingError as exc:
            raw: dict[str, Any] = {"options": options.as_dict(), "lines": [line for line, _ in members],
                                   "rows": [dict(r) for r in rows]}
            if source:
                raw["file"] = source
            rejected.append((order_id, str(exc), raw))
    return Parsed(tuple(orders), tuple(rejected))


def _bodies(body: Any, options: Options) -> tuple[Any, Options]:
    # {"options": {...}, "csv": "..."} or {"options": {...}, "rows": [...]}: the latter is also the raw payload of a
    # mapped or rejected order (ChannelOrder.raw, OrderPage.rejected), which therefore replays on its own.
    if isinstance(body, Mapping):
        content = body.get("csv", body.get("rows"))
        return content, Options.of(body.get("options")) if "options" in body else options
    return body, options


def normalize(bodies: list[Any], options: Options | Mapping[str, Any] | None = None) -> list[ChannelOrder]:
    """File contents -> canonical orders. A body is a file's text, a list of row dicts, or an object
    {"options": {...}, "csv": "<text>"} / {"options": {...}, "rows": [...]} carrying the seller's options.

    An unmappable order raises MappingError naming it and its reason, as the other connectors' normalize
    does (`parse` returns the good orders and the rejects side by side); the same order in several bodies is
    joined by id and the copy updated last wins (on a tie, the later body)."""
    defaults = options if isinstance(options, Options) else Options.of(options)
    latest: dict[str, ChannelOrder] = {}
    for body in bodies:
        content, chosen = _bodies(body, defaults)
        if not isinstance(content, str | list | tuple):
            raise MappingError(f"not a CSV body: {type(content).__name__}")
        parsed = parse(content, chosen)
        if parsed.rejected:
            raise MappingError("; ".join(reason for _, reason, _ in parsed.rejected))
        for order in parsed.orders:
            known = latest.get(order.external_id)
            if known is None or order.updated_at >= known.updated_at:
                latest[order.external_id] = order
    return list(latest.values())
