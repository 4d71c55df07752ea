"""Settings for payment accounts, carrier accounts and webhook endpoints: credentials stored sealed and shown
masked, a signing secret shown once, endpoints rotated, disabled and enabled, dead letters requeued; roles."""

from __future__ import annotations

import re

import sqlalchemy as sa

from hub.accounts.models import Role
from hub.channels.secrets import CredentialBox
from hub.logistics.models import CarrierAccount
from hub.outbox.models import DeliveryStatus, OutboxDelivery, WebhookEndpoint
from hub.payments.models import PaymentAccount
from tests.web.support import add_user, browser, make_money_records, make_shop, text

STRIPE_SECRET = "sk_test_" + "9" * 24


def test_a_payment_account_is_stored_sealed_and_shown_masked(app, sessions, alice):
    owner = browser(app, alice)
    response = owner.post("/settings/payments", {"provider": "stripe", "name": "Main Stripe",
                                                 "credentials.secret_key": STRIPE_SECRET,
                                                 "credentials.webhook_secret": "whsec_" + "8" * 20})
    assert response.status_code == 302, text(response)

    page = text(owner.get("/settings/payments"))

    assert "Main Stripe" in page and "https://api.stripe.com" in page and "sk_…99" in page
    assert STRIPE_SECRET not in page
    with sessions() as session:
        account = session.scalars(sa.select(PaymentAccount)).one()
        assert STRIPE_SECRET not in account.credentials_encrypted
        opened = CredentialBox.from_settings(app.config).open(account.credentials_encrypted)
        assert opened["secret_key"] == STRIPE_SECRET


def test_a_refused_payment_account_names_the_missing_credential_and_echoes_no_secret(app, sessions, alice):
    refused = browser(app, alice).post("/settings/payments", {"provider": "stripe",
                                                               "credentials.secret_key": STRIPE_SECRET})

    assert refused.status_code == 422
    assert "stripe needs webhook_secret" in text(refused) and STRIPE_SECRET not in text(refused)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PaymentAccount)) == 0


def test_a_carrier_account_needs_a_ship_from_country_and_shows_its_key_masked(app, sessions, alice):
    owner = browser(app, alice)
    form = {"kind": "easypost", "name": "EasyPost", "base_url": "https://api.easypost.com",
            "credentials.api_key": "EZAK" + "7" * 28}
    refused = owner.post("/settings/carriers", form)
    assert refused.status_code == 422 and "the ship-from address needs a country" in text(refused)

    connected = owner.post("/settings/carriers", {**form, "origin.country": "de", "origin.city": "Berlin"})
    assert connected.status_code == 302
    page = text(owner.get("/settings/carriers"))

    assert "EZA…77" in page and "7" * 28 not in page and "Berlin DE" in page
    with sessions() as session:
        assert session.scalars(sa.select(CarrierAccount.origin)).one() == {"country": "DE", "city": "Berlin"}


def test_a_webhook_secret_is_shown_once_and_can_be_rotated(app, sessions, alice):
    app.config["OUTBOX_WEBHOOK_ALLOW_PRIVATE"] = True  # the endpoint is on this machine
    owner = browser(app, alice)

    created = owner.post("/settings/webhooks", {"url": "http://127.0.0.1:9/hooks", "kinds": ["order.paid",
                                                                                            "order.shipped"]})

    assert created.status_code == 200 and created.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<p class="secret" id="new-secret">(whsec_[\w-]+)</p>', text(created)).group(1)
    later = text(owner.get("/settings/webhooks"))
    assert secret not in later and "order.paid, order.shipped" in later
    with sessions() as session:
        endpoint = session.scalars(sa.select(WebhookEndpoint)).one()
        assert CredentialBox.from_settings(app.config).open(endpoint.secret_sealed)["secret"] == secret

    rotated = owner.post(f"/settings/webhooks/{endpoint.id}/rotate")
    new = re.search(r'id="new-secret">(whsec_[\w-]+)<', text(rotated)).group(1)
    assert rotated.headers["Cache-Control"] == "no-store" and new != secret

    assert owner.post(f"/settings/webhooks/{endpoint.id}/disable").status_code == 302
    with sessions() as session:
        assert not session.get(WebhookEndpoint, endpoint.id).enabled
    assert owner.post(f"/settings/webhooks/{endpoint.id}/enable").status_code == 302
    with sessions() as session:
        assert session.get(WebhookEndpoint, endpoint.id).enabled


def test_an_endpoint_inside_the_hubs_network_is_refused(app, sessions, alice):
    refused = browser(app, alice).post("/settings/webhooks", {"url": "http://127.0.0.1/hooks"})

    assert refused.status_code == 422 and "public internet" in text(refused)
    assert "whsec_" not in text(refused)


def test_staff_requeue_a_dead_letter_but_manage_no_endpoints(app, sessions, security, alice):
    shop = make_shop(sessions, alice.actor)
    ids = make_money_records(app, alice.actor, shop.order_id)
    add_user(sessions, security, alice, Role.STAFF, "staff@teas.example.com")
    staff = browser(app, "staff@teas.example.com")

    page = text(staff.get("/settings/webhooks"))
    assert f'data-delivery="{ids["delivery_id"]}"' in page and "HTTP 500" in page
    assert "Rotate secret" not in page and "New endpoint" not in page
    assert staff.post(f"/settings/webhooks/{ids['endpoint_id']}/rotate").status_code == 403
    assert staff.post("/settings/webhooks", {"url": "https://hooks.example.com/x"}).status_code == 403

    assert staff.post(f"/settings/webhooks/deliveries/{ids['delivery_id']}/requeue").status_code == 302
    with sessions() as session:
        assert session.get(OutboxDelivery, ids["delivery_id"]).status == DeliveryStatus.PENDING
    assert "No dead letters" in text(staff.get("/settings/webhooks"))


def test_the_account_area_links_to_the_settings(app, alice):
    page = text(browser(app, alice).get("/account"))
    for path in ("/settings/payments", "/settings/carriers", "/settings/webhooks"):
        assert f'href="{path}"' in page
