"""Customs data on products (HS code, country of origin, customs description) through the API and the form."""

from __future__ import annotations

import pytest

from hub.catalog.schemas import ProductIn
from hub.errors import ValidationError
from hub.validation import parse
from tests.web.support import browser, field_error, text

PRODUCT = {"sku": "TEA-1", "title": "Assam", "base_price": "9.90"}


@pytest.mark.parametrize(("typed", "stored"), [("090230", "090230"), ("0902.30.00", "09023000"),
                                                ("0902 30 0000", "0902300000"), ("", None)])
def test_an_hs_code_keeps_its_digits_as_printed_with_dots_or_spaces(typed, stored):
    assert parse(ProductIn, {**PRODUCT, "hs_code": typed}).hs_code == stored


@pytest.mark.parametrize("typed", ["09023", "09023000001", "0902AB", "09-02-30"])
def test_an_hs_code_of_other_than_6_to_10_digits_is_refused(typed):
    with pytest.raises(ValidationError) as refused:
        parse(ProductIn, {**PRODUCT, "hs_code": typed})
    assert set(refused.value.fields) == {"hs_code"}


def test_the_origin_must_be_an_iso_country_and_the_customs_description_at_most_255_characters():
    with pytest.raises(ValidationError) as refused:
        parse(ProductIn, {**PRODUCT, "country_of_origin": "XX", "customs_description": "x" * 256})
    assert set(refused.value.fields) == {"country_of_origin", "customs_description"}
    assert parse(ProductIn, {**PRODUCT, "country_of_origin": "in"}).country_of_origin == "IN"


def test_the_api_stores_and_returns_the_customs_fields(api_for, alice):
    api = api_for(alice)
    created = api.post("/products", {**PRODUCT, "hs_code": "0902.30", "country_of_origin": "in",
                                     "customs_description": "Black tea, fermented"})
    assert created.status_code == 201, created.get_json()
    body = api.get(f"/products/{created.get_json()['id']}").get_json()
    assert (body["hs_code"], body["country_of_origin"], body["customs_description"]) == (
        "090230", "IN", "Black tea, fermented")
    refused = api.post("/products", {**PRODUCT, "sku": "TEA-2", "customs_description": "x" * 256})
    assert refused.status_code == 422 and "customs_description" in refused.get_json()["error"]["fields"]


def test_the_openapi_document_describes_the_customs_description(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "customs_description" in schemas["ProductIn"]["properties"]
    assert "customs_description" in schemas["ProductOut"]["properties"]


def test_staff_enter_the_customs_fields_in_the_product_form(app, alice):
    owner = browser(app, alice)
    saved = owner.post("/products/new", {**PRODUCT, "is_active": "1", "hs_code": "090230",
                                         "country_of_origin": "IN", "customs_description": "Black tea"})
    assert saved.status_code == 302
    page = text(owner.get(saved.headers["Location"]))
    assert 'value="Black tea"' in page and 'value="090230"' in page and 'value="IN"' in page

    refused = owner.post("/products/new", {**PRODUCT, "sku": "TEA-2", "is_active": "1", "hs_code": "123"})
    assert refused.status_code == 422 and field_error(text(refused), "hs_code")
