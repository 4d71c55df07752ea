"""Quarantine: orders that could not be imported; everyone reads them, staff replay (after a fix) or discard
them, one at a time or a checked batch."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.channels import services as channels
from hub.db import MAX_ID
from hub.errors import ValidationError
from hub.extensions import db, sync_env
from hub.sync import quarantine
from hub.sync.quarantine import ReplayResult
from hub.web.forms import cursor_arg

bp = Blueprint("quarantine", __name__, template_folder="templates", url_prefix="/quarantine")

PAGE = 50  # the page size the pager macro expects
MAX_BULK = 200  # a batch is replayed in one request: keep it short enough to answer in time
_ID = re.compile(r"\d{1,10}", re.ASCII)


def _channel_names() -> dict[int, str]:
    return {c.id: c.name for c in channels.list_channels(db(), current_user.actor)}


@bp.route("")
@login_required
def index():
    channel = request.args.get("channel", "").strip()
    channel_id = int(channel) if _ID.fullmatch(channel) and int(channel) <= MAX_ID else None
    rows = quarantine.list_open(db(), current_user.actor, channel_id=channel_id, after_id=cursor_arg(), limit=PAGE)
    args = {"channel": channel_id} if channel_id else {}
    return render_template("quarantine/list.html", rows=rows, names=_channel_names(), args=args)


@bp.route("/<id:item_id>")
@login_required
def detail(item_id: int):
    item = quarantine.get(db(), current_user.actor, item_id)
    return render_template("quarantine/detail.html", item=item, names=_channel_names())


def _replay(item_id: int) -> ReplayResult:
    return quarantine.replay(db(), current_user.actor, sync_env().registry, item_id)


@bp.route("/<id:item_id>/replay", methods=["POST"])
@login_required
def replay(item_id: int):
    result = _replay(item_id)  # refused (403, 404, not open) -> the app's error page; nothing was written
    db().commit()  # a failed replay is kept too: the item stays open with the new reason
    if result.ok:
        flash(_("Replayed: %(message)s.", message=result.message), "success")
        return redirect(url_for(".index"))
    flash(_("Still failing: %(message)s", message=result.message), "error")
    return redirect(url_for(".detail", item_id=item_id))


@bp.route("/<id:item_id>/discard", methods=["POST"])
@login_required
def discard(item_id: int):
    quarantine.discard(db(), current_user.actor, item_id)
    db().commit()
    flash(_("Quarantined order %(id)s discarded.", id=item_id), "success")
    return redirect(url_for(".index"))


def _selected() -> list[int]:
    sent = request.form.getlist("ids")
    if not sent:
        raise ValidationError("tick at least one order first", fields={"ids": "nothing selected"})
    if len(sent) > MAX_BULK:
        raise ValidationError(f"at most {MAX_BULK} at a time", fields={"ids": "too many"})
    bad = [s for s in sent if not (_ID.fullmatch(s.strip()) and 0 < int(s) <= MAX_ID)]
    if bad:
        raise ValidationError("the selection holds something that is not an id", fields={"ids": "not an id"})
    return list(dict.fromkeys(int(s) for s in sent))


@bp.route("/bulk", methods=["POST"])
@login_required
def bulk():
    actor, session = current_user.actor, db()
    actor.require(Role.STAFF, "replay or discard quarantined orders")
    action = request.form.get("action", "")
    if action not in ("replay", "discard"):
        raise ValidationError("choose replay or discard", fields={"action": "unknown action"})
    ids = _selected()
    for item_id in ids:  # all or nothing: one id of another seller (or none) refuses the batch before any work
        quarantine.get(session, actor, item_id)
    done, failed, skipped = 0, [], 0
    for item_id in ids:
        try:
            if action == "discard":
                quarantine.discard(session, actor, item_id)
                ok = True
            else:
                ok = _replay(item_id).ok
        except ValidationError:  # resolved meanwhile (another tab, another user): nothing to do for it
            skipped += 1
            continue
        done += ok
        if not ok:
            failed.append(item_id)
    session.commit()
    verb = "replayed" if action == "replay" else "discarded"
    parts = [f"{done} {verb}"] + ([f"{len(failed)} still failing ({', '.join(map(str, failed))})"] if failed else [])
    parts += [f"{skipped} already resolved"] if skipped else []
    flash("; ".join(parts) + ".", "error" if failed else "success")
    return redirect(url_for(".index"))
