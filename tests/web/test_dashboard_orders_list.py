"""The Orders page: filters, search, sorts with keyset pages both ways, signed cursors, the CSV export, the detail."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from hub.orders import services as orders
from hub.orders.models import Fulfillment, Order, OrderLine
from hub.orders.schemas import OrderListQuery
from hub.orders.status import OrderStatus
from tests.web.support import browser, make_shop, scoped, text
from tests.web.test_dashboard_orders import add_product, order_refs, place

PLACED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def add_orders(sessions, actor, count: int, *, prefix="B", placed=None, total="10.00", buyer="Bulk Buyer",
               country="DE", currency="EUR") -> None:
    """`count` orders inserted in one statement: equal placed dates and totals unless told otherwise."""
    with scoped(sessions, actor) as session, session.begin():
        channel_id = orders.direct_channel(session, actor.seller_id).id
        rows = [{"seller_id": actor.seller_id, "channel_id": channel_id, "external_id": f"{prefix}-{i:05d}",
                 "status": OrderStatus.PENDING, "currency": currency, "subtotal": Decimal(total),
                 "discount_total": Decimal(0), "shipping_total": Decimal(0), "tax_total": Decimal(0),
                 "grand_total": Decimal(total), "refunded_total": Decimal(0), "buyer_name": buyer,
                 "buyer_email": "bulk@example.com", "ship_country": country,
                 "placed_at": placed(i) if callable(placed) else (placed or PLACED), "updated_at": PLACED,
                 "raw_payload": {"n": i}, "note": "", "flags": []} for i in range(count)]
        session.execute(sa.insert(Order), rows)


def walk(b, first_url: str, way: str = "next") -> list[list[str]]:
    """The order references of every page reached by following the next (or previous) links."""
    pages, url = [], first_url
    while url:
        page = text(b.get(url))
        pages.append(order_refs(page))
        link = re.search(rf'rel="{way}" href="([^"]+)"', page)
        url = link.group(1).replace("&amp;", "&") if link else None
    return pages


def test_every_sort_pages_through_equal_keys_without_repeating_or_missing_an_order(app, sessions, alice):
    make_shop(sessions, alice.actor)  # one more order, placed now with its own total
    # 7 orders share one placed date, two totals alternate: ties at every page boundary of 3.
    add_orders(sessions, alice.actor, 7, prefix="T", total="10.00")
    add_orders(sessions, alice.actor, 5, prefix="U", total="99.50", placed=lambda i: PLACED + timedelta(days=i % 2))
    b = browser(app, alice)
    with sessions() as session:
        everything = session.execute(sa.select(Order.external_id, Order.placed_at, Order.grand_total, Order.id)
                                     .where(Order.seller_id == alice.seller_id)).all()
    expected = {
        "newest": sorted(everything, key=lambda r: (r.placed_at, r.id), reverse=True),
        "oldest": sorted(everything, key=lambda r: (r.placed_at, r.id)),
        "total_high": sorted(everything, key=lambda r: (r.grand_total, r.id), reverse=True),
        "total_low": sorted(everything, key=lambda r: (r.grand_total, r.id)),
    }
    for sort, rows in expected.items():
        refs = [r.external_id for r in rows]
        pages = walk(b, f"/orders?sort={sort}&limit=3")
        assert [ref for page in pages for ref in page] == refs, sort
        assert [len(page) for page in pages] == [3, 3, 3, 3, 1], sort
        # From the last page back to the first through the previous links: the same pages in reverse.
        last = text(b.get(f"/orders?sort={sort}&limit=3"))
        url = None
        while (link := re.search(r'rel="next" href="([^"]+)"', last)):
            url = link.group(1).replace("&amp;", "&")
            last = text(b.get(url))
        assert walk(b, url, "prev") == pages[::-1], sort


def test_the_first_page_has_no_previous_link_and_the_last_no_next_link(app, sessions, alice):
    make_shop(sessions, alice.actor)
    add_orders(sessions, alice.actor, 3)
    b = browser(app, alice)
    first = text(b.get("/orders?limit=2"))
    assert 'rel="prev"' not in first and 'rel="next"' in first
    last = text(b.get(re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")))
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert 'rel=' not in text(b.get("/orders?limit=10")).partition('class="pager"')[2]


def test_a_changed_or_foreign_cursor_is_refused_with_a_422_and_a_message(app, sessions, alice):
    make_shop(sessions, alice.actor)
    add_orders(sessions, alice.actor, 4)
    b = browser(app, alice)
    cursor = re.search(r'cursor=([^"&]+)', text(b.get("/orders?limit=2"))).group(1)
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    for url in (f"/orders?limit=2&cursor={tampered}", "/orders?cursor=not-a-cursor",
                f"/orders?limit=2&sort=total_low&cursor={cursor}",  # made for another sort
                "/orders?cursor=" + "x" * 600):
        response = b.get(url)
        assert response.status_code == 422, url
        assert "this page link is not valid" in text(response) or "at most 500 characters" in text(response), url
    assert b.get(f"/orders?limit=2&cursor={cursor}").status_code == 200


def test_the_list_filters_by_channel_unmatched_lines_and_currency(app, sessions, alice):
    make_shop(sessions, alice.actor, on_hand=50)
    add_orders(sessions, alice.actor, 2, prefix="USD", currency="USD")
    with scoped(sessions, alice.actor) as session, session.begin():
        order = session.scalar(sa.select(Order).where(Order.external_id == "USD-00001"))
        session.add(OrderLine(seller_id=alice.seller_id, order_id=order.id, line_no=1, sku="GONE-1", title="Gone",
                              quantity=1, unit_price=Decimal(10), line_total=Decimal(10)))
    b = browser(app, alice)
    assert order_refs(text(b.get("/orders?unmatched=true"))) == ["USD-00001"]
    assert "USD-00001" not in order_refs(text(b.get("/orders?unmatched=false")))
    assert sorted(order_refs(text(b.get("/orders?currency=usd")))) == ["USD-00000", "USD-00001"]
    page = text(b.get("/orders?channel=direct"))
    assert len(order_refs(page)) == 3 and '<option value="direct" selected>' in page
    assert order_refs(text(b.get("/orders?channel=Nope"))) == []


def test_search_finds_by_external_id_buyer_name_or_email_and_sku_and_treats_wildcards_literally(app, sessions,
                                                                                                alice):
    make_shop(sessions, alice.actor, on_hand=50)
    add_product(sessions, alice.actor, "MUG-9")
    place(sessions, alice.actor, sku="MUG-9", buyer="Zoë 100% Real", external_id="Z-1")
    b = browser(app, alice)
    assert order_refs(text(b.get("/orders?q=Z-1"))) == ["Z-1"]
    assert order_refs(text(b.get("/orders?q=zoë"))) == ["Z-1"]
    assert order_refs(text(b.get("/orders?q=100%25"))) == ["Z-1"]
    assert order_refs(text(b.get("/orders?q=%25"))) == ["Z-1"]  # "%" matches a literal percent only
    assert order_refs(text(b.get("/orders?q=_"))) == []
    assert order_refs(text(b.get("/orders?q=MUG-9"))) == ["Z-1"]
    assert len(order_refs(text(b.get("/orders?q=ANNA@EXAMPLE.COM")))) == 1


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_export_has_the_filtered_orders_with_base_currency_amounts_and_no_formulas(app, sessions, alice):
    make_shop(sessions, alice.actor)  # €30.70, converted at rate 1 into the base currency EUR
    add_orders(sessions, alice.actor, 1, prefix="=HYPERLINK", buyer="@SUM(A1)+cmd", country="FR")
    add_orders(sessions, alice.actor, 1, prefix="-2", buyer="+1 555", country="FR")
    b = browser(app, alice)
    response = b.get("/orders/export.csv?sort=oldest")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:5] == ["external_id", "channel", "placed_at_utc", "status", "currency"]
    assert [r[0] for r in rows] == ["'=HYPERLINK-00000", "'-2-00000", rows[2][0]]
    assert [r[header.index("buyer_name")] for r in rows[:2]] == ["'@SUM(A1)+cmd", "'+1 555"]
    shop = dict(zip(header, rows[2], strict=True))
    assert shop["placed_at_utc"].endswith("+00:00") and shop["status"] == "pending"
    assert (shop["grand_total"], shop["tax_total"], shop["base_currency"], shop["base_grand_total"],
            shop["fx_rate"]) == ("30.70", "4.90", "EUR", "30.70", "1")
    assert shop["buyer_email"] == "anna@example.com" and shop["ship_country"] == "DE"
    assert len(read_csv(b.get("/orders/export.csv?country=FR"))) == 3
    assert b.get("/orders/export.csv?from=yesterday").status_code == 422


def test_bob_exports_only_his_own_orders(app, sessions, alice, bob):
    make_shop(sessions, alice.actor, sku="ALICE-1")
    add_orders(sessions, alice.actor, 3, prefix="ALICE")
    make_shop(sessions, bob.actor, sku="BOB-1")
    rows = read_csv(browser(app, bob).get("/orders/export.csv"))
    assert len(rows) == 2 and "ALICE" not in str(rows) and rows[1][-3:] == ["Anna Schmidt", "anna@example.com",
                                                                             "DE"]
    assert read_csv(browser(app, bob).get("/orders/export.csv?q=ALICE-00001")) == [rows[0]]


def test_an_export_of_thousands_of_orders_streams_in_batches_with_each_order_once(app, sessions, alice):
    make_shop(sessions, alice.actor)
    # Equal placed dates across the 1,000-row batch boundaries: the keyset must break the ties by id.
    add_orders(sessions, alice.actor, 2345, placed=lambda i: PLACED + timedelta(hours=i // 700))
    response = browser(app, alice).client.get("/orders/export.csv", buffered=False)
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) >= 3  # header + first batch, second batch, the rest: never one buffered body
    rows = list(csv.reader(io.StringIO("".join(c.decode() if isinstance(c, bytes) else c for c in chunks))))
    response.close()
    refs = [r[0] for r in rows[1:]]
    assert len(refs) == 2346 and len(set(refs)) == 2346


def test_export_rows_reads_keyset_batches_across_equal_totals(app, sessions, alice):
    make_shop(sessions, alice.actor)
    add_orders(sessions, alice.actor, 25, total="7.00")
    with scoped(sessions, alice.actor) as session:
        for sort in ("newest", "oldest", "total_high", "total_low"):
            rows = list(orders.export_rows(session, alice.actor, OrderListQuery(sort=sort), batch=4))
            assert len(rows) == 26 and len({r[0] for r in rows}) == 26, sort


def test_the_detail_shows_the_raw_payload_exactly_and_the_shipments_with_their_push_status(app, sessions, alice):
    shop = make_shop(sessions, alice.actor)
    with scoped(sessions, alice.actor) as session, session.begin():
        order = session.get(Order, shop.order_id)
        order.raw_payload = {"id": "A-1", "total_price": Decimal("30.70"), "rate": Decimal("0.1000000000001")}
        order.fulfillments.append(Fulfillment(seller_id=alice.seller_id, carrier="DHL", tracking_number="JD0001",
                                              channel_status="failed", channel_attempts=3,
                                              channel_error="422 tracking number rejected"))
        order.fulfillments.append(Fulfillment(seller_id=alice.seller_id, carrier="UPS", channel_status="pushed",
                                              channel_pushed_at=PLACED))
    page = text(browser(app, alice).get(f"/orders/{shop.order_id}"))
    payload = re.search(r'<pre id="raw-payload">(.*?)</pre>', page, re.S).group(1)
    assert '"total_price": 30.70' in payload and '"rate": 0.1000000000001' in payload
    assert "DHL" in page and "JD0001" in page and "refused by the channel" in page and "3 attempts" in page
    assert "422 tracking number rejected" in page and "reported" in page
