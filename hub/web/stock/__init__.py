"""Stock: levels of every SKU in every warehouse, receipts and adjustments, warehouses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from pydantic import BaseModel

from hub.accounts.models import Role
from hub.catalog import products, stock
from hub.catalog.models import StockLevel
from hub.catalog.schemas import StockAdjustment, StockReceipt, WarehouseIn
from hub.extensions import db
from hub.web.forms import cursor_arg, submit

bp = Blueprint("stock", __name__, template_folder="templates", url_prefix="/stock")

PAGE = 50  # the page size the pager macro expects


@bp.route("")
@login_required
def levels():
    session, actor = db(), current_user.actor
    q = request.args.get("q", "").strip()[:200]
    rows = products.list_products(session, actor, search=q, after_id=cursor_arg(), limit=PAGE)
    grid = {(level.product_id, level.warehouse_id): level
            for level in stock.levels_of_products(session, actor, [p.id for p in rows])}
    return render_template("stock/levels.html", rows=rows, grid=grid, q=q, args={"q": q} if q else {},
                           warehouses=stock.list_warehouses(session, actor))


def _change(schema: type[BaseModel], apply: Callable[..., StockLevel], template: str, action: str,
            done: Callable[[Any, StockLevel], str]):
    session, actor = db(), current_user.actor
    actor.require(Role.STAFF, action)
    form: dict[str, Any] = {"sku": request.args.get("sku", "").strip()[:64]}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        sent = submit(schema, lambda s, a, change: (change, apply(s, a, change)))
        if sent.ok:
            change, level = sent.result
            flash(f"{done(change, level)}: on hand {level.on_hand}, reserved {level.reserved}, "
                  f"available {level.available}.", "success")
            return redirect(url_for(".levels", q=change.sku))
        form, errors, status = sent.form, sent.errors, sent.status
    options = [(w.code, f"{w.code} · {w.name}") for w in stock.list_warehouses(session, actor)]
    return render_template(template, form=form, errors=errors, warehouse_options=options), status


@bp.route("/receive", methods=["GET", "POST"])
@login_required
def receive():
    return _change(StockReceipt, stock.receive, "stock/receive.html", "receive stock",
                   lambda c, _: f"Received {c.quantity} units of {c.sku} into {c.warehouse}")


@bp.route("/adjust", methods=["GET", "POST"])
@login_required
def adjust():
    return _change(StockAdjustment, stock.adjust, "stock/adjust.html", "adjust stock",
                   lambda c, _: f"Adjusted {c.sku} in {c.warehouse} by {c.delta:+d}")


@bp.route("/warehouses", methods=["GET", "POST"])
@login_required
def warehouses():
    session, actor = db(), current_user.actor
    form: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        sent = submit(WarehouseIn, stock.create_warehouse)
        if sent.ok:
            flash(_("Warehouse %(code)s created.", code=sent.result.code), "success")
            return redirect(url_for(".warehouses"))
        form, errors, status = sent.form, sent.errors, sent.status
    return render_template("stock/warehouses.html", form=form, errors=errors,
                           rows=stock.list_warehouses(session, actor)), status
