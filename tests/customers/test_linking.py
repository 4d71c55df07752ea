"""Orders are linked to their buyer's profile as they are imported or created: the rule, masked buyers,
conflicting data, the recorded reasons, and the backfill of orders that came in before."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from hub.customers import services as customers
from hub.customers.models import Customer, CustomerLink
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import OrderIn
from tests.customers.support import MUNICH, count_customers, customer_of, import_order, link_of, make_channels
from tests.web.support import make_shop, scoped


def test_the_same_email_on_shopify_ebay_and_the_own_site_is_one_customer(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopify", "ebay", "woocommerce")
    first = import_order(sessions, ch["shopify"], "S-1", email="Anna@Example.com")
    second = import_order(sessions, ch["ebay"], "E-1", email="anna@example.com ",
                          raw={"buyer": {"username": "anna_s"}})
    third = import_order(sessions, ch["woocommerce"], "W-1", email="ANNA@example.com")
    ids = {customer_of(sessions, o)[0] for o in (first, second, third)}
    assert len(ids) == 1 and None not in ids
    assert customer_of(sessions, first)[1] == "email (new profile)"
    assert customer_of(sessions, second)[1] == customer_of(sessions, third)[1] == "email"
    assert count_customers(sessions, alice.seller_id) == 1


def test_gmail_addresses_match_without_dots_and_tags_but_other_hosts_keep_them(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopify", "woocommerce")
    a = import_order(sessions, ch["shopify"], "S-1", email="anna.schmidt@gmail.com")
    b = import_order(sessions, ch["woocommerce"], "W-1", email="AnnaSchmidt+tea@googlemail.com")
    c = import_order(sessions, ch["shopify"], "S-2", email="anna.schmidt@example.com")
    d = import_order(sessions, ch["woocommerce"], "W-2", email="annaschmidt@example.com")
    assert customer_of(sessions, a)[0] == customer_of(sessions, b)[0]
    assert customer_of(sessions, c)[0] != customer_of(sessions, d)[0]


def test_amazon_relay_emails_get_their_own_profile_and_never_join_a_real_one(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "amazon", "shopify")
    relay = "3f9kq2x7@marketplace.amazon.de"
    a1 = import_order(sessions, ch["amazon"], "A-1", email=relay)
    a2 = import_order(sessions, ch["amazon"], "A-2", email=relay.upper())
    shop = import_order(sessions, ch["shopify"], "S-1", email="anna@example.com", phone="030 1234567")
    bare = import_order(sessions, ch["amazon"], "A-3", email=None)  # no Restricted Data Token: nothing to go on
    assert customer_of(sessions, a1)[0] == customer_of(sessions, a2)[0] != customer_of(sessions, shop)[0]
    assert customer_of(sessions, a1)[1] == "masked: own profile per channel buyer id (new profile)"
    assert customer_of(sessions, bare) == (None, "masked: no channel buyer id, not linked")
    assert "relay email" in link_of(sessions, a1).detail
    assert "amazon gives no email" in link_of(sessions, bare).detail


def test_shopee_asterisked_buyers_are_one_profile_per_channel_buyer_id_and_stay_apart(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopee", "shopify")
    other_shopee = make_channels(sessions, alice.seller_id, "shopee")["shopee"]
    s1 = import_order(sessions, ch["shopee"], "P-1", name="j*****n", phone="65******12", raw={"buyer_user_id": 4711})
    s2 = import_order(sessions, ch["shopee"], "P-2", name="j*****n", phone="65******12", raw={"buyer_user_id": 4711})
    s3 = import_order(sessions, ch["shopee"], "P-3", name="j*****n", phone="65******12", raw={"buyer_user_id": 99})
    s4 = import_order(sessions, other_shopee, "P-4", name="j*****n", phone="65******12", raw={"buyer_user_id": 4711})
    real = import_order(sessions, ch["shopify"], "S-1", name="John", email="john@example.com")
    profiles = [customer_of(sessions, o)[0] for o in (s1, s2, s3, s4, real)]
    assert profiles[0] == profiles[1]
    assert len({profiles[0], profiles[2], profiles[3], profiles[4]}) == 4
    assert "asterisked buyer data" in link_of(sessions, s1).detail


def test_the_same_email_under_another_name_still_matches_and_records_the_conflict(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopify", "woocommerce")
    first = import_order(sessions, ch["shopify"], "S-1", name="Anna Schmidt", email="family@example.com")
    second = import_order(sessions, ch["woocommerce"], "W-1", name="Jan Novák", email="family@example.com")
    assert customer_of(sessions, first)[0] == customer_of(sessions, second)[0]
    assert customer_of(sessions, second)[1] == "email, names differ"
    link = link_of(sessions, second)
    assert link.reason == "email, names differ" and "'Anna Schmidt'" in link.detail and "Jan Novák" in link.detail


def test_without_an_email_the_same_phone_name_and_address_match_but_another_address_does_not(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopify", "woocommerce")
    with_email = import_order(sessions, ch["shopify"], "S-1", name="Anna Schmidt", email="anna@example.com",
                              phone="+49 30 1234567")
    same = import_order(sessions, ch["woocommerce"], "W-1", name="schmidt, anna", phone="030 1234567")
    moved = import_order(sessions, ch["woocommerce"], "W-2", name="Anna Schmidt", phone="030 1234567",
                         address=MUNICH)
    moved_again = import_order(sessions, ch["woocommerce"], "W-3", name="Anna Schmidt", phone="030-1234567",
                               address=MUNICH)
    nothing = import_order(sessions, ch["woocommerce"], "W-4", name="Anna Schmidt")
    assert customer_of(sessions, same) == (customer_of(sessions, with_email)[0], "phone+name+address")
    assert customer_of(sessions, moved)[0] not in (None, customer_of(sessions, with_email)[0])
    assert customer_of(sessions, moved)[1] == "phone+name+address (new profile)"
    assert customer_of(sessions, moved_again)[0] == customer_of(sessions, moved)[0]
    assert customer_of(sessions, nothing) == (None, "no email, no full phone+name+address: not linked")


def test_a_direct_order_is_linked_when_created_and_linking_twice_changes_nothing(sessions, alice):
    make_channels(sessions, alice.seller_id, "shopify")
    shop = make_shop(sessions, alice.actor)  # a direct order by anna@example.com
    customer_id, reason = customer_of(sessions, shop.order_id)
    assert customer_id is not None and reason == "email (new profile)"
    with scoped(sessions, alice.actor) as session, session.begin():
        again = customers.link_order(session, session.get(Order, shop.order_id))
        assert again.customer_id == customer_id
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(CustomerLink)) == 1


def test_backfill_links_the_orders_that_came_in_before_matching(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopify", "woocommerce")
    ids = [import_order(sessions, ch["shopify"], f"S-{i}", email="anna@example.com") for i in range(3)]
    ids.append(import_order(sessions, ch["woocommerce"], "W-1", email="ben@example.com"))
    with sessions.begin() as session:  # history from before customers existed
        session.execute(sa.delete(CustomerLink))
        session.execute(sa.update(Order).values(customer_id=None, customer_match=""))
        session.execute(sa.delete(Customer))
    with scoped(sessions, alice.actor) as session, session.begin():
        assert customers.backfill(session, alice.seller_id, batch=2, limit=3) == 3
        assert customers.backfill(session, alice.seller_id, batch=2) == 1
        assert customers.backfill(session, alice.seller_id) == 0
    found = [customer_of(sessions, o)[0] for o in ids]
    assert found[0] == found[1] == found[2] != found[3] and None not in found


def test_customer_for_email_gives_the_one_profile_of_an_email_also_after_a_merge(sessions, alice, bob):
    with scoped(sessions, alice.actor) as session, session.begin():
        made = customers.customer_for_email(session, alice.seller_id, "Anna.Schmidt@gmail.com", "Anna")
        again = customers.customer_for_email(session, alice.seller_id, "annaschmidt+x@gmail.com", "A. S.")
        other = customers.customer_for_email(session, alice.seller_id, "ben@example.com", "Ben")
        customers.merge(session, alice.actor, other.id, made.id)
        after = customers.customer_for_email(session, alice.seller_id, "annaschmidt@gmail.com")
        made_id, other_id, again_id, after_id = made.id, other.id, again.id, after.id
    with scoped(sessions, bob.actor) as session, session.begin():
        bobs = customers.customer_for_email(session, bob.seller_id, "annaschmidt@gmail.com")
    assert again_id == made_id and after_id == other_id and bobs.id not in (made_id, other_id)


def test_the_detail_totals_per_currency_and_in_the_base_currency(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "shopify", "woocommerce")
    import_order(sessions, ch["shopify"], "S-1", email="anna@example.com", total="10.00")
    order_id = import_order(sessions, ch["woocommerce"], "W-1", email="anna@example.com", total="5.50")
    import_order(sessions, ch["woocommerce"], "W-2", email="anna@example.com", total="1000", currency="JPY")
    with scoped(sessions, alice.actor) as session:
        detail = customers.customer_detail(session, alice.actor, customer_of(sessions, order_id)[0])
    assert [(m.amount, m.currency) for m in detail.totals] == [(Decimal("15.50"), "EUR"), (Decimal("1000"), "JPY")]
    assert len(detail.channels) == 2 and all(name.startswith(("Shopify", "Woocommerce")) for name in detail.channels)
    # The test database holds no exchange rates: the JPY order has no snapshot and is reported, not guessed.
    assert (detail.base_total.amount, detail.base_total.currency, detail.unconverted) == (Decimal("15.50"), "EUR", 1)
    assert len(detail.orders) == 3
    assert detail.first_order_at is not None and detail.last_order_at is not None


def test_direct_orders_from_the_api_schema_are_linked_by_email(sessions, alice):
    make_shop(sessions, alice.actor)
    with scoped(sessions, alice.actor) as session, session.begin():
        order = orders.create_order(session, alice.actor, OrderIn.model_validate({
            "buyer": {"name": "Anna", "email": "ANNA@example.com"},
            "shipping_address": {"name": "Anna", "line1": "Street 1", "city": "Berlin", "country": "DE"},
            "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "12.90"}]}))
        assert order.customer_match == "email"


def test_the_backfill_command_links_every_sellers_old_orders_in_batches(app, sessions, alice, bob):
    mine, theirs = make_channels(sessions, alice.seller_id, "shopify"), make_channels(sessions, bob.seller_id, "ebay")
    ids = [import_order(sessions, mine["shopify"], f"S-{i}", email="anna@example.com") for i in range(3)]
    ids.append(import_order(sessions, theirs["ebay"], "E-1", email="anna@example.com"))
    with sessions.begin() as session:
        session.execute(sa.delete(CustomerLink))
        session.execute(sa.update(Order).values(customer_id=None, customer_match=""))
        session.execute(sa.delete(Customer))
    result = app.test_cli_runner().invoke(args=["customers", "backfill", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "4 orders linked across 2 seller(s)" in result.output
    found = [customer_of(sessions, o)[0] for o in ids]
    assert found[0] == found[1] == found[2] != found[3] and None not in found  # one per seller, never shared
    again = app.test_cli_runner().invoke(args=["customers", "backfill", "--seller", str(alice.seller_id)])
    assert "0 orders linked across 1 seller(s)" in again.output


def test_a_buyer_first_known_by_phone_keeps_one_profile_when_an_email_comes_along(sessions, alice):
    ch = make_channels(sessions, alice.seller_id, "woocommerce", "shopify")
    guest = import_order(sessions, ch["woocommerce"], "W-1", name="Anna Schmidt", phone="030 1234567")
    with_email = import_order(sessions, ch["shopify"], "S-1", name="Anna Schmidt", phone="+49 30 1234567",
                              email="anna@example.com")
    email_only = import_order(sessions, ch["shopify"], "S-2", name="A. Schmidt", email="Anna@example.com")
    other_email = import_order(sessions, ch["shopify"], "S-3", name="Anna Schmidt", phone="030 1234567",
                               email="anna.work@example.com")
    profile = customer_of(sessions, guest)[0]
    assert customer_of(sessions, with_email) == (profile, "phone+name+address")
    assert customer_of(sessions, email_only) == (profile, "email")
    assert customer_of(sessions, other_email)[0] != profile  # the profile has an email already: another one
    assert "takes this email" in link_of(sessions, with_email).detail
