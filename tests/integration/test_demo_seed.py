"""The demo seed: one channel per marketplace sandbox, credentials sealed, and a second seed changes nothing.

No sandbox, worker or server is started: `hub demo run` does that, these check what it builds on."""

from __future__ import annotations

import stat

import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub.channels import registry
from hub.channels.models import DIRECT, Channel, ChannelWarehouse, Listing
from hub.channels.secrets import CredentialBox
from hub.db import Base
from hub.demo import DEMO_EMAIL, demo_channels, demo_credentials_keys, reset_credentials, seed


def snapshot(sessions) -> dict[str, object]:
    """Every table's row count, and the channels' stored columns (a re-seal would change the ciphertext)."""
    with sessions() as session:
        counts = {t.name: session.scalar(sa.select(sa.func.count()).select_from(t))
                  for t in Base.metadata.sorted_tables}
        channels = session.execute(sa.select(Channel.name, Channel.credentials_encrypted, Channel.base_url,
                                             Channel.options, Channel.schedule).order_by(Channel.id)).all()
    return {"counts": counts, "channels": [tuple(map(str, row)) for row in channels]}


def test_the_seed_connects_one_channel_per_sandbox_with_sealed_credentials(app):
    hub = app.extensions["hub"]
    box = CredentialBox.from_settings(app.config)
    assert seed(hub, box) is True
    specs = {spec.name: spec for spec in demo_channels()}
    ports = {kind: spec.sandbox_port for kind, spec in registry.load().specs.items() if spec.sandbox}
    with hub.sessions() as session:
        channels = session.scalars(sa.select(Channel).where(Channel.kind != DIRECT).order_by(Channel.id)).all()
        assert {c.kind for c in channels} == set(ports) == {"shopify", "woocommerce", "amazon", "ebay", "shopee"}
        for channel in channels:
            spec = specs[channel.name]
            assert channel.base_url == f"http://127.0.0.1:{ports[channel.kind]}"
            assert box.open(channel.credentials_encrypted) == spec.credentials
            for secret in spec.credentials.values():
                assert secret not in channel.credentials_encrypted
            assert channel.currency == spec.currency and channel.schedule["pull"] > 0
            assert session.scalar(sa.select(sa.func.count()).select_from(ChannelWarehouse)
                                  .where(ChannelWarehouse.channel_id == channel.id)) == len(spec.warehouses)
            linked = session.scalars(sa.select(Listing.product_id).where(Listing.channel_id == channel.id)).all()
            assert linked and all(linked), f"{channel.name}: every listing is linked to a product"


def test_a_second_seed_changes_nothing(app):
    hub = app.extensions["hub"]
    box = CredentialBox.from_settings(app.config)
    seed(hub, box)
    before = snapshot(hub.sessions)
    assert seed(hub, box) is False
    assert snapshot(hub.sessions) == before


def test_reset_credentials_restores_rotated_tokens_and_leaves_the_rest_alone(app):
    hub = app.extensions["hub"]
    box = CredentialBox.from_settings(app.config)
    seed(hub, box)
    with hub.sessions.begin() as session:
        shopee = session.scalars(sa.select(Channel).where(Channel.kind == "shopee")).one()
        shopee.credentials_encrypted = box.seal({**box.open(shopee.credentials_encrypted),
                                                 "refresh_token": "sandbox-refresh-7"})
    before = snapshot(hub.sessions)
    assert reset_credentials(hub, box) == 5
    after = snapshot(hub.sessions)
    changed = [a[0] for a, b in zip(after["channels"], before["channels"], strict=True) if a != b]
    assert changed == ["Shopee (sandbox)"]
    with hub.sessions() as session:
        shopee = session.scalars(sa.select(Channel).where(Channel.kind == "shopee")).one()
        assert box.open(shopee.credentials_encrypted)["refresh_token"] == "sandbox-refresh-token-0"


def test_the_demo_key_is_made_once_private_and_a_configured_key_wins(tmp_path):
    key_file = tmp_path / "var" / "demo.key"
    first = demo_credentials_keys({}, key_file)
    assert demo_credentials_keys({}, key_file) == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    Fernet(first.encode())  # a usable key
    assert demo_credentials_keys({"CREDENTIALS_KEYS": "configured"}, key_file) == "configured"


def test_hub_demo_seed_seals_with_the_configured_key(app):
    key = Fernet.generate_key().decode()
    app.config["CREDENTIALS_KEYS"] = key  # so the command writes no key file into the working directory
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert DEMO_EMAIL in result.output
    with app.extensions["hub"].sessions() as session:
        sealed = session.scalars(sa.select(Channel.credentials_encrypted).where(Channel.kind != DIRECT)).all()
    box = CredentialBox([key.encode()])
    assert len(sealed) == 5 and all(box.open(s) for s in sealed)


def test_the_demo_converts_offline_its_orders_carry_a_rate_and_its_source(app):
    from datetime import timedelta
    from decimal import ROUND_HALF_EVEN, Decimal

    from hub.accounts.models import Seller, User
    from hub.currency.models import FxRate, OrderFx
    from hub.orders.models import Order
    from hub.sync.apply import apply_order
    from hub.timeutil import utcnow
    from tests.sync.fakes import channel_order

    hub = app.extensions["hub"]
    seed(hub, CredentialBox.from_settings(app.config))
    with hub.sessions.begin() as session:
        seller_id = session.scalars(sa.select(User.seller_id).where(User.email == DEMO_EMAIL)).one()
        assert session.get(Seller, seller_id).allow_stale_rates
        assert session.scalar(sa.select(sa.func.count()).select_from(FxRate).where(FxRate.quote == "JPY")) > 500
        channel = session.scalars(sa.select(Channel).where(Channel.seller_id == seller_id,
                                                           Channel.kind == "shopify")).one()
        order = channel_order("DEMO-JPY", currency="JPY")
        order = type(order)(**{**order.__dict__, "placed_at": utcnow() - timedelta(days=1)})
        _, order_id = apply_order(session, channel, order)
    with hub.sessions() as session:
        fx = session.get(OrderFx, order_id)
        assert fx is not None and fx.base_currency == "EUR" and fx.order_currency == "JPY"
        assert fx.rate_source.startswith("ecb") and fx.rate_as_of <= utcnow().date()
        original = session.get(Order, order_id)
        assert original.currency == "JPY" and fx.rate > 0
        assert fx.grand_total == (original.grand_total * fx.rate).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
