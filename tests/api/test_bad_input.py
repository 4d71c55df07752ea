"""Bad input on every write endpoint (and every list endpoint's query string) gets a 4xx in the
single error shape, naming the bad field, never a 500 and never a traceback, and changes nothing.

The endpoints are read from app.url_map, so a new one fails
`test_every_write_endpoint_has_bad_input_cases` until it is added to api_support.ENDPOINTS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub import create_app
from tests.api.api_support import (
    ADDRESS,
    API,
    BAD_QUERY_VALUES,
    ENDPOINTS,
    Route,
    assert_api_error,
    list_routes,
    model_schema,
    operation_of,
    write_routes,
    wrong_values,
)

# The routes, read once from a real app (building it connects to nothing).
_APP = create_app({"TESTING": True, "SECRET_KEY": "collect-routes", "DATABASE_URL": "sqlite://"})
WRITES = write_routes(_APP)
LISTS = list_routes(_APP)
WITH_BODY = [r for r in WRITES if operation_of(_APP, r).body is not None]
WITHOUT_BODY = [r for r in WRITES if operation_of(_APP, r).body is None]
WITH_IDS = [r for r in WRITES if r.arguments]

ONE_MIB = 1024 * 1024


def _ids(routes: list[Route]) -> list[str]:
    return [r.key for r in routes]


def endpoint(route: Route) -> Any:
    assert route.key in ENDPOINTS, f"no bad-input coverage for {route.key}: add it to api_support.ENDPOINTS"
    return ENDPOINTS[route.key]


def send(client: Any, token: str, route: Route, world: Any, *, body: Any = None, data: Any = None,
         content_type: str | None = None, ids: dict[str, Any] | None = None) -> Any:
    url = route.url(ids if ids is not None else endpoint(route).ids(world))
    headers = {"Authorization": f"Bearer {token}"}
    if data is not None:
        return client.open(url, method=route.method, data=data, content_type=content_type, headers=headers)
    return client.open(url, method=route.method, json=body, headers=headers)


def valid_body(route: Route, world: Any) -> Any:
    spec = endpoint(route)
    return spec.body(world) if spec.body is not None else {}


# --- coverage --------------------------------------------------------------------------------

def test_the_api_has_write_and_list_endpoints_to_check():
    assert len(WRITES) >= 10 and len(LISTS) >= 4, (_ids(WRITES), _ids(LISTS))


def test_every_write_endpoint_has_bad_input_cases():
    missing = [r.key for r in WRITES if r.key not in ENDPOINTS]
    assert not missing, f"write endpoints without bad-input coverage (add them to api_support.ENDPOINTS): {missing}"
    stale = sorted(set(ENDPOINTS) - {r.key for r in WRITES})
    assert not stale, f"ENDPOINTS lists routes that no longer exist: {stale}"
    for route in WITH_BODY:
        assert endpoint(route).cases, f"{route.key} takes a body but has no endpoint-specific bad cases"


def test_every_list_endpoint_has_query_parameters_checked():
    for route in LISTS:
        query = operation_of(_APP, route).query
        if query is None:
            continue
        unchecked = sorted(set(query.model_fields) - set(BAD_QUERY_VALUES))
        assert not unchecked, f"{route.key}: no bad values for query parameters {unchecked}"


# --- the valid example is accepted (so the bad cases fail for the reason they claim) -----------

@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_the_valid_example_request_is_accepted(route, client, alice, world):
    spec = endpoint(route)
    response = send(client, alice.token, route, world, body=spec.body(world) if spec.body else None)
    assert response.status_code == spec.success, response.get_data(as_text=True)


# --- generic bad input, derived for every write endpoint -------------------------------------

MALFORMED_JSON = {
    "truncated": b'{"sku": ', "prose": b"not json at all", "single quotes": b"{'single': 'quotes'}",
    "trailing comma": b'{"a": 1,}', "NaN": b'{"a": NaN}', "Infinity": b'{"a": -Infinity}',
    "not UTF-8": b"\xff\xfe\x00garbage", "two documents": b"{} {}", "nested too deeply": b"[" * 100_000,
}


def each(cases: dict[str, Any], check: Any) -> None:
    """Run `check` on every case, failing with the case's name."""
    for name, case in cases.items():
        try:
            check(case)
        except AssertionError as exc:
            raise AssertionError(f"[{name}] {exc}") from None


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_malformed_json_is_rejected_with_code_malformed_json(route, client, alice, world, db_state):
    before = db_state()
    each(MALFORMED_JSON, lambda raw: assert_api_error(
        send(client, alice.token, route, world, data=raw, content_type="application/json"),
        (400, 422), "malformed_json"))
    assert db_state() == before


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_a_body_that_is_not_declared_as_json_is_rejected(route, client, alice, world, db_state):
    before = db_state()

    def check(case: tuple[str, bytes]) -> None:
        content_type, raw = case
        error = assert_api_error(send(client, alice.token, route, world, data=raw, content_type=content_type),
                                 415, "unsupported_media_type")
        assert "application/json" in error["message"]

    each({"text": ("text/plain", b'{"surprise": true}'), "form": ("application/x-www-form-urlencoded", b"a=1"),
          "XML": ("application/xml", b"<order/>"), "no type": (None, b'{"surprise": true}')}, check)
    assert db_state() == before


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_an_oversized_body_is_refused_with_413_in_the_error_shape(route, client, alice, world, db_state, app):
    before = db_state()
    assert app.config["MAX_CONTENT_LENGTH"] == ONE_MIB
    raw = b'{"note": "' + b"x" * ONE_MIB + b'"}'
    response = send(client, alice.token, route, world, data=raw, content_type="application/json")
    error = assert_api_error(response, 413, "payload_too_large")
    assert "too large" in error["message"]
    assert db_state() == before


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_a_json_body_that_is_not_an_object_is_rejected(route, client, alice, world, db_state):
    before = db_state()
    each({"[]": [], "list": [1, 2], "string": "a string", "number": 12, "true": True, "null": None},
         lambda body: assert_api_error(send(client, alice.token, route, world, data=json.dumps(body).encode(),
                                            content_type="application/json"), 422))
    assert db_state() == before


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_unknown_fields_are_rejected_by_name(route, client, alice, world, db_state):
    before = db_state()
    body = {**valid_body(route, world), "surprise": "field"}
    error = assert_api_error(send(client, alice.token, route, world, body=body), 422)
    if operation_of(_APP, route).body is not None:
        assert error["fields"] == {"surprise": error["fields"]["surprise"]}, error
    else:
        assert error["code"] == "unexpected_body"
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_a_missing_body_is_rejected(route, client, alice, world, db_state):
    before = db_state()
    for content_type in ("application/json", None):
        response = send(client, alice.token, route, world, data=b"", content_type=content_type)
        assert_api_error(response, (400, 422), "missing_body")
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_each_missing_required_field_is_rejected_by_name(route, client, alice, world, db_state):
    schema, _ = model_schema(operation_of(_APP, route).body)
    before = db_state()
    for name in schema.get("required", []):
        body = valid_body(route, world)
        del body[name]
        error = assert_api_error(send(client, alice.token, route, world, body=body), 422, "invalid", name)
        assert "required" in error["fields"][name].lower()
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_each_field_of_the_wrong_type_is_rejected_by_name(route, client, alice, world, db_state):
    schema, defs = model_schema(operation_of(_APP, route).body)
    before = db_state()
    tried = 0
    for name, prop in schema["properties"].items():
        for value in wrong_values(prop, defs):
            body = {**valid_body(route, world), name: value}
            response = send(client, alice.token, route, world, body=body)
            error = assert_api_error(response, 422, "invalid")
            assert any(key == name or key.startswith((f"{name}.", f"{name}[")) for key in error["fields"]), (
                f"{route.key}: {name}={value!r} was refused without naming {name}: {error}")
            tried += 1
    assert tried >= len(schema["properties"])
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_IDS, ids=_ids(WITH_IDS))
def test_an_id_that_names_nothing_is_not_found(route, client, alice, world, db_state):
    before = db_state()
    body = valid_body(route, world) if endpoint(route).body else None
    each({"unused": 999_999, "above INTEGER": 2**31, "above BIGINT": 2**63, "huge": 10**30, "zero": 0},
         lambda missing: assert_api_error(send(client, alice.token, route, world, body=body,
                                               ids=dict.fromkeys(route.arguments, missing)), 404, "not_found"))
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_IDS, ids=_ids(WITH_IDS))
def test_an_id_that_is_not_a_number_is_not_found(route, client, alice, world):
    each({"word": "abc", "negative": "-1", "fraction": "1.5", "hex": "0x10", "spaces": "%201"},
         lambda bad: assert_api_error(send(client, alice.token, route, world, body=valid_body(route, world),
                                           ids=dict.fromkeys(route.arguments, bad)), 404, "not_found"))


