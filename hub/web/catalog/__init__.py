"""Products: list and search, create, edit (with translations), delete; stock and ledger per product.

The list and the product page show goods and stock together: stock per warehouse and, per channel, the quantity
the hub would push now next to the last pushed one (hub.catalog.overview); /products/listings lists a channel's
listings with their push status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.catalog import overview, products, stock
from hub.catalog.models import Product
from hub.catalog.schemas import ProductIn
from hub.currency import pricing
from hub.errors import ValidationError
from hub.extensions import db
from hub.recommend import serve as recommend
from hub.web.forms import cursor_arg, row_count, submit
from hub.web.reviews import product_reviews

bp = Blueprint("catalog", __name__, template_folder="templates", url_prefix="/products")

PAGE = 50  # the page size the pager macro expects
RECENT_MOVEMENTS = 20
BOUGHT_TOGETHER_SHOWN = 5
LEDGER_ROWS = 200
BOOLEANS = ("is_active",)
FIELDS = ("sku", "title", "description", "weight_grams", "gtin", "hs_code", "country_of_origin",
          "customs_description", "is_active")


def _form_of(product: Product) -> dict[str, Any]:
    form: dict[str, Any] = {name: getattr(product, name) for name in FIELDS if getattr(product, name) is not None}
    form["base_price"] = product.price.amount
    for i, t in enumerate(product.translations):
        form.update({f"translations[{i}].locale": t.locale, f"translations[{i}].title": t.title,
                     f"translations[{i}].description": t.description})
    return form


@bp.route("", endpoint="products")
@login_required
def products_list():
    q = request.args.get("q", "").strip()[:200]
    session, actor = db(), current_user.actor
    rows = products.list_products(session, actor, search=q, after_id=cursor_arg(), limit=PAGE)
    return render_template("catalog/products.html", rows=rows, q=q, args={"q": q} if q else {},
                           overview=overview.products_overview(session, actor, rows))


def _channel_arg() -> int | None:
    value = request.args.get("channel", "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise ValidationError("channel must be a channel's id", fields={"channel": "not a channel id"})
    return int(value)


@bp.route("/listings")
@login_required
def listings():
    """Listings of one channel (or all): channel SKU, product, quantities and prices pushed, errors and drift."""
    q = request.args.get("q", "").strip()[:200]
    channel_id = _channel_arg()
    errors_only, drift_only = request.args.get("errors") == "1", request.args.get("drift") == "1"
    page = overview.list_listings(db(), current_user.actor, channel_id=channel_id, errors_only=errors_only,
                                  drift_only=drift_only, search=q, after_id=cursor_arg(), limit=overview.PAGE)
    args = {k: v for k, v in {"q": q, "channel": channel_id, "errors": "1" if errors_only else None,
                              "drift": "1" if drift_only else None}.items() if v}
    return render_template("catalog/listings.html", page=page, channel_id=channel_id, errors_only=errors_only,
                           drift_only=drift_only, q=q, args=args)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_product():
    actor = current_user.actor
    actor.require(Role.STAFF, "create products")
    form: dict[str, Any] = {"is_active": True}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        sent = submit(ProductIn, products.create_product, booleans=BOOLEANS)
        if sent.ok:
            flash(_("Product %(sku)s created.", sku=sent.result.sku), "success")
            return redirect(url_for(".edit_product", product_id=sent.result.id))
        form, errors, status = sent.form, sent.errors, sent.status
    return render_template("catalog/new.html", form=form, errors=errors,
                           translation_rows=row_count(form, "translations", 2)), status


@bp.route("/<id:product_id>", methods=["GET", "POST"])
@login_required
def edit_product(product_id: int):
    session, actor = db(), current_user.actor
    product = products.get_product(session, actor, product_id)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        sent = submit(ProductIn, lambda s, a, data: products.update_product(s, a, product_id, data),
                      booleans=BOOLEANS)
        if sent.ok:
            flash(_("Product %(sku)s saved.", sku=product.sku), "success")
            return redirect(url_for(".edit_product", product_id=product_id))
        form, errors, status = sent.form, sent.errors, sent.status
    else:
        form = _form_of(product)
    goods = overview.products_overview(session, actor, [product])
    return render_template(
        "catalog/edit.html", product=product, form=form, errors=errors,
        translation_rows=row_count(form, "translations", 2), goods=goods, row=goods.rows[0],
        listings=overview.product_listings(session, actor, goods.rows[0], goods.channels,
                                           fx_max_age_days=pricing.max_age_from(current_app.config)),
        levels=stock.levels_for(session, actor, product_id),
        ledger=stock.movements(session, actor, product_id, limit=RECENT_MOVEMENTS),
        warehouses={w.id: w for w in stock.list_warehouses(session, actor)},
        reviews=product_reviews(session, actor, product_id),
        # From the recommendation tables the worker recomputes (a platform admin acting for no seller has none).
        together=recommend.bought_together(session, actor, product_id, limit=BOUGHT_TOGETHER_SHOWN)
        if actor.seller_id is not None else [],
    ), status


@bp.route("/<id:product_id>/stock")
@login_required
def product_stock(product_id: int):
    session, actor = db(), current_user.actor
    return render_template(
        "catalog/stock.html", product=products.get_product(session, actor, product_id),
        levels=stock.levels_for(session, actor, product_id),
        ledger=stock.movements(session, actor, product_id, limit=LEDGER_ROWS), limit=LEDGER_ROWS,
        warehouses={w.id: w for w in stock.list_warehouses(session, actor)},
    )


@bp.route("/<id:product_id>/delete", methods=["POST"])
@login_required
def delete_product(product_id: int):
    session, actor = db(), current_user.actor
    sku = products.get_product(session, actor, product_id).sku
    soft = products.delete_product(session, actor, product_id)
    session.commit()
    if soft:
        flash(_("Product %(sku)s is on orders, so it was archived instead: it is hidden and inactive, and its orders "
                "still show it.", sku=sku), "info")
    else:
        flash(_("Product %(sku)s deleted.", sku=sku), "success")
    return redirect(url_for(".products"))
