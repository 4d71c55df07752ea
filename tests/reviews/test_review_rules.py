"""Review rules: only delivered lines of the buyer's own orders, once per line (also when two writes race), edits
keep their history, photos and ratings are validated, low ratings are flagged for follow-up."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from pydantic import ValidationError as PydanticError

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.errors import Conflict, NotFound, PermissionDenied
from hub.orders.status import OrderStatus
from hub.reviews import services
from hub.reviews.models import Review, ReviewRevision
from hub.reviews.schemas import MAX_PHOTOS, ReviewIn
from tests.reviews.support import buy, customer, products


@pytest.fixture
def shop(sessions, alice):
    products(sessions, alice.actor, "TEA-1", "MUG-1")
    return customer(sessions, alice.seller_id)


def review_in(rating: int = 5, **kw) -> ReviewIn:
    return ReviewIn(rating=rating, body=kw.pop("body", "Lovely tea."), **kw)


def test_a_buyer_reviews_a_line_of_a_delivered_order_and_the_review_names_product_channel_and_buyer(
        sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1", "MUG-1"])
    with sessions.begin() as session:
        review = services.write_review(session, alice.seller_id, shop, bought.line_ids[0],
                                       review_in(4, title="Good", photos=["https://img.example/a.jpg"]))
        review_id = review.id
    with sessions() as session:
        review = session.get(Review, review_id)
        assert (review.rating, review.title, review.photos, review.source) == (4, "Good", ["https://img.example/a.jpg"],
                                                                              "hub")
        assert review.channel_id == bought.channel_id and review.order_line_id == bought.line_ids[0]
        assert review.channel_sku == "TEA-1" and review.product_id is not None
        assert review.reviewer_name == "Anna Schmidt" and not review.flagged_for_follow_up


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.FULFILLED])
def test_a_line_of_an_order_not_yet_delivered_cannot_be_reviewed(sessions, alice, shop, status):
    bought = buy(sessions, alice.actor, shop, ["TEA-1"], status=status)
    with sessions.begin() as session, pytest.raises(Conflict) as refused:
        services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in())
    assert refused.value.code == "not_delivered" and refused.value.http_status == 409
    assert "delivered" in refused.value.message


def test_a_line_of_another_buyer_or_another_seller_is_not_found(sessions, alice, bob, shop):
    other_buyer = customer(sessions, alice.seller_id, "Ben Other")
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    with sessions.begin() as session, pytest.raises(NotFound):
        services.write_review(session, alice.seller_id, other_buyer, bought.line_ids[0], review_in())
    with sessions.begin() as session, pytest.raises(NotFound):
        services.write_review(session, bob.seller_id, shop, bought.line_ids[0], review_in())


def test_a_line_is_reviewed_once_and_the_second_review_is_refused_as_a_conflict(sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    with sessions.begin() as session:
        services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in(5))
    with sessions.begin() as session, pytest.raises(Conflict) as refused:
        services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in(1))
    assert refused.value.code == "already_reviewed"
    with sessions() as session:
        assert session.scalars(sa.select(Review.rating)).all() == [5]


def test_two_racing_reviews_of_one_line_leave_exactly_one(sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def write(rating: int) -> None:
        session = sessions()
        try:
            barrier.wait(timeout=10)
            services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in(rating))
            session.commit()
            outcomes.append("written")
        except Conflict:
            session.rollback()
            outcomes.append("conflict")
        finally:
            session.close()

    threads = [threading.Thread(target=write, args=(r,)) for r in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "written"]
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count(Review.id))) == 1


def test_each_line_of_an_order_gets_its_own_review(sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1", "MUG-1"])
    with sessions.begin() as session:
        for line_id, rating in zip(bought.line_ids, (5, 3), strict=True):
            services.write_review(session, alice.seller_id, shop, line_id, review_in(rating))
    with sessions() as session:
        assert sorted(session.scalars(sa.select(Review.rating))) == [3, 5]


def test_an_edit_keeps_the_previous_version_as_a_revision_and_an_unchanged_edit_keeps_none(sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    with sessions.begin() as session:
        review_id = services.write_review(session, alice.seller_id, shop, bought.line_ids[0],
                                          review_in(5, body="Great")).id
    with sessions.begin() as session:
        services.edit_review(session, alice.seller_id, shop, review_id,
                             review_in(2, body="Went stale", photos=["http://img.example/stale.png"]))
    with sessions.begin() as session:
        services.edit_review(session, alice.seller_id, shop, review_id,
                             review_in(2, body="Went stale", photos=["http://img.example/stale.png"]))
    with sessions() as session:
        review = session.get(Review, review_id)
        assert (review.rating, review.body, review.photos) == (2, "Went stale", ["http://img.example/stale.png"])
        assert review.flagged_for_follow_up
        assert [(r.rating, r.body, r.photos) for r in review.revisions] == [(5, "Great", [])]
        assert session.scalar(sa.select(sa.func.count(ReviewRevision.id))) == 1


def test_only_the_author_can_edit_a_review(sessions, alice, shop):
    other_buyer = customer(sessions, alice.seller_id, "Ben Other")
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    with sessions.begin() as session:
        review_id = services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in()).id
    with sessions.begin() as session, pytest.raises(NotFound):
        services.edit_review(session, alice.seller_id, other_buyer, review_id, review_in(1))


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_one_to_five_is_refused(rating):
    with pytest.raises(PydanticError):
        ReviewIn(rating=rating)


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:image/png;base64,AAAA", "ftp://img.example/a.jpg",
                                 "https://", "/relative.jpg", "https://img.example/a b.jpg",
                                 "https://img.example/" + "x" * 600])
def test_a_photo_that_is_not_an_http_url_is_refused(url):
    with pytest.raises(PydanticError):
        ReviewIn(rating=4, photos=[url])


def test_at_most_the_allowed_number_of_photos_and_no_photo_twice():
    urls = [f"https://img.example/{n}.jpg" for n in range(MAX_PHOTOS + 1)]
    assert len(ReviewIn(rating=4, photos=urls[:MAX_PHOTOS]).photos) == MAX_PHOTOS
    with pytest.raises(PydanticError):
        ReviewIn(rating=4, photos=urls)
    with pytest.raises(PydanticError):
        ReviewIn(rating=4, photos=[urls[0], urls[0]])


def test_the_database_refuses_a_rating_outside_one_to_five_whatever_the_caller(sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    with sessions() as session, pytest.raises(sa.exc.IntegrityError):
        session.add(Review(seller_id=alice.seller_id, channel_id=bought.channel_id, source="hub", rating=6))
        session.flush()


def test_low_ratings_are_flagged_and_staff_mark_them_followed_up_while_a_viewer_may_not(
        sessions, alice, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1", "MUG-1"])
    with sessions.begin() as session:
        low = services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in(1)).id
        services.write_review(session, alice.seller_id, shop, bought.line_ids[1], review_in(4))
    viewer = Actor(user_id=None, seller_id=alice.seller_id, role=Role.VIEWER, label="viewer")
    with sessions.begin() as session:
        assert [row.review.id for row in services.flagged(session, alice.actor)] == [low]
        with pytest.raises(PermissionDenied):
            services.mark_followed_up(session, viewer, low)
    with sessions.begin() as session:
        services.mark_followed_up(session, alice.actor, low)
    with sessions() as session:
        assert services.flagged(session, alice.actor) == []
        assert session.get(Review, low).follow_up_done_at is not None


def test_a_seller_sees_only_its_own_reviews(sessions, alice, bob, shop):
    bought = buy(sessions, alice.actor, shop, ["TEA-1"])
    with sessions.begin() as session:
        review_id = services.write_review(session, alice.seller_id, shop, bought.line_ids[0], review_in(1)).id
    with sessions.begin() as session:
        assert services.newest(session, bob.actor) == []
        with pytest.raises(NotFound):
            services.mark_followed_up(session, bob.actor, review_id)
