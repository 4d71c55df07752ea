"""Reviews: the newest reviews from every channel and the hub's own buyers, filtered by channel, rating and
follow-up; staff mark low ratings as followed up, pull a channel's reviews and export ratings on demand. The
product page shows a product's ratings per channel through `product_reviews` (included from catalog/edit.html)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.channels import services as channels
from hub.db import MAX_ID
from hub.errors import ExternalError, ValidationError
from hub.extensions import db, sync_env
from hub.reviews import services as reviews
from hub.reviews.export import accepts_ratings, push_ratings
from hub.reviews.pull import pull_reviews, reads_reviews
from hub.reviews.schemas import ReviewFilters

bp = Blueprint("reviews", __name__, template_folder="templates", url_prefix="/reviews")

LIST_LIMIT = 100
PRODUCT_PAGE_REVIEWS = 10
_ID = re.compile(r"\d{1,10}", re.ASCII)


def _id(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if _ID.fullmatch(value) and 0 < int(value) <= MAX_ID else None


def product_reviews(session: Session, actor: Actor, product_id: int) -> dict[str, Any]:
    """What the product page shows: its ratings per channel and overall, and its newest reviews."""
    return {"ratings": reviews.product_ratings(session, actor, [product_id])[product_id],
            "rows": reviews.newest(session, actor, PRODUCT_PAGE_REVIEWS, ReviewFilters(product_id=product_id))}


def _filters() -> tuple[ReviewFilters, dict[str, Any]]:
    """The list's filters from the query string; a value that is not one is ignored, never an error page."""
    channel_id = _id(request.args.get("channel"))
    rating = request.args.get("rating", "").strip()
    stars = int(rating) if rating in {"1", "2", "3", "4", "5"} else None
    flagged = request.args.get("flagged", "") == "1"
    args = {k: v for k, v in (("channel", channel_id), ("rating", stars), ("flagged", 1 if flagged else None))
            if v is not None}
    return ReviewFilters(channel_id=channel_id, rating=stars, flagged=flagged), args


@bp.route("")
@login_required
def index():
    session, actor = db(), current_user.actor
    filters, args = _filters()
    known = channels.list_channels(session, actor)
    env = sync_env()
    return render_template("reviews/list.html", rows=reviews.newest(session, actor, LIST_LIMIT, filters),
                           channels=known, args=args,
                           pullable=[c for c in known if c.is_active and reads_reviews(env, c.kind)],
                           exportable=[c for c in known if c.is_active and accepts_ratings(env, c.kind)])


@bp.route("/followed-up", methods=["POST"])
@login_required
def followed_up():
    session, actor = db(), current_user.actor
    actor.require(Role.STAFF, "mark reviews as followed up")
    review_id = _id(request.form.get("review_id"))
    if review_id is None:
        raise ValidationError("no review given", fields={"review_id": "not an id"})
    review = reviews.mark_followed_up(session, actor, review_id)
    product_id = review.product_id
    session.commit()
    flash(_("Review %(id)s marked as followed up.", id=review_id), "success")
    if request.form.get("back") == "product" and product_id is not None:
        return redirect(url_for("catalog.edit_product", product_id=product_id))
    return redirect(url_for(".index", flagged=1))


@bp.route("/pull", methods=["POST"])
@login_required
def pull():
    session, actor = db(), current_user.actor
    actor.require(Role.STAFF, "pull reviews")
    channel_id = _id(request.form.get("channel_id"))
    if channel_id is None:
        raise ValidationError("choose a channel", fields={"channel_id": "not an id"})
    channel = channels.get_channel(session, actor, channel_id)  # another seller's: 404
    name = channel.name
    session.commit()  # end the request's transaction: the pull writes in its own, page by page
    try:
        result = pull_reviews(sync_env(), channel_id,
                              follow_up_at=int(current_app.config.get("REVIEWS_FOLLOW_UP_AT", reviews.FOLLOW_UP_AT)))
    except (ValidationError, ExternalError) as exc:
        flash(_("Could not pull reviews from %(channel)s: %(message)s", channel=name, message=exc.message), "error")
        return redirect(url_for(".index"))
    flash(_("%(count)s reviews pulled from %(channel)s, %(unmatched)s of products not matched.",
            count=result.pulled, channel=name, unmatched=result.unmatched), "success")
    return redirect(url_for(".index", channel=channel_id))


@bp.route("/export-ratings", methods=["POST"])
@login_required
def export_ratings():
    """Sets the overall ratings of the channel's listed products there (Shopify's review metafields)."""
    session, actor = db(), current_user.actor
    actor.require(Role.STAFF, "export ratings")
    channel_id = _id(request.form.get("channel_id"))
    if channel_id is None:
        raise ValidationError("choose a channel", fields={"channel_id": "not an id"})
    name = channels.get_channel(session, actor, channel_id).name  # another seller's: 404
    session.commit()
    try:
        results = push_ratings(sync_env(), channel_id)
    except (ValidationError, ExternalError) as exc:
        flash(_("Could not export ratings to %(channel)s: %(message)s", channel=name, message=exc.message), "error")
        return redirect(url_for(".index"))
    refused = [r for r in results if not r.ok]
    flash(_("Ratings of %(count)s products exported to %(channel)s, %(refused)s refused.",
            count=len(results) - len(refused), channel=name, refused=len(refused)),
          "error" if refused else "success")
    return redirect(url_for(".index"))
