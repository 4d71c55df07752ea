"""The CSV connector against real folders (tmp_path): order files in, stock files out. No HTTP."""

from __future__ import annotations

import csv
import hashlib
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from hub.channels import registry
from hub.channels.csv import SPEC, CsvConnector
from hub.channels.port import StockUpdate, capabilities_of
from hub.channels.registry import Connection
from hub.orders.status import OrderStatus

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)
HEADER = "order_id,status,currency,placed_at,updated_at,sku,title,quantity,unit_price,order_total,shipping,ship_country"


def line(order_id: str, updated: str = "2026-03-01T10:00:00Z", **changes: str) -> str:
    values = {"order_id": order_id, "status": "paid", "currency": "EUR", "placed_at": "2026-03-01T10:00:00Z",
              "updated_at": updated, "sku": "MUG-1", "title": "Mug", "quantity": "2", "unit_price": "12.50",
              "order_total": "29.90", "shipping": "4.90", "ship_country": "DE"}
    values.update(changes)
    return ",".join(values[c] for c in HEADER.split(","))


def drop(folder: Path, name: str, *lines: str, data: bytes | None = None) -> Path:
    path = folder / name
    path.write_bytes(data if data is not None else ("\n".join([HEADER, *lines]) + "\n").encode())
    return path


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    inbox, outbox = tmp_path / "inbox", tmp_path / "outbox"
    inbox.mkdir()
    return inbox, outbox


def connector(folders: tuple[Path, Path], now: datetime | None = None, **options: Any) -> CsvConnector:
    inbox, outbox = folders
    connection = Connection(base_url="", credentials={}, options={"inbox": str(inbox), "outbox": str(outbox),
                                                                  **options})
    return CsvConnector(connection, now=(lambda: now) if now else None)


def digests(folder: Path) -> dict[str, tuple[str, int]]:
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in folder.iterdir()}


# --- the spec ----------------------------------------------------------------------------------------------------

def test_spec_passes_the_registry_check() -> None:
    assert registry.check(SPEC, "csv") is SPEC
    assert SPEC.capabilities == ("orders", "inventory") and SPEC.sandbox is None and SPEC.title == "CSV files"


def test_the_connector_has_its_capabilities(folders: tuple[Path, Path]) -> None:
    assert capabilities_of(connector(folders)) == ["orders", "inventory"]


