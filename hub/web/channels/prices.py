"""A channel's prices before anything is pushed (everyone reads): each listing's fixed or computed price,
the rate and its provenance, or why it cannot be priced. Owners change the rule in the channel's settings."""

from __future__ import annotations

from flask import current_app, render_template
from flask_login import current_user, login_required

from hub.channels import services
from hub.currency import pricing
from hub.extensions import db
from hub.web.channels import bp


@bp.route("/channels/<id:channel_id>/prices")
@login_required
def prices(channel_id: int):
    session, actor = db(), current_user.actor
    channel = services.get_channel(session, actor, channel_id)
    rows = pricing.channel_prices(session, channel, max_age_days=pricing.max_age_from(current_app.config))
    return render_template("channels/prices.html", channel=channel, rows=rows, counts=pricing.summary(rows))
