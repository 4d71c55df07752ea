"""Orders: filtered list, detail with timeline, status moves, shipments, cancel; new direct orders.

The detail page's payments are in payments.py, its carrier labels in shipments.py and its outbox events in
events.py; their routes join this blueprint.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.currency.models import OrderFx
from hub.errors import DomainError, ExternalError, NotFound, ValidationError
from hub.extensions import db
from hub.i18n import STATUS_LABELS
from hub.orders import services
from hub.orders.models import Order
from hub.orders.schemas import OrderIn, OrderListQuery, OrderSort, ShipmentIn, StatusMove
from hub.orders.status import OrderStatus, allowed_moves
from hub.payments.services import cancel_order
from hub.validation import parse
from hub.web.filters import money
from hub.web.forms import failure, nested_form, row_count, submit

bp = Blueprint("orders", __name__, template_folder="templates", url_prefix="/orders")

S = OrderStatus
FILTERS = ("status", "channel", "country", "currency", "q", "unmatched", "sort")
PAGING = ("cursor", "after", "limit")
# The date inputs name whole days in the viewer's timezone; `to` includes its day.
DATES = {"from": ("placed_from", 0), "to": ("placed_to", 1)}
# Reached through the shipment form and the cancel button instead of the status form.
NOT_IN_MOVE_FORM = frozenset({S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED})
_QUANTITY = re.compile(r"quantity-(\d{1,9})", re.ASCII)
_SHIP_LINE_ERROR = re.compile(r"lines\[(\d+)\]\.\w+", re.ASCII)


SORT_LABELS = {
    OrderSort.NEWEST: _l("Placed: newest first"),
    OrderSort.OLDEST: _l("Placed: oldest first"),
    OrderSort.TOTAL_HIGH: _l("Total: highest first"),
    OrderSort.TOTAL_LOW: _l("Total: lowest first"),
}


# Fulfillment.channel_status: telling the order's channel about a shipment (hub.sync.fulfilment).
PUSH_LABELS = {
    "pending": _l("waiting to be sent"),
    "pushed": _l("reported"),
    "failed": _l("refused by the channel"),
    "not_needed": _l("not needed (direct order)"),
}


def sort_options() -> list[tuple[str, str]]:
    return [(sort.value, str(text)) for sort, text in SORT_LABELS.items()]


def label(status: OrderStatus) -> str:
    return str(STATUS_LABELS.get(str(status), str(status).replace("_", " ")))


@bp.app_template_filter("status_label")
def _status_label(status: OrderStatus | str | None) -> str:
    return label(status) if status else ""


def _filter_args() -> tuple[dict[str, str], dict[str, Any], dict[str, str]]:
    """The list's query string: (the arguments as sent, the data for OrderListQuery, errors of the dates)."""
    args = {k: v.strip() for k, v in request.args.items() if k in (*FILTERS, *DATES, *PAGING) and v.strip()}
    data: dict[str, Any] = {k: args[k] for k in (*FILTERS, *PAGING) if k in args}
    data.setdefault("sort", OrderSort.NEWEST.value)
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
    return args, data, errors


def _parse_filters(data: dict[str, Any], errors: dict[str, str]) -> OrderListQuery:
    filters = parse(OrderListQuery, data)
    if errors:
        raise ValidationError("invalid filter: " + ", ".join(errors), fields={})
    return filters


def _list_page(args: dict[str, str], errors: dict[str, str], page: services.OrderPage | None = None):
    filter_args = {k: v for k, v in args.items() if k not in PAGING}
    pager_args = {k: v for k, v in args.items() if k not in ("cursor", "after")}
    statuses = {s.value: label(s) for s in S}
    return render_template(
        "orders/list.html", page=page or services.OrderPage([]), rows=page.rows if page else [], form=args,
        errors=errors, filter_args=filter_args, pager_args=pager_args, statuses=statuses, sorts=sort_options(),
        channels=services.channel_names(db(), current_user.actor),
        # The rows link to /orders/<id>: the path's stem built once, not a url_for per row.
        order_path=url_for("orders.list_orders") + "/",
    ), 422 if errors else 200


def _failed(exc: ValidationError, errors: dict[str, str]) -> dict[str, str]:
    names = {key: name for name, (key, _) in DATES.items()}
    return {**{names.get(k, k): v for k, v in exc.fields.items()}, **errors, "form": exc.message}


@bp.route("")
@login_required
def list_orders():
    args, data, errors = _filter_args()
    try:
        filters = _parse_filters(data, errors)
        page = services.page_order_rows(db(), current_user.actor, filters, current_app.secret_key)
    except ValidationError as exc:
        return _list_page(args, _failed(exc, errors))
    return _list_page(args, {}, page)


@bp.route("/export.csv")
@login_required
def export():
    """The filtered orders as CSV, streamed in keyset batches: every page of the list, never all in memory."""
    args, data, errors = _filter_args()
    data = {k: v for k, v in data.items() if k not in PAGING}
    try:
        filters = _parse_filters(data, errors)
    except ValidationError as exc:
        return _list_page(args, _failed(exc, errors))
    session, actor = db(), current_user.actor
    name = f"orders-{datetime.now(ZoneInfo(current_user.timezone)):%Y%m%d-%H%M}.csv"

    def body() -> Iterator[str]:
        try:
            yield from services.export_csv(session, actor, filters)
        finally:  # end the read transaction with the last row, not when the server gets round to closing
            session.rollback()

    return Response(stream_with_context(body()), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


def _detail(order_id: int, failed: str | None = None, errors: dict[str, str] | None = None,
            form: Any = None, status: int = 200, quote: dict[str, Any] | None = None):
    session, actor = db(), current_user.actor
    order = services.get_order(session, actor, order_id)
    allowed = allowed_moves(order.status)
    return render_template(
        "orders/detail.html", order=order, totals=services.totals_of(order),
        **payments.context(session, actor, order), **shipments.context(session, actor, order),
        events=events.events_of(session, actor, order.id), quote=quote,
        moves=[(s.value, label(s)) for s in S if s in allowed and s not in NOT_IN_MOVE_FORM],
        can_ship=S.FULFILLED in allowed, can_cancel=S.CANCELLED in allowed,
        lines_by_id={line.id: line for line in order.lines},
        fx=db().get(OrderFx, order.id), push_labels=PUSH_LABELS,
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
    except ExternalError as exc:  # cancelling voids the payment first: its provider may not answer
        session.rollback()
        flash(_("The payment provider did not answer: %(error)s. Trying again is safe: it cannot charge twice.",
                error=exc.message), "error")
        return redirect(url_for(".detail", order_id=order_id))
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
        # Through the payments: an authorized payment is voided first (a captured one must be refunded instead).
        note = parse(StatusMove, {**nested_form(), "status": S.CANCELLED.value}).note
        order = cancel_order(session, actor, order_id, providers=payments.providers(), note=note or "")
        return order, "cancelled; its stock is released."

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


from hub.web.orders import events, payments, shipments  # noqa: E402  (their routes join this blueprint)
