"""Shopify GraphQL Admin API over `hub.outbound.http`: one method per operation, each with its docs link.

Every call is `POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token`
(https://shopify.dev/docs/api/admin-graphql). Throttling is cost based: each answer carries
`extensions.cost.throttleStatus { maximumAvailable, currentlyAvailable, restoreRate }`, and a query
the bucket cannot pay for is answered `errors: [{ message: "Throttled", extensions: { code: "THROTTLED" } }]`
(https://shopify.dev/docs/api/usage/limits). Such an answer is retried here after the time the bucket
needs to refill, as read from the answer itself, and a query is held back *before* it is sent when the last
answer's throttleStatus (refilled since at restoreRate) cannot cover what the same query cost last time, so in
steady state no query is throttled at all. A THROTTLED answer is marked `throttled` in its audit record.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub.errors import PermanentError, TransientError
from hub.outbound.http import HttpClient, Response
from hub.outbound.pacing import SAFETY_SECONDS

API_VERSION = "2025-01"
MAX_PAGE = 250  # `first` may not exceed 250 on any connection
THROTTLE_RETRIES = 5

# GraphQL `presentmentMoney` is non-null on every MoneyBag (it equals shopMoney when the buyer paid in the
# shop's currency), so only it is asked for: every object costs a point and a query may cost at most 1000
# (https://shopify.dev/docs/api/usage/limits#cost-calculation). With these fields an order node costs
# 14 + 2 + LINE_PAGE * 10, so a page of ORDER_PAGE orders costs 2 + 10 * 96 = 962 points, and a page of
# MORE_LINES_PAGE further lines 3 + 90 * 10 = 903.
ORDER_PAGE = 10
LINE_PAGE = 8
MORE_LINES_PAGE = 90
ORDER_NODE_COST = 14 + 2 + LINE_PAGE * 10  # requested cost of one order node, its first lines included
MORE_LINES_COST = 3 + MORE_LINES_PAGE * 10  # requested cost of one ORDER_LINE_ITEMS_QUERY
MONEY = "{ presentmentMoney { amount currencyCode } }"
LINE_ITEM_FIELDS = f"""
  id sku title quantity
  originalUnitPriceSet {MONEY} originalTotalSet {MONEY} totalDiscountSet {MONEY}
  taxLines {{ priceSet {MONEY} }}
