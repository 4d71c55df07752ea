"""POST and GET /api/v1/orders/<id>/payments against the Stripe sandbox over real HTTP."""

from __future__ import annotations

from decimal import Decimal

from tests.api.api_support import assert_api_error


def test_a_pending_direct_order_is_paid_and_listed(alice, api_for, world):
    api = api_for(alice)

    paid = api.post(f"/orders/{world.pending_order_id}/payments",
                    {"account_id": world.payment_account_id, "payment_method": "pm_card_visa"})

    assert paid.status_code == 201, paid.get_data(as_text=True)
    body = paid.get_json()
    assert (body["status"], body["provider"], body["currency"]) == ("captured", "stripe", "EUR")
    assert Decimal(body["captured"]) == Decimal(body["amount"]) > 0
    assert api.get(f"/orders/{world.pending_order_id}").get_json()["status"] == "paid"
    listed = api.get(f"/orders/{world.pending_order_id}/payments")
    assert listed.status_code == 200 and [p["id"] for p in listed.get_json()["items"]] == [body["id"]]


def test_paying_twice_is_a_conflict_and_charges_nothing_more(alice, api_for, world):
    api = api_for(alice)
    first = api.post(f"/orders/{world.pending_order_id}/payments",
                     {"account_id": world.payment_account_id, "payment_method": "pm_card_visa"})
    assert first.status_code == 201

    again = api.post(f"/orders/{world.pending_order_id}/payments",
                     {"account_id": world.payment_account_id, "payment_method": "pm_card_visa"})

    assert_api_error(again, 409, "already_paid")
    assert len(api.get(f"/orders/{world.pending_order_id}/payments").get_json()["items"]) == 1


def test_an_order_that_is_no_longer_pending_cannot_be_paid(alice, api_for, world):
    refused = api_for(alice).post(f"/orders/{world.paid_order_id}/payments",
                                  {"account_id": world.payment_account_id, "payment_method": "pm_card_visa"})

    assert_api_error(refused, 409, "not_payable")


def test_a_declined_card_is_a_failed_payment_not_an_error(alice, api_for, world):
    response = api_for(alice).post(f"/orders/{world.pending_order_id}/payments",
                                   {"account_id": world.payment_account_id, "payment_method": "pm_card_chargeDeclined"})

    assert response.status_code == 201
    assert response.get_json()["status"] == "failed" and response.get_json()["failure_reason"]


def test_another_sellers_order_payments_are_not_found(alice, bob, api_for, world):
    assert_api_error(api_for(bob).get(f"/orders/{world.pending_order_id}/payments"), 404, "not_found")
    assert api_for(alice).get(f"/orders/{world.pending_order_id}/payments").get_json() == {"items": []}
