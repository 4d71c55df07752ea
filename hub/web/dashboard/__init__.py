"""The overview page: what came in and what needs attention."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from hub import reports
from hub.extensions import db
from hub.timeutil import utcnow

bp = Blueprint("dashboard", __name__, template_folder="templates")


@bp.route("/overview")
@login_required
def overview():
    actor = current_user.actor
    base = None
    if actor.seller_id is not None:  # a platform admin's sellers keep their books in different currencies
        end = utcnow()
        base = reports.revenue_in_base(db(), actor, end - timedelta(days=30), end, by="channel")
    return render_template("dashboard/overview.html", data=reports.overview(db(), actor), base=base)