"""
ADDRESS_FIELDS = "name firstName lastName company address1 address2 city province provinceCode zip countryCodeV2 phone"
ORDER_FIELDS = f"""
  id legacyResourceId name createdAt processedAt updatedAt cancelledAt cancelReason
  currencyCode presentmentCurrencyCode taxesIncluded displayFinancialStatus displayFulfillmentStatus
  email phone customer {{ displayName email phone }}
  totalPriceSet {MONEY} subtotalPriceSet {MONEY} totalShippingPriceSet {MONEY} totalTaxSet {MONEY}
  totalDiscountsSet {MONEY}
  shippingAddress {{ {ADDRESS_FIELDS} }} billingAddress {{ {ADDRESS_FIELDS} }}
  lineItems(first: {LINE_PAGE}) {{ edges {{ node {{ {LINE_ITEM_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }}
"""
ORDERS_QUERY = f"""query Orders($first: Int!, $after: String, $query: String) {{
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    edges {{ cursor node {{ {ORDER_FIELDS} }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
VARIANTS_BY_SKU_QUERY = """query VariantsBySku($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) {
    edges { node { id sku inventoryItem { id } } }
  }
}"""
ORDER_LINE_ITEMS_QUERY = f"""query OrderLineItems($id: ID!, $after: String) {{
  order(id: $id) {{
    id
    lineItems(first: {MORE_LINES_PAGE}, after: $after) {{
      edges {{ node {{ {LINE_ITEM_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }}
    }}
  }}
}}"""
VARIANT_PRODUCTS_BY_SKU_QUERY = """query VariantProductsBySku($first: Int!, $query: String!) {
  productVariants(first: $first, query: $query) {
    edges { node { id sku product { id } } }
  }
}"""
SHOP_CURRENCY_QUERY = """query ShopCurrency {
  shop { currencyCode }
}"""
VARIANT_PRICES_MUTATION = """mutation VariantPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!,
    $allowPartialUpdates: Boolean) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: $allowPartialUpdates) {
    productVariants { id sku price }
    userErrors { code field message }
  }
}"""
METAFIELDS_SET_MUTATION = """mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { key namespace value type }
    userErrors { code field message }
  }
}"""
METAFIELDS_PER_CALL = 25  # metafieldsSet takes at most 25 metafields a call
LOCATIONS_QUERY = """query Locations {
  locations(first: 1) { edges { node { id name } } }
}"""
SET_QUANTITIES_MUTATION = """mutation InventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}"""
# Variants by SKU with the available quantity of their inventory item at one location.
# https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryItem#field-InventoryItem.fields.inventoryLevel
# https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryLevel#field-InventoryLevel.fields.quantities
VARIANT_LEVELS_QUERY = """query VariantLevels($first: Int!, $query: String!, $locationId: ID!) {
  productVariants(first: $first, query: $query) {
    edges { node { id sku inventoryItem { id inventoryLevel(locationId: $locationId) {
      quantities(names: ["available"]) { name quantity } } } } }
  }
}"""
FULFILLMENT_ORDERS_QUERY = """query FulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 5) {
      edges { node { id status
        lineItems(first: 50) { edges { node { id remainingQuantity lineItem { id } } } } } }
    }
  }
}"""
FULFILLMENT_CREATE_MUTATION = """mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number } }
    userErrors { field message }
  }
}"""


class ThrottledError(TransientError):
    pass


@dataclass
class CostState:
    """What the shop's cost bucket last said, shared by every client of the shop in this process (see
    hub.outbound.pacing.shared): the bucket outlives a connector."""

    last_cost: dict[str, Any] | None = None  # the latest `extensions.cost`
    last_cost_at: float = 0.0  # when it was read (Connection.clock), for the refill
    requested: dict[str, float] = field(default_factory=dict)  # query text -> the cost it was last charged at


@dataclass
class ShopifyClient:
    http: HttpClient
    access_token: str
    api_version: str = API_VERSION
    sleep: Callable[[float], None] | None = None
    clock: Callable[[], float] = time.monotonic  # Connection.clock
    state: CostState = field(default_factory=CostState)

    def __post_init__(self) -> None:
        self.http.throttled = is_throttled

    @property
    def last_cost(self) -> dict[str, Any] | None:
        return self.state.last_cost

    @last_cost.setter
    def last_cost(self, value: dict[str, Any] | None) -> None:
        self.state.last_cost = value

    @property
    def last_cost_at(self) -> float:
        return self.state.last_cost_at

    @last_cost_at.setter
    def last_cost_at(self, value: float) -> None:
        self.state.last_cost_at = value

    @property
    def requested(self) -> dict[str, float]:
        return self.state.requested

    def wait_for_bucket(self, query: str, estimate: float | None = None) -> float:
        """Sleep until the bucket, as the last answer left it and refilled since, covers what `query` cost the
        last time it was sent, or the caller's `estimate` before then (neither: no wait). Returns the seconds
        slept."""
        expected = self.requested.get(query, estimate)
        status = (self.last_cost or {}).get("throttleStatus") or {}
        if expected is None or self.sleep is None or not status:
            return 0.0
        try:
            rate = float(status.get("restoreRate") or 0)
            ceiling = float(status.get("maximumAvailable") or 0)
            available = float(status.get("currentlyAvailable") or 0)
        except (TypeError, ValueError):
            return 0.0
        if rate <= 0:
            return 0.0
        now = self.clock()
        available = min(ceiling or math.inf, available + (now - self.last_cost_at) * rate)
        if available >= expected:
            return 0.0
        # A hair longer than the arithmetic: clocks and float rounding must not leave the bucket a point short.
        wait = (expected - available) / rate + SAFETY_SECONDS
        self.sleep(wait)
        return wait

    @property
    def path(self) -> str:
        return f"/admin/api/{self.api_version}/graphql.json"

    def graphql(self, query: str, variables: dict[str, Any] | None = None, *,
                repeatable: bool = False, estimate: float | None = None) -> dict[str, Any]:
        """One GraphQL call; THROTTLED answers are waited out and retried, other errors raised. A query whose
        answer arrives cut short is asked again; a mutation only when `repeatable` (it sets absolute values, so
        applying it twice changes nothing more), since it may already have been applied.
        https://shopify.dev/docs/api/admin-graphql#endpoints and https://shopify.dev/docs/api/usage/limits"""
        attempt = 0
        while True:
            self.wait_for_bucket(query, estimate)
            body, _ = self.http.request_json("POST", self.path,
                                             json_body={"query": query, "variables": variables or {}},
                                             headers={"X-Shopify-Access-Token": self.access_token},
                                             idempotent=repeatable or not query.lstrip().startswith("mutation"))
            if not isinstance(body, dict):
                raise PermanentError("shopify: a GraphQL answer that is not an object")
            self.last_cost = (body.get("extensions") or {}).get("cost")
            self.last_cost_at = self.clock()
            if isinstance(self.last_cost, dict) and self.last_cost.get("requestedQueryCost") is not None:
                with contextlib.suppress(TypeError, ValueError):
                    self.requested[query] = float(self.last_cost["requestedQueryCost"])
            errors = body.get("errors")
            if not errors:
                return body
            if isinstance(errors, list) and any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors):
                wait = throttle_wait(self.last_cost)
                if attempt == THROTTLE_RETRIES or self.sleep is None:
                    raise ThrottledError(f"shopify: throttled; the bucket refills in {wait:.1f} s", retry_after=wait)
                attempt += 1
                self.sleep(wait)
                continue
            raise PermanentError(f"shopify: GraphQL errors: {str(errors)[:300]}")

    def orders_page(self, *, first: int, after: str | None, search: str) -> dict[str, Any]:
        """`orders(first, after, query, sortKey: UPDATED_AT)`, one page.
        https://shopify.dev/docs/api/admin-graphql/latest/queries/orders"""
        first = min(first, MAX_PAGE)
        return self.graphql(ORDERS_QUERY, {"first": first, "after": after, "query": search},
                            estimate=2 + first * ORDER_NODE_COST)

    def order_line_items(self, order_gid: str, after: str | None) -> dict[str, Any]:
        """`order(id) { lineItems(first, after) }`: the lines of an order beyond the first LINE_PAGE.
        https://shopify.dev/docs/api/admin-graphql/latest/queries/order"""
        return self.graphql(ORDER_LINE_ITEMS_QUERY, {"id": order_gid, "after": after}, estimate=MORE_LINES_COST)

    def variants_by_sku(self, skus: list[str]) -> dict[str, Any]:
        """`productVariants(query: "sku:'A' OR sku:'B'")`, for the inventory item ids of SKUs.
        https://shopify.dev/docs/api/admin-graphql/latest/queries/productVariants"""
        search = " OR ".join(f"sku:{quote_search(s)}" for s in skus)
        return self.graphql(VARIANTS_BY_SKU_QUERY, {"first": MAX_PAGE, "query": search})

    def variant_products_by_sku(self, skus: list[str]) -> dict[str, Any]:
        """`productVariants(query: "sku:'A' OR sku:'B'") { id sku product { id } }`: the variant and product ids
        prices are set by. https://shopify.dev/docs/api/admin-graphql/latest/queries/productVariants"""
        search = " OR ".join(f"sku:{quote_search(s)}" for s in skus)
        return self.graphql(VARIANT_PRODUCTS_BY_SKU_QUERY, {"first": MAX_PAGE, "query": search})

    def variant_levels_by_sku(self, skus: list[str], location_gid: str) -> dict[str, Any]:
        """`productVariants(query: "sku:'A' OR …") { sku inventoryItem { inventoryLevel(locationId) {
        quantities(names: ["available"]) } } }`: what the shop lists as available at one location.
        https://shopify.dev/docs/api/admin-graphql/latest/objects/InventoryItem#field-InventoryItem.fields.inventoryLevel
        https://shopify.dev/docs/apps/build/inventory-management-apps/manage-quantities-states"""
        search = " OR ".join(f"sku:{quote_search(s)}" for s in skus)
        # `first` no larger than needed: the requested cost is first x (node cost), and 250 nodes of this
        # shape would cost over the 1000 points a query may.
        return self.graphql(VARIANT_LEVELS_QUERY, {"first": min(max(2 * len(skus), 1), MAX_PAGE), "query": search,
                                                   "locationId": location_gid})

    def shop_currency(self) -> dict[str, Any]:
        """`shop { currencyCode }`: the currency variant prices are in.
        https://shopify.dev/docs/api/admin-graphql/latest/objects/Shop#field-Shop.fields.currencyCode"""
        return self.graphql(SHOP_CURRENCY_QUERY)

    def update_variant_prices(self, product_gid: str, variants: list[dict[str, str]]) -> dict[str, Any]:
        """`productVariantsBulkUpdate(productId, variants: [{ id, price }], allowPartialUpdates: true)`: the
        variants of one product; `price` is a Money string (a Decimal, no currency) in the shop's currency.
        With partial updates the valid variants are set even when others are in `userErrors`, whose `field`
        is ["variants", "<index>", ...]. Prices are absolute, so a call whose answer was cut short is repeated.
        https://shopify.dev/docs/api/admin-graphql/2025-01/mutations/productVariantsBulkUpdate"""
        return self.graphql(VARIANT_PRICES_MUTATION, {"productId": product_gid, "variants": variants,
                                                      "allowPartialUpdates": True}, repeatable=True)

    def set_metafields(self, metafields: list[dict[str, str]]) -> dict[str, Any]:
        """`metafieldsSet(metafields: [{ ownerId, namespace, key, type, value }])`: at most 25, set atomically (one
        invalid metafield saves none; its index is in `userErrors[].field` = ["metafields", "<index>", ...]). Values
        are absolute, so a call whose answer was cut short is repeated.
        https://shopify.dev/docs/api/admin-graphql/latest/mutations/metafieldsSet"""
        if len(metafields) > METAFIELDS_PER_CALL:
            raise ValueError(f"metafieldsSet takes at most {METAFIELDS_PER_CALL} metafields a call")
        return self.graphql(METAFIELDS_SET_MUTATION, {"metafields": metafields}, repeatable=True)

    def locations(self) -> dict[str, Any]:
        """`locations(first: 1)`: the location stock is set at when none is configured.
        https://shopify.dev/docs/api/admin-graphql/latest/queries/locations"""
        return self.graphql(LOCATIONS_QUERY)

    def set_quantities(self, quantities: list[dict[str, Any]], *, reason: str = "correction") -> dict[str, Any]:
        """`inventorySetQuantities(input: { name: "available", reason, ignoreCompareQuantity, quantities })`.
        https://shopify.dev/docs/api/admin-graphql/latest/mutations/inventorySetQuantities"""
        return self.graphql(SET_QUANTITIES_MUTATION, {"input": {
            "name": "available", "reason": reason, "ignoreCompareQuantity": True, "quantities": quantities}})

    def fulfillment_orders(self, order_gid: str) -> dict[str, Any]:
        """`order(id) { fulfillmentOrders { lineItems } }`: what can still be fulfilled, and from where.
        https://shopify.dev/docs/api/admin-graphql/latest/objects/FulfillmentOrder"""
        return self.graphql(FULFILLMENT_ORDERS_QUERY, {"id": order_gid})

    def create_fulfillment(self, fulfillment: dict[str, Any]) -> dict[str, Any]:
        """`fulfillmentCreate(fulfillment: { lineItemsByFulfillmentOrder, trackingInfo, notifyCustomer })`.
        https://shopify.dev/docs/api/admin-graphql/latest/mutations/fulfillmentCreate"""
        return self.graphql(FULFILLMENT_CREATE_MUTATION, {"fulfillment": fulfillment})


def throttle_wait(cost: dict[str, Any] | None) -> float:
    """Seconds until the bucket holds the requested cost, from `extensions.cost`; 1 s when not told."""
    if not cost:
        return 1.0
    status = cost.get("throttleStatus") or {}
    try:
        requested = Decimal(str(cost.get("requestedQueryCost") or 0))
        available = Decimal(str(status.get("currentlyAvailable") or 0))
        rate = Decimal(str(status.get("restoreRate") or 0))
    except ArithmeticError:
        return 1.0
    if rate <= 0:
        return 1.0
    return max(math.ceil(float((requested - available) / rate) * 100) / 100, 0.05)


def is_throttled(response: Response) -> bool:
    """A 200 whose GraphQL errors say THROTTLED (the status alone does not show it), for the audit record."""
    if "THROTTLED" not in response.text:
        return False
    try:
        errors = json.loads(response.text).get("errors")
    except (ValueError, AttributeError):
        return False
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


def quote_search(value: str) -> str:
    """A value for Shopify's search syntax, quoted so spaces and colons stay inside it.
    https://shopify.dev/docs/api/usage/search-syntax"""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
