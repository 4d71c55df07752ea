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
    return render_template("dashboard/overview.html", data=reports.overview(db(), current_user.actor))
