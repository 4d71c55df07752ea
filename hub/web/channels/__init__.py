"""Channels: health list, connect (owner), detail with settings and masked credentials, enable/disable.

"Sync now" and run pages are in runs.py, unmatched SKUs in listings.py; all on this one blueprint.
Credentials are write-only here: the forms never echo them back, the pages show them masked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.catalog import stock
from hub.channels import services
from hub.channels.models import DIRECT, Channel
from hub.channels.schemas import ChannelIn, ChannelSettings, CredentialsIn, ScheduleIn
from hub.errors import DomainError
from hub.extensions import db, sync_env
from hub.jsonexact import dumps_exact
from hub.sync.jobs import jobs_for
from hub.sync.models import Job
from hub.validation import parse
from hub.web.forms import failure, flat_form, nested_form, submit

bp = Blueprint("channels", __name__, template_folder="templates")

JOB_LABELS = {Job.PULL: _l("Pull orders"), Job.PUSH_INVENTORY: _l("Push stock"), Job.PUSH_PRICES: _l("Push prices"),
              Job.PUSH_FULFILMENTS: _l("Push shipments"), Job.CHECK_DRIFT: _l("Check drift")}


@bp.app_template_filter("pretty_json")
def pretty_json(value: Any, indent: int = 0) -> str:
    """Indented JSON with exact numbers (payloads hold Decimal amounts, which json.dumps would refuse)."""
    pad, inner = "  " * indent, "  " * (indent + 1)
    if isinstance(value, dict) and value:
        items = [f"{inner}{dumps_exact(str(k))}: {pretty_json(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list | tuple) and value:
        return "[\n" + ",\n".join(f"{inner}{pretty_json(v, indent + 1)}" for v in value) + f"\n{pad}]"
    try:
        return dumps_exact(value)
    except (TypeError, ValueError):  # a float or NaN kept by an older import: shown, not crashed on
        return repr(value)


@bp.app_template_filter("job_label")
def job_label(job: Job | str) -> str:
    try:
        return str(JOB_LABELS[Job(job)])
    except ValueError:
        return str(job)


@bp.route("/channels")
@login_required
def index():
    session, actor = db(), current_user.actor
    rows = services.list_channels(session, actor)
    return render_template("channels/list.html", rows=rows, health=services.health(session, actor, rows, per_job=False))


@bp.route("/channels/new", methods=["GET", "POST"])
@login_required
def new_channel():
    current_user.actor.require(Role.OWNER, "connect channels")
    env = sync_env()
    form: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        sent = submit(ChannelIn, lambda s, a, data: services.connect_channel(s, a, env.box, data,
                                                                             registry=env.registry))
        if sent.ok:
            flash(_("Channel %(name)s connected. Check its settings, then sync.", name=sent.result.name), "success")
            return redirect(url_for(".detail", channel_id=sent.result.id))
        form, errors, status = sent.form, sent.errors, sent.status
        form.pop("credentials", None)  # never sent back to the browser, even when the form was refused
        if "credentials" not in errors:
            errors["credentials"] = "enter the credentials again (they are never shown back)"
    kinds = [(kind, f"{spec.title} ({kind})") for kind, spec in sorted(env.registry.specs.items())]
    return render_template("channels/new.html", form=form, errors=errors, kinds=kinds), status


def settings_form(channel: Channel, warehouse_ids: list[int]) -> dict[str, Any]:
    """The settings form's inputs for the channel as stored."""
    form: dict[str, Any] = {
        "base_url": channel.base_url, "timezone": channel.timezone, "options": pretty_json(channel.options or {}),
        "stock_buffer": channel.stock_buffer, "stock_percent": channel.stock_percent,
        "stock_max": "" if channel.stock_max is None else channel.stock_max,
        "stock_zero_below": channel.stock_zero_below,
        "price_markup": channel.price_markup.normalize() if channel.price_markup else 0,
        "price_rounding": channel.price_rounding,
        **{f"schedule.{k}": "" if v is None else v for k, v in ScheduleIn.of(channel.schedule or {}).items()},
    }
    form["warehouse_ids"] = {str(i) for i in warehouse_ids}
    return form


def _checked(sent: dict[str, Any]) -> set[str]:
    """The warehouse boxes ticked in a submitted (flattened) form."""
    return {str(v) for k, v in sent.items() if k.startswith("warehouse_ids[")}


def _detail(channel_id: int, failed: str | None = None, errors: dict[str, str] | None = None,
            form: dict[str, Any] | None = None, status: int = 200):
    session, actor, env = db(), current_user.actor, sync_env()
    channel = services.get_channel(session, actor, channel_id)
    if failed == "settings" and form is not None:
        form = {**form, "warehouse_ids": _checked(form)}
    else:
        form = settings_form(channel, services.warehouse_ids(session, channel))
    return render_template(
        "channels/detail.html", channel=channel, is_direct=channel.kind == DIRECT,
        spec=env.registry.specs.get(channel.kind), jobs=jobs_for(env, channel),
        health=services.health(session, actor, [channel])[channel.id],
        runs=services.list_runs(session, actor, channel), credentials=services.masked_credentials(env.box, channel),
        warehouses=stock.list_warehouses(session, actor), failed=failed, errors=errors or {}, form=form,
        schedule_defaults={job.value.replace("-", "_"): env.settings.intervals[job] for job in Job},
    ), status


@bp.route("/channels/<id:channel_id>")
@login_required
def detail(channel_id: int):
    return _detail(channel_id)


def _act(channel_id: int, name: str, action: Callable[[dict[str, Any]], object], done: str):
    """Run one form of the detail page: redirect back on success, else the page again with the errors."""
    data = nested_form()
    try:
        action(data)
        db().commit()
    except DomainError as exc:
        errors, status = failure(exc)
        if status in (403, 404):
            raise
        if name == "credentials":
            data.pop("credentials", None)
        return _detail(channel_id, name, errors, flat_form(data), status)
    flash(done, "success")
    return redirect(url_for(".detail", channel_id=channel_id))


@bp.route("/channels/<id:channel_id>/settings", methods=["POST"])
@login_required
def settings(channel_id: int):
    session, actor = db(), current_user.actor
    return _act(channel_id, "settings",
                lambda data: services.update_settings(session, actor, channel_id, parse(ChannelSettings, data)),
                "Settings saved.")


@bp.route("/channels/<id:channel_id>/credentials", methods=["POST"])
@login_required
def credentials(channel_id: int):
    session, actor, box = db(), current_user.actor, sync_env().box
    return _act(channel_id, "credentials",
                lambda data: services.replace_credentials(session, actor, box, channel_id,
                                                          parse(CredentialsIn, data)),
                "Credentials replaced.")


def _set_active(channel_id: int, active: bool):
    session = db()
    channel = services.set_active(session, current_user.actor, channel_id, active)
    session.commit()
    flash(_("Channel %(name)s enabled.", name=channel.name) if active
          else _("Channel %(name)s disabled: its jobs no longer run.", name=channel.name), "success")
    return redirect(url_for(".detail", channel_id=channel_id))


@bp.route("/channels/<id:channel_id>/enable", methods=["POST"])
@login_required
def enable(channel_id: int):
    return _set_active(channel_id, True)


@bp.route("/channels/<id:channel_id>/disable", methods=["POST"])
@login_required
def disable(channel_id: int):
    return _set_active(channel_id, False)


from hub.web.channels import listings, prices, runs  # noqa: E402, F401  (their routes join this blueprint)
