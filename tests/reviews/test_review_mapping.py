"""Channel reviews -> canonical ChannelReview: WooCommerce product reviews and Shopee comments (pure mapping), and
the WooCommerce request for them (through `responses`)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from hub.channels.shopee.mapping import map_comment
from hub.channels.values import MappingError
from hub.channels.woocommerce.client import WooCommerceClient
from hub.channels.woocommerce.mapping import map_review
from hub.outbound.audit import MemoryAudit

WOO_REVIEW = {
    "id": 22, "date_created": "2024-05-02T10:00:00", "date_created_gmt": "2024-05-02T09:00:00", "product_id": 10,
    "product_name": "Tasse", "status": "approved", "reviewer": "Anna Schmidt", "reviewer_email": "a@example.com",
    "review": "<p>Sch&ouml;ne Tasse,<br />gerne wieder</p>\n", "rating": 4, "verified": True,
}
COMMENT = {
    "order_sn": "240502ABCDEF", "comment_id": 7001, "comment": " Very good! ", "buyer_username": "kopi_fan",
    "item_id": 800001, "model_id_list": [900012], "rating_star": 2, "editable": "EDITABLE", "hidden": False,
    "create_time": 1714640400, "media": {"image_url_list": ["https://cf.shopee.sg/file/a", "javascript:x"],
                                         "video_url_list": []},
}
SKUS = {(800001, 900011): "MUG-BLUE", (800001, 900012): "MUG-RED", (800002, 0): "SCARF", (800006, 900061): "HAT"}


def test_a_woocommerce_review_reads_as_text_in_utc_with_its_products_sku():
    review = map_review(WOO_REVIEW, {10: "MUG-BLUE"})
    assert (review.external_id, review.product_ref, review.sku, review.rating) == ("22", "10", "MUG-BLUE", 4)
    assert review.body == "Schöne Tasse,\ngerne wieder"
    assert review.created_at == datetime(2024, 5, 2, 9, 0, tzinfo=UTC)
    assert review.reviewer_name == "Anna Schmidt" and review.published


def test_a_held_woocommerce_review_is_kept_unpublished_and_one_of_an_unknown_product_without_sku():
    review = map_review({**WOO_REVIEW, "status": "hold"}, {})
    assert not review.published and review.sku == "" and review.product_ref == "10"


@pytest.mark.parametrize("change", [{"rating": 0}, {"rating": 6}, {"rating": "5"}, {"id": None}, {"product_id": "x"},
                                    {"date_created_gmt": "yesterday"}])
def test_a_woocommerce_review_without_a_usable_rating_id_product_or_date_is_refused(change):
    with pytest.raises(MappingError):
        map_review({**WOO_REVIEW, **change}, {})


def test_a_shopee_comment_maps_to_its_models_sku_with_http_photos_only():
    review = map_comment(COMMENT, SKUS)
    assert (review.external_id, review.sku, review.rating, review.body) == ("7001", "MUG-RED", 2, "Very good!")
    assert review.photos == ("https://cf.shopee.sg/file/a",) and review.order_ref == "240502ABCDEF"
    assert review.created_at == datetime.fromtimestamp(1714640400, tz=UTC) and review.published


@pytest.mark.parametrize(("change", "sku"), [
    ({"item_id": 800002, "model_id_list": []}, "SCARF"),  # an item without variants
    ({"item_id": 800006, "model_id_list": []}, "HAT"),  # the one variant of the item
    ({"item_id": 800001, "model_id_list": []}, ""),  # two variants, none named: cannot tell
    ({"item_id": 800009, "model_id_list": []}, ""),  # not in the catalogue
])
def test_a_shopee_comment_without_a_known_model_falls_back_to_the_items_sku_when_there_is_one(change, sku):
    assert map_comment({**COMMENT, **change}, SKUS).sku == sku


def test_a_hidden_shopee_comment_is_kept_unpublished_and_a_bad_star_rating_is_refused():
    assert not map_comment({**COMMENT, "hidden": True}, SKUS).published
    with pytest.raises(MappingError):
        map_comment({**COMMENT, "rating_star": 0}, SKUS)


@responses.activate
def test_the_woocommerce_client_asks_for_every_status_oldest_id_first_after_a_time():
    responses.get("https://shop.example.com/wp-json/wc/v3/products/reviews", json=[WOO_REVIEW],
                  headers={"X-WP-Total": "1", "X-WP-TotalPages": "1"})
    client = WooCommerceClient("https://shop.example.com", "ck_1", "cs_1", audit=MemoryAudit())
    page = client.list_reviews(after="2024-05-01T00:00:00", page=2, per_page=50)
    assert page.items == [WOO_REVIEW] and page.total_pages == 1
    sent = parse_qs(urlsplit(responses.calls[0].request.url).query)
    assert sent == {"after": ["2024-05-01T00:00:00"], "status": ["all"], "orderby": ["id"], "order": ["asc"],
                    "page": ["2"], "per_page": ["50"]}
