"""Orders: filtered list, detail with timeline, status moves, shipments, cancel; new direct orders."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.currency.models import OrderFx
from hub.errors import DomainError, NotFound, ValidationError
from hub.extensions import db
from hub.i18n import STATUS_LABELS
from hub.orders import services
from hub.orders.models import Order
from hub.orders.schemas import OrderFilters, OrderIn, ShipmentIn, StatusMove
from hub.orders.status import OrderStatus, allowed_moves
from hub.validation import parse
from hub.web.filters import money
from hub.web.forms import failure, nested_form, row_count, submit

bp = Blueprint("orders", __name__, template_folder="templates", url_prefix="/orders")

S = OrderStatus
FILTERS = ("status", "country", "currency", "q")
# The date inputs name whole days in the viewer's timezone; `to` includes its day.
DATES = {"from": ("placed_from", 0), "to": ("placed_to", 1)}
# Reached through the shipment form and the cancel button instead of the status form.
NOT_IN_MOVE_FORM = frozenset({S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED})
_QUANTITY = re.compile(r"quantity-(\d{1,9})", re.ASCII)
_SHIP_LINE_ERROR = re.compile(r"lines\[(\d+)\]\.\w+", re.ASCII)


def label(status: OrderStatus) -> str:
    return str(STATUS_LABELS.get(str(status), str(status).replace("_", " ")))


@bp.app_template_filter("status_label")
def _status_label(status: OrderStatus | str | None) -> str:
    return label(status) if status else ""


@bp.route("")
@login_required
def list_orders():
    args = {k: v.strip() for k, v in request.args.items() if k in (*FILTERS, *DATES, "after") and v.strip()}
    data: dict[str, Any] = {k: args[k] for k in (*FILTERS, "after") if k in args}
    errors: dict[str, str] = {}
    tz = ZoneInfo(current_user.timezone)
    for name, (key, days) in DATES.items():
        if name not in args:
            continue
        try:
            day = date.fromisoformat(args[name])
            if not 1900 <= day.year <= 9000:
                raise ValueError(day)
        except ValueError:
            errors[name] = "a date such as 2025-01-31"
        else:
            data[key] = datetime.combine(day + timedelta(days=days), time(), tzinfo=tz)
    rows: list[Order] = []
    try:
        filters = parse(OrderFilters, data)
        if errors:
            raise ValidationError("invalid filter: " + ", ".join(errors), fields={})
        rows = services.list_orders(db(), current_user.actor, filters)
    except ValidationError as exc:
        names = {key: name for name, (key, _) in DATES.items()}
        errors = {**{names.get(k, k): v for k, v in exc.fields.items()}, **errors, "form": exc.message}
    pager_args = {k: v for k, v in args.items() if k != "after"}
    return render_template("orders/list.html", rows=rows, form=args, errors=errors, pager_args=pager_args,
                           statuses=[(s.value, label(s)) for s in S]), 422 if errors else 200


def _detail(order_id: int, failed: str | None = None, errors: dict[str, str] | None = None,
            form: Any = None, status: int = 200):
    order = services.get_order(db(), current_user.actor, order_id)
    allowed = allowed_moves(order.status)
    return render_template(
        "orders/detail.html", order=order, totals=services.totals_of(order),
        moves=[(s.value, label(s)) for s in S if s in allowed and s not in NOT_IN_MOVE_FORM],
        can_ship=S.FULFILLED in allowed, can_cancel=S.CANCELLED in allowed,
        lines_by_id={line.id: line for line in order.lines},
        fx=db().get(OrderFx, order.id),
        failed=failed, errors=errors or {}, form=form or {},
    ), status


@bp.route("/<id:order_id>")
@login_required
def detail(order_id: int):
    return _detail(order_id)


def _act(order_id: int, name: str, action: Callable[[Session, Actor], tuple[Order, str]],
         rename: Callable[[str], str] = lambda key: key):
    """Run one action form of the detail page: redirect back on success, else show the page with the errors."""
    session = db()
    try:
        order, done = action(session, current_user.actor)
        session.commit()
    except NotFound:
        raise
    except DomainError as exc:
        errors, status = failure(exc)
        errors = {rename(key): message for key, message in errors.items()}
        return _detail(order_id, name, errors, request.form, status)
    flash(_("Order %(id)s: %(done)s", id=order.external_id, done=done), "success")
    return redirect(url_for(".detail", order_id=order_id))


@bp.route("/<id:order_id>/status", methods=["POST"])
@login_required
def move(order_id: int):
    def run(session: Session, actor: Actor) -> tuple[Order, str]:
        order = services.move(session, actor, order_id, parse(StatusMove, nested_form()))
        return order, f"now {label(order.status)}."

    return _act(order_id, "move", run)


@bp.route("/<id:order_id>/cancel", methods=["POST"])
@login_required
def cancel(order_id: int):
    def run(session: Session, actor: Actor) -> tuple[Order, str]:
        data = {**nested_form(), "status": S.CANCELLED.value}
        return services.move(session, actor, order_id, parse(StatusMove, data)), "cancelled; its stock is released."

    return _act(order_id, "cancel", run)


@bp.route("/<id:order_id>/ship", methods=["POST"])
@login_required
def ship(order_id: int):
    inputs: list[str] = []  # the quantity input of each shipped line, in the order sent

    def run(session: Session, actor: Actor) -> tuple[Order, str]:
        form = request.form
        data: dict[str, Any] = {k: form[k].strip() for k in ("carrier", "tracking_number") if form.get(k, "").strip()}
        if form.get("mode") == "lines":
            lines = []
            for key, value in form.items():
                if (match := _QUANTITY.fullmatch(key)) and value.strip():
                    lines.append({"line_id": match.group(1), "quantity": value.strip()})
                    inputs.append(key)
            if not lines:
                raise ValidationError("enter how many units of at least one line to ship",
                                      fields={"mode": "no quantities entered"})
            data["lines"] = lines
        order = services.ship(session, actor, order_id, parse(ShipmentIn, data))
        return order, f"shipment recorded; the order is {label(order.status)}."

    def rename(key: str) -> str:
        match = _SHIP_LINE_ERROR.fullmatch(key)
        return inputs[int(match.group(1))] if match and int(match.group(1)) < len(inputs) else key

    return _act(order_id, "ship", run, rename)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new_order():
    actor = current_user.actor
    actor.require(Role.STAFF, "create orders")
    form: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        sent = submit(OrderIn, services.create_order)
        if sent.ok:
            order = sent.result
            flash(_("Order %(id)s created for %(total)s; its stock is reserved.", id=order.external_id,
                    total=money(order.money(order.grand_total))), "success")
            return redirect(url_for(".detail", order_id=order.id))
        form, errors, status = sent.form, sent.errors, sent.status
    return render_template("orders/new.html", form=form, errors=errors, line_rows=row_count(form, "lines", 3)), status
