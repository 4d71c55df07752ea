"""What the API tests share: the error-shape check, the routes read from app.url_map, and one
valid request per write endpoint together with the bad inputs it must refuse.

Every write endpoint under /api/v1 must have an entry in ENDPOINTS: the coverage test reads the
routes from app.url_map and fails for any that is missing, so a new endpoint cannot go untested.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from pydantic import BaseModel

API = "/api/v1"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNDOCUMENTED = {f"{API}/openapi.json"}  # the document itself

# Things that must never reach a client: they mean an exception or a library leaked through.
LEAKS = ("Traceback", 'File "', "errors.pydantic.dev", "sqlalchemy", "psycopg", "sqlite3", "Exception")


# --- the error shape ---------------------------------------------------------------------------

def assert_api_error(response: Any, status: int | tuple[int, ...] | None = None, code: str | None = None,
                     field: str | None = None) -> dict[str, Any]:
    """A 4xx in the single error shape with a human message; returns the `error` object."""
    text = response.get_data(as_text=True)
    where = f"{response.request.method} {response.request.path}" if getattr(response, "request", None) else ""
    assert 400 <= response.status_code < 500, f"{where}: expected a 4xx, got {response.status_code}: {text[:500]}"
    if status is not None:
        wanted = status if isinstance(status, tuple) else (status,)
        assert response.status_code in wanted, f"{where}: expected {wanted}, got {response.status_code}: {text[:500]}"
    assert response.mimetype == "application/json", f"{where}: not JSON: {response.mimetype} {text[:200]}"
    for leak in LEAKS:
        assert leak not in text, f"{where}: {leak!r} leaked into the response: {text[:500]}"
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"{where}: not the error shape: {text[:500]}"
    error = body["error"]
    assert set(error) == {"code", "message", "fields"}, f"{where}: not the error shape: {text[:500]}"
    assert isinstance(error["code"], str) and re.fullmatch(r"[a-z][a-z_]*", error["code"]), error
    assert isinstance(error["message"], str) and len(error["message"].strip()) >= 8, f"{where}: no message: {error}"
    assert isinstance(error["fields"], dict), error
    for name, message in error["fields"].items():
        assert isinstance(name, str) and name and isinstance(message, str) and message.strip(), error
    if code is not None:
        assert error["code"] == code, f"{where}: expected code {code!r}, got {error}"
    if field is not None:
        assert field in error["fields"], f"{where}: expected field {field!r} to be named, got {error}"
    if response.status_code == 401:
        assert response.headers.get("WWW-Authenticate", "").startswith("Bearer"), response.headers
    return error


# --- routes from app.url_map -------------------------------------------------------------------

@dataclass(frozen=True)
class Route:
    method: str
    rule: str
    endpoint: str
    arguments: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.method} {self.rule}"

    def url(self, ids: dict[str, Any]) -> str:
        return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: str(ids[m.group(1)]), self.rule)


def api_routes(app: Flask) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append(Route(method, rule.rule, rule.endpoint, tuple(sorted(rule.arguments))))
    return sorted(routes, key=lambda r: r.key)


def write_routes(app: Flask) -> list[Route]:
    return [r for r in api_routes(app) if r.method in WRITE_METHODS]


# Lists read from tables a scheduled job fills from orders on several channels (hub.recommend): empty in the
# generic world, so the checks that need Alice's rows in them cannot apply; tests/recommend/test_api.py checks
# their tenant isolation, paging and query strings.
COMPUTED_LISTS = {f"{API}/recommendations/listing-opportunities"}


def list_routes(app: Flask) -> list[Route]:
    return [r for r in api_routes(app) if r.method == "GET" and not r.arguments and r.rule not in UNDOCUMENTED
            and r.rule not in COMPUTED_LISTS]


def operation_of(app: Flask, route: Route) -> Any:
    return getattr(app.view_functions[route.endpoint], "openapi", None)


# --- editing example bodies -----------------------------------------------------------------

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _steps(path: str) -> list[str | int]:
    return [int(index) if index else name for name, index in _STEP.findall(path)]


def put(path: str, value: Any) -> Callable[[Any], Any]:
    """A body edit: set `path` (e.g. "lines[0].unit_price") to `value`."""
    def edit(body: Any) -> Any:
        body = copy.deepcopy(body)
        *parents, last = _steps(path)
        target = body
        for step in parents:
            target = target[step]
        target[last] = value
        return body
    return edit


def drop(path: str) -> Callable[[Any], Any]:
    def edit(body: Any) -> Any:
        body = copy.deepcopy(body)
        *parents, last = _steps(path)
        target = body
        for step in parents:
            target = target[step]
        del target[last]
        return body
    return edit


def wrong_values(prop: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    """JSON values of the wrong type for a property of a pydantic JSON schema."""
    if "$ref" in prop:
        prop = defs[prop["$ref"].rsplit("/", 1)[-1]]
    variants = [v for v in prop.get("anyOf", [prop]) if v.get("type") != "null"]
    types: set[str] = set()
    for variant in variants:
        if "$ref" in variant:
            variant = defs[variant["$ref"].rsplit("/", 1)[-1]]
        if "enum" in variant:
            types.add("enum")
        types.add(variant.get("type", "object"))
    values: list[Any] = []
    if "object" in types:
        values += ["not an object", 12, [1, 2]]
    else:
        values.append({"wrong": "type"})
    if "array" in types:
        values += ["not a list", {"wrong": "type"}]
    if "integer" in types:
        values += ["twelve", 1.5, True]
    if "number" in types:
        values += ["twelve", True, [1]]
    if "boolean" in types:
        values += ["perhaps", 7]
    if "enum" in types:
        values += ["no-such-value"]
    if "string" in types and not types & {"number", "integer"}:
        values += [12, 1.5, True, ["a"]]
    if "string" in types:
        values.append("NUL\x00inside")  # PostgreSQL refuses it; it must be a 422, not a 500
    return values


# --- the endpoints and their cases ------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One bad request: `edit` turns the endpoint's valid body into the bad one."""

    name: str
    edit: Callable[[Any], Any]
    status: int | tuple[int, ...] = 422
    code: str | None = None
    field: str | None = None


