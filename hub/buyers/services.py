"""Buyer use cases for the seller's own site: the catalog, sign-up, login (bearer tokens, lockout), profile and
address book, placing, paying, cancelling (unpaid), following, confirming and reviewing an order.

Every function takes the buyer (or the seller the store belongs to) and reads only through it: a buyer's orders are
the ones linked to it in buyer_orders, looked up by (seller, buyer, order). Everything else is a NotFound, the same
answer as for an order that does not exist, so a buyer learns nothing about other buyers or other sellers.

The order, payment and review work is the hub's own services' (hub.orders, hub.payments, hub.reviews), called
with `Actor.buyer`, after this module has checked that the order is the buyer's. Like hub.payments.services,
`pay` commits the session it is given (its provider attempt is committed before the call).

Two collaborators are reached through ports so that tests can give fakes: `CustomerForEmail`
(hub.customers.services.customer_for_email: the seller's profile of this person) and `Reviews`
(hub.reviews.services.write_review / edit_review).
"""

from __future__ import annotations

import hashlib
import importlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Seller
from hub.accounts.services import LoginPolicy, Security
from hub.buyers.models import BuyerAccount, BuyerAddress, BuyerOrder, BuyerToken
from hub.buyers.schemas import AddressIn, BuyerSignUp, PasswordChange, PayIn, PlaceOrder, ProfileUpdate
from hub.catalog.models import Product, StockLevel, Warehouse
from hub.db import unique_or_raise
from hub.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from hub.logistics import services as logistics
from hub.logistics.models import Shipment
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import Address, Buyer, LineIn, OrderIn, StatusMove
from hub.orders.status import OrderStatus
from hub.payments import services as payments
from hub.payments.models import Payment, PaymentAccount
from hub.payments.services import ProviderFactory
from hub.timeutil import utcnow
from hub.validation import parse

TOKEN_PREFIX = "hbt_"  # noqa: S105  (a public marker telling buyer tokens from users' hub_ tokens)
TOKEN_DAYS = 30
CUSTOMER_MATCH = "buyer account"  # Order.customer_match of the orders placed through the buyer API
ORDERS_PAGE = 50


# --- ports ---------------------------------------------------------------------------------------------------

class CustomerForEmail(Protocol):
    def __call__(self, session: Session, seller_id: int, email: str, name: str) -> Any: ...


def hub_customer_for_email(session: Session, seller_id: int, email: str, name: str) -> Any:
    """hub.customers.services.customer_for_email, imported when first needed (its module is written alongside)."""
    module = importlib.import_module("hub.customers.services")
    return module.customer_for_email(session, seller_id, email, name)


class Reviews(Protocol):
    def parse(self, data: Any) -> BaseModel: ...

    def write(self, session: Session, seller_id: int, customer_id: int, order_line_id: int, review: BaseModel) -> Any:
        ...

    def edit(self, session: Session, seller_id: int, customer_id: int, order_line_id: int, review: BaseModel) -> Any:
        ...


class HubReviews:
    """hub.reviews.services, imported when first needed; its ReviewIn validates the body."""

    @property
    def _module(self) -> Any:
        return importlib.import_module("hub.reviews.services")

    def parse(self, data: Any) -> BaseModel:
        return parse(self._module.ReviewIn, data)

    def write(self, session: Session, seller_id: int, customer_id: int, order_line_id: int, review: BaseModel) -> Any:
        return self._module.write_review(session, seller_id, customer_id, order_line_id, review)

    def edit(self, session: Session, seller_id: int, customer_id: int, order_line_id: int, review: BaseModel) -> Any:
        from hub.reviews.models import Review

        review_id = session.scalar(sa.select(Review.id).where(
            Review.seller_id == seller_id, Review.customer_id == customer_id, Review.order_line_id == order_line_id))
        if review_id is None:
            raise NotFound(f"order line {order_line_id} has no review of yours yet: write one first")
        return self._module.edit_review(session, seller_id, customer_id, review_id, review)


# --- the store -----------------------------------------------------------------------------------------------

def store(session: Session, seller_id: int) -> Seller:
    """The seller whose site this is; one without a direct channel has no store."""
    seller = session.get(Seller, seller_id)
    if seller is None:
        raise NotFound("no such store", code="no_store")
    return seller


def actor_of(buyer: BuyerAccount) -> Actor:
    return Actor.buyer(buyer.seller_id, buyer.id, buyer.email)


