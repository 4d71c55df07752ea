"""Exchange rates on the dashboard: the rates in use, each pair's history, and the admin's manual override."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from hub.accounts.models import Role, User
from hub.catalog.models import Product
from hub.currency.models import FxRate
from hub.currency.rates import Quote
from hub.currency.store import store_quotes
from hub.orders import services as orders
from hub.orders.schemas import OrderIn
from hub.timeutil import utcnow
from tests.conftest import PASSWORD
from tests.web.support import ADDRESS, add_user, browser, field_error, make_shop, scoped, text

ADMIN = "root@platform.example.com"


def make_admin(sessions, security, email: str = ADMIN) -> int:
    with sessions.begin() as session:
        user = User(seller_id=None, email=email, name="Platform Admin", role=Role.ADMIN,
                    password_hash=security.hasher.hash(PASSWORD))
        session.add(user)
        session.flush()
        return user.id


def store_ecb(sessions, day: date, **rates: str) -> None:
    with sessions.begin() as session:
        store_quotes(session, [Quote("EUR", code, Decimal(rate), day, "ecb") for code, rate in rates.items()])


def order_in(sessions, account, currency: str) -> None:
    """An order in `currency` (after a product with stock and a first order in the base currency)."""
    with scoped(sessions, account.actor) as session:
        has_product = session.scalar(sa.select(Product.id).where(Product.sku == "TEA-1")) is not None
    if not has_product:
        make_shop(sessions, account.actor)
    with scoped(sessions, account.actor) as session, session.begin():
        orders.create_order(session, account.actor, OrderIn.model_validate({
            "currency": currency, "buyer": {"name": "Anna Schmidt"}, "shipping_address": ADDRESS,
            "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "1000"}]}))


def row(page: str, pair: str) -> str:
    match = re.search(rf'<tr data-pair="{re.escape(pair)}">(.*?)</tr>', page, re.S)
    assert match, f"no row for {pair}"
    return match.group(1)


def test_the_rates_page_shows_each_pair_the_seller_uses_with_rate_source_day_and_staleness(
        app, sessions, make_account):
    today = utcnow().date()
    store_ecb(sessions, today - timedelta(days=1), GBP="0.8500", JPY="160.00")
    store_ecb(sessions, today - timedelta(days=9), CHF="0.9500")
    carol = make_account("Carol's Crafts", currency="GBP", email="carol@crafts.example.com")
    for currency in ("JPY", "CHF", "EUR"):
        order_in(sessions, carol, currency)
    page = text(browser(app, carol).get("/fx"))
    inverse = row(page, "GBP/EUR")
    assert "1.176470588235" in inverse and "ecb" in inverse and (today - timedelta(days=1)).isoformat() in inverse
    assert "1 days old" in inverse and "stale:" not in inverse
    crossed = row(page, "GBP/JPY")
    assert "188.235294117647" in crossed and "ecb via EUR" in crossed
    stale = row(page, "GBP/CHF")
    assert "stale: 9 days old" in stale and (today - timedelta(days=9)).isoformat() in stale
    assert 'href="/fx/GBP/JPY"' in page
    assert "USD" not in page  # a currency nobody uses here is not listed
    assert "Set a manual rate" not in page


def test_a_pair_without_any_rate_is_listed_with_the_reason(app, sessions, make_account):
    dana = make_account("Dana", currency="USD", email="dana@example.com")
    page = text(browser(app, dana).get("/fx"))
    assert "No rate" in row(page, "USD/EUR") and "no exchange rate USD/EUR" in row(page, "USD/EUR")


def test_a_viewer_reads_the_rates_and_their_history_but_is_offered_no_override(app, sessions, security, alice):
    store_ecb(sessions, utcnow().date(), USD="1.0800")
    order_in(sessions, alice, "USD")
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    page = viewer.get("/fx")
    assert page.status_code == 200 and "1.08" in row(text(page), "EUR/USD")
    assert re.findall(r'<form method="post"[^>]*>', text(page)) == [
        '<form method="post" action="/logout" class="inline">']
    assert viewer.get("/fx/EUR/USD").status_code == 200


def test_the_history_lists_stored_quotes_newest_first_a_page_at_a_time(app, sessions, alice):
    first = date(2024, 1, 1)
    with sessions.begin() as session:
        store_quotes(session, [Quote("EUR", "USD", Decimal("1.0") + Decimal(i) / 1000, first + timedelta(days=i),
                                     "ecb") for i in range(60)])
        store_quotes(session, [Quote("USD", "EUR", Decimal("0.9"), first + timedelta(days=59), "manual"),
                               Quote("EUR", "GBP", Decimal("0.85"), first + timedelta(days=59), "ecb")])
    b = browser(app, alice)
    page = text(b.get("/fx/EUR/USD"))
    days = re.findall(r'<tr data-quote="\d+">\s*<td>([\d-]+)</td>', page)
    assert len(days) == 50 and days == sorted(days, reverse=True) and days[0] == "2024-02-29"
    assert "manual" in page and "0.85" not in page  # the inverse quote is the pair's too; GBP is not
    after = re.search(r'href="/fx/EUR/USD\?after=([^"]+)"', page).group(1)
    rest = text(b.get(f"/fx/EUR/USD?after={after}"))
    more = re.findall(r'<tr data-quote="\d+">\s*<td>([\d-]+)</td>', rest)
    assert len(more) == 11 and more[-1] == "2024-01-01" and not set(more) & set(days[:-1])
    assert "?after=" not in rest


def test_a_crossed_pair_without_stored_quotes_points_to_its_two_legs(app, alice):
    page = text(browser(app, alice).get("/fx/USD/JPY"))
    assert "crossed through the euro" in page and 'href="/fx/EUR/USD"' in page and 'href="/fx/EUR/JPY"' in page


def test_junk_in_the_history_address_is_not_found_or_refused_never_a_server_error(app, alice):
    b = browser(app, alice)
    for path in ("/fx/XXX/USD", "/fx/EUR/EURO", "/fx/1/2", "/fx/EUR/" + "A" * 5000, "/fx/%C3%9F%C3%9F%C3%9F/USD",
                 "/fx/EUR/USD/extra", "/fx/%EF%BC%A5%EF%BC%B5%EF%BC%B2/USD"):
        assert b.get(path).status_code == 404, path
    for cursor in ("junk", "2024-13-01_5", "2024-01-01_99999999999", "2024-01-01", "_1"):
        assert b.get(f"/fx/EUR/USD?after={cursor}").status_code == 422, cursor
    assert b.get("/fx/EUR/USD?after=%00").status_code in (400, 422)
    lower = b.get("/fx/eur/usd?after=2024-01-01_5")
    assert lower.status_code == 302 and lower.location == "/fx/EUR/USD?after=2024-01-01_5"


def test_a_platform_admin_sets_a_manual_rate_which_wins_for_its_day(app, sessions, security, alice):
    today = utcnow().date()
    store_ecb(sessions, today, USD="1.0800")
    order_in(sessions, alice, "USD")
    admin_id = make_admin(sessions, security)
    admin = browser(app, ADMIN)
    assert "Set a manual rate" in text(admin.get("/fx"))
    response = admin.post("/fx/manual", {"base": "eur", "quote": "USD", "rate": "1.1234", "day": today.isoformat()})
    assert response.status_code == 302 and response.location == "/fx/EUR/USD"
    assert "Manual rate set: 1 EUR = 1.1234 USD" in text(admin.get(response.location))
    with sessions() as session:
        manual = session.scalars(sa.select(FxRate).where(FxRate.source == "manual")).one()
        assert (manual.base, manual.quote, manual.rate, manual.entered_by) == ("EUR", "USD", Decimal("1.1234"),
                                                                                admin_id)
    shown = row(text(browser(app, alice).get("/fx")), "EUR/USD")
    assert "1.1234" in shown and "manual" in shown


def test_an_owner_may_not_set_a_manual_rate(app, sessions, alice):
    response = browser(app, alice).post("/fx/manual", {"base": "EUR", "quote": "USD", "rate": "1.5",
                                                       "day": utcnow().date().isoformat()})
    assert response.status_code == 403
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FxRate)) == 0


def test_junk_in_the_manual_rate_form_is_refused_next_to_its_field(app, sessions, security):
    make_admin(sessions, security)
    admin = browser(app, ADMIN)
    today = utcnow().date().isoformat()
    good = {"base": "EUR", "quote": "USD", "rate": "1.1", "day": today}
    cases = [({"base": "XXX"}, "base"), ({"quote": "EURO"}, "quote"), ({"quote": "EUR"}, "quote"),
             ({"rate": "abc"}, "rate"), ({"rate": "-1"}, "rate"), ({"rate": "0"}, "rate"), ({"rate": "NaN"}, "rate"),
             ({"rate": "Infinity"}, "rate"), ({"rate": "1e400"}, "rate"), ({"rate": "9" * 100}, "rate"),
             ({"day": "yesterday"}, "day"), ({"day": "1900-01-01"}, "day"), ({"day": "2999-01-01"}, "day"),
             ({"day": ""}, "day"), ({"base": "E" * 5000}, "base")]
    for change, name in cases:
        response = admin.post("/fx/manual", {**good, **change})
        assert response.status_code == 422, change
        assert field_error(text(response), name), change
    missing = admin.post("/fx/manual", {})
    assert missing.status_code == 422
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(FxRate)) == 0


def test_an_admin_acting_for_a_seller_still_sets_platform_rates_under_their_own_name(app, sessions, security, alice):
    admin_id = make_admin(sessions, security)
    admin = browser(app, ADMIN)
    assert admin.post("/admin/acting", {"seller_id": str(alice.seller_id)}).status_code == 302
    response = admin.post("/fx/manual", {"base": "EUR", "quote": "JPY", "rate": "160",
                                         "day": utcnow().date().isoformat()})
    assert response.status_code == 302
    with sessions() as session:
        assert session.scalars(sa.select(FxRate.entered_by)).one() == admin_id