@dataclass(frozen=True)
class Endpoint:
    ids: Callable[[Any], dict[str, Any]]  # world -> path arguments
    body: Callable[[Any], Any] | None  # world -> a valid body; None for endpoints without one
    success: int
    cases: tuple[Case, ...] = field(default=())


ADDRESS = {"name": "Dana Buyer", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def order_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "external_id": "WEB-100", "currency": "EUR",
        "buyer": {"name": "Dana Buyer", "email": "dana@example.com"},
        "shipping_address": dict(ADDRESS),
        "lines": [{"sku": "TEA-1", "quantity": 1, "unit_price": "10.00", "tax_rate": "19"}],
        "shipping_total": "4.90", "placed_at": "2026-11-20T10:00:00+01:00",
    }
    body.update(overrides)
    return body


def _no_ids(_world: Any) -> dict[str, Any]:
    return {}


PRODUCT_CASES = (
    Case("negative price", put("base_price", "-1.00"), field="base_price"),
    Case("too many decimals for EUR", put("base_price", "1.001"), field="base_price"),
    Case("price as a non-number", put("base_price", "cheap"), field="base_price"),
    Case("GTIN with a wrong check digit", put("gtin", "4006381333932"), field="gtin"),
    Case("GTIN of the wrong length", put("gtin", "123"), field="gtin"),
    Case("unknown country of origin", put("country_of_origin", "XX"), field="country_of_origin"),
    Case("country of origin that is not a code", put("country_of_origin", "Germany"), field="country_of_origin"),
    Case("SKU with spaces", put("sku", "TEA 1"), field="sku"),
    Case("SKU too long", put("sku", "T" * 65), field="sku"),
    Case("empty title", put("title", ""), field="title"),
    Case("negative weight", put("weight_grams", -1), field="weight_grams"),
    Case("HS code with letters", put("hs_code", "09AB10"), field="hs_code"),
    Case("unknown translation locale", put("translations", [{"locale": "xx_QQ", "title": "t"}]),
         field="translations[0].locale"),
    Case("two translations for one locale", put("translations", [{"locale": "de_DE", "title": "a"},
                                                                 {"locale": "de-DE", "title": "b"}]),
         field="translations"),
    Case("unknown field inside a translation", put("translations", [{"locale": "de_DE", "title": "a", "x": 1}]),
         field="translations[0].x"),
)

