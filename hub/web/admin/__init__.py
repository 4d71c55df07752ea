"""Platform admin pages: the sellers, and acting for one of them.

Acting for a seller is a key in the admin's login session (hub.web.session_user.ACTING_SELLER), set and cleared
only by a CSRF-protected POST here; while it is set every page shows that seller's data as its owner sees it,
and what the admin does is recorded under the admin's own email (see session_user). Anyone else is refused
with 403, and the key in a non-admin's session is ignored.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Seller
from hub.db import MAX_ID
from hub.errors import ValidationError
from hub.extensions import db
from hub.web.forms import cursor_arg
from hub.web.session_user import ACTING_SELLER

bp = Blueprint("admin", __name__, template_folder="templates", url_prefix="/admin")

PAGE = 50  # the page size the pager macro expects
SWITCHER_LIMIT = 200  # sellers offered in the top bar; the sellers page lists them all
_ID = re.compile(r"\d{1,10}", re.ASCII)


def _require_admin() -> None:
    if not getattr(current_user, "is_admin", False):
        abort(403, description=_("Only a platform admin may do this."))


@bp.app_context_processor
def _switcher() -> dict:
    def switcher_sellers() -> list[tuple[int, str]]:
        if not (current_user.is_authenticated and getattr(current_user, "is_admin", False)):
            return []
        return [(row.id, row.name) for row in db().execute(
            sa.select(Seller.id, Seller.name).order_by(Seller.name, Seller.id).limit(SWITCHER_LIMIT))]

    return {"switcher_sellers": switcher_sellers}


@bp.route("/sellers")
@login_required
def sellers():
    _require_admin()
    rows = db().scalars(sa.select(Seller).where(Seller.id > cursor_arg()).order_by(Seller.id).limit(PAGE)).all()
    return render_template("admin/sellers.html", rows=rows, args={})


@bp.route("/acting", methods=["POST"])
@login_required
def act():
    """Act for the seller in `seller_id`, or for none (all sellers) when it is blank."""
    _require_admin()
    sent = request.form.get("seller_id", "").strip()
    if not sent:
        session.pop(ACTING_SELLER, None)
        flash(_("You see all sellers again."), "success")
        return redirect(url_for("dashboard.overview"))
    seller = None
    if _ID.fullmatch(sent) and 0 < int(sent) <= MAX_ID:
        seller = db().get(Seller, int(sent))
    if seller is None:
        raise ValidationError("no such seller", fields={"seller_id": "not a seller"})
    session[ACTING_SELLER] = seller.id
    flash(_("You are acting for %(seller)s: you see what its owner sees.", seller=seller.name), "success")
    return redirect(url_for("dashboard.overview"))
