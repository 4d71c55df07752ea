"""Seeded eBay orders, shaped as the Fulfillment API returns them
(https://developer.ebay.com/api-docs/sell/fulfillment/types/sel:Order).

Sites and currencies: EBAY_US USD, EBAY_GB GBP, EBAY_DE/EBAY_FR EUR, EBAY_AU AUD, EBAY_CA CAD, EBAY_PL PLN.
Buyers come from hub.sandbox.people (non-ASCII names, many countries, missing emails and phones).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hub.sandbox.people import person

SITES = (("EBAY_US", "USD"), ("EBAY_GB", "GBP"), ("EBAY_DE", "EUR"), ("EBAY_FR", "EUR"), ("EBAY_AU", "AUD"),
         ("EBAY_CA", "CAD"), ("EBAY_PL", "PLN"))
# Tax eBay collects and remits, by the buyer's country (sales tax, VAT, GST): demo rates.
REMIT_RATES = {"US": ("STATE_SALES_TAX", Decimal("0.0725")), "GB": ("VAT", Decimal("0.20")),
               "DE": ("VAT", Decimal("0.19")), "FR": ("VAT", Decimal("0.20")), "PL": ("VAT", Decimal("0.23"))}
SKUS = tuple(f"EB-{n:04d}" for n in range(1, 41))
TITLES = ("Stoneware mug", "Linen tea towel", "Brass desk lamp", "Wool scarf", "Oak cutting board",
          "Enamel pin set", "Cotton tote bag", "Glass carafe")
CENT = Decimal("0.01")


def ebay_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def amount(value: Decimal, currency: str) -> dict[str, str]:
    return {"value": str(value.quantize(CENT)), "currency": currency}


def inventory() -> dict[str, int]:
    return {sku: 10 + i % 7 * 5 for i, sku in enumerate(SKUS)}


def offers() -> dict[str, dict[str, Any]]:
    """One fixed-price offer per SKU, the sites in turn (EB-0001 on EBAY_US, EB-0002 on EBAY_GB, …), shaped as
    getOffers returns it (https://developer.ebay.com/api-docs/sell/inventory/types/slr:EbayOfferDetailsWithAll);
    every offer is published but the last SKU's: offerId -> offer."""
    result = {}
    for i, sku in enumerate(SKUS):
        site, currency = SITES[i % len(SITES)]
        offer_id = f"{7000000000 + i}"
        published = i < len(SKUS) - 1
        result[offer_id] = {
            "offerId": offer_id, "sku": sku, "marketplaceId": site, "format": "FIXED_PRICE",
            "availableQuantity": 10, "categoryId": "20625",
            "pricingSummary": {"price": amount(Decimal(995 + 250 * i) / 100, currency)},
            "status": "PUBLISHED" if published else "UNPUBLISHED",
        }
        if published:
            result[offer_id]["listing"] = {"listingId": f"{110550000000 + i}", "listingStatus": "ACTIVE"}
    return result


def _contact(buyer: Any, *, with_email: bool) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "fullName": buyer.name,
        "contactAddress": {"addressLine1": buyer.street, "city": buyer.city, "postalCode": buyer.postal_code,
                           "countryCode": buyer.country},
    }
    if buyer.phone:
        contact["primaryPhone"] = {"phoneNumber": buyer.phone}
    if with_email and buyer.email:
        contact["email"] = buyer.email
    return contact