ENDPOINTS: dict[str, Endpoint] = {
    f"POST {API}/products": Endpoint(
        _no_ids,
        lambda w: {"sku": "NEW-1", "title": "New tea", "base_price": "4.50", "gtin": "4006381333931",
                   "country_of_origin": "CN", "hs_code": "090230", "weight_grams": 100,
                   "translations": [{"locale": "de_DE", "title": "Neuer Tee"}]},
        201,
        (*PRODUCT_CASES,
         Case("duplicate SKU", put("sku", "TEA-2"), 409, "duplicate_sku", "sku")),
    ),
    f"PUT {API}/products/<id:product_id>": Endpoint(
        lambda w: {"product_id": w.product_id},
        lambda w: {"sku": "TEA-1", "title": "Tea, renamed", "base_price": "11.00", "gtin": "4006381333931",
                   "country_of_origin": "CN", "translations": [{"locale": "de_DE", "title": "Tee"}]},
        200,
        (*PRODUCT_CASES,
         Case("SKU of another product", put("sku", "TEA-2"), 409, "duplicate_sku", "sku")),
    ),
    f"DELETE {API}/products/<id:product_id>": Endpoint(lambda w: {"product_id": w.product_id}, None, 204),
    f"POST {API}/warehouses": Endpoint(
        _no_ids,
        lambda w: {"code": "EAST", "name": "East", "country": "PL", "priority": 20},
        201,
        (Case("unknown country", put("country", "XX"), field="country"),
         Case("country that is not a code", put("country", "Poland"), field="country"),
         Case("negative priority", put("priority", -1), field="priority"),
         Case("code with spaces", put("code", "EA ST"), field="code"),
         Case("duplicate code", put("code", "MAIN"), 409, field="code")),
    ),
    f"POST {API}/stock/receipts": Endpoint(
        _no_ids,
        lambda w: {"sku": "TEA-1", "warehouse": "MAIN", "quantity": 5, "reason": "delivery"},
        201,
        (Case("unknown SKU", put("sku", "NOPE-1"), 422, field="sku"),
         Case("unknown warehouse", put("warehouse", "NOWHERE"), 422, field="warehouse"),
         Case("negative quantity", put("quantity", -5), field="quantity"),
         Case("zero quantity", put("quantity", 0), field="quantity"),
         Case("fractional quantity", put("quantity", 1.5), field="quantity"),
         Case("absurd quantity", put("quantity", 10**12), field="quantity")),
    ),
    f"POST {API}/stock/adjustments": Endpoint(
        _no_ids,
        lambda w: {"sku": "TEA-1", "warehouse": "MAIN", "delta": -2, "reason": "count"},
        201,
        (Case("unknown SKU", put("sku", "NOPE-1"), 422, field="sku"),
         Case("unknown warehouse", put("warehouse", "NOWHERE"), 422, field="warehouse"),
         Case("zero delta", put("delta", 0), field="delta"),
         Case("fractional delta", put("delta", -1.5), field="delta"),
         Case("empty reason", put("reason", ""), field="reason"),
         Case("removing more than is available", put("delta", -1000), 409, "insufficient_stock", "delta")),
    ),
    f"POST {API}/orders": Endpoint(
        _no_ids,
        lambda w: order_body(),
        201,
        (Case("unknown currency", put("currency", "XYZ"), field="currency"),
         Case("a non-trading currency", put("currency", "XAU"), field="currency"),
         Case("negative quantity", put("lines[0].quantity", -1), field="lines[0].quantity"),
         Case("zero quantity", put("lines[0].quantity", 0), field="lines[0].quantity"),
         Case("negative unit price", put("lines[0].unit_price", "-10.00"), field="lines[0].unit_price"),
         Case("negative shipping", put("shipping_total", "-1"), field="shipping_total"),
         Case("negative discount", put("lines[0].discount", "-1"), field="lines[0].discount"),
         Case("discount larger than the line", put("lines[0].discount", "11.00"), field="lines[0].discount"),
         Case("tax rate above 100", put("lines[0].tax_rate", "101"), field="lines[0].tax_rate"),
         Case("EUR amount with three decimals", put("lines[0].unit_price", "10.001"), field="lines[0].unit_price"),
         Case("EUR shipping with three decimals", put("shipping_total", "4.999"), field="shipping_total"),
         Case("JPY amount with decimals", lambda b: put("lines[0].unit_price", "1500.5")(put("currency", "JPY")(b)),
              field="lines[0].unit_price"),
         Case("JPY shipping with decimals", lambda b: put("shipping_total", "4.90")(put("currency", "JPY")(b)),
              field="shipping_total"),
         Case("unknown SKU", put("lines[0].sku", "NOPE-1"), 422, "unknown_sku", "lines[0].sku"),
         Case("no lines", put("lines", []), field="lines"),
         Case("a line without a SKU", drop("lines[0].sku"), field="lines[0].sku"),
         Case("unknown field on a line", put("lines[0].colour", "red"), field="lines[0].colour"),
         Case("buyer without a name", drop("buyer.name"), field="buyer.name"),
         Case("buyer with a bad email", put("buyer.email", "not-an-email"), field="buyer.email"),
         Case("bad shipping country", put("shipping_address.country", "XX"), field="shipping_address.country"),
         Case("shipping address without a country", drop("shipping_address.country"),
              field="shipping_address.country"),
         Case("bad billing country", put("billing_address", {**ADDRESS, "country": "Narnia"}),
              field="billing_address.country"),
         Case("naive placed_at", put("placed_at", "2026-11-20T10:00:00"), field="placed_at"),
         Case("placed_at that is not a date", put("placed_at", "last tuesday"), field="placed_at"),
         Case("placed_at beyond the calendar in UTC", put("placed_at", "9999-12-31T23:00:00-05:00"),
              field="placed_at"),
         Case("external_id with spaces", put("external_id", "WEB 100"), field="external_id"),
         Case("expected_total that differs", put("expected_total", "1.00"), 422, "total_mismatch",
              "expected_total"),
         Case("duplicate external_id", put("external_id", "WEB-1"), 409, "duplicate_order", "external_id"),
         Case("more than is in stock", put("lines[0].quantity", 10_000), 409, "insufficient_stock",
              "lines[0].quantity")),
    ),
    f"POST {API}/orders/<id:order_id>/status": Endpoint(
        lambda w: {"order_id": w.pending_order_id},
        lambda w: {"status": "paid", "note": "paid by card"},
        200,
        (Case("unknown status", put("status", "teleported"), field="status"),
         Case("partial refund without an amount", put("status", "partially_refunded"), field="body"),
         Case("an amount on a non-refund", put("amount", "1.00"), field="body"),
         Case("illegal transition", put("status", "delivered"), 409, "illegal_transition", "status"),
         Case("partially fulfilled by status", put("status", "partially_fulfilled"), (409, 422), field="status")),
    ),
    f"POST {API}/orders/<id:order_id>/cancel": Endpoint(
        lambda w: {"order_id": w.pending_order_id}, None, 200),
    f"POST {API}/orders/<id:order_id>/shipments": Endpoint(
        lambda w: {"order_id": w.paid_order_id},
        lambda w: {"lines": [{"line_id": w.paid_line_id, "quantity": 1}], "carrier": "DHL",
                   "tracking_number": "00340434161094042557"},
        201,
        (Case("negative quantity", put("lines[0].quantity", -1), field="lines[0].quantity"),
         Case("more than is open", put("lines[0].quantity", 99), field="lines[0].quantity"),
         Case("a line of no such id", put("lines[0].line_id", 999_999), field="lines[0].line_id"),
         Case("a line id beyond any id", put("lines[0].line_id", 10**30), field="lines[0].line_id"),
         Case("an empty list of lines", put("lines", []), field="lines"),
         Case("the same line twice", lambda b: put("lines", b["lines"] * 2)(b), field="lines[1].line_id"),
         Case("carrier too long", put("carrier", "x" * 65), field="carrier")),
    ),
    f"POST {API}/events": Endpoint(
        _no_ids,
        lambda w: {"events": [{"event_id": "evt-1", "kind": "view", "product_id": w.product_id, "visitor": "v-1",
                               "occurred_at": "2026-11-20T10:00:00Z"}]},
        200,
        (Case("no events", put("events", []), field="events"),
         Case("unknown kind", put("events[0].kind", "wishlist"), field="events[0].kind"),
         Case("a product of no such id", put("events[0].product_id", 999_999), field="events[0].product_id"),
         Case("a product id beyond any id", put("events[0].product_id", 10**30), field="events[0].product_id"),
         Case("a customer of no such id", put("events[0].customer_id", 999_999), field="events[0].customer_id"),
         Case("an empty event id", put("events[0].event_id", ""), field="events[0].event_id"),
         Case("an event id with spaces", put("events[0].event_id", "evt 1"), field="events[0].event_id"),
         Case("an event id too long", put("events[0].event_id", "e" * 65), field="events[0].event_id"),
         Case("naive occurred_at", put("events[0].occurred_at", "2026-11-20T10:00:00"),
              field="events[0].occurred_at"),
         Case("occurred_at in the future", put("events[0].occurred_at", "2126-01-01T00:00:00Z"),
              field="events[0].occurred_at"),
         Case("a recommendation context on a view", put("events[0].context", "for_buyer"), field="events[0]"),
         Case("an unknown recommendation context",
              lambda b: put("events[0].context", "newsletter")(put("events[0].kind", "click")(b)),
              field="events[0].context"),
         Case("unknown field on an event", put("events[0].colour", "red"), field="events[0].colour")),
    ),
    f"POST {API}/orders/<id:order_id>/payments": Endpoint(
        lambda w: {"order_id": w.pending_order_id},
        lambda w: {"account_id": w.payment_account_id, "payment_method": "pm_card_visa", "capture": True},
        201,
        (Case("an account of no such id", put("account_id", 999_999), 404, "not_found"),
         Case("account id zero", put("account_id", 0), field="account_id"),
         Case("an account id beyond any id", put("account_id", 10**30), field="account_id"),
         Case("an empty payment method", put("payment_method", ""), field="payment_method"),
         Case("payment method too long", put("payment_method", "pm_" + "x" * 200), field="payment_method"),
         Case("return URL too long", put("return_url", "https://shop.example.com/" + "x" * 1000),
              field="return_url")),
    ),
}


