"""The Customers pages: the list with its search, a profile with its orders from every channel and why each is
there, merging another profile in and un-merging it again (exactly as before), viewers reading only, and another
seller's profiles not found."""

from __future__ import annotations

import re

import sqlalchemy as sa

from hub.accounts.models import Role
from hub.orders.models import Order
from tests.customers.support import customer_of, import_order, make_channels
from tests.web.support import add_user, browser, text


def _profiles(sessions, alice) -> tuple[int, int, list[int]]:
    ch = make_channels(sessions, alice.seller_id, "shopify", "ebay", "amazon")
    orders = [import_order(sessions, ch["shopify"], "S-1", email="anna@example.com"),
              import_order(sessions, ch["ebay"], "E-1", email="Anna@Example.com", name="Anna Schmidt",
                           raw={"buyer": {"username": "anna_s"}}),
              import_order(sessions, ch["amazon"], "A-1", email="9x8y7z@marketplace.amazon.de")]
    return customer_of(sessions, orders[0])[0], customer_of(sessions, orders[2])[0], orders


def _owners(sessions, seller_id: int) -> dict[int, int | None]:
    with sessions() as session:
        return dict(session.execute(sa.select(Order.id, Order.customer_id).where(Order.seller_id == seller_id)).all())


def test_the_list_shows_profiles_and_finds_them_by_name_or_email(app, sessions, alice):
    anna, masked, _ = _profiles(sessions, alice)
    b = browser(app, alice)
    page = text(b.get("/customers"))
    assert f'data-customer="{anna}"' in page and f'data-customer="{masked}"' in page
    assert "Customers" in text(b.get("/overview"))  # the nav entry
    found = text(b.get("/customers?q=ANNA@example.com"))
    assert f'data-customer="{anna}"' in found and f'data-customer="{masked}"' not in found
    assert "No customer matches this search." in text(b.get("/customers?q=nobody"))
    assert b.get("/customers?after=x").status_code == 422


def test_a_profile_shows_its_orders_from_every_channel_with_the_reasons(app, sessions, alice):
    anna, masked, orders = _profiles(sessions, alice)
    b = browser(app, alice)
    page = text(b.get(f"/customers/{anna}"))
    assert f'data-order="{orders[0]}"' in page and f'data-order="{orders[1]}"' in page
    assert f'data-order="{orders[2]}"' not in page
    assert "Shopify" in page and "Ebay" in page
    assert "email (new profile)" in page and re.search(r'class="reason">email<', page)
    assert "€20.00" in page  # two orders of 10.00 EUR
    masked_page = text(b.get(f"/customers/{masked}"))
    assert "masked: own profile per channel buyer id" in masked_page and "relay email" in masked_page


def test_merging_and_unmerging_from_the_dashboard_restores_exactly(app, sessions, alice):
    anna, masked, orders = _profiles(sessions, alice)
    before = _owners(sessions, alice.seller_id)
    b = browser(app, alice)
    candidates = text(b.get(f"/customers/{anna}?find=anna"))
    assert f"#{masked}" in candidates and "Merge into this one" in candidates
    merged = b.post(f"/customers/{anna}/merge", {"other_id": str(masked)})
    assert merged.status_code == 302
    page = text(b.get(f"/customers/{anna}"))
    assert "merged into this one: 1 orders moved" in page
    assert f'data-order="{orders[2]}"' in page and "via merged profile" in page
    assert set(_owners(sessions, alice.seller_id).values()) == {anna}
    assert "This profile is merged into" in text(b.get(f"/customers/{masked}"))
    assert f'data-customer="{masked}"' not in text(b.get("/customers"))

    assert b.post(f"/customers/{masked}/unmerge").status_code == 302
    assert _owners(sessions, alice.seller_id) == before
    page = text(b.get(f"/customers/{masked}"))
    assert "stands on its own again: 1 orders moved back" in page and "un-merged by" in page


def test_impossible_merges_are_explained_not_performed(app, sessions, alice):
    anna, masked, _ = _profiles(sessions, alice)
    before = _owners(sessions, alice.seller_id)
    b = browser(app, alice)
    for form in ({"other_id": str(anna)}, {"other_id": "abc"}, {"other_id": "99999999999"}):
        response = b.post(f"/customers/{anna}/merge", form)
        assert response.status_code in (302, 404), form
    assert "Not merged: a profile cannot be merged into itself" in text(
        b.post(f"/customers/{anna}/merge", {"other_id": str(anna)}, follow_redirects=True))
    assert "Not un-merged" in text(b.post(f"/customers/{masked}/unmerge", follow_redirects=True))
    assert _owners(sessions, alice.seller_id) == before


def test_a_viewer_reads_profiles_but_has_no_merge_buttons_and_is_refused_merges(app, sessions, security, alice):
    anna, masked, _ = _profiles(sessions, alice)
    before = _owners(sessions, alice.seller_id)
    add_user(sessions, security, alice, Role.VIEWER, "viewer@teas.example.com")
    viewer = browser(app, "viewer@teas.example.com")
    page = text(viewer.get(f"/customers/{anna}?find=anna"))
    assert "Merge another profile" not in page and "Un-merge" not in page
    assert viewer.post(f"/customers/{anna}/merge", {"other_id": str(masked)}).status_code == 403
    assert _owners(sessions, alice.seller_id) == before


def test_another_sellers_profiles_are_not_found(app, sessions, alice, bob):
    anna, masked, _ = _profiles(sessions, alice)
    before = _owners(sessions, alice.seller_id)
    as_bob = browser(app, bob)
    assert as_bob.get(f"/customers/{anna}").status_code == 404
    assert as_bob.post(f"/customers/{anna}/merge", {"other_id": str(masked)}).status_code == 404
    assert as_bob.post(f"/customers/{masked}/unmerge").status_code == 404
    assert "anna@example.com" not in text(as_bob.get("/customers?q=anna"))
    assert _owners(sessions, alice.seller_id) == before