@dataclass
class CatalogItem:
    product: Product
    available: int  # on hand minus reserved, over the seller's active warehouses


def catalog(session: Session, seller_id: int, *, after: int | None = None, limit: int = 50) -> list[CatalogItem]:
    """What the store sells: active products priced in the seller's base currency, with the units available."""
    seller = store(session, seller_id)
    available = (sa.select(sa.func.coalesce(sa.func.sum(StockLevel.on_hand - StockLevel.reserved), 0))
                 .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                 .where(StockLevel.product_id == Product.id, StockLevel.seller_id == seller_id,
                        Warehouse.is_active.is_(True)).scalar_subquery())
    query = sa.select(Product, available).where(
        Product.seller_id == seller_id, Product.is_active.is_(True), Product.deleted_at.is_(None),
        Product.currency == seller.base_currency)
    if after is not None:
        query = query.where(Product.id > after)
    return [CatalogItem(product, int(units)) for product, units in
            session.execute(query.order_by(Product.id).limit(limit)).all()]


# --- accounts ------------------------------------------------------------------------------------------------

def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_up(session: Session, security: Security, seller_id: int, data: BuyerSignUp, *,
            customer_for_email: CustomerForEmail = hub_customer_for_email) -> BuyerAccount:
    """A buyer account at this seller's store, linked to the seller's customer profile of that email."""
    store(session, seller_id)
    email = str(data.email).strip().lower()
    security.policy.check(data.password, user_inputs=(email, data.name))

    def taken() -> Conflict:
        return Conflict("an account with this email already exists at this store",
                        fields={"email": "already registered"}, code="email_taken")

    buyer = BuyerAccount(seller_id=seller_id, email=email, name=data.name,
                         password_hash=security.hasher.hash(data.password))
    with unique_or_raise(session, taken):
        session.add(buyer)
    customer = customer_for_email(session, seller_id, email, data.name)
    buyer.customer_id = customer.id
    session.flush()
    return buyer


def login(session: Session, security: Security, seller_id: int, email: str, password: str, *,
          days: int = TOKEN_DAYS) -> tuple[BuyerToken, str]:
    """A new bearer token for the buyer, shown once. Repeated failures lock the account for a growing while, as
    for users (hub.accounts.services.authenticate). The caller must commit even when this raises, so that the
    failure count is kept."""
    buyer = session.scalar(sa.select(BuyerAccount).where(BuyerAccount.seller_id == seller_id,
                                                         BuyerAccount.email == email.strip().lower()))
    now = utcnow()
    if buyer is not None and buyer.locked_until is not None and buyer.locked_until > now:
        security.hasher.verify(None, password)  # the same cost as a real attempt
        wait = int((buyer.locked_until - now).total_seconds()) + 1
        raise AuthenticationFailed(f"too many failed logins: try again in {wait} seconds", code="locked")
    ok = security.hasher.verify(buyer.password_hash if buyer else None, password)
    if buyer is None or not ok or not buyer.is_active:
        if buyer is not None:
            _record_failure(buyer, security.login)
        raise AuthenticationFailed("wrong email or password", code="bad_credentials")
    buyer.failed_logins, buyer.lock_count, buyer.locked_until, buyer.last_login_at = 0, 0, None, now
    if security.hasher.needs_rehash(buyer.password_hash):
        buyer.password_hash = security.hasher.hash(password)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = BuyerToken(seller_id=seller_id, buyer_id=buyer.id, prefix=secret[:12], token_hash=_digest(secret),
                       created_at=now, expires_at=now + timedelta(days=days))
    session.add(token)
    session.flush()
    return token, secret


def _record_failure(buyer: BuyerAccount, policy: LoginPolicy) -> None:
    buyer.failed_logins += 1
    if buyer.failed_logins >= policy.max_failures:
        seconds = min(policy.lock_seconds * 2 ** buyer.lock_count, policy.lock_max_seconds)
        buyer.locked_until = utcnow() + timedelta(seconds=seconds)
        buyer.lock_count += 1
        buyer.failed_logins = 0