# --- endpoint-specific bad input ---------------------------------------------------------------

@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_endpoint_specific_bad_input_is_rejected_with_a_precise_error(route, client, alice, world, db_state):
    before = db_state()
    for case in endpoint(route).cases:
        body = case.edit(valid_body(route, world))
        response = send(client, alice.token, route, world, body=body)
        try:
            assert_api_error(response, case.status, case.code, case.field)
        except AssertionError as exc:
            raise AssertionError(f"{route.key}, {case.name}: {exc}") from None
    assert db_state() == before


def test_too_many_decimals_for_the_currency_names_the_field_and_the_currency(alice, api_for, world):
    api = api_for(alice)
    error = assert_api_error(api.post("/products", {"sku": "T-9", "title": "t", "base_price": "1.001"}), 422,
                             field="base_price")
    assert "EUR" in error["fields"]["base_price"] and "2 decimal" in error["fields"]["base_price"]
    jpy = {"currency": "JPY", "buyer": {"name": "Kei"}, "shipping_address": {**ADDRESS, "country": "JP"},
           "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "1.5"}]}
    error = assert_api_error(api.post("/orders", jpy), 422, field="lines[0].unit_price")
    assert "JPY" in error["message"] and "0 decimal" in error["fields"]["lines[0].unit_price"]


def test_a_seller_pricing_in_yen_cannot_set_a_fractional_price(make_account, api_for):
    api = api_for(make_account(currency="JPY"))
    assert api.post("/products", {"sku": "T-1", "title": "t", "base_price": "1500"}).status_code == 201
    error = assert_api_error(api.post("/products", {"sku": "T-2", "title": "t", "base_price": "1500.5"}), 422,
                             field="base_price")
    assert "JPY" in error["fields"]["base_price"]


def test_a_json_number_is_never_taken_for_a_string(alice, api_for):
    error = assert_api_error(api_for(alice).post("/products", {"sku": "T-1", "title": 1.5, "base_price": "1"}), 422,
                             field="title")
    assert "string" in error["fields"]["title"]


def test_a_json_number_amount_keeps_its_exact_digits(alice, api_for):
    response = api_for(alice).post("/products", {"sku": "T-1", "title": "t", "base_price": 0.1})
    assert response.status_code == 201, response.json
    assert response.json["price"]["amount"] == "0.10"


def test_an_empty_json_object_is_accepted_where_no_body_is_expected(alice, api_for, world):
    response = api_for(alice).post(f"/orders/{world.pending_order_id}/cancel", {})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled"


# --- query strings ---------------------------------------------------------------------------

@pytest.mark.parametrize("route", LISTS, ids=_ids(LISTS))
def test_a_list_endpoint_accepts_no_query_at_all(route, client, alice, world):
    response = send(client, alice.token, route, world, ids={})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert isinstance(response.get_json()["items"], list)


@pytest.mark.parametrize("route", LISTS, ids=_ids(LISTS))
def test_unknown_query_parameters_are_rejected_by_name(route, client, alice, world):
    response = client.get(f"{route.rule}?surprise=1&page=2", headers={"Authorization": f"Bearer {alice.token}"})
    error = assert_api_error(response, 422, "invalid")
    assert set(error["fields"]) == {"surprise", "page"}
    assert "surprise" in error["message"]


@pytest.mark.parametrize("route", LISTS, ids=_ids(LISTS))
def test_query_parameters_of_the_wrong_type_are_rejected_by_name(route, client, alice, world):
    query = operation_of(_APP, route).query
    names = sorted(query.model_fields) if query is not None else []
    for name in names:
        for value in BAD_QUERY_VALUES[name]:
            response = client.get(route.rule, query_string={name: value},
                                  headers={"Authorization": f"Bearer {alice.token}"})
            try:
                assert_api_error(response, 422, "invalid", name)
            except AssertionError as exc:
                raise AssertionError(f"{route.key}?{name}={value[:40]}: {exc}") from None


@pytest.mark.parametrize("route", [r for r in LISTS if operation_of(_APP, r).query is not None],
                         ids=_ids([r for r in LISTS if operation_of(_APP, r).query is not None]))
def test_a_query_parameter_given_twice_is_rejected(route, client, alice):
    response = client.get(f"{route.rule}?limit=1&limit=200", headers={"Authorization": f"Bearer {alice.token}"})
    assert_api_error(response, 422, "invalid", "limit")


def test_get_by_id_refuses_query_parameters_too(client, alice, world):
    response = client.get(f"{API}/products/{world.product_id}?fields=all",
                          headers={"Authorization": f"Bearer {alice.token}"})
    assert_api_error(response, 422, field="fields")
