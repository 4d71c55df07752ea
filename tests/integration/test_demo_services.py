"""The demo's payments, shipping and notifications: what `hub demo seed` connects for the demo seller, and what
`hub demo run` serves and configures next to the marketplace sandboxes (here on free ports)."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack

import requests
import sqlalchemy as sa

from hub.catalog.models import Warehouse
from hub.channels.secrets import CredentialBox
from hub.demo import (
    DHL_NAME,
    EASYPOST_NAME,
    STRIPE_NAME,
    WAREHOUSE_ADDRESS,
    DemoServices,
    demo_accounts,
    easypost_webhook_url,
    seed,
    stripe_webhook_url,
)
from hub.demo_run import payments_and_carriers
from hub.logistics.models import CarrierAccount
from hub.outbox.models import WebhookEndpoint
from hub.outbox.signing import SIGNATURE_HEADER, signature_header
from hub.payments.models import PaymentAccount
from hub.sandbox import stripe
from hub.sandbox.easypost import app as easypost

FREE = {"Stripe": 0, "EasyPost": 0, "DHL": 0, "webhook receiver": 0}


def test_the_seed_connects_stripe_easypost_dhl_and_a_loopback_endpoint_with_the_sandboxes_secrets(app):
    hub = app.extensions["hub"]
    box = CredentialBox.from_settings(app.config)
    seed(hub, box)
    services = DemoServices()
    with hub.sessions() as session:
        stripe_account = session.scalars(sa.select(PaymentAccount)).one()
        assert (stripe_account.name, stripe_account.provider, stripe_account.base_url) == (
            STRIPE_NAME, "stripe", services.stripe_url)
        assert box.open(stripe_account.credentials_encrypted) == {"secret_key": stripe.SECRET_KEY,
                                                                  "webhook_secret": stripe.WEBHOOK_SECRET}
        assert stripe.SECRET_KEY not in stripe_account.credentials_encrypted
        carriers = {a.name: a for a in session.scalars(sa.select(CarrierAccount))}
        assert set(carriers) == {EASYPOST_NAME, DHL_NAME}
        ep = carriers[EASYPOST_NAME]
        assert (ep.kind, ep.base_url) == ("easypost", services.easypost_url)
        assert box.open(ep.credentials) == {"api_key": "EZTKsandbox0000000000000000000000"}
        assert box.open(ep.webhook_secret) == {"secret": easypost.WEBHOOK_SECRET}
        berlin = session.scalars(sa.select(Warehouse).where(Warehouse.code == "BER")).one()
        assert ep.origin == WAREHOUSE_ADDRESS and ep.origin["country"] == berlin.country
        assert carriers[DHL_NAME].kind == "dhl"
        endpoint = session.scalars(sa.select(WebhookEndpoint)).one()
        assert endpoint.url == services.receiver_url and endpoint.enabled and endpoint.kinds == []
    accounts = demo_accounts(hub)
    assert (accounts.stripe_id, accounts.easypost_id, accounts.endpoint_id) == (stripe_account.id, ep.id,
                                                                                endpoint.id)


def test_the_run_serves_the_sandboxes_points_their_webhooks_at_the_dashboard_and_the_receiver_checks_signatures(app):
    hub = app.extensions["hub"]
    box = CredentialBox.from_settings(app.config)
    seed(hub, box)
    accounts = demo_accounts(hub)
    with hub.sessions() as session:
        secret = box.open(session.get(WebhookEndpoint, accounts.endpoint_id).secret_sealed)["secret"]
    with ExitStack() as stack:
        served = payments_and_carriers(stack, hub, box, "http://dashboard.test", FREE)
        assert served["Stripe"][0].extensions["sandbox"].webhook_url == stripe_webhook_url(
            accounts.stripe_id, "http://dashboard.test")
        ep_state = served["EasyPost"][0].extensions["sandbox"]
        assert ep_state.webhook_url == easypost_webhook_url(accounts.easypost_id, "http://dashboard.test")
        assert ep_state.webhook_secret == easypost.WEBHOOK_SECRET
        assert requests.get(f"{served['DHL'][1]}/_sandbox/stats", timeout=5).status_code == 200

        receiver = f"{served['webhook receiver'][1]}/events"
        body = json.dumps({"kind": "order.paid", "subject": "order:1"}).encode()
        forged = requests.post(receiver, data=body, timeout=5,
                               headers={SIGNATURE_HEADER: signature_header("not-the-secret", int(time.time()), body)})
        signed = requests.post(receiver, data=body, timeout=5,
                               headers={SIGNATURE_HEADER: signature_header(secret, int(time.time()), body)})
        assert (forged.status_code, signed.status_code) == (400, 200)
        listed = requests.get(receiver, timeout=5).json()["events"]
        assert [(e["subject"], e["verified"]) for e in listed] == [("order:1", False), ("order:1", True)]