def buyer_for_token(session: Session, seller_id: int, secret: str) -> tuple[BuyerAccount, BuyerToken]:
    """The buyer a token belongs to, at this store only: another store's token is as unknown as a made-up one."""
    token = session.scalar(sa.select(BuyerToken).where(BuyerToken.token_hash == _digest(secret),
                                                       BuyerToken.seller_id == seller_id))
    now = utcnow()
    if token is None or token.revoked_at is not None or token.expires_at <= now or not token.buyer.is_active:
        raise AuthenticationFailed("invalid, expired or revoked token", code="bad_token")
    token.last_used_at = now
    return token.buyer, token


def logout(token: BuyerToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()


def update_profile(buyer: BuyerAccount, data: ProfileUpdate) -> BuyerAccount:
    buyer.name = data.name
    return buyer


def change_password(session: Session, security: Security, buyer: BuyerAccount, data: PasswordChange,
                    keep: BuyerToken | None = None) -> BuyerAccount:
    """A new password; every other token of the buyer stops working (the one in use, `keep`, stays)."""
    if not security.hasher.verify(buyer.password_hash, data.current_password):
        raise ValidationError("current password is wrong", fields={"current_password": "wrong password"})
    try:
        security.policy.check(data.new_password, user_inputs=(buyer.email, buyer.name))
    except ValidationError as exc:
        raise ValidationError(exc.message, fields={"new_password": exc.message}, code=exc.code) from None
    buyer.password_hash = security.hasher.hash(data.new_password)
    session.execute(sa.update(BuyerToken).where(
        BuyerToken.seller_id == buyer.seller_id, BuyerToken.buyer_id == buyer.id, BuyerToken.revoked_at.is_(None),
        BuyerToken.id != (keep.id if keep else 0)).values(revoked_at=utcnow()))
    return buyer


# --- address book --------------------------------------------------------------------------------------------

def addresses(session: Session, buyer: BuyerAccount) -> list[BuyerAddress]:
    return list(session.scalars(sa.select(BuyerAddress).where(
        BuyerAddress.seller_id == buyer.seller_id, BuyerAddress.buyer_id == buyer.id).order_by(BuyerAddress.id)))


def address(session: Session, buyer: BuyerAccount, address_id: int) -> BuyerAddress:
    found = session.scalar(sa.select(BuyerAddress).where(
        BuyerAddress.id == address_id, BuyerAddress.seller_id == buyer.seller_id, BuyerAddress.buyer_id == buyer.id))
    if found is None:
        raise NotFound(f"no address {address_id}")
    return found


def _make_default(session: Session, buyer: BuyerAccount, chosen: BuyerAddress) -> None:
    for other in addresses(session, buyer):
        other.is_default = other is chosen


def add_address(session: Session, buyer: BuyerAccount, data: AddressIn) -> BuyerAddress:
    """The first address is the default; a later one only when asked."""
    first = not addresses(session, buyer)
    row = BuyerAddress(seller_id=buyer.seller_id, buyer_id=buyer.id, **data.model_dump())
    session.add(row)
    session.flush()
    if first or data.is_default:
        _make_default(session, buyer, row)
    return row


def update_address(session: Session, buyer: BuyerAccount, address_id: int, data: AddressIn) -> BuyerAddress:
    row = address(session, buyer, address_id)
    was_default = row.is_default
    for field, value in data.model_dump(exclude={"is_default"}).items():
        setattr(row, field, value)
    if data.is_default and not was_default:
        _make_default(session, buyer, row)
    return row


def delete_address(session: Session, buyer: BuyerAccount, address_id: int) -> None:
    """Orders keep their own copy of the address, so deleting it changes no order. The oldest left becomes the
    default if the default went."""
    row = address(session, buyer, address_id)
    session.delete(row)
    session.flush()
    if row.is_default:
        left = addresses(session, buyer)
        if left:
            _make_default(session, buyer, left[0])


# --- orders --------------------------------------------------------------------------------------------------

def _order_address(session: Session, buyer: BuyerAccount, data: PlaceOrder) -> Address:
    source: BuyerAddress | AddressIn = (address(session, buyer, data.address_id) if data.address_id is not None
                                        else data.shipping_address)  # type: ignore[assignment]
    return Address(name=source.name, line1=source.line1, line2=source.line2, city=source.city,
                   region=source.region, postal_code=source.postal_code, country=source.country, phone=source.phone)


def _catalog_prices(session: Session, seller: Seller, data: PlaceOrder) -> list[LineIn]:
    """The order's lines at the catalog's prices: a price sent by the buyer's browser is never used."""
    skus = {line.sku for line in data.lines}
    found = {p.sku: p for p in session.scalars(sa.select(Product).where(
        Product.seller_id == seller.id, Product.sku.in_(skus), Product.deleted_at.is_(None),
        Product.is_active.is_(True)))}
    errors: dict[str, str] = {}
    for i, line in enumerate(data.lines):
        product = found.get(line.sku)
        if product is None:
            errors[f"lines[{i}].sku"] = f"{line.sku} is not sold here"
        elif product.currency != seller.base_currency:
            errors[f"lines[{i}].sku"] = f"{line.sku} is not priced in {seller.base_currency}"
    if errors:
        raise ValidationError("; ".join(errors.values()), fields=errors, code="unknown_sku")
    return [LineIn(sku=line.sku, quantity=line.quantity, unit_price=found[line.sku].base_price)
            for line in data.lines]


def _external_id(buyer: BuyerAccount, idempotency_key: str) -> str:
    if not 1 <= len(idempotency_key) <= 100 or not all("\x21" <= c <= "\x7e" for c in idempotency_key):
        raise ValidationError("Idempotency-Key must be 1 to 100 printable ASCII characters without spaces",
                              fields={"Idempotency-Key": "1 to 100 printable ASCII characters"})
    return f"B{buyer.id}-{idempotency_key}"


def place_order(session: Session, buyer: BuyerAccount, data: PlaceOrder, *, idempotency_key: str | None = None,
                customer_for_email: CustomerForEmail = hub_customer_for_email) -> tuple[Order, bool]:
    """A pending order on the seller's direct channel, stock reserved (all or nothing, as create_order does),
    linked to the buyer and to its customer profile (looked up again: the seller may have merged it since).

    With an idempotency key (the site's retry of a request whose answer it lost) the order's reference is derived
    from it, so the channel's unique (channel, external id) lets one order in; a repeat returns that order.
    Returns the order and whether it is new."""
    seller = store(session, buyer.seller_id)
    external_id = _external_id(buyer, idempotency_key) if idempotency_key is not None else None
    if external_id is not None:
        existing = session.scalar(sa.select(Order.id).join(BuyerOrder, BuyerOrder.order_id == Order.id).where(
            BuyerOrder.seller_id == buyer.seller_id, BuyerOrder.buyer_id == buyer.id,
            Order.external_id == external_id))
        if existing is not None:
            return my_order(session, buyer, existing), False
    order_in = OrderIn(external_id=external_id, currency=seller.base_currency,
                       buyer=Buyer(name=buyer.name, email=buyer.email),
                       shipping_address=_order_address(session, buyer, data),
                       lines=_catalog_prices(session, seller, data), note=data.note)
    order = orders.create_order(session, actor_of(buyer), order_in)
    buyer.customer_id = customer_for_email(session, buyer.seller_id, buyer.email, buyer.name).id
    order.customer_id, order.customer_match = buyer.customer_id, CUSTOMER_MATCH
    session.add(BuyerOrder(seller_id=buyer.seller_id, buyer_id=buyer.id, order_id=order.id))
    session.flush()
    return order, True


def my_orders(session: Session, buyer: BuyerAccount, *, after: int | None = None,
              limit: int = ORDERS_PAGE) -> list[Order]:
    """The buyer's orders, newest first, keyset-paged by id."""
    query = (sa.select(Order).join(BuyerOrder, BuyerOrder.order_id == Order.id)
             .where(BuyerOrder.seller_id == buyer.seller_id, BuyerOrder.buyer_id == buyer.id,
                    Order.seller_id == buyer.seller_id))
    if after is not None:
        query = query.where(Order.id < after)
    return list(session.scalars(query.order_by(Order.id.desc()).limit(limit)))


def my_order(session: Session, buyer: BuyerAccount, order_id: int, *, for_update: bool = False) -> Order:
    linked = session.scalar(sa.select(BuyerOrder.id).where(
        BuyerOrder.order_id == order_id, BuyerOrder.seller_id == buyer.seller_id, BuyerOrder.buyer_id == buyer.id))
    if linked is None:
        raise NotFound(f"no order {order_id}")
    return orders.get_order(session, actor_of(buyer), order_id, for_update=for_update)


@dataclass
class OrderView:
    order: Order
    shipments: list[Shipment]
    payments: list[Payment]


def order_view(session: Session, buyer: BuyerAccount, order_id: int) -> OrderView:
    """The order with its parcels (bought labels only, with their tracking) and its payments."""
    order = my_order(session, buyer, order_id)
    actor = actor_of(buyer)
    parcels = [s for s in logistics.shipments_of(session, actor, order.id) if s.state == "purchased"]
    return OrderView(order, parcels, payments.payments_of(session, actor, order.id))


def payment_account(session: Session, seller_id: int, account_id: int | None) -> PaymentAccount:
    """The seller's account named, or its first enabled one."""
    query = sa.select(PaymentAccount).where(PaymentAccount.seller_id == seller_id, PaymentAccount.enabled.is_(True))
    if account_id is not None:
        query = query.where(PaymentAccount.id == account_id)
    account = session.scalar(query.order_by(PaymentAccount.id).limit(1))
    if account is None:
        if account_id is not None:
            raise NotFound(f"no payment account {account_id}", fields={"account_id": "not one of this store's"})
        raise Conflict("this store takes no payments yet", code="no_payment_account")
    return account


def pay(session: Session, buyer: BuyerAccount, order_id: int, data: PayIn, *, providers: ProviderFactory) -> Payment:
    """Charge the order's total through the seller's payment account (hub.payments.services.pay_order: it commits,
    and a repeated call re-sends the same idempotency key instead of charging twice). A declined card is a
    failed payment, not an error."""
    my_order(session, buyer, order_id)
    account = payment_account(session, buyer.seller_id, data.account_id)
    return payments.pay_order(session, actor_of(buyer), order_id, account.id, providers=providers,
                              payment_method=data.payment_method, return_url=data.return_url)


def cancel(session: Session, buyer: BuyerAccount, order_id: int, *, providers: ProviderFactory) -> Order:
    """The buyer calls off an order not paid yet: its stock is released and an authorized payment voided
    (hub.payments.services.cancel_order). A paid order is the seller's to refund."""
    order = my_order(session, buyer, order_id)
    if order.status is not OrderStatus.PENDING:
        raise Conflict(f"only an order not paid yet can be cancelled here; this one is {order.status}: ask the shop",
                       fields={"status": str(order.status)}, code="not_cancellable")
    return payments.cancel_order(session, actor_of(buyer), order_id, providers=providers,
                                 note="cancelled by the buyer")


def confirm_receipt(session: Session, buyer: BuyerAccount, order_id: int) -> Order:
    """The buyer says the parcel arrived: a fulfilled order moves to delivered (a second confirmation, or the
    carrier's tracking having got there first, changes nothing)."""
    order = my_order(session, buyer, order_id, for_update=True)
    if order.status is OrderStatus.DELIVERED:
        return order
    if order.status is not OrderStatus.FULFILLED:
        raise Conflict(f"only a shipped order can be confirmed as received; this one is {order.status}",
                       fields={"status": str(order.status)}, code="not_shipped")
    return orders.move(session, actor_of(buyer), order.id,
                       StatusMove(status=OrderStatus.DELIVERED, note="receipt confirmed by the buyer"))


def _reviewable_line(session: Session, buyer: BuyerAccount, order_id: int, line_id: int) -> int:
    order = my_order(session, buyer, order_id)
    if not any(line.id == line_id for line in order.lines):
        raise NotFound(f"order {order_id} has no line {line_id}")
    if order.status is not OrderStatus.DELIVERED:
        raise Conflict(f"only a delivered order can be reviewed; this one is {order.status}",
                       fields={"status": str(order.status)}, code="not_delivered")
    if order.customer_id is None:  # the seller unlinked it: reviews belong to a profile
        raise Conflict("this order is not linked to a customer profile", code="no_customer")
    return order.customer_id  # the profile now, after any merge (hub.reviews checks the line against it)


def review_line(session: Session, buyer: BuyerAccount, order_id: int, line_id: int, data: Any, *,
                reviews: Reviews) -> Any:
    customer_id = _reviewable_line(session, buyer, order_id, line_id)
    return reviews.write(session, buyer.seller_id, customer_id, line_id, reviews.parse(data))


def edit_line_review(session: Session, buyer: BuyerAccount, order_id: int, line_id: int, data: Any, *,
                     reviews: Reviews) -> Any:
    customer_id = _reviewable_line(session, buyer, order_id, line_id)
    return reviews.edit(session, buyer.seller_id, customer_id, line_id, reviews.parse(data))

