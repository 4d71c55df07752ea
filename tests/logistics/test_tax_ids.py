"""The seller's IOSS, EORI and VAT numbers: checked where set, set by owners only."""

from __future__ import annotations

import pytest

from hub.accounts import services as accounts
from hub.accounts.models import Role, Seller
from hub.accounts.schemas import TaxIds
from hub.accounts.services import set_tax_ids
from hub.errors import PermissionDenied, ValidationError
from hub.validation import parse
from tests.conftest import user_row
from tests.web.support import add_user


@pytest.mark.parametrize(("field", "typed", "stored"), [
    ("ioss_number", "IM3010000019", "IM3010000019"),
    ("ioss_number", "im 301 000 0019", "IM3010000019"),
    ("eori_number", "DE123456789012345", "DE123456789012345"),
    ("eori_number", "GB 1234 5678 9000", "GB123456789000"),
    ("vat_number", "DE123456789", "DE123456789"),
    ("vat_number", "EL-123.456.789", "EL123456789"),
])
def test_well_formed_tax_ids_are_kept_compact_and_upper_case(field, typed, stored):
    assert getattr(parse(TaxIds, {field: typed}), field) == stored


@pytest.mark.parametrize(("field", "typed"), [
    ("ioss_number", "IM301000001"), ("ioss_number", "IN3010000019"), ("ioss_number", "3010000019"),
    ("eori_number", "123456789"), ("eori_number", "DE1234567890123456"),
    ("vat_number", "DE"), ("vat_number", "123456789"),
])
def test_malformed_tax_ids_are_refused_naming_the_field(field, typed):
    with pytest.raises(ValidationError) as refused:
        parse(TaxIds, {field: typed})
    assert set(refused.value.fields) == {field}


def test_a_blank_tax_id_clears_it():
    assert parse(TaxIds, {"ioss_number": "  ", "vat_number": ""}) == TaxIds()


def test_an_owner_sets_the_sellers_tax_ids(sessions, alice):
    with sessions.begin() as session:
        set_tax_ids(session, alice.actor, parse(TaxIds, {"ioss_number": "IM3010000019", "eori_number": "DE12345"}))
    with sessions() as session:
        seller = session.get(Seller, alice.seller_id)
        assert (seller.ioss_number, seller.eori_number, seller.vat_number) == ("IM3010000019", "DE12345", None)


@pytest.mark.parametrize("role", [Role.STAFF, Role.VIEWER])
def test_staff_and_viewers_may_not_change_the_tax_ids(sessions, security, alice, role):
    add_user(sessions, security, alice, role, f"{role}@teas.example.com")
    actor = accounts.actor_for(user_row(sessions, f"{role}@teas.example.com"))
    with sessions.begin() as session, pytest.raises(PermissionDenied):
        set_tax_ids(session, actor, TaxIds(ioss_number="IM3010000019"))
