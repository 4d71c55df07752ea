"""The matching keys and the masked-buyer detection, as a table of cases (pure functions, no database)."""

from __future__ import annotations

import pytest

from hub.customers.matching import (
    OrderView,
    address_key,
    channel_buyer_id,
    email_key,
    identify,
    name_key,
    names_conflict,
    phone_key,
)


@pytest.mark.parametrize(("typed", "key"), [
    ("  Anna@Example.COM ", "anna@example.com"),
    ("A.nna.Schmidt+shop@GoogleMail.com", "annaschmidt@gmail.com"),
    ("anna.schmidt@gmail.com", "annaschmidt@gmail.com"),
    ("anna.schmidt+tag@example.com", "anna.schmidt+tag@example.com"),  # dots and tags only ignored for Gmail
    ("1a2b3c4d@marketplace.amazon.de", None),
    ("x7kq@members.ebay.com", None),
    ("buy***@example.com", None),
    ("", None),
    (None, None),
    ("not an email", None),
])
def test_emails_are_normalised_and_masked_ones_give_no_key(typed, key):
    assert email_key(typed) == key


@pytest.mark.parametrize(("typed", "country", "key"), [
    ("030 1234567", "DE", "+49301234567"),
    ("+49 (30) 123-4567", "FR", "+49301234567"),
    ("0049 30 1234567", None, "+49301234567"),
    ("06 1234 5678", "IT", "+390612345678"),  # Italy keeps the leading 0 after +39
    ("(415) 555-0100", "US", "+14155550100"),
    ("1 415 555 0100", "US", "+14155550100"),
    ("12******89", "SG", None),
    ("12 34", "DE", None),
    ("5551234567", "ZZ", "ZZ:5551234567"),  # a country whose code is not known: comparable within it only
])
def test_phones_get_the_country_code_of_the_ship_to_country(typed, country, key):
    assert phone_key(typed, country) == key


def test_names_ignore_case_accents_punctuation_and_word_order():
    assert name_key("Schmidt, Anna") == name_key("  anna   SCHMIDT ") == "anna schmidt"
    assert name_key("Zoë O'Brien") == name_key("zoe obrien".replace("obrien", "o brien"))
    assert name_key("Große") == name_key("grosse")
    assert not names_conflict("Anna Schmidt", "A. Schmidt")
    assert names_conflict("Anna Schmidt", "Jan Novák")


def test_addresses_compare_postal_code_and_country_only():
    assert address_key("10 115", "de") == address_key("10115", "DE") == "10115|DE"
    assert address_key("SW1A 1AA", "GB") == address_key("sw1a-1aa", "gb")
    assert address_key("", "DE") == ""


def _view(kind: str, *, email: str | None = None, name: str = "Anna Schmidt", phone: str | None = None,
          raw: dict | None = None) -> OrderView:
    return OrderView(channel_id=1, channel_kind=kind, buyer_name=name, buyer_email=email, buyer_phone=phone,
                     shipping_address={"name": name, "postal_code": "10115", "country": "DE"}, ship_country="DE",
                     raw=raw)


@pytest.mark.parametrize(("view", "masked", "buyer_id"), [
    (_view("amazon", email="1a2b3c@marketplace.amazon.de"), True, "1a2b3c@marketplace.amazon.de"),
    (_view("amazon"), True, None),  # Amazon without a Restricted Data Token: no email, no id
    (_view("shopee", name="j*****n", phone="65******12", raw={"buyer_user_id": 4711}), True, "4711"),
    (_view("ebay", email="x7kq@members.ebay.com", raw={"buyer": {"username": "tea_lover"}}), True, "tea_lover"),
    (_view("shopify", name="A**a S****t", email="anna@example.com"), True, None),
    (_view("shopify", email="anna@example.com"), False, None),
    (_view("woocommerce", phone="030 1234567"), False, None),  # no email on the own site is not masking
])
def test_masked_buyers_are_recognised_with_their_channel_id(view, masked, buyer_id):
    who = identify(view)
    assert (who.masked, who.buyer_id) == (masked, buyer_id)
    if masked:
        assert who.email is None and who.phone is None and who.masked_why


def test_only_marketplaces_that_mask_have_a_channel_buyer_id():
    assert channel_buyer_id("shopify", {"customer": {"id": 1}}, "a@b.example") is None
    assert channel_buyer_id("shopee", {"buyer_username": "buyer123"}, None) == "buyer123"
