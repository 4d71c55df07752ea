"""Price push against the Shopee sandbox over real HTTP (v2.product.update_price).
https://open.shopee.com/documents/v2/v2.product.update_price?module=89&type=1"""

import json
from decimal import Decimal

import pytest
import requests

from hub.channels.port import PriceUpdate
from hub.channels.shopee.client import PRICE_LIST_MAX, ShopeeError
from hub.outbound.http import dumps_exact
from hub.sandbox.faults import Faults
from hub.sandbox.server import running
from hub.sandbox.shopee import create_app
from tests.channels.shopee.test_contract import connect


def shop(region="SG"):
    return create_app(seed=3, orders=5, faults=Faults(seed=3), rate=1000, burst=1000, region=region)


def read_back(base):
    state = requests.get(f"{base}/_sandbox/state", timeout=5).json()
    return {(p["item_id"], p["model_id"]): p["original_price"] for p in state["prices"]}


def test_prices_are_pushed_per_item_as_exact_json_numbers_and_read_back_exactly():
    app = shop("SG")
    with running(app) as base:
        connector, _, sleeps = connect(app, base, region="SG")
        results = connector.push_prices([PriceUpdate("MUG-BLUE", Decimal("19.99"), "SGD"),
                                         PriceUpdate("SCARF", Decimal("0.10"), "SGD"),
                                         PriceUpdate("MUG-RED", Decimal("1500"), "SGD")])
        assert [(r.sku, r.ok, r.message) for r in results] == [("MUG-BLUE", True, ""), ("SCARF", True, ""),
                                                              ("MUG-RED", True, "")]
        prices = read_back(base)
        # sent at the currency's two places: 1500 SGD travels as 1500.00
        assert [prices[(800001, 900011)], prices[(800002, 0)], prices[(800001, 900012)]] == ["19.99", "0.10", "1500.00"]
        state = app.extensions["sandbox"]
        assert state.prices[(800001, 900011)] == Decimal("19.99")
        sent = [json.loads(raw, parse_float=Decimal) for raw in state.price_calls]
        assert [c["item_id"] for c in sent] == [800001, 800002]  # one item per call, its models together
        assert sent[0]["price_list"] == [{"model_id": 900011, "original_price": Decimal("19.99")},
                                         {"model_id": 900012, "original_price": 1500}]
        assert '"original_price": 19.99' in state.price_calls[0]  # a JSON number, not a string, not a float's digits
        assert sleeps == [0.2]  # paced between the two items
        # and Shopee's own read endpoint shows it
        models = connector.client.get_model_list(800001)["response"]["model"]
        assert models[0]["price_info"][0]["original_price"] == Decimal("19.99")


def test_whole_unit_currencies_are_sent_without_decimals_and_decimals_refused():
    app = shop("VN")
    with running(app) as base:
        connector, _, _ = connect(app, base, currency="VND", price_pace_seconds=0)
        results = connector.push_prices([PriceUpdate("SCARF", Decimal("150000.00"), "VND"),
                                         PriceUpdate("CANDLE", Decimal("99000.5"), "VND")])
        assert [r.ok for r in results] == [True, False]
        assert "too many decimals" in results[1].message
        assert read_back(base)[(800002, 0)] == "150000"
        assert '"original_price": 150000}' in app.extensions["sandbox"].price_calls[0]
    app = shop("ID")
    with running(app) as base:
        connector, _, _ = connect(app, base, region="ID", price_pace_seconds=0)
        results = connector.push_prices([PriceUpdate("SCARF", Decimal("15000.50"), "IDR"),
                                         PriceUpdate("CANDLE", Decimal("149000"), "IDR")])
        assert [r.ok for r in results] == [False, True]
        assert "whole units" in results[0].message
        assert read_back(base)[(800004, 0)] == "149000"


def test_unknown_sku_wrong_currency_and_too_many_decimals_are_reported_per_sku_while_the_rest_goes_through():
    app = shop()
    with running(app) as base:
        before = read_back(base)
        connector, _, _ = connect(app, base, region="SG", price_pace_seconds=0,
                                  sku_map={"MUG-BLUE": [800001, 900011], "GHOST-MODEL": [800001, 999],
                                           "GHOST-ITEM": [123, 0], "SCARF": [800002, 0], "CANDLE": [800004, 0],
                                           "BASKET-S": [800003, 900031]})
        updates = [PriceUpdate("MUG-BLUE", Decimal("12.345"), "KWD"),   # Shopee does not sell in KWD
                   PriceUpdate("NOT-LISTED", Decimal("5.00"), "SGD"),
                   PriceUpdate("SCARF", Decimal("19.999"), "SGD"),       # SGD has 2 minor units
                   PriceUpdate("GHOST-MODEL", Decimal("5.00"), "SGD"),   # Shopee: model not found
                   PriceUpdate("GHOST-ITEM", Decimal("5.00"), "SGD"),    # Shopee: item not found
                   PriceUpdate("CANDLE", Decimal("0"), "SGD"),
                   PriceUpdate("BASKET-S", Decimal("21.50"), "SGD"),
                   PriceUpdate("MUG-BLUE", Decimal("13.90"), "SGD")]     # the last update of a SKU counts
        results = connector.push_prices(updates)
        assert [r.sku for r in results] == [u.sku for u in updates]
        assert [r.ok for r in results] == [True, False, False, False, False, False, True, True]
        by_sku = {r.sku: r.message for r in results}
        assert "not found in the Shopee shop" in by_sku["NOT-LISTED"]
        assert "too many decimals" in by_sku["SCARF"] and "minor units" in by_sku["SCARF"]
        assert by_sku["GHOST-MODEL"] == "model_id not found"  # Shopee's failure_list reason
        assert "error_item_not_found" in by_sku["GHOST-ITEM"]
        assert "above zero" in by_sku["CANDLE"]
        after = read_back(base)
        assert after[(800001, 900011)] == "13.90" and after[(800003, 900031)] == "21.50"
        assert {k: v for k, v in after.items() if k not in {(800001, 900011), (800003, 900031)}} == {
            k: v for k, v in before.items() if k not in {(800001, 900011), (800003, 900031)}}
        wrong = connector.push_prices([PriceUpdate("BASKET-S", Decimal("12.345"), "KWD")])
        assert not wrong[0].ok and "sells in SGD, not KWD" in wrong[0].message


