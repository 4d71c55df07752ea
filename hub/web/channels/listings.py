"""Unmatched channel SKUs (everyone reads, staff map): pick the product, press Map."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.channels import services
from hub.channels.schemas import SkuMapping
from hub.errors import NotFound, PermissionDenied, ValidationError
from hub.extensions import db
from hub.validation import parse
from hub.web.channels import bp
from hub.web.forms import failure, form_data


def _page(errors: dict[int, str] | None = None, status: int = 200):
    session, actor = db(), current_user.actor
    rows = services.list_unmatched(session, actor)
    products = services.product_choices(session, actor) if current_user.can(Role.STAFF) else []
    # Preselect a product whose SKU differs only in case or padding: the common cause, mapped in one click.
    by_sku = {sku.strip().lower(): product_id for product_id, sku, _ in products}
    suggested = {row.listing.id: by_sku.get(row.listing.channel_sku.strip().lower()) for row in rows}
    return render_template("channels/unmatched.html", rows=rows, products=products, suggested=suggested,
                           errors=errors or {}), status


@bp.route("/listings/unmatched")
@login_required
def unmatched():
    return _page()


@bp.route("/listings/<id:listing_id>/map", methods=["POST"])
@login_required
def map_sku(listing_id: int):
    session = db()
    try:
        listing, relinked = services.map_sku(session, current_user.actor, listing_id, parse(SkuMapping, form_data()))
        session.commit()
    except (NotFound, PermissionDenied):
        raise
    except ValidationError as exc:
        errors, status = failure(exc)
        return _page({listing_id: errors.get("product_id") or errors["form"]}, status)
    flash(ngettext("%(sku)s mapped; %(num)d waiting order line relinked.",
                   "%(sku)s mapped; %(num)d waiting order lines relinked.", relinked, sku=listing.channel_sku),
          "success")
    return redirect(url_for(".unmatched"))
