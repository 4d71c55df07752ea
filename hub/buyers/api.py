"""The buyer API: the hub as the headless back end of a seller's own site (its `direct` channel).

    /api/store/v1/<seller id>/...          every route of one store; /api/store/v1/openapi.json documents them

The seller is named in the path (its id is public: the site's front end is configured with it). Buyers are not
dashboard users: they sign up at one store (POST /buyers), log in for a bearer token (POST /login, rate-limited
per client address and locked per account after repeated failures), and send it as `Authorization: Bearer`. A
token works at its own store only: at any other it is refused with 401, as an unknown token is. Every order, address
and payment is looked up by (seller, buyer) in hub.buyers.services, so another buyer's is a 404. No cookies, so
no CSRF. Errors have the JSON API's shape {"error": {"code", "message", "fields"}} (hub.api.errors), the prefix
being under /api/ so that the app's own 404/405/500 answers are JSON too.

    GET  /products                                   the catalog (no token): price, units available
    POST /buyers, /login, /logout                    sign up, a token (shown once, 30 days), revoke it
    GET|PUT /me, POST /me/password                   profile; a new password revokes the buyer's other tokens
    GET|POST /addresses, GET|PUT|DELETE /addresses/<id>
    POST /orders (Idempotency-Key), GET /orders, GET /orders/<id> (shipments with tracking, payments)
    POST /orders/<id>/pay | cancel | confirm-receipt
    POST|PUT /orders/<id>/lines/<line id>/review    write, then edit, the review of a delivered line

Why a seller id in the path rather than a publishable key header: the store's identity is not a secret (a key
in a browser is public anyway), a path makes every URL say which store it is about, and the bearer token is what
authenticates. Its own small OpenAPI document keeps these routes out of the seller API's (/api/v1).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from pydantic import BaseModel, Field
from pydantic import ValidationError as PydanticValidationError
from werkzeug.exceptions import HTTPException

from hub.api.errors import error_body, http_error, hub_error
from hub.api.framework import json_body, no_body, parse_body, query_args
from hub.buyers import services
from hub.buyers.models import BuyerAccount, BuyerAddress, BuyerToken
from hub.buyers.schemas import (
    AddressIn,
    AddressOut,
    BuyerLogin,
    BuyerOut,
    BuyerSignUp,
    LineOut,
    OrderOut,
    PasswordChange,
    PayIn,
    PaymentOut,
    PlaceOrder,
    ProfileUpdate,
    ShipmentOut,
    TokenOut,
    TrackingOut,
)
from hub.buyers.throttle import LoginThrottle, TooManyAttempts
from hub.db import MAX_ID
from hub.errors import AuthenticationFailed, HubError
from hub.extensions import db, hub, rescope
from hub.money import Money
from hub.orders.models import Order
from hub.payments.models import Payment
from hub.validation import field_errors, nul_characters, parse, refuse

log = logging.getLogger(__name__)
PREFIX = "/api/store/v1"
bp = Blueprint("store", __name__, url_prefix=PREFIX)


@bp.errorhandler(HubError)
def _hub_error(exc: HubError):
    response, status = hub_error(exc)
    if isinstance(exc, TooManyAttempts):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, status


@bp.errorhandler(PydanticValidationError)
def _pydantic_error(exc: PydanticValidationError):
    # Requests are validated by hub.validation.parse (the hub's ValidationError); a raw one is a bug of ours.
    log.error("unexpected pydantic error on %s %s: %s", request.method, request.path, field_errors(exc),
              exc_info=exc)
    return error_body("internal", "something went wrong on our side; it has been logged", 500)


@bp.errorhandler(HTTPException)
def _http(exc: HTTPException):
    return http_error(exc)


# --- the route decorator -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoreOperation:
    summary: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    status: int
    authenticated: bool
    raw_body: bool


def _authenticate(seller_id: int) -> tuple[BuyerAccount, BuyerToken]:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise AuthenticationFailed("send your token as 'Authorization: Bearer <token>'", code="no_token")
    session = db()
    buyer, token = services.buyer_for_token(session, seller_id, secret.strip())
    rescope(services.actor_of(buyer))
    session.commit()  # keeps last_used_at even when the request itself fails later
    return buyer, token


def store_route(rule: str, method: str, *, summary: str, body: type[BaseModel] | None = None,
                query: type[BaseModel] | None = None, status: int = 200, authenticated: bool = True,
                raw_body: bool = False) -> Callable:
    """Register `view` at /api/store/v1/<seller id><rule>. The view gets `seller_id`, and `buyer` and `token` when
    authenticated, `body` (validated; `raw_body`: the parsed JSON, validated by the view's collaborator) and `query`;
    it returns a dict, a list, a pydantic model, or None (204). The request's session is scoped to the store's
    seller before anything is read, and committed after the view."""
    meta = StoreOperation(summary, body, query, status, authenticated, raw_body)

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(seller_id: int, **path_args: Any) -> Response | tuple[Response, int]:
            session = db()
            session.info["seller_id"] = seller_id  # the tenant filter on every query, whoever is asking
            services.store(session, seller_id)
            kwargs: dict[str, Any] = {"seller_id": seller_id, **path_args}
            if meta.authenticated:
                kwargs["buyer"], kwargs["token"] = _authenticate(seller_id)
            args = query_args(meta.query)
            if meta.query is not None:
                kwargs["query"] = parse(meta.query, args)
            if meta.body is not None:
                kwargs["body"] = parse_body(meta.body)
            elif meta.raw_body:
                data = json_body()
                refuse(nul_characters(data))
                kwargs["body"] = data
            else:
                no_body()
            result = view(**kwargs)
            db().commit()
            if result is None:
                return Response(status=204)
            if isinstance(result, tuple):  # (response, status): a view answering other than its usual status
                return result
            payload = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            return jsonify(payload), meta.status

        wrapper.store_openapi = meta  # type: ignore[attr-defined]
        bp.add_url_rule(f"/<id:seller_id>{rule}", view_func=wrapper, methods=[method])
        return wrapper

    return decorate


# --- shapes --------------------------------------------------------------------------------------------------

def _buyer(buyer: BuyerAccount) -> BuyerOut:
    return BuyerOut(id=buyer.id, email=buyer.email, name=buyer.name, created_at=buyer.created_at)


def _address(row: BuyerAddress) -> AddressOut:
    return AddressOut.model_validate(row, from_attributes=True)


def _payment(payment: Payment) -> PaymentOut:
    return PaymentOut(id=payment.id, provider=payment.provider, status=str(payment.status), amount=payment.amount,
                      captured=payment.captured, refunded=payment.refunded, currency=payment.currency,
                      action_url=payment.action_url, failure_reason=payment.failure_reason)


def _order(order: Order, view: services.OrderView | None = None) -> OrderOut:
    out = OrderOut(
        id=order.id, reference=order.external_id, status=str(order.status), currency=order.currency,
        subtotal=order.money(order.subtotal).amount, tax_total=order.money(order.tax_total).amount,
        shipping_total=order.money(order.shipping_total).amount, grand_total=order.money(order.grand_total).amount,
        placed_at=order.placed_at, shipping_address=order.shipping_address,
        lines=[LineOut(id=line.id, sku=line.sku, title=line.title, quantity=line.quantity,
                       quantity_fulfilled=line.quantity_fulfilled, unit_price=order.money(line.unit_price).amount,
                       line_total=order.money(line.line_total).amount) for line in order.lines])
    if view is not None:
        out.shipments = [ShipmentOut(id=s.id, carrier=s.carrier, service=s.service, tracking_code=s.tracking_code,
                                     tracking_status=s.tracking_status,
                                     events=[TrackingOut(status=e.status, description=e.description,
                                                         location=e.location, occurred_at=e.occurred_at)
                                             for e in s.events]) for s in view.shipments]
        out.payments = [_payment(p) for p in view.payments]
    return out


def _review(review: Any) -> dict[str, Any]:
    fields = ("id", "order_line_id", "product_id", "rating", "title", "body", "status", "created_at", "updated_at")
    out = {name: getattr(review, name) for name in fields if hasattr(review, name)}
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in out.items()}


def _throttle() -> LoginThrottle:
    app = current_app
    if "buyer_login_throttle" not in app.extensions:
        app.extensions["buyer_login_throttle"] = LoginThrottle(
            limit=int(app.config.get("BUYER_LOGIN_PER_MINUTE", 10)), window_seconds=60.0)
    return app.extensions["buyer_login_throttle"]


def _reviews() -> services.Reviews:
    return services.HubReviews()


def _providers():  # -> hub.payments.services.ProviderFactory
    from hub.webhooks.payments import providers

    return providers().provider


# --- account -------------------------------------------------------------------------------------------------

@store_route("/buyers", "POST", summary="Sign up as a buyer of this store", body=BuyerSignUp, status=201,
             authenticated=False)
def sign_up(seller_id: int, body: BuyerSignUp) -> BuyerOut:
    return _buyer(services.sign_up(db(), hub().security, seller_id, body))


@store_route("/login", "POST", summary="Log in: a bearer token, shown once", body=BuyerLogin, status=201,
             authenticated=False)
def login(seller_id: int, body: BuyerLogin) -> TokenOut:
    _throttle().check(seller_id, request.remote_addr or "")
    session = db()
    try:
        token, secret = services.login(session, hub().security, seller_id, body.email, body.password,
                                       days=int(current_app.config.get("BUYER_TOKEN_DAYS", services.TOKEN_DAYS)))
    except AuthenticationFailed:
        session.commit()  # the failure count (and a lock) must outlive the refusal
        raise
    return TokenOut(token=secret, expires_at=token.expires_at, buyer=_buyer(token.buyer))


@store_route("/logout", "POST", summary="Revoke the token in use")
def logout(seller_id: int, buyer: BuyerAccount, token: BuyerToken) -> None:
    services.logout(token)


@store_route("/me", "GET", summary="The buyer's profile")
def me(seller_id: int, buyer: BuyerAccount, token: BuyerToken) -> BuyerOut:
    return _buyer(buyer)


@store_route("/me", "PUT", summary="Change the buyer's name", body=ProfileUpdate)
def update_me(seller_id: int, buyer: BuyerAccount, token: BuyerToken, body: ProfileUpdate) -> BuyerOut:
    return _buyer(services.update_profile(buyer, body))


@store_route("/me/password", "POST", summary="Change the password; the buyer's other tokens stop working",
             body=PasswordChange)
def change_password(seller_id: int, buyer: BuyerAccount, token: BuyerToken, body: PasswordChange) -> None:
    services.change_password(db(), hub().security, buyer, body, keep=token)


# --- addresses -----------------------------------------------------------------------------------------------

@store_route("/addresses", "GET", summary="The buyer's address book")
def list_addresses(seller_id: int, buyer: BuyerAccount, token: BuyerToken) -> list[dict[str, Any]]:
    return [_address(a).model_dump(mode="json") for a in services.addresses(db(), buyer)]


@store_route("/addresses", "POST", summary="Add an address", body=AddressIn, status=201)
def add_address(seller_id: int, buyer: BuyerAccount, token: BuyerToken, body: AddressIn) -> AddressOut:
    return _address(services.add_address(db(), buyer, body))


@store_route("/addresses/<id:address_id>", "GET", summary="One address")
def get_address(seller_id: int, buyer: BuyerAccount, token: BuyerToken, address_id: int) -> AddressOut:
    return _address(services.address(db(), buyer, address_id))


@store_route("/addresses/<id:address_id>", "PUT", summary="Replace an address", body=AddressIn)
def update_address(seller_id: int, buyer: BuyerAccount, token: BuyerToken, address_id: int,
                   body: AddressIn) -> AddressOut:
    return _address(services.update_address(db(), buyer, address_id, body))


@store_route("/addresses/<id:address_id>", "DELETE", summary="Delete an address")
def delete_address(seller_id: int, buyer: BuyerAccount, token: BuyerToken, address_id: int) -> None:
    services.delete_address(db(), buyer, address_id)


# --- orders --------------------------------------------------------------------------------------------------

class ProductsQuery(BaseModel):
    after: int | None = Field(default=None, gt=0, le=MAX_ID, description="The last id of the previous page")
    limit: int = Field(default=50, ge=1, le=200)


class ProductOut(BaseModel):
    sku: str
    title: str
    description: str
    price: Decimal
    currency: str
    available: int


class OrdersQuery(BaseModel):
    after: int | None = Field(default=None, gt=0, le=MAX_ID, description="The last id of the previous page")
    limit: int = Field(default=services.ORDERS_PAGE, ge=1, le=100)


@store_route("/products", "GET", summary="What the store sells, with prices and units available",
             query=ProductsQuery, authenticated=False)
def list_products(seller_id: int, query: ProductsQuery) -> dict[str, Any]:
    items = services.catalog(db(), seller_id, after=query.after, limit=query.limit)
    return {"products": [ProductOut(sku=i.product.sku, title=i.product.title, description=i.product.description,
                                    price=Money(i.product.base_price, i.product.currency).rounded().amount,
                                    currency=i.product.currency,
                                    available=max(i.available, 0)).model_dump(mode="json") for i in items],
            "next_after": items[-1].product.id if len(items) == query.limit else None}


@store_route("/orders", "POST", summary="Place an order (prices are the catalog's). Send an Idempotency-Key header "
             "to retry safely: a repeat answers 200 with the first order", body=PlaceOrder, status=201)
def place_order(seller_id: int, buyer: BuyerAccount, token: BuyerToken,
                body: PlaceOrder) -> OrderOut | tuple[Response, int]:
    order, created = services.place_order(db(), buyer, body, idempotency_key=request.headers.get("Idempotency-Key"))
    return _order(order) if created else (jsonify(_order(order).model_dump(mode="json")), 200)


@store_route("/orders", "GET", summary="The buyer's orders, newest first", query=OrdersQuery)
def list_orders(seller_id: int, buyer: BuyerAccount, token: BuyerToken, query: OrdersQuery) -> dict[str, Any]:
    rows = services.my_orders(db(), buyer, after=query.after, limit=query.limit)
    return {"orders": [_order(o).model_dump(mode="json") for o in rows],
            "next_after": rows[-1].id if len(rows) == query.limit else None}


@store_route("/orders/<id:order_id>", "GET", summary="One order with its shipments, tracking and payments")
def get_order(seller_id: int, buyer: BuyerAccount, token: BuyerToken, order_id: int) -> OrderOut:
    view = services.order_view(db(), buyer, order_id)
    return _order(view.order, view)


@store_route("/orders/<id:order_id>/pay", "POST", summary="Pay the order through the store's payment account",
             body=PayIn)
def pay(seller_id: int, buyer: BuyerAccount, token: BuyerToken, order_id: int, body: PayIn) -> PaymentOut:
    return _payment(services.pay(db(), buyer, order_id, body, providers=_providers()))


@store_route("/orders/<id:order_id>/cancel", "POST", summary="Cancel an order not paid yet (its stock is released)")
def cancel(seller_id: int, buyer: BuyerAccount, token: BuyerToken, order_id: int) -> OrderOut:
    services.cancel(db(), buyer, order_id, providers=_providers())
    view = services.order_view(db(), buyer, order_id)
    return _order(view.order, view)


@store_route("/orders/<id:order_id>/confirm-receipt", "POST", summary="Confirm that a shipped order arrived")
def confirm_receipt(seller_id: int, buyer: BuyerAccount, token: BuyerToken, order_id: int) -> OrderOut:
    services.confirm_receipt(db(), buyer, order_id)
    view = services.order_view(db(), buyer, order_id)
    return _order(view.order, view)


@store_route("/orders/<id:order_id>/lines/<id:line_id>/review", "POST", summary="Review a delivered line",
             status=201, raw_body=True)
def write_review(seller_id: int, buyer: BuyerAccount, token: BuyerToken, order_id: int, line_id: int,
                 body: Any) -> dict[str, Any]:
    return _review(services.review_line(db(), buyer, order_id, line_id, body, reviews=_reviews()))


@store_route("/orders/<id:order_id>/lines/<id:line_id>/review", "PUT", summary="Edit the line's review",
             raw_body=True)
def edit_review(seller_id: int, buyer: BuyerAccount, token: BuyerToken, order_id: int, line_id: int,
                body: Any) -> dict[str, Any]:
    return _review(services.edit_line_review(db(), buyer, order_id, line_id, body, reviews=_reviews()))


# --- the document --------------------------------------------------------------------------------------------

@bp.route("/openapi.json")
def openapi() -> Response:
    """A small OpenAPI 3.1 document of the store routes (kept apart from the seller API's /api/v1 document)."""
    return jsonify(openapi_spec(current_app))


def openapi_spec(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {}
    for rule in app.url_map.iter_rules():
        meta: StoreOperation | None = getattr(app.view_functions.get(rule.endpoint), "store_openapi", None)
        if meta is None:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<id:{name}>", "{" + name + "}")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {"summary": meta.summary, "parameters": [
                {"name": a, "in": "path", "required": True, "schema": {"type": "integer"}}
                for a in sorted(rule.arguments)]}
            if meta.query is not None:
                for name, prop in meta.query.model_json_schema().get("properties", {}).items():
                    op["parameters"].append({"name": name, "in": "query", "required": False, "schema": prop})
            if meta.body is not None:
                schemas[meta.body.__name__] = meta.body.model_json_schema(
                    ref_template="#/components/schemas/{model}")
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{meta.body.__name__}"}}}}
            elif meta.raw_body:
                op["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"type": "object", "description": "hub.reviews' ReviewIn"}}}}
            if meta.authenticated:
                op["security"] = [{"bearer": []}]
            op["responses"] = {str(meta.status): {"description": "OK"}}
            paths.setdefault(path, {})[method.lower()] = op
    for schema in list(schemas.values()):
        schemas.update(schema.pop("$defs", {}))
    return {"openapi": "3.1.0", "info": {"title": "Order Hub store API", "version": "1", "description": __doc__},
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": schemas},
            "paths": paths}


def register(app: Flask) -> None:
    from hub.web import csrf

    app.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens, no cookies: CSRF does not apply