def test_inbox_and_outbox_are_required_and_distinct(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    with pytest.raises(ValueError, match="required"):
        CsvConnector(Connection(base_url="", credentials={}, options={"inbox": str(inbox)}))
    with pytest.raises(ValueError, match="different"):
        CsvConnector(Connection(base_url="", credentials={}, options={"inbox": str(inbox), "outbox": str(inbox)}))


# --- orders ------------------------------------------------------------------------------------------------------

def test_one_file_per_page_in_name_order_with_a_resumable_cursor(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "2026-03-02.csv", line("B-1"), line("B-2"))
    drop(inbox, "2026-03-01.csv", line("A-1"))
    drop(inbox, "2026-03-03.csv", line("C-1"))
    (inbox / "notes.txt").write_text("not an order file")
    hub = connector(folders)

    first = hub.pull_orders(LONG_AGO)
    assert [o.external_id for o in first.orders] == ["A-1"] and first.next_cursor == "2026-03-02.csv"
    second = hub.pull_orders(LONG_AGO, first.next_cursor)
    assert [o.external_id for o in second.orders] == ["B-1", "B-2"]
    # resuming from a saved cursor, with a fresh connector, gives the same page again
    assert connector(folders).pull_orders(LONG_AGO, first.next_cursor) == second
    third = hub.pull_orders(LONG_AGO, second.next_cursor)
    assert [o.external_id for o in third.orders] == ["C-1"] and third.next_cursor is None
    assert third.orders[0].status is OrderStatus.PAID and third.orders[0].total == Decimal("29.90")


def test_an_empty_inbox_is_one_empty_last_page(folders: tuple[Path, Path]) -> None:
    page = connector(folders).pull_orders(LONG_AGO)
    assert page.orders == () and page.rejected == () and page.next_cursor is None


def test_a_cursor_whose_file_has_gone_resumes_at_the_next_name(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "a.csv", line("A-1"))
    drop(inbox, "c.csv", line("C-1"))
    page = connector(folders).pull_orders(LONG_AGO, "b.csv")
    assert [o.external_id for o in page.orders] == ["C-1"] and page.next_cursor is None


def test_since_keeps_orders_updated_at_or_after_it(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "orders.csv", line("OLD", "2026-03-01T09:59:59Z"), line("EDGE", "2026-03-01T10:00:00Z"),
         line("NEW", "2026-03-01T12:00:00+01:00"), line("LATER", "2026-03-05T08:00:00Z"))
    page = connector(folders).pull_orders(datetime(2026, 3, 1, 10, tzinfo=UTC))
    assert [o.external_id for o in page.orders] == ["EDGE", "NEW", "LATER"]
    with pytest.raises(ValueError, match="aware"):
        connector(folders).pull_orders(datetime(2026, 3, 1))


def test_rejected_orders_come_with_their_raw_rows_and_the_rest_goes_on(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "orders.csv", line("A-1"), line("A-1", sku="TEA", unit_price="0", currency="USD"), line("A-2"))
    page = connector(folders).pull_orders(LONG_AGO)
    assert [o.external_id for o in page.orders] == ["A-2"]
    [(order_id, reason, raw)] = page.rejected
    assert order_id == "A-1" and "currency" in reason and raw["file"] == "orders.csv"
    assert [r["currency"] for r in raw["rows"]] == ["EUR", "USD"] and raw["lines"] == [2, 3]


def test_an_unreadable_file_is_one_rejection_and_paging_goes_on(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "a.csv", data="order_id,status\n1,bezahlt für\n".encode("latin-1"))
    drop(inbox, "b.csv", data=b"sku,available\nMUG,3\n")
    drop(inbox, "c.csv", line("C-1"))
    hub = connector(folders)
    a = hub.pull_orders(LONG_AGO)
    assert a.orders == () and "not UTF-8" in a.rejected[0][1] and a.rejected[0][2] == {"file": "a.csv"}
    b = hub.pull_orders(LONG_AGO, a.next_cursor)
    assert b.orders == () and "b.csv: " in b.rejected[0][1] and "order_id" in b.rejected[0][1]
    c = hub.pull_orders(LONG_AGO, b.next_cursor)
    assert [o.external_id for o in c.orders] == ["C-1"]


def test_options_reach_the_mapping(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "pos.csv", data=("\ufefforder_id;status;currency;placed_at;sku;quantity;unit_price;order_total\n"
                                 "7;Bezahlt;EUR;2026-07-01 12:00;MUG-1;1;12,50;12,50\n").encode())
    hub = connector(folders, timezone="Europe/Berlin", decimal_comma=True, statuses={"Bezahlt": "paid"},
                    country="DE")
    [order] = hub.pull_orders(LONG_AGO).orders
    assert order.placed_at == datetime(2026, 7, 1, 10, tzinfo=UTC) and order.total == Decimal("12.50")
    assert order.status is OrderStatus.PAID and order.ship_to_country == "DE"


def test_inbox_files_are_never_modified_and_rereading_is_idempotent(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "a.csv", line("A-1"), line("A-2", currency="??"))
    drop(inbox, "b.csv", line("B-1"))
    before = digests(inbox)
    hub = connector(folders)

    def everything() -> list[Any]:
        pages, cursor = [], None
        while True:
            page = hub.pull_orders(LONG_AGO, cursor)
            pages.append(page)
            cursor = page.next_cursor
            if cursor is None:
                return pages

    assert everything() == everything()
    assert digests(inbox) == before


# --- stock -------------------------------------------------------------------------------------------------------

def read_stock(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_stock_file_is_written_and_reads_back(folders: tuple[Path, Path]) -> None:
    _, outbox = folders
    now = datetime(2026, 3, 1, 11, 5, 9, tzinfo=UTC)
    updates = [StockUpdate("MUG-1", 7), StockUpdate("TEA, green", 0), StockUpdate("Jürgen's ☕", 99999)]
    results = connector(folders, now=now).push_stock(updates)
    assert [(r.sku, r.ok) for r in results] == [("MUG-1", True), ("TEA, green", True), ("Jürgen's ☕", True)]
    assert sorted(p.name for p in outbox.iterdir()) == ["stock-20260301T110509Z.csv"]
    assert read_stock(outbox / "stock-20260301T110509Z.csv") == [
        {"sku": "MUG-1", "available": "7"}, {"sku": "TEA, green", "available": "0"},
        {"sku": "Jürgen's ☕", "available": "99999"}]
    assert (outbox / "stock-20260301T110509Z.csv").stat().st_mode & 0o444 == 0o444


def test_the_stock_file_name_is_utc(folders: tuple[Path, Path]) -> None:
    _, outbox = folders
    from zoneinfo import ZoneInfo

    connector(folders, now=datetime(2026, 3, 1, 12, 0, 0, tzinfo=ZoneInfo("Europe/Berlin"))).push_stock(
        [StockUpdate("MUG-1", 1)])
    assert [p.name for p in outbox.iterdir()] == ["stock-20260301T110000Z.csv"]


def test_stock_is_written_atomically_through_a_temp_file_in_the_same_folder(
        folders: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    _, outbox = folders
    replaced: list[tuple[str, str, list[dict[str, str]]]] = []
    real_replace = os.replace

    def spy(source: Any, target: Any) -> None:
        replaced.append((str(source), str(target), read_stock(Path(source))))
        assert not Path(target).exists()  # the final name appears only complete, by the rename
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spy)
    connector(folders, now=datetime(2026, 3, 1, tzinfo=UTC)).push_stock([StockUpdate("MUG-1", 3)])
    [(source, target, content)] = replaced
    assert Path(source).parent == outbox and Path(target) == outbox / "stock-20260301T000000Z.csv"
    assert not source.endswith(".csv") and content == [{"sku": "MUG-1", "available": "3"}]
    assert [p.name for p in outbox.iterdir()] == ["stock-20260301T000000Z.csv"]  # no temp file left


def test_a_failed_write_leaves_no_file_and_reports_every_sku(folders: tuple[Path, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _, outbox = folders

    def broken(source: Any, target: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    results = connector(folders).push_stock([StockUpdate("MUG-1", 3), StockUpdate("TEA", 1)])
    assert [(r.ok, "disk full" in r.message) for r in results] == [(False, True), (False, True)]
    assert list(outbox.iterdir()) == []


def test_two_pushes_in_one_second_never_overwrite(folders: tuple[Path, Path]) -> None:
    _, outbox = folders
    hub = connector(folders, now=datetime(2026, 3, 1, tzinfo=UTC))
    hub.push_stock([StockUpdate("MUG-1", 3)])
    hub.push_stock([StockUpdate("MUG-1", 2)])
    names = sorted(p.name for p in outbox.iterdir())
    assert names == ["stock-20260301T000000Z-1.csv", "stock-20260301T000000Z.csv"]
    assert read_stock(outbox / names[0]) == [{"sku": "MUG-1", "available": "2"}]


def test_invalid_updates_fail_alone_and_nothing_is_written_for_none(folders: tuple[Path, Path]) -> None:
    _, outbox = folders
    hub = connector(folders, now=datetime(2026, 3, 1, tzinfo=UTC))
    results = hub.push_stock([StockUpdate("", 1), StockUpdate("MUG-1", -2), StockUpdate("TEA", 4)])
    assert [(r.sku, r.ok) for r in results] == [("", False), ("MUG-1", False), ("TEA", True)]
    assert read_stock(outbox / "stock-20260301T000000Z.csv") == [{"sku": "TEA", "available": "4"}]
    assert hub.push_stock([]) == []
    assert len(list(outbox.iterdir())) == 1


def test_stock_files_do_not_touch_the_inbox(folders: tuple[Path, Path]) -> None:
    inbox, _ = folders
    drop(inbox, "a.csv", line("A-1"))
    before = digests(inbox)
    connector(folders).push_stock([StockUpdate("MUG-1", 1)])
    assert digests(inbox) == before
