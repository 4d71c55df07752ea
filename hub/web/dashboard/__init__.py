"""The overview page: what came in and what needs attention."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from hub import reports
from hub.extensions import db

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.route("/overview")
@login_required
def overview():
    actor = current_user.actor
    # A platform admin acting for no seller: sellers keep their books in different currencies.
    more = reports.insights(db(), actor) if actor.seller_id is not None else None
    return render_template("dashboard/overview.html", data=reports.overview(db(), actor), more=more)
