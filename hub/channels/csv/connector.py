"""CSV connector: order files dropped in an inbox folder, stock files written to an outbox folder. No HTTP.

Options: `inbox` (folder of incoming *.csv order files), `outbox` (folder the stock files are written to),
`timezone` (IANA zone of naive timestamps), `decimal_comma` (amounts use a decimal comma), `statuses`
(seller label -> canonical status) and `country` (ship-to fallback). No credentials; `base_url` is unused.

Inbox files are only read, never modified, moved or deleted: every pull reads them again, which is
idempotent because the sync engine upserts orders by external id.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.channels.csv.mapping import Options, parse
from hub.channels.port import ChannelOrder, OrderPage, PushResult, StockUpdate
from hub.channels.registry import Connection
from hub.channels.values import MappingError


def stock_file_name(moment: datetime, attempt: int = 0) -> str:
    stamp = moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"stock-{stamp}.csv" if attempt == 0 else f"stock-{stamp}-{attempt}.csv"


class CsvConnector:
    def __init__(self, connection: Connection, now: Callable[[], datetime] | None = None) -> None:
        self.connection = connection
        options = connection.options
        if not options.get("inbox") or not options.get("outbox"):
            raise ValueError("csv: the inbox and outbox options are required")
        self.inbox = Path(options["inbox"])
        self.outbox = Path(options["outbox"])
        if self.inbox.resolve() == self.outbox.resolve():
            raise ValueError("csv: inbox and outbox must be different folders (stock files would be read as orders)")
        self.options = Options.of(options)
        self.now = now or (lambda: datetime.now(UTC))

    # --- orders ---------------------------------------------------------------------------------------------
    def files(self) -> list[str]:
        if not self.inbox.is_dir():
            raise FileNotFoundError(f"csv: inbox {self.inbox} is not a folder")
        return sorted(p.name for p in self.inbox.iterdir() if p.suffix.lower() == ".csv" and p.is_file())

    def pull_orders(self, since: datetime, cursor: str | None = None) -> OrderPage:
        """One inbox file per page, in name order; the cursor is the name of the next file to read.

        Orders updated at or after `since` are returned; unmappable orders are rejected with their raw rows, and
        a file that cannot be read at all (not UTF-8, no header) is one rejection naming the file. A cursor whose
        file has gone resumes at the next name after it."""
        if since.tzinfo is None:
            raise ValueError("since must be timezone-aware")
        names = [n for n in self.files() if cursor is None or n >= cursor]
        if not names:
            return OrderPage((), (), None)
        name = names[0]
        next_cursor = names[1] if len(names) > 1 else None
        orders: tuple[ChannelOrder, ...] = ()
        rejected: list[tuple[str, str, dict[str, Any]]] = []
        try:
            text = (self.inbox / name).read_bytes().decode("utf-8-sig")
            parsed = parse(text, self.options, source=name)
        except UnicodeDecodeError as exc:
            rejected.append(("", f"{name}: not UTF-8 ({exc.reason} at byte {exc.start})", {"file": name}))
        except MappingError as exc:
            rejected.append(("", f"{name}: {exc}", {"file": name}))
        else:
            orders = tuple(o for o in parsed.orders if o.updated_at >= since)
            rejected.extend(parsed.rejected)
        return OrderPage(orders, tuple(rejected), next_cursor)

    # --- stock ----------------------------------------------------------------------------------------------
    def push_stock(self, updates: list[StockUpdate]) -> list[PushResult]:
        """Writes one `stock-YYYYMMDDTHHMMSSZ.csv` (sku,available) to the outbox, atomically: a temp file in the
        same folder, fsynced, then renamed into place. A name already taken (two pushes in one second) gets a
        `-1`, `-2`, ... suffix rather than overwriting a file the seller may not have uploaded yet."""
        results: dict[int, PushResult] = {}
        rows: dict[str, int] = {}  # sku -> available; a SKU given twice: the last one wins
        for index, update in enumerate(updates):
            if not update.sku.strip():
                results[index] = PushResult(update.sku, False, "empty SKU")
            elif isinstance(update.available, bool) or not isinstance(update.available, int) or update.available < 0:
                results[index] = PushResult(update.sku, False, f"not a stock level: {update.available!r}")
            else:
                rows[update.sku] = update.available
        if rows:
            try:
                path = self._write(rows)
            except OSError as exc:
                message = f"stock file not written: {exc}"
                return [results.get(i) or PushResult(u.sku, False, message) for i, u in enumerate(updates)]
            for index, update in enumerate(updates):
                results.setdefault(index, PushResult(update.sku, True, f"written to {path.name}"))
        return [results[i] for i in range(len(updates))]

    def _write(self, rows: dict[str, int]) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        moment = self.now()
        descriptor, temp_name = tempfile.mkstemp(dir=self.outbox, prefix=".stock-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["sku", "available"])
                writer.writerows(rows.items())
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp_name, 0o644)  # mkstemp makes it 0600; the seller (another user, perhaps) must read it
            attempt = 0
            while (self.outbox / stock_file_name(moment, attempt)).exists():
                attempt += 1
            target = self.outbox / stock_file_name(moment, attempt)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return target
