"""declaration_for(): a customs declaration from an order, refused with every missing item named."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.models import Seller
from hub.catalog import products, stock
from hub.catalog.schemas import ProductIn, StockReceipt, WarehouseIn
from hub.currency.models import FxRate
from hub.errors import NotFound, ValidationError
from hub.logistics.customs import TaxId, declaration_for, needs_declaration
from hub.orders import services as orders
from hub.orders.schemas import OrderIn
from hub.timeutil import utcnow
from tests.conftest import Account

TEA = {"hs_code": "0902300000", "country_of_origin": "IN", "weight_grams": 250,
       "customs_description": "Black tea, fermented, in packs of 250 g"}


def shop(sessions: sessionmaker[Session], account: Account, country: str = "GB",
         goods: dict[str, dict] | None = None) -> None:
    goods = {"TEA-1": TEA} if goods is None else goods
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        stock.create_warehouse(session, account.actor, WarehouseIn(code="MAIN", name="Main", country=country))
        for sku, fields in goods.items():
            products.create_product(session, account.actor, ProductIn(sku=sku, title=f"Title {sku}",
                                                                      base_price=Decimal(10), **fields))
            stock.receive(session, account.actor, StockReceipt(sku=sku, warehouse="MAIN", quantity=100))


def order(sessions: sessionmaker[Session], account: Account, to: str, lines: list[tuple[str, int, str]],
          currency: str = "EUR") -> int:
    with sessions.begin() as session:
        session.info["seller_id"] = account.seller_id
        placed = orders.create_order(session, account.actor, OrderIn.model_validate({
            "currency": currency, "buyer": {"name": "Anna Schmidt"},
            "shipping_address": {"name": "Anna", "line1": "Street 1", "city": "Town", "postal_code": "1000",
                                 "country": to},
            "lines": [{"sku": sku, "quantity": qty, "unit_price": price} for sku, qty, price in lines]}))
        return placed.id


def tax_ids(sessions: sessionmaker[Session], account: Account, **numbers: str) -> None:
    with sessions.begin() as session:
        seller = session.get(Seller, account.seller_id)
        for name, value in numbers.items():
            setattr(seller, name, value)


def declare(sessions: sessionmaker[Session], account: Account, order_id: int, **kw):
    with sessions() as session:
        session.info["seller_id"] = account.seller_id
        return declaration_for(session, account.actor, order_id, **kw)


def refused_fields(sessions, account, order_id, **kw) -> set[str]:
    with pytest.raises(ValidationError) as refused:
        declare(sessions, account, order_id, **kw)
    return set(refused.value.fields)


def test_domestic_and_intra_eu_shipments_need_no_declaration():
    assert not needs_declaration("DE", "DE") and not needs_declaration("DE", "FR")
    assert needs_declaration("GB", "DE") and needs_declaration("DE", "CH") and needs_declaration("US", "CA")


def test_a_domestic_order_has_no_declaration(sessions, alice):
    shop(sessions, alice, country="DE", goods={"TEA-1": {}})
    assert declare(sessions, alice, order(sessions, alice, "DE", [("TEA-1", 1, "10.00")])) is None


def test_a_small_consignment_into_the_eu_is_declared_with_the_ioss_number(sessions, alice):
    shop(sessions, alice, country="GB", goods={"TEA-1": TEA, "MUG-1": {**TEA, "customs_description": "",
                                                                      "hs_code": "691200", "country_of_origin": "CN",
                                                                      "weight_grams": 400}})
    tax_ids(sessions, alice, ioss_number="IM3010000019", eori_number="GB123456789000", vat_number="GB123456789")
    order_id = order(sessions, alice, "DE", [("TEA-1", 2, "10.00"), ("MUG-1", 1, "15.50")])

    declaration = declare(sessions, alice, order_id, contents="merchandise", incoterm="DAP")

    assert (declaration.from_country, declaration.to_country, declaration.currency) == ("GB", "DE", "EUR")
    tea, mug = declaration.items
    assert (tea.description, tea.quantity, tea.value, tea.weight_grams, tea.hs_code, tea.origin) == (
        TEA["customs_description"], 2, Decimal("20.00"), 500, "0902300000", "IN")
    assert (mug.description, mug.value, mug.weight_grams) == ("Title MUG-1", Decimal("15.50"), 400)  # the title
    assert (declaration.total_value, declaration.total_weight_grams, declaration.value_eur) == (
        Decimal("35.50"), 900, Decimal("35.50"))
    assert declaration.tax_ids == (TaxId("IOSS", "IM3010000019"), TaxId("EORI", "GB123456789000"),
                                   TaxId("VAT", "GB123456789"))


def test_an_incomplete_declaration_names_every_missing_item(sessions, alice):
    shop(sessions, alice, country="GB", goods={"TEA-1": TEA, "BARE-1": {}})
    order_id = order(sessions, alice, "FR", [("TEA-1", 1, "10.00"), ("BARE-1", 1, "10.00")])

    assert refused_fields(sessions, alice, order_id) == {
        "lines[1].hs_code", "lines[1].country_of_origin", "lines[1].weight_grams", "ioss_number"}


def test_a_consignment_over_150_euros_needs_no_ioss_but_ddp_needs_an_eori(sessions, alice):
    shop(sessions, alice, country="GB")
    order_id = order(sessions, alice, "NL", [("TEA-1", 10, "15.01")])

    declaration = declare(sessions, alice, order_id)
    assert declaration.value_eur == Decimal("150.10") and declaration.tax_ids == ()
    assert refused_fields(sessions, alice, order_id, incoterm="DDP") == {"eori_number"}


def test_an_order_in_another_currency_is_converted_to_euros_for_the_ioss_limit(sessions, alice):
    shop(sessions, alice, country="US")
    with sessions.begin() as session:  # 1 EUR = 0.8 GBP
        session.add(FxRate(base="EUR", quote="GBP", rate=Decimal("0.8"), as_of=utcnow().date() - timedelta(days=1),
                           source="ecb"))
    small = order(sessions, alice, "IE", [("TEA-1", 1, "120.00")], currency="GBP")  # EUR 150.00
    large = order(sessions, alice, "IE", [("TEA-1", 1, "120.01")], currency="GBP")  # EUR 150.01

    assert refused_fields(sessions, alice, small) == {"ioss_number"}
    assert declare(sessions, alice, large).value_eur == Decimal("150.01")


def test_without_a_rate_the_ioss_limit_cannot_be_checked_and_says_so(sessions, alice):
    shop(sessions, alice, country="US")
    order_id = order(sessions, alice, "IE", [("TEA-1", 1, "10.00")], currency="USD")
    with pytest.raises(ValidationError) as refused:
        declare(sessions, alice, order_id)
    assert "no exchange rate USD/EUR" in refused.value.fields["currency"]


def test_outside_the_eu_no_ioss_is_needed_and_the_set_tax_ids_are_declared(sessions, alice):
    shop(sessions, alice, country="DE")
    tax_ids(sessions, alice, eori_number="DE123456789012345")
    declaration = declare(sessions, alice, order(sessions, alice, "CH", [("TEA-1", 1, "10.00")]), contents="gift")
    assert (declaration.contents, declaration.tax_ids) == ("gift", (TaxId("EORI", "DE123456789012345"),))


def test_a_declaration_may_cover_only_some_lines_of_the_order(sessions, alice):
    shop(sessions, alice, country="GB", goods={"TEA-1": TEA, "BARE-1": {}})
    tax_ids(sessions, alice, ioss_number="IM3010000019")
    order_id = order(sessions, alice, "DE", [("TEA-1", 1, "10.00"), ("BARE-1", 1, "10.00")])
    with sessions() as session:
        tea_line = next(line.id for line in orders.get_order(session, alice.actor, order_id).lines
                        if line.sku == "TEA-1")

    declaration = declare(sessions, alice, order_id, line_ids=[tea_line])

    assert [item.sku for item in declaration.items] == ["TEA-1"]
    assert refused_fields(sessions, alice, order_id, line_ids=[tea_line + 1000]) == {"line_ids"}


def test_an_unknown_contents_type_or_incoterm_is_refused(sessions, alice):
    shop(sessions, alice, country="GB")
    order_id = order(sessions, alice, "US", [("TEA-1", 1, "10.00")])
    assert refused_fields(sessions, alice, order_id, contents="toys", incoterm="EXW") == {"contents", "incoterm"}


def test_another_sellers_order_is_not_found(sessions, alice, bob):
    shop(sessions, alice, country="GB")
    order_id = order(sessions, alice, "US", [("TEA-1", 1, "10.00")])
    with pytest.raises(NotFound):
        declare(sessions, bob, order_id)