# Query strings every list endpoint with that parameter must refuse, by parameter name.
BAD_QUERY_VALUES: dict[str, tuple[str, ...]] = {
    "limit": ("0", "-1", "201", "many", "1.5", "99999999999999999999999"),
    "after": ("-1", "x", "1.5", "99999999999999999999999"),
    "active": ("perhaps", "2"),
    "status": ("teleported",),
    "country": ("XX", "Germany"),
    "currency": ("XYZ",),
    "placed_from": ("yesterday", "2026-11-20T10:00:00", "9999-12-31T23:00:00-05:00"),
    "placed_to": ("yesterday", "2026-11-20T10:00:00"),
    "unmatched": ("perhaps",),
    "q": ("x" * 201, "tea\x00"),
    "sku": ("x" * 65, "TEA-1\x00"),
    "warehouse": ("x" * 33, "\x00"),
    "channel": ("x" * 81, "direct\x00"),
}


# A valid value for every query parameter of a list endpoint, by name.
GOOD_QUERY_VALUES: dict[str, str] = {
    "limit": "1", "after": "1", "active": "true", "status": "paid", "country": "DE", "currency": "EUR",
    "placed_from": "2026-01-01T00:00:00Z", "placed_to": "2026-12-31T00:00:00+09:00", "unmatched": "false",
    "q": "TEA", "sku": "TEA-1", "warehouse": "MAIN", "channel": "direct",
}


def model_schema(model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    schema = model.model_json_schema()
    return schema, schema.get("$defs", {})