def make_order(rng: random.Random, index: int, now: datetime) -> dict[str, Any]:
    site, currency = rng.choice(SITES)
    buyer = person(rng)
    created = now - timedelta(seconds=rng.randrange(3600, 60 * 86400))
    modified = min(now, created + timedelta(seconds=rng.randrange(0, 3 * 86400)))
    order_id = f"{10 + index % 90:02d}-{rng.randrange(10000, 99999):05d}-{index:05d}"
    roll = rng.random()

    lines: list[dict[str, Any]] = []
    for n in range(rng.choice((1, 1, 1, 2, 3))):
        quantity = 99999 if rng.random() < 0.02 else rng.randrange(1, 4)
        unit = (Decimal(rng.randrange(99, 20000)) / 100).quantize(CENT)
        line: dict[str, Any] = {
            "lineItemId": f"{10000000000 + index * 10 + n}",
            "legacyItemId": f"{110000000000 + rng.randrange(10 ** 6)}",
            "sku": rng.choice(SKUS),
            "title": rng.choice(TITLES),
            "lineItemCost": amount(unit * quantity, currency),
            "quantity": quantity,
            "soldFormat": "FIXED_PRICE",
            "listingMarketplaceId": site,
            "purchaseMarketplaceId": site,
            "lineItemFulfillmentStatus": "NOT_STARTED",
            "appliedPromotions": [],
            "taxes": [],
            "deliveryCost": {"shippingCost": amount(Decimal(0), currency)},
        }
        if rng.random() < 0.05:
            del line["sku"]  # listed outside the Inventory API
        lines.append(line)

    subtotal = sum((Decimal(line["lineItemCost"]["value"]) for line in lines), Decimal(0))
    discount = Decimal(0)
    if rng.random() < 0.2:
        discount = (subtotal * Decimal("0.10")).quantize(CENT, ROUND_HALF_UP)
        lines[0]["appliedPromotions"] = [{"description": "10% off", "promotionId": f"{5000000000 + index}",
                                          "discountAmount": amount(discount, currency)}]
    delivery = Decimal(rng.choice(("0.00", "3.99", "4.99", "9.99")))
    tax = Decimal(0)
    if buyer.country in REMIT_RATES:
        kind, rate = REMIT_RATES[buyer.country]
        for line in lines:
            line_tax = (Decimal(line["lineItemCost"]["value"]) * rate).quantize(CENT, ROUND_HALF_UP)
            line["ebayCollectAndRemitTaxes"] = [{"taxType": kind, "collectionMethod": "NET",
                                                 "amount": amount(line_tax, currency)}]
            line["taxes"] = [{"amount": amount(line_tax, currency), "taxType": kind}]  # listed twice, as eBay does
            tax += line_tax
    total = subtotal - discount + delivery + tax
    summary: dict[str, Any] = {"priceSubtotal": amount(subtotal, currency), "deliveryCost": amount(delivery, currency),
                               "total": amount(total, currency)}
    if discount:
        summary["priceDiscount"] = amount(-discount, currency)
    if tax:
        summary["tax"] = amount(tax, currency)

    payment, fulfilment, cancel = "PAID", "NOT_STARTED", "NONE_REQUESTED"
    if roll < 0.05:
        payment = "PENDING"
        summary = {"priceSubtotal": amount(subtotal, currency)}  # no total until the buyer has paid
    elif roll < 0.20:
        fulfilment = "FULFILLED"
    elif roll < 0.28:
        if len(lines) > 1:
            fulfilment = "IN_PROGRESS"  # one line shipped, the others not yet
    elif roll < 0.35:
        cancel, payment = "CANCELED", "FULLY_REFUNDED"
    elif roll < 0.40:
        fulfilment, payment = "FULFILLED", "FULLY_REFUNDED"
    elif roll < 0.45:
        fulfilment, payment = "FULFILLED", "PARTIALLY_REFUNDED"
    elif roll < 0.48:
        cancel = "IN_PROGRESS"  # the buyer asked to cancel; the seller has not answered
    if fulfilment == "FULFILLED":
        for line in lines:
            line["lineItemFulfillmentStatus"] = "FULFILLED"
    elif fulfilment == "IN_PROGRESS":
        lines[0]["lineItemFulfillmentStatus"] = "FULFILLED"

    ship_to = _contact(buyer, with_email=True)
    raw: dict[str, Any] = {
        "orderId": order_id,
        "legacyOrderId": order_id,
        "creationDate": ebay_time(created),
        "lastModifiedDate": ebay_time(modified),
        "orderFulfillmentStatus": fulfilment,
        "orderPaymentStatus": payment,
        "sellerId": "orderhub_demo_seller",
        "buyer": {"username": f"buyer_{rng.randrange(10 ** 6):06d}"},
        "pricingSummary": summary,
        "cancelStatus": {"cancelState": cancel, "cancelRequests": []},
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": {"shippingCarrierCode": "USPS", "shippingServiceCode": "USPSPriority", "shipTo": ship_to},
        }],
        "fulfillmentHrefs": [],
        "lineItems": lines,
        "salesRecordReference": str(1000 + index),
    }
    if rng.random() < 0.9:
        raw["buyer"]["buyerRegistrationAddress"] = _contact(buyer, with_email=True)
    if tax:
        raw["ebayCollectAndRemitTax"] = True
    return raw
