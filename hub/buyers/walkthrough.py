"""`hub demo buyer-story`: a buyer of the demo store, through the buyer API only, places, pays for and reviews an
order; the seller's one step (the label) goes through the services the dashboard uses.

    1. the store's catalog (GET /products), a new buyer signs up and logs in
    2. an address, and an order of two of the store's goods (the catalog's prices, an Idempotency-Key)
    3. paid with the Stripe sandbox's test card pm_card_visa through the store's Stripe account
    4. the seller buys an EasyPost label (the cheapest rate); the sandbox's tracker moves to out_for_delivery
    5. the buyer follows the parcel (GET /orders/<id>: its tracking events) and confirms receipt: delivered
    6. the buyer reviews the first line (POST /orders/<id>/lines/<line>/review)

The buyer's calls go through `StoreCall`: HTTP to a running hub (`http_store`, what the command uses against
`make demo`), or a test client. Needs `hub demo seed` (the demo seller, its Stripe and EasyPost accounts).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import click
import requests
from flask import current_app
from flask.cli import with_appcontext

from hub.accounts.models import User
from hub.accounts.services import actor_for
from hub.channels.secrets import CredentialBox
from hub.demo import DASHBOARD_URL, DemoServices, demo_accounts
from hub.extensions import Hub
from hub.logistics import services as logistics
from hub.logistics.carriers import carrier_for
from hub.logistics.models import CarrierAccount
from hub.logistics.port import CarrierPort
from hub.outbound.audit import MemoryAudit
from hub.outbound.audit_store import DbAudit

CARD = "pm_card_visa"
ADDRESS = {"label": "home", "name": "Lena Vogel", "line1": "Schanzenstraße 12", "city": "Hamburg",
           "postal_code": "20357", "country": "DE", "phone": "+49 40 5550123"}
TIMEOUT = 30  # seconds for one call of the buyer API or a sandbox's control endpoint


class StoryFailed(click.ClickException):
    """A step did not come out as expected: said in one line, with the API's answer."""


class StoreCall(Protocol):
    def __call__(self, method: str, path: str, json: Any = None, *, token: str | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, Any]: ...


