"""Customers: buyers recognised across channels. Everyone reads the profiles and why each order is on them; staff
merge two profiles of one person and undo a merge (hub.customers.services keeps what an un-merge needs)."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.customers import services as customers
from hub.db import MAX_ID
from hub.errors import Conflict, ValidationError
from hub.extensions import db
from hub.web.forms import cursor_arg

bp = Blueprint("customers", __name__, template_folder="templates", url_prefix="/customers")

PAGE = 50  # the page size the pager macro expects
CANDIDATES = 20
_ID = re.compile(r"\d{1,10}", re.ASCII)


@bp.route("")
@login_required
def index():
    q = request.args.get("q", "").strip()[:200]
    rows = customers.list_customers(db(), current_user.actor, q=q, after_id=cursor_arg(), limit=PAGE)
    return render_template("customers/list.html", rows=rows, q=q, args={"q": q} if q else {})


@bp.route("/<id:customer_id>")
@login_required
def detail(customer_id: int):
    session, actor = db(), current_user.actor
    info = customers.customer_detail(session, actor, customer_id)
    find = request.args.get("find", "").strip()[:200]
    candidates = []
    if find and info.holder_id is None and actor.role.at_least(Role.STAFF):
        candidates = [row for row in customers.list_customers(session, actor, q=find, limit=CANDIDATES + 1)
                      if row.id != customer_id][:CANDIDATES]
    return render_template("customers/detail.html", info=info, c=info.customer, find=find, candidates=candidates)


def _other_id() -> int:
    value = request.form.get("other_id", "").strip().lstrip("#")
    if not _ID.fullmatch(value) or not 0 < int(value) <= MAX_ID:
        raise ValidationError("give the number of the profile to merge", fields={"other_id": "not a profile number"})
    return int(value)


@bp.route("/<id:customer_id>/merge", methods=["POST"])
@login_required
def merge(customer_id: int):
    session, actor = db(), current_user.actor
    customers.get_customer(session, actor, customer_id)  # another seller's: 404 before anything else
    actor.require(Role.STAFF, "merge customers")
    try:
        record = customers.merge(session, actor, customer_id, _other_id())
    except (ValidationError, Conflict) as exc:
        session.rollback()
        flash(_("Not merged: %(reason)s", reason=exc.message), "error")
        return redirect(url_for(".detail", customer_id=customer_id))
    session.commit()
    flash(_("Profile %(other)s merged into this one: %(count)s orders moved.", other=record.other_id,
            count=len(record.order_ids)), "success")
    return redirect(url_for(".detail", customer_id=customer_id))


@bp.route("/<id:customer_id>/unmerge", methods=["POST"])
@login_required
def unmerge(customer_id: int):
    session, actor = db(), current_user.actor
    customers.get_customer(session, actor, customer_id)
    actor.require(Role.STAFF, "un-merge customers")
    try:
        record = customers.unmerge(session, actor, customer_id)
    except Conflict as exc:
        session.rollback()
        flash(_("Not un-merged: %(reason)s", reason=exc.message), "error")
        return redirect(url_for(".detail", customer_id=customer_id))
    session.commit()
    flash(_("Profile %(other)s stands on its own again: %(count)s orders moved back.", other=customer_id,
            count=len(record.restored_order_ids or [])), "success")
    return redirect(url_for(".detail", customer_id=customer_id))
