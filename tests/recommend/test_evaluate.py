"""The offline evaluation: the metrics on a tiny example by hand, and the model against popularity on generated
history with real structure."""

from __future__ import annotations

import pytest

from hub.recommend.demo_data import generate
from hub.recommend.evaluate import evaluate, score, table
from hub.recommend.models import BehaviourEvent
from tests.recommend.conftest import NOW, count


def test_precision_recall_and_coverage_on_a_tiny_example():
    picks = {1: [10, 11, 12], 2: [10, 13, 14], 3: [15, 16, 17]}
    relevant = {1: {10, 12, 99}, 2: {14}, 3: {40}}
    result = score("m", picks, relevant, k=3, recommendable=20, click_share=0.25)
    assert (result.hits, result.shown) == (3, 9)
    assert result.precision == pytest.approx(3 / 9)
    assert result.recall == pytest.approx((2 / 3 + 1 / 1 + 0) / 3)
    assert result.coverage == pytest.approx(8 / 20)  # 10..17
    assert result.r == pytest.approx(3 / 9 * 0.25)  # R = N/M x K/L


def test_only_the_first_k_count_and_there_is_no_r_without_clicks():
    result = score("m", {1: [5, 6, 7]}, {1: {7}}, k=2, recommendable=10, click_share=None)
    assert (result.hits, result.precision, result.recall, result.r) == (0, 0.0, 0.0, None)


@pytest.fixture
def generated(alice, shop_for, sessions):
    shop = shop_for(alice)
    for i in range(26):
        shop.product(f"TEA-{i}" if i < 6 else f"GEAR-{i}")
    for name in ("Web shop", "eBay", "Amazon"):
        shop.channel(name)
    with sessions.begin() as session:
        made = generate(session, alice.seller_id, buyers=120, orders=1000, days=240, now=NOW)
    return made


def test_the_model_beats_popularity_on_generated_history(alice, generated, sessions):
    with sessions() as session:
        result = evaluate(session, alice.seller_id, k=5, split_days=30)
    assert result.buyers >= 30 and result.test_orders >= 80
    assert result.model.precision > result.baseline.precision * 1.2
    assert result.model.recall > result.baseline.recall * 1.2
    assert result.model.coverage > result.baseline.coverage
    assert 0 < result.rec_clicks < result.clicks
    assert result.model.r == pytest.approx(result.model.precision * result.rec_clicks / result.clicks)


def test_the_demo_generator_is_deterministic_and_runs_once(alice, generated, sessions):
    assert generated.orders == 1000 and generated.events == count(sessions, BehaviourEvent)
    with sessions.begin() as session:
        again = generate(session, alice.seller_id, buyers=120, orders=1000, days=240, now=NOW)
    assert again.orders == 0 and count(sessions, BehaviourEvent) == generated.events


def test_hub_recommend_evaluate_prints_the_table(app, alice, generated):
    result = app.test_cli_runner().invoke(args=["recommend", "evaluate", "--seller", str(alice.seller_id),
                                                "--k", "5", "--split-days", "30"])
    assert result.exit_code == 0, result.output
    assert "precision@5" in result.output and "popularity" in result.output and "R = N/M x K/L" in result.output


def test_hub_recommend_recompute_reports_each_seller(app, alice, bob, generated):
    everyone = app.test_cli_runner().invoke(args=["recommend", "recompute"])
    assert everyone.exit_code == 0, everyone.output
    assert f"seller {alice.seller_id}: " in everyone.output and "1000 orders" in everyone.output
    assert f"seller {bob.seller_id}: 0 bought-together" in everyone.output
    one = app.test_cli_runner().invoke(args=["recommend", "recompute", "--seller", str(bob.seller_id)])
    assert one.exit_code == 0 and f"seller {alice.seller_id}:" not in one.output


def test_the_printed_table_has_a_row_per_method(alice, generated, sessions):
    with sessions() as session:
        printed = table(evaluate(session, alice.seller_id, k=10, split_days=30))
    assert printed.splitlines()[2].startswith("item-item") and printed.splitlines()[3].startswith("popularity")