def http_store(hub_url: str, seller_id: int) -> StoreCall:
    """The buyer API of one store of a running hub, over HTTP."""
    base = f"{hub_url.rstrip('/')}/api/store/v1/{seller_id}"

    def call(method: str, path: str, json: Any = None, *, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        sent = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        response = requests.request(method, base + path, json=json, headers=sent, timeout=TIMEOUT)
        return response.status_code, (response.json() if response.content else None)

    return call


def _expect(answer: tuple[int, Any], status: int, step: str) -> Any:
    code, body = answer
    if code != status:
        raise StoryFailed(f"{step}: expected {status}, got {code}: {body}")
    return body


@dataclass
class BuyerStoryResult:
    email: str
    order_id: int
    payment_status: str
    tracking: list[str]
    status: str
    review_id: int


def run_buyer_story(hub: Hub, box: CredentialBox, store_for: Callable[[int], StoreCall], *,
                    services: DemoServices | None = None, echo: Callable[[str], None] = click.echo) -> BuyerStoryResult:
    services = services or DemoServices()
    try:
        accounts = demo_accounts(hub, services)
    except LookupError as exc:
        raise StoryFailed(str(exc)) from None
    store = store_for(accounts.seller_id)

    # 1. the catalog and the buyer
    goods = [p for p in _expect(store("GET", "/products"), 200, "the catalog")["products"] if p["available"] > 0][:2]
    if not goods:
        raise StoryFailed("the demo store has nothing in stock")
    email, password = f"buyer-{secrets.token_hex(3)}@example.com", f"{secrets.token_urlsafe(12)}-Kettle-Leaf"
    _expect(store("POST", "/buyers", {"email": email, "name": ADDRESS["name"], "password": password}), 201,
            "sign-up")
    token = _expect(store("POST", "/login", {"email": email, "password": password}), 201, "login")["token"]
    echo(f"1. {email} signed up at store {accounts.seller_id} and logged in; the store sells "
         + ", ".join(f"{p['sku']} at {p['price']} {p['currency']}" for p in goods))

    # 2. an address and the order
    address = _expect(store("POST", "/addresses", ADDRESS, token=token), 201, "the address")
    body = {"address_id": address["id"], "lines": [{"sku": p["sku"], "quantity": 1} for p in goods]}
    order = _expect(store("POST", "/orders", body, token=token, headers={"Idempotency-Key": secrets.token_hex(8)}),
                    201, "the order")
    echo(f"2. order {order['reference']} (id {order['id']}) placed: {order['grand_total']} {order['currency']}, "
         f"{order['status']}")

    # 3. payment
    payment = _expect(store("POST", f"/orders/{order['id']}/pay",
                            {"account_id": accounts.stripe_id, "payment_method": CARD}, token=token), 200, "payment")
    if payment["status"] != "captured":
        raise StoryFailed(f"the payment is {payment['status']}: {payment['failure_reason']}")
    echo(f"3. paid through Stripe with {CARD}: {payment['captured']} {payment['currency']} captured")

    # 4. the seller ships; the courier scans the parcel
    with hub.sessions() as session:
        actor = actor_for(session.get_one(User, accounts.user_id))
    quoted = MemoryAudit()
    with hub.sessions() as session:
        session.info["seller_id"] = accounts.seller_id
        rates = logistics.quote(session, actor, order["id"], accounts.easypost_id, _carriers(hub, box, quoted))
    audit = DbAudit(hub.sessions, seller_id=accounts.seller_id)
    for call in quoted.calls:
        audit.record(call)
    if not rates:
        raise StoryFailed("EasyPost quoted no rate for the parcel")
    shipment = logistics.buy_label(hub.sessions, actor, order["id"], accounts.easypost_id, rates[0].service,
                                   _carriers(hub, box))
    requests.post(f"{services.easypost_url}/_sandbox/advance", timeout=TIMEOUT,
                  json={"tracking_code": shipment.tracking_code, "status": "out_for_delivery"}).raise_for_status()
    logistics.poll_tracking(hub.sessions, _carriers(hub, box))
    echo(f"4. the seller bought a {rates[0].carrier} {rates[0].service} label, tracking {shipment.tracking_code}")

    # 5. following the parcel, and receipt
    seen = _expect(store("GET", f"/orders/{order['id']}", token=token), 200, "the order")
    tracking = [e["status"] for parcel in seen["shipments"] for e in parcel["events"]]
    echo(f"5. the buyer sees the order {seen['status']}, tracking: {' -> '.join(tracking) or 'none yet'}")
    delivered = _expect(store("POST", f"/orders/{order['id']}/confirm-receipt", token=token), 200, "receipt")
    echo(f"   and confirms receipt: the order is {delivered['status']}")

    # 6. the review
    line = delivered["lines"][0]
    review = _expect(store("POST", f"/orders/{order['id']}/lines/{line['id']}/review",
                           {"rating": 5, "title": "Lovely", "body": "Arrived well packed."}, token=token),
                     201, "the review")
    echo(f"6. reviewed {line['sku']}: {review['rating']} stars (review {review['id']})")
    return BuyerStoryResult(email=email, order_id=order["id"], payment_status=payment["status"], tracking=tracking,
                            status=delivered["status"], review_id=review["id"])


def _carriers(hub: Hub, box: CredentialBox, audit: MemoryAudit | None = None) -> Callable[[CarrierAccount],
                                                                                         CarrierPort]:
    # A quote reads in a session held over the carrier call: on SQLite its audit waits for it, so it is kept in
    # memory (as hub.demo_story does); the purchase and the polls are audited in the database.
    def build(account: CarrierAccount) -> CarrierPort:
        return carrier_for(account, box, audit=audit or DbAudit(hub.sessions, seller_id=account.seller_id))

    return build


@click.command("buyer-story", help="A new buyer of the demo store places, pays for, follows, receives and reviews an "
                                   "order through the buyer API of a running `make demo`.")
@click.option("--hub-url", default=DASHBOARD_URL, show_default=True, help="Where the hub answers.")
@with_appcontext
def buyer_story(hub_url: str) -> None:
    from hub import demo
    from hub.extensions import hub

    run_buyer_story(hub(), demo.demo_box(current_app.config), lambda seller_id: http_store(hub_url, seller_id))