def test_an_item_with_more_models_than_the_cap_is_sent_in_batches_of_50():
    app = shop()
    state = app.extensions["sandbox"]
    for n in range(120):
        state.prices[(870000, 970000 + n)] = Decimal("1.00")
    with running(app) as base:
        connector, _, sleeps = connect(app, base, region="SG",
                                       sku_map={f"V-{n}": [870000, 970000 + n] for n in range(120)})
        results = connector.push_prices([PriceUpdate(f"V-{n}", Decimal(n + 1) / 100, "SGD") for n in range(120)])
        assert all(r.ok for r in results) and len(results) == 120
        sizes = [len(json.loads(raw)["price_list"]) for raw in state.price_calls]
        assert PRICE_LIST_MAX == 50 and sizes == [50, 50, 20]
        assert len(sleeps) == 2
        assert read_back(base)[(870000, 970119)] == "1.20"


def test_the_sandbox_refuses_a_price_list_over_50_and_string_prices_like_shopee():
    app = shop()
    with running(app) as base:
        connector, _, _ = connect(app, base)
        with pytest.raises(ShopeeError, match="error_param"):
            connector.client.call("POST", "/api/v2/product/update_price", body={
                "item_id": 800002, "price_list": [{"model_id": 0, "original_price": 1}] * 51})
        with pytest.raises(ShopeeError, match="error_param"):
            connector.client.call("POST", "/api/v2/product/update_price", body={
                "item_id": 800002, "price_list": [{"model_id": 0, "original_price": "1.00"}]})


def test_an_auth_failure_is_raised_and_nothing_changes():
    app = shop()
    with running(app) as base:
        before = read_back(base)
        requests.post(f"{base}/_sandbox/expire_token", timeout=5)
        connector, _, _ = connect(app, base, region="SG")
        connector.client.tokens.refresh_token = ""  # nothing to refresh with
        with pytest.raises(ShopeeError) as raised:
            connector.push_prices([PriceUpdate("SCARF", Decimal("9.99"), "SGD")])
        assert raised.value.status == 403 and raised.value.error == "invalid_acceess_token"
        assert read_back(base) == before


def test_without_a_shop_currency_every_update_is_refused_without_a_call():
    app = shop()
    with running(app) as base:
        connector, audit, _ = connect(app, base)
        results = connector.push_prices([PriceUpdate("SCARF", Decimal("9.99"), "SGD")])
        assert not results[0].ok and "currency" in results[0].message
        assert audit.calls == []


def test_decimals_are_serialised_exactly_never_through_a_float():
    assert dumps_exact({"a": Decimal("0.1"), "b": [Decimal("12.345"), 3, "x"], "c": Decimal("1E+3")}) == (
        '{"a": 0.1, "b": [12.345, 3, "x"], "c": 1000}')
    assert dumps_exact(Decimal("0.30000000000000004")) == "0.30000000000000004"
    with pytest.raises(TypeError):
        dumps_exact({"a": 0.1})


def test_a_price_answer_cut_short_is_asked_for_again_since_the_prices_are_absolute():
    from flask import Flask, Response, request

    from hub.channels.shopee.client import ShopeeClient
    from hub.outbound.http import RetryPolicy

    whole = ('{"error": "", "message": "", "request_id": "2", "response": {"success_list": '
             '[{"model_id": 0, "original_price": 9.99}], "failure_list": []}}')
    answers, bodies = [whole[:40], whole], []
    probe = Flask("probe")

    @probe.post("/api/v2/product/update_price")
    def update_price():
        bodies.append(request.get_data(as_text=True))
        return Response(answers.pop(0), mimetype="application/json")

    with running(probe) as base:
        client = ShopeeClient(base, partner_id="1", partner_key="k", shop_id="2", access_token="t",
                              retry=RetryPolicy(initial_seconds=0, max_seconds=0, jitter_seconds=0),
                              sleep=lambda _: None)
        envelope = client.update_price(800002, [(0, Decimal("9.99"))])
    assert envelope["response"]["success_list"][0]["original_price"] == Decimal("9.99")
    sent = '{"item_id": 800002, "price_list": [{"model_id": 0, "original_price": 9.99}]}'
    assert not answers and bodies == [sent, sent]
