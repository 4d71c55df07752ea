"""`hub status`: each channel's health on the command line, an open circuit included."""

from __future__ import annotations

from hub.sync.jobs import run_job
from hub.sync.quarantine_cli import status_command
from tests.sync.fakes import T0, FakeOrderSource, channel_order


def test_hub_status_shows_the_newest_runs_and_an_open_circuit(app, env, make_channel, alice):
    healthy = make_channel(alice.seller_id, "woocommerce", "http://unused", name="Woo EU")
    broken = make_channel(alice.seller_id, "woocommerce", "http://unused", name="Woo UK")
    source = FakeOrderSource()
    source.put(channel_order("W1"))
    run_job(env, healthy.id, "pull", since=T0, connector=source)
    failing = FakeOrderSource()
    failing.fail_after = 0
    for _ in range(env.settings.circuit_failures):
        run_job(env, broken.id, "pull", connector=failing)

    output = app.test_cli_runner().invoke(status_command).output

    woo_eu, woo_uk = output.split("Woo UK")
    assert "circuit closed" in woo_eu and "pull" in woo_eu and "ok" in woo_eu and "created 1" in woo_eu
    assert "circuit open until" in woo_uk and f"({env.settings.circuit_failures} failures)" in woo_uk
    assert "failed" in woo_uk
