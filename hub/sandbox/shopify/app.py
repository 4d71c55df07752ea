"""The Shopify sandbox: `POST /admin/api/{version}/graphql.json` answering the operations the connector
sends (and the documented examples), in the GraphQL Admin API's real shapes.

No GraphQL library: the root field is read from the query text and its arguments from the literal
values or `$variables` written there. What is enforced as Shopify does
(https://shopify.dev/docs/api/usage/limits, https://shopify.dev/docs/api/admin-graphql):

- `X-Shopify-Access-Token`: a missing or wrong token is answered 401
  `{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}`;
- cost: the requested cost of the query must be at most 1000 (else MAX_COST_EXCEEDED) and in the bucket
  (1000 points, restored at 100 a second), else HTTP 200 with `errors: [{message: "Throttled",
  extensions: {code: "THROTTLED"}}]`; the actual cost is charged; every answer carries `extensions.cost`;
- `first` at most 250; cursors opaque; `orders(query: "updated_at:>='…'")` filtering, sortKey UPDATED_AT;
- only the fields selected are answered, under their aliases (fragments are not read: then all are sent);
- `productVariantsBulkUpdate(productId, variants: [{id, price}], allowPartialUpdates)`: prices are Money
  strings in the shop's currency, at most MAX_BULK_VARIANTS variants a call; per-variant `userErrors`
  (`field: ["variants", "<index>", ...]`) and, unless partial updates are allowed, nothing applied when
  any variant is in error
  (https://shopify.dev/docs/api/admin-graphql/2025-01/mutations/productVariantsBulkUpdate).
- `metafieldsSet(metafields: [{ownerId, namespace, key, type, value}])` on products: at most 25, atomic (one
  invalid value saves none), `rating` values as JSON `{value, scale_min, scale_max}` with the value on the scale,
  `number_integer` an integer string (https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet,
  https://shopify.dev/docs/apps/build/custom-data/metafields/list-of-data-types).

Sandbox-only endpoints: `GET /_sandbox/inventory` (levels by SKU and location), `GET /_sandbox/prices`
(price and currency by SKU), `GET /_sandbox/metafields` (by product gid), `GET /_sandbox/orders/<id>`
(the REST order, fulfillments included), `GET /_sandbox/webhooks/<id>?topic=` (a signed delivery: headers
and raw body), `POST /_sandbox/advance {"count"}` (orders move on: paid, shipped, refunded, now), and
`POST /_sandbox/faults {knob: value}` (hub.sandbox.faults.Faults). Credentials: `app.extensions["sandbox"]`
has `access_token` and `api_secret`.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask, Response, jsonify, request

from hub.sandbox.faults import Faults
from hub.sandbox.ratelimit import TokenBucket
from hub.sandbox.shopify.state import (
    Order,
    Shop,
    build_shop,
    decode_cursor,
    encode_cursor,
    gid,
    gql_decimal,
    gql_order,
    gql_time,
    line_window,
    quantum,
    rest_order,
)

MAX_COST = 1000
BUCKET_SIZE = 1000
RESTORE_RATE = 100  # points per second (Standard plan, https://shopify.dev/docs/api/usage/limits)
MAX_QUANTITIES = 250
# Variants per productVariantsBulkUpdate call: the docs name the variants a product may have (100 by default,
# https://shopify.dev/docs/api/admin-graphql/latest/mutations/productVariantsBulkUpdate), so no call can carry
# more for one product. Enforced here so a connector that batches wrongly is caught.
MAX_BULK_VARIANTS = 100
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105
# The actual cost charged is estimated from what was returned: an order node's objects without its
# lines, and one line's objects (money bags, tax lines).
ORDER_NODE_COST = 14
LINE_NODE_COST = 10


class GraphQLError(Exception):
    def __init__(self, message: str, code: str = "BAD_REQUEST", **extra: Any) -> None:
        super().__init__(message)
        self.payload = {"message": message, "extensions": {"code": code, **extra}}


def create_app(seed: int = 42, orders: int = 200, clock: Callable[[], float] | None = None,
               faults: Faults | None = None, currency: str = "EUR", malformed_order_rate: float = 0.0) -> Flask:
    """`currency` is the shop's own currency, the one variant prices are set in. `malformed_order_rate`: that
    share of orders (seeded) is answered without presentmentCurrencyCode and with a line of quantity 0, which
    the connector rejects."""
    app = Flask("shopify-sandbox")
    shop = build_shop(seed, orders, currency, malformed_order_rate)
    if clock is not None:
        shop.now = lambda: datetime.fromtimestamp(clock(), UTC)
    bucket = TokenBucket(rate=RESTORE_RATE, burst=BUCKET_SIZE, clock=clock or time.monotonic)
    faults = faults or Faults(seed=seed)
    app.extensions["sandbox"] = shop
    app.extensions["sandbox_faults"] = faults
    app.extensions["sandbox_bucket"] = bucket

    def throttle_status() -> dict[str, Any]:
        return {"maximumAvailable": float(BUCKET_SIZE), "currentlyAvailable": int(bucket.available),
                "restoreRate": float(RESTORE_RATE)}

    @app.post("/admin/api/<version>/graphql.json")
    def graphql(version: str) -> Response | tuple[Response, int]:
        faults.delay()
        if not re.fullmatch(r"\d{4}-(01|04|07|10)|unstable", version):
            return jsonify(errors="Not Found"), 404
        if request.headers.get("X-Shopify-Access-Token") != shop.access_token:
            return jsonify(errors=INVALID_TOKEN), 401
        if faults.roll(faults.error_rate):
            return jsonify(errors="Internal Server Error"), 500
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return jsonify(errors={"query": "Required parameter missing or invalid"}), 400
        text, variables = payload["query"], payload.get("variables") or {}
        try:
            field, args = root_field(text, variables)
            handler = HANDLERS.get(field)
            if handler is None:
                raise GraphQLError(f"Field '{field}' doesn't exist on type 'QueryRoot'", "undefinedField")
            requested = requested_cost(text, variables)
            if requested > MAX_COST:
                raise GraphQLError(f"Query cost is {requested}, which exceeds the single query max cost limit "
                                   f"({MAX_COST}).", "MAX_COST_EXCEEDED", cost=requested, maxCost=MAX_COST)
            if faults.take_throttle() or bucket.available < requested:
                return jsonify(errors=[{"message": "Throttled", "extensions": {
                    "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                    extensions={"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                         "throttleStatus": throttle_status()}})
            with shop.lock:
                data, actual = handler(shop, args, text, variables, faults)
            bucket.take(min(actual, requested))
        except GraphQLError as exc:
            return jsonify(errors=[exc.payload])
        body = jsonify(data=project({field: data}, selection(text)), extensions={"cost": {
            "requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": throttle_status()}})
        if faults.roll(faults.malformed_rate):
            raw = body.get_data()
            body.set_data(raw[: len(raw) // 2])
        return body

    # --- sandbox-only endpoints, to read state back and steer faults ---------------------------
    @app.get("/_sandbox/inventory")
    def inventory() -> Response:
        return jsonify({sku: {gid("Location", loc): shop.levels[(v.item_number, loc)] for loc in shop.locations}
                        for sku, v in shop.variants.items()})

    @app.get("/_sandbox/prices")
    def prices() -> Response:
        return jsonify({sku: {"price": gql_decimal(v.price), "currency": shop.currency,
                              "variant": gid("ProductVariant", v.number), "product": gid("Product", v.product_number)}
                        for sku, v in shop.variants.items()})

    @app.get("/_sandbox/orders/<int:number>")
    def order(number: int) -> Response | tuple[Response, int]:
        found = shop.orders.get(number)
        return (jsonify(order=rest_order(shop, found)), 200) if found else (jsonify(errors="Not Found"), 404)

    @app.get("/_sandbox/webhooks/<int:number>")
    def webhook(number: int) -> Response | tuple[Response, int]:
        if number not in shop.orders:
            return jsonify(errors="Not Found"), 404
        headers, body = shop.webhook(number, request.args.get("topic", "orders/updated"))
        return jsonify(headers=headers, body=body.decode())

    @app.get("/_sandbox/metafields")
    def metafields() -> Response:
        with shop.lock:
            found: dict[str, dict[str, dict[str, str]]] = {}
            for (owner, namespace, key), value in sorted(shop.metafields.items()):
                found.setdefault(owner, {})[f"{namespace}.{key}"] = value
        return jsonify(found)

    @app.post("/_sandbox/advance")
    def advance() -> Response:
        knobs = request.get_json(silent=True) or {}
        return jsonify(moved=shop.advance(int(knobs.get("count", 10)), int(knobs.get("seed", 0))))

    @app.post("/_sandbox/faults")
    def set_faults() -> Response:
        faults.update(**(request.get_json(silent=True) or {}))
        return jsonify(ok=True)

    return app


# --- a tiny reader of GraphQL text ------------------------------------------------------------------

_ARG = re.compile(r'(\w+)\s*:\s*(\$\w+|"(?:[^"\\]|\\.)*"|-?\d+|true|false|null|[A-Z_]+)')


def _value(token: str, variables: dict[str, Any]) -> Any:
    if token.startswith("$"):
        return variables.get(token[1:])
    if token.startswith('"'):
        return token[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if re.fullmatch(r"-?\d+", token):
        return int(token)
    return {"true": True, "false": False, "null": None}.get(token, token)


def _args_after(text: str, start: int, variables: dict[str, Any]) -> dict[str, Any]:
    """Scalar arguments of the field whose name ends at `start` (object literals are left to variables)."""
    rest = text[start:].lstrip()
    if not rest.startswith("("):
        return {}
    depth, end = 0, 0
    for i, ch in enumerate(rest):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            end = i
            break
    return {name: _value(token, variables) for name, token in _ARG.findall(rest[1:end])}


def root_field(text: str, variables: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    body = re.sub(r"#[^\n]*", "", text)
    head = re.match(r"\s*(query|mutation)?\s*\w*\s*(\([^)]*\))?\s*\{", body)
    if not head:
        raise GraphQLError("syntax error, unexpected end of file", "PARSE_ERROR")
    match = re.compile(r"\s*(\w+)\s*(?::\s*(\w+))?").match(body, head.end())
    if not match:
        raise GraphQLError("syntax error, unexpected end of file", "PARSE_ERROR")
    name = match.group(2) or match.group(1)  # an alias: `a: orders(...)`
    return name, _args_after(body, match.end(), variables)


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\.\.\.|[{}():]|[A-Za-z_$][\w$]*|[^\s{}():",]+')


Field = tuple[str, str, Any, str | None]  # response key, field name, sub-selection or None, `first` token


def selection(text: str) -> list[Field] | None:
    """The operation's selection set as [(response key, field, sub-selection or None, `first`)]; None when
    it cannot be read (fragments), in which case nothing is projected away."""
    tokens = _TOKEN.findall(re.sub(r"#[^\n]*", "", text))
    try:
        start = tokens.index("{")
    except ValueError:
        return None
    if "..." in tokens:
        return None
    tree, _ = _selection(tokens, start + 1)
    return tree


def _selection(tokens: list[str], i: int) -> tuple[list[Field], int]:
    fields: list[Field] = []
    while i < len(tokens) and tokens[i] != "}":
        key = name = tokens[i]
        i += 1
        if i < len(tokens) and tokens[i] == ":":
            name = tokens[i + 1]
            i += 2
        first = None
        if i < len(tokens) and tokens[i] == "(":
            depth = 0
            args_at = i
            while True:
                depth += tokens[i] == "("
                depth -= tokens[i] == ")"
                i += 1
                if depth == 0:
                    break
            for j in range(args_at, i - 2):
                if tokens[j] in ("first", "last") and tokens[j + 1] == ":":
                    first = tokens[j + 2]
        sub = None
        if i < len(tokens) and tokens[i] == "{":
            sub, i = _selection(tokens, i + 1)
        fields.append((key, name, sub, first))
    return fields, i + 1


def project(data: Any, tree: list[Field] | None) -> Any:
    """Only the fields asked for, under their aliases, as a GraphQL server answers."""
    if tree is None:
        return data
    if isinstance(data, list):
        return [project(item, tree) for item in data]
    if not isinstance(data, dict):
        return data
    return {key: project(data.get(name), sub) for key, name, sub, _ in tree if name != "__typename"}


def nested_args(text: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
    found = re.search(rf"\b{field}\b", text)
    return _args_after(text, found.end(), variables) if found else {}


def _first(args: dict[str, Any], default: int | None = None) -> int:
    first = args.get("first", default)
    if not isinstance(first, int) or isinstance(first, bool):
        raise GraphQLError("you must provide one of first or last", "BAD_REQUEST")
    if not 0 < first <= 250:
        raise GraphQLError("The first argument must be between 1 and 250", "BAD_REQUEST")
    return first


# --- cost -----------------------------------------------------------------------------------------

def requested_cost(text: str, variables: dict[str, Any]) -> int:
    """The requested cost as Shopify calculates it (https://shopify.dev/docs/api/usage/limits#cost-calculation):
    a scalar costs 0, an object 1, a connection 2 plus `first` times the cost of one node, a mutation 10."""
    if re.match(r"\s*mutation\b", text):
        return 10
    tree = selection(text)
    return MAX_COST if tree is None else _cost(tree, variables)


def _cost(tree: list[Field], variables: dict[str, Any]) -> int:
    total = 0
    for _, name, sub, first in tree:
        if sub is None or name == "pageInfo":
            continue
        if first is None:
            total += 1 + _cost(sub, variables)
            continue
        size = _value(first, variables)
        size = size if isinstance(size, int) and not isinstance(size, bool) else 250
        node = next((s for _, n, s, _ in sub if n == "nodes"), None)
        for _, n, edge_sub, _ in sub:
            if n == "edges" and edge_sub:
                node = next((s for _, m, s, _ in edge_sub if m == "node"), node)
        total += 2 + size * (1 + (_cost(node, variables) if node else 0))
    return total


# --- operations -----------------------------------------------------------------------------------

_TIME_TERM = re.compile(r"updated_at\s*:\s*(>=|<=|>|<)?\s*['\"]?([0-9T:.+\-Z]+)['\"]?")


def _compare(value: datetime, op: str, moment: datetime) -> bool:
    results = {">=": value >= moment, ">": value > moment, "<=": value <= moment, "<": value < moment}
    return results.get(op, value >= moment)


def _orders(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
            faults: Faults) -> tuple[dict[str, Any], int]:
    first = _first(args)
    sort_key = args.get("sortKey") or "ID"
    chosen = list(shop.orders.values())
    for op, value in _TIME_TERM.findall(args.get("query") or ""):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue  # Shopify ignores a search term it cannot read
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        chosen = [o for o in chosen if _compare(o.updated_at, op, moment)]
    key: Callable[[Order], Any] = {
        "UPDATED_AT": lambda o: (o.updated_at, o.number), "CREATED_AT": lambda o: (o.created_at, o.number),
        "PROCESSED_AT": lambda o: (o.created_at, o.number)}.get(sort_key, lambda o: (datetime.min, o.number))
    chosen.sort(key=key, reverse=bool(args.get("reverse")))
    start = 0
    if args.get("after"):
        try:
            last = decode_cursor(args["after"])
            start = next(i for i, o in enumerate(chosen) if o.number == last.get("last_id")) + 1
        except (ValueError, StopIteration):
            raise GraphQLError("Invalid cursor for current pagination sort.", "BAD_REQUEST") from None
        if faults.repeat_across_pages and start > 0:
            start -= 1
    page = chosen[start:start + first]
    line_args = nested_args(text, "lineItems", variables)
    line_first = line_args.get("first", 250) if isinstance(line_args.get("first", 250), int) else 250
    edges = [{"cursor": encode_cursor({"last_id": o.number, "last_value": gql_time(o.updated_at)}),
              "node": gql_order(shop, o, line_first)} for o in page]
    data = {"edges": edges, "pageInfo": {
        "hasNextPage": start + first < len(chosen), "hasPreviousPage": start > 0,
        "startCursor": edges[0]["cursor"] if edges else None, "endCursor": edges[-1]["cursor"] if edges else None}}
    actual = 2 + sum(ORDER_NODE_COST + 2 + min(len(o.lines), line_first) * LINE_NODE_COST for o in page)
    return data, actual


def _order_by_id(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
                 faults: Faults) -> tuple[dict[str, Any] | None, int]:
    number = _gid_number(args.get("id"), "Order")
    order = shop.orders.get(number) if number is not None else None
    if order is None:
        return None, 1
    if "fulfillmentOrders" in text:
        lines = [{"node": {"id": gid("FulfillmentOrderLineItem", ln.fo_line_number),
                           "remainingQuantity": ln.quantity - ln.fulfilled, "totalQuantity": ln.quantity,
                           "lineItem": {"id": gid("LineItem", ln.number)}}} for ln in order.lines]
        node = {"id": gid("FulfillmentOrder", order.fo_number), "status": order.fo_status,
                "lineItems": {"edges": lines}}
        return {"id": gid("Order", order.number), "fulfillmentOrders": {"edges": [{"node": node}]}}, 3 + len(lines) * 2
    line_args = nested_args(text, "lineItems", variables)
    line_first = line_args.get("first") if isinstance(line_args.get("first"), int) else 250
    try:
        window = line_window(shop, order, line_first, line_args.get("after"))
    except ValueError:
        raise GraphQLError("Invalid cursor for current pagination sort.", "BAD_REQUEST") from None
    node = gql_order(shop, order)
    node["lineItems"] = window
    return node, 3 + len(window["edges"]) * LINE_NODE_COST


def _gid_number(value: object, kind: str) -> int | None:
    match = re.fullmatch(rf"gid://shopify/{kind}/(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


_SKU_TERM = re.compile(r"""sku:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([^\s()]+))""")


def _variants(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
              faults: Faults) -> tuple[dict[str, Any], int]:
    first = _first(args)
    wanted = [re.sub(r"\\(.)", r"\1", a or b or c) for a, b, c in _SKU_TERM.findall(args.get("query") or "")]
    found = [shop.variants[s] for s in dict.fromkeys(wanted) if s in shop.variants][:first]
    # InventoryItem.inventoryLevel(locationId): null where the item is not stocked at that location.
    location = _gid_number(nested_args(text, "inventoryLevel", variables).get("locationId"), "Location")

    def level(v: Any) -> dict[str, Any] | None:
        if location not in shop.locations:
            return None
        return {"id": f"gid://shopify/InventoryLevel/{v.item_number}?inventory_item_id={v.item_number}",
                "quantities": [{"name": "available", "quantity": shop.levels[(v.item_number, location)]}]}

    edges = [{"node": {"id": gid("ProductVariant", v.number), "sku": v.sku, "price": gql_decimal(v.price),
                       "product": {"id": gid("Product", v.product_number)},
                       "inventoryItem": {"id": gid("InventoryItem", v.item_number), "inventoryLevel": level(v)}}}
             for v in found]
    return {"edges": edges}, 2 + (4 if location else 2) * len(edges)


def _locations(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
               faults: Faults) -> tuple[dict[str, Any], int]:
    first = _first(args, 1)
    edges = [{"node": {"id": gid("Location", n), "name": name}} for n, name in list(shop.locations.items())[:first]]
    return {"edges": edges}, 2 + len(edges)


def _set_quantities(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
                    faults: Faults) -> tuple[dict[str, Any], int]:
    data = args.get("input")
    if not isinstance(data, dict):
        raise GraphQLError("Variable $input of type InventorySetQuantitiesInput! was provided invalid value",
                           "INVALID_VARIABLE")
    errors = []
    quantities = data.get("quantities") or []
    if data.get("name") not in ("available", "on_hand"):
        errors.append({"code": "INVALID_NAME", "field": ["input", "name"],
                       "message": "The quantity name must be either 'available' or 'on_hand'."})
    if len(quantities) > MAX_QUANTITIES:
        errors.append({"code": "INVALID_QUANTITY", "field": ["input", "quantities"],
                       "message": f"The maximum number of quantities is {MAX_QUANTITIES}."})
    items = {v.item_number: v for v in shop.variants.values()}
    changes = []
    for i, entry in enumerate(quantities):
        item = _gid_number(entry.get("inventoryItemId"), "InventoryItem")
        location = _gid_number(entry.get("locationId"), "Location")
        qty = entry.get("quantity")
        if item not in items:
            errors.append(_qty_error("INVALID_INVENTORY_ITEM", i, "inventoryItemId",
                                     "The specified inventory item could not be found."))
        elif location not in shop.locations:
            errors.append(_qty_error("INVALID_LOCATION", i, "locationId", "The specified location could not be found."))
        elif not isinstance(qty, int) or isinstance(qty, bool) or abs(qty) > 1_000_000_000:
            errors.append(_qty_error("INVALID_QUANTITY_TOO_HIGH", i, "quantity", "The quantity is not valid."))
        elif not data.get("ignoreCompareQuantity") and entry.get("compareQuantity") != shop.levels[(item, location)]:
            errors.append(_qty_error("COMPARE_QUANTITY_STALE", i, "compareQuantity",
                                     "The compareQuantity value does not match persisted value."))
        else:
            changes.append((item, location, qty))
    if errors:
        return {"inventoryAdjustmentGroup": None, "userErrors": errors}, 10
    rendered = []
    for item, location, qty in changes:
        delta = qty - shop.levels[(item, location)]
        shop.levels[(item, location)] = qty
        rendered.append({"name": data["name"], "delta": delta, "quantityAfterChange": qty,
                         "item": {"id": gid("InventoryItem", item)}, "location": {"id": gid("Location", location)}})
    group = {"createdAt": gql_time(shop.now()), "reason": data.get("reason") or "correction",
             "referenceDocumentUri": data.get("referenceDocumentUri"), "changes": rendered}
    return {"inventoryAdjustmentGroup": group, "userErrors": []}, 10


def _qty_error(code: str, index: int, name: str, message: str) -> dict[str, Any]:
    return {"code": code, "field": ["input", "quantities", str(index), name], "message": message}


def _fulfil(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
            faults: Faults) -> tuple[dict[str, Any], int]:
    data = args.get("fulfillment")
    if not isinstance(data, dict):
        raise GraphQLError("Variable $fulfillment of type FulfillmentInput! was provided invalid value",
                           "INVALID_VARIABLE")
    groups = data.get("lineItemsByFulfillmentOrder") or []
    groups = [groups] if isinstance(groups, dict) else groups
    plan: list[tuple[Order, Any, int]] = []
    owner: Order | None = None
    for group in groups:
        order = shop.order_by_fo(_gid_number(group.get("fulfillmentOrderId"), "FulfillmentOrder") or -1)
        if order is None:
            return _user_error("Fulfillment order does not exist.", ["fulfillment"]), 10
        if owner is not None and owner is not order:
            return _user_error("Fulfillment orders must belong to the same order.", ["fulfillment"]), 10
        owner = order
        if order.fo_status not in ("OPEN", "IN_PROGRESS"):
            return _user_error(f"Fulfillment order {gid('FulfillmentOrder', order.fo_number)} has an "
                               "unfulfillable status= closed.", ["fulfillment"]), 10
        by_fo_line = {gid("FulfillmentOrderLineItem", ln.fo_line_number): ln for ln in order.lines}
        items = group.get("fulfillmentOrderLineItems")
        if not items:
            plan.extend((order, ln, ln.quantity - ln.fulfilled) for ln in order.lines if ln.quantity > ln.fulfilled)
            continue
        for item in items:
            line = by_fo_line.get(item.get("id"))
            qty = item.get("quantity")
            if line is None:
                return _user_error("Invalid fulfillment order line item id.", ["fulfillment"]), 10
            if not isinstance(qty, int) or qty <= 0 or qty > line.quantity - line.fulfilled:
                return _user_error("Invalid fulfillment order line item quantity requested.", ["fulfillment"]), 10
            plan.append((order, line, qty))
    if owner is None or not plan:
        return _user_error("Line items by fulfillment order must not be empty.", ["fulfillment"]), 10
    for _, line, qty in plan:
        line.fulfilled += qty
    tracking = data.get("trackingInfo") or {}
    fulfillment = {"id": gid("Fulfillment", shop.next_number()), "status": "SUCCESS",
                   "trackingInfo": [{"company": tracking.get("company"), "number": tracking.get("number"),
                                     "url": tracking.get("url")}],
                   "lines": [[line.number, qty] for _, line, qty in plan]}
    owner.fulfillments.append(fulfillment)
    owner.updated_at = shop.now()
    shown = {k: v for k, v in fulfillment.items() if k != "lines"}
    return {"fulfillment": shown, "userErrors": []}, 10


def _user_error(message: str, field: list[str]) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [{"field": field, "message": message}]}


def _shop(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
          faults: Faults) -> tuple[dict[str, Any], int]:
    return {"id": gid("Shop", 1), "name": "Sandbox", "currencyCode": shop.currency}, 1


def _bulk_update_variants(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
                          faults: Faults) -> tuple[dict[str, Any], int]:
    """productVariantsBulkUpdate, for the fields it is sent here: `id` and `price`."""
    entries = args.get("variants")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise GraphQLError("Variable $variants of type [ProductVariantsBulkInput!]! was provided invalid value",
                           "INVALID_VARIABLE")
    prices: list[Decimal | None] = []
    for i, entry in enumerate(entries):
        price = entry.get("price")
        if price is None:
            prices.append(None)
            continue
        try:  # Money: a decimal string (an integer is coerced too); anything else fails the whole call
            value = Decimal(price) if isinstance(price, str | int) and not isinstance(price, bool) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            raise GraphQLError(f"Variable $variants of type [ProductVariantsBulkInput!]! was provided invalid value "
                               f"for {i}.price (Invalid Money: {price!r})", "INVALID_VARIABLE")
        prices.append(value)
    number = _gid_number(args.get("productId"), "Product")
    products = shop.products()
    if number not in products:
        return _bulk_errors([{"code": "PRODUCT_DOES_NOT_EXIST", "field": ["productId"],
                              "message": "Product does not exist"}]), 10
    if len(entries) > MAX_BULK_VARIANTS:
        return _bulk_errors([{"code": "INVALID_INPUT", "field": ["variants"],
                              "message": f"At most {MAX_BULK_VARIANTS} variants can be updated at once"}]), 10
    by_number = {v.number: v for v in shop.variants.values()}
    errors: list[dict[str, Any]] = []
    changes: list[tuple[Any, Decimal | None]] = []
    for i, (entry, price) in enumerate(zip(entries, prices, strict=True)):
        variant_number = _gid_number(entry.get("id"), "ProductVariant")
        variant = by_number.get(variant_number) if variant_number is not None else None
        if not entry.get("id"):
            errors.append(_variant_error("PRODUCT_VARIANT_ID_MISSING", i, "id",
                                         "Product variant is missing ID attribute"))
        elif variant is None:
            errors.append(_variant_error("PRODUCT_VARIANT_DOES_NOT_EXIST", i, "id", "Product variant does not exist"))
        elif variant.product_number != number:
            errors.append(_variant_error("MUST_BE_FOR_THIS_PRODUCT", i, "id", "Input must be for this product."))
        elif price is not None and price < 0:
            errors.append(_variant_error("GREATER_THAN_OR_EQUAL_TO", i, "price",
                                         "Price must be greater than or equal to 0"))
        elif price is not None and price != price.quantize(quantum(shop.currency)):
            # Stricter than documented: Shopify rounds silently, the sandbox refuses so a connector's slip shows.
            errors.append(_variant_error("INVALID_INPUT", i, "price",
                                         f"Price has more decimals than {shop.currency} allows"))
        else:
            changes.append((variant, price))
    if errors and not args.get("allowPartialUpdates"):
        return _bulk_errors(errors), 10
    for variant, price in changes:
        if price is not None:
            variant.price = price.quantize(quantum(shop.currency))
    updated = [{"id": gid("ProductVariant", v.number), "sku": v.sku, "price": gql_decimal(v.price)}
               for v, _ in changes]
    return {"product": {"id": gid("Product", number)}, "productVariants": updated, "userErrors": errors}, 10


def _variant_error(code: str, index: int, name: str, message: str) -> dict[str, Any]:
    return {"code": code, "field": ["variants", str(index), name], "message": message}


def _bulk_errors(errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"product": None, "productVariants": None, "userErrors": errors}


MAX_METAFIELDS = 25


def _metafield_problem(shop: Shop, entry: Any) -> tuple[str, str, str] | None:
    """(code, field, message) of the first thing wrong with one MetafieldsSetInput, or None."""
    if not isinstance(entry, dict):
        return "INVALID", "metafields", "Metafield input is invalid"
    if _gid_number(entry.get("ownerId"), "Product") not in shop.products():
        return "INVALID", "ownerId", "Owner does not exist"
    for name in ("namespace", "key", "type", "value"):
        if not isinstance(entry.get(name), str) or not entry[name]:
            return "BLANK", name, f"{name.capitalize()} can't be blank"
    kind, value = entry["type"], entry["value"]
    if kind == "number_integer":
        if not re.fullmatch(r"-?\d{1,18}", value):
            return "INVALID_VALUE", "value", "Value must be an integer."
    elif kind == "rating":
        try:
            parsed = json.loads(value)
            rating, low, high = (Decimal(str(parsed[k])) for k in ("value", "scale_min", "scale_max"))
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return "INVALID_VALUE", "value", "Value must be a JSON object with value, scale_min and scale_max."
        if not low <= rating <= high:
            return "INVALID_VALUE", "value", f"Value has a rating of {rating} outside the range {low}-{high}."
    elif kind not in ("single_line_text_field", "multi_line_text_field", "boolean", "json"):
        return "INVALID_TYPE", "type", f"Type '{kind}' is not supported here"
    return None


def _metafields_set(shop: Shop, args: dict[str, Any], text: str, variables: dict[str, Any],
                    faults: Faults) -> tuple[dict[str, Any], int]:
    """metafieldsSet: all or nothing, as Shopify documents it."""
    entries = args.get("metafields")
    if not isinstance(entries, list):
        raise GraphQLError("Variable $metafields of type [MetafieldsSetInput!]! was provided invalid value",
                           "INVALID_VARIABLE")
    if len(entries) > MAX_METAFIELDS:
        return {"metafields": None, "userErrors": [{"code": "LESS_THAN_OR_EQUAL_TO", "field": ["metafields"],
                                                     "message": f"Exceeded the maximum metafields input limit of "
                                                                f"{MAX_METAFIELDS}."}]}, 10
    errors = [{"code": problem[0], "field": ["metafields", str(i), problem[1]], "message": problem[2]}
              for i, entry in enumerate(entries) if (problem := _metafield_problem(shop, entry))]
    if errors:
        return {"metafields": None, "userErrors": errors}, 10
    for entry in entries:
        shop.metafields[(entry["ownerId"], entry["namespace"], entry["key"])] = {"type": entry["type"],
                                                                                 "value": entry["value"]}
    return {"metafields": [{k: e[k] for k in ("key", "namespace", "value", "type")} for e in entries],
            "userErrors": []}, 10


HANDLERS = {
    "shop": _shop,
    "orders": _orders,
    "order": _order_by_id,
    "productVariants": _variants,
    "locations": _locations,
    "inventorySetQuantities": _set_quantities,
    "fulfillmentCreate": _fulfil,
    "productVariantsBulkUpdate": _bulk_update_variants,
    "metafieldsSet": _metafields_set,
}
