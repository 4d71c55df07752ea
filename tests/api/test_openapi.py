"""GET /api/v1/openapi.json is a valid OpenAPI 3.1 document, documents exactly the routes in
app.url_map, and agrees with what the endpoints actually do."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from hub import create_app
from hub.orders.status import OrderStatus
from tests.api.api_support import (
    API,
    ENDPOINTS,
    GOOD_QUERY_VALUES,
    UNDOCUMENTED,
    Route,
    api_routes,
    assert_api_error,
    list_routes,
    operation_of,
    write_routes,
)

_APP = create_app({"TESTING": True, "SECRET_KEY": "collect-routes", "DATABASE_URL": "sqlite://"})
ROUTES = [r for r in api_routes(_APP) if r.rule not in UNDOCUMENTED]
WRITES = write_routes(_APP)
WITH_BODY = [r for r in WRITES if operation_of(_APP, r).body is not None]
LISTS = list_routes(_APP)


def _ids(routes: list[Route]) -> list[str]:
    return [r.key for r in routes]


def doc_path(route: Route) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", route.rule)


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    response = _APP.test_client().get(f"{API}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def operation(spec: dict[str, Any], route: Route) -> dict[str, Any]:
    return spec["paths"][doc_path(route)][route.method.lower()]


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def schema_validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for `schema`, resolving refs into the document's components."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def request_schema(spec: dict[str, Any], route: Route) -> dict[str, Any]:
    return resolve(spec, operation(spec, route)["requestBody"]["content"]["application/json"]["schema"])


# --- the document itself ---------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(spec):
    assert spec["openapi"].startswith("3.1.")
    errors = [str(e.message) for e in OpenAPIV31SpecValidator(spec).iter_errors()]
    assert not errors, errors[:5]


def test_every_component_schema_is_valid_json_schema(spec):
    for name, schema in spec["components"]["schemas"].items():
        errors = [e.message for e in Draft202012Validator(Draft202012Validator.META_SCHEMA).iter_errors(schema)]
        assert not errors, (name, errors)


def test_every_route_and_method_in_the_url_map_is_documented(spec):
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    served = {(doc_path(r), r.method) for r in ROUTES}
    assert served - documented == set(), f"served but not documented: {sorted(served - documented)}"
    assert documented - served == set(), f"documented but not served: {sorted(documented - served)}"
    assert len(served) >= 14


def test_operation_ids_are_unique(spec):
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), ids


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_each_operation_documents_its_path_parameters_auth_and_errors(route, spec):
    op = operation(spec, route)
    assert op["summary"] and op["tags"]
    path_params = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
    assert path_params == set(route.arguments)
    assert op["security"] == [{"bearer": []}]
    errors = {code for code in op["responses"] if code.startswith("4")}
    assert {"401", "403", "422"} <= errors
    if route.arguments:
        assert "404" in errors
    if route.method in {"POST", "PUT", "DELETE"}:
        assert {"413", "415"} <= errors
    for code in errors:
        schema = op["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}


def test_the_error_schema_is_the_single_error_shape(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message", "fields"]


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_request_bodies_are_required_and_refuse_unknown_fields(route, spec):
    op = operation(spec, route)
    assert op["requestBody"]["required"] is True
    assert request_schema(spec, route).get("additionalProperties") is False


def test_the_documented_order_statuses_are_the_state_machines(spec):
    assert set(spec["components"]["schemas"]["OrderStatus"]["enum"]) == {str(s) for s in OrderStatus}


# --- the document agrees with behaviour ---------------------------------------------------

@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_the_documented_success_response_is_what_the_endpoint_returns(route, spec, client, alice, world):
    endpoint = ENDPOINTS[route.key]
    response = client.open(route.url(endpoint.ids(world)), method=route.method,
                           json=endpoint.body(world) if endpoint.body else None,
                           headers={"Authorization": f"Bearer {alice.token}"})
    documented = operation(spec, route)["responses"]
    assert str(response.status_code) in documented, (response.status_code, sorted(documented))
    content = documented[str(response.status_code)].get("content")
    if content is None:
        assert response.get_data() == b""
        return
    errors = list(schema_validator(spec, content["application/json"]["schema"]).iter_errors(response.json))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("route", [r for r in ROUTES if r.method == "GET"],
                         ids=_ids([r for r in ROUTES if r.method == "GET"]))
def test_read_responses_match_their_documented_schema(route, spec, client, alice, world):
    ids = {"product_id": world.product_id, "order_id": world.paid_order_id, "customer_id": world.customer_id}
    response = client.get(route.url(ids), headers={"Authorization": f"Bearer {alice.token}"})
    assert response.status_code == 200
    schema = operation(spec, route)["responses"]["200"]["content"]["application/json"]["schema"]
    errors = list(schema_validator(spec, schema).iter_errors(response.json))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_each_documented_required_field_is_refused_when_missing(route, spec, client, alice, world, db_state):
    schema = request_schema(spec, route)
    before = db_state()
    for name in schema.get("required", []):
        body = ENDPOINTS[route.key].body(world)
        del body[name]
        response = client.open(route.url(ENDPOINTS[route.key].ids(world)), method=route.method, json=body,
                               headers={"Authorization": f"Bearer {alice.token}"})
        assert_api_error(response, 422, "invalid", name)
    assert db_state() == before


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_each_documented_optional_field_may_be_left_out(route, spec, client, alice, world):
    schema = request_schema(spec, route)
    example = ENDPOINTS[route.key].body(world)
    optional = [name for name in schema["properties"] if name not in schema.get("required", [])]
    for name in optional:
        body = {k: v for k, v in copy.deepcopy(example).items() if k != name}
        response = client.open(route.url(ENDPOINTS[route.key].ids(world)), method=route.method, json=body,
                               headers={"Authorization": f"Bearer {alice.token}"})
        if response.status_code >= 400:  # may clash with the state the previous call left, never be "invalid"
            error = response.json["error"]
            assert name not in error["fields"] and error["code"] != "invalid", (name, error)


@pytest.mark.parametrize("route", WITH_BODY, ids=_ids(WITH_BODY))
def test_the_documented_example_bodies_are_valid_against_the_schema(route, spec, world):
    errors = list(schema_validator(spec, request_schema(spec, route)).iter_errors(ENDPOINTS[route.key].body(world)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("route", WRITES, ids=_ids(WRITES))
def test_every_status_the_bad_input_cases_produce_is_documented(route, spec):
    documented = {int(code) for code in operation(spec, route)["responses"]}
    for case in ENDPOINTS[route.key].cases:
        statuses = case.status if isinstance(case.status, tuple) else (case.status,)
        assert set(statuses) & documented, f"{route.key}, {case.name}: {statuses} not among {sorted(documented)}"


@pytest.mark.parametrize("route", LISTS, ids=_ids(LISTS))
def test_the_documented_query_parameters_are_the_accepted_ones(route, spec, client, alice, world):
    params = [p for p in operation(spec, route).get("parameters", []) if p["in"] == "query"]
    query = operation_of(_APP, route).query
    assert {p["name"] for p in params} == (set(query.model_fields) if query else set())
    for param in params:
        assert param["required"] is False, param
        value = GOOD_QUERY_VALUES[param["name"]]
        response = client.get(route.rule, query_string={param["name"]: value},
                              headers={"Authorization": f"Bearer {alice.token}"})
        assert response.status_code == 200, (param["name"], response.json)


def test_an_error_response_validates_against_the_documented_error_schema(spec, client, alice):
    response = client.post(f"{API}/products", json={"sku": "bad sku"},
                           headers={"Authorization": f"Bearer {alice.token}"})
    assert response.status_code == 422
    errors = list(schema_validator(spec, {"$ref": "#/components/schemas/Error"}).iter_errors(response.json))
    assert not errors, [e.message for e in errors]
