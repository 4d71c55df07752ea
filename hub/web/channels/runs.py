""""Sync now" (staff) and a run's page with its API call log (everyone)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import partial

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Role
from hub.channels import services
from hub.errors import Conflict, ValidationError
from hub.extensions import db, sync_env
from hub.sync.env import SyncEnv
from hub.sync.jobs import jobs_for, run_job
from hub.sync.models import Job
from hub.web.channels import bp, job_label

log = logging.getLogger(__name__)


def start_in_background(work: Callable[[], None], name: str) -> threading.Thread:
    """Run `work` on a daemon thread so the request answers at once. Two clicks start two threads; the job's
    (channel, job) lock inside run_job lets only one of them work, the other ends as skipped."""
    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    return thread


def _run(env: SyncEnv, channel_id: int, job: Job, repair: bool = False) -> None:
    try:
        result = run_job(env, channel_id, job, trigger="manual", **({"repair": True} if repair else {}))
    except Exception:  # nobody waits for this thread: the log is where a crash outside the run can be seen
        log.exception("manual %s of channel %s crashed", job.value, channel_id)
        return
    # Outcome and run id only: the run's message may quote a marketplace's answer, which belongs on the run page.
    log.info("manual %s of channel %s: %s (run %s)", job.value, channel_id, result.outcome, result.run_id)


@bp.route("/channels/<id:channel_id>/sync", methods=["POST"])
@login_required
def sync_now(channel_id: int):
    actor = current_user.actor
    actor.require(Role.STAFF, "start a sync")
    env = sync_env()
    channel = services.get_channel(db(), actor, channel_id)
    sent = request.form.get("job", "").strip()
    try:
        job = Job(sent)
    except ValueError:
        raise ValidationError(f"unknown job {sent[:40]!r}; choose one of the channel's buttons",
                              fields={"job": "unknown job"}) from None
    if job not in jobs_for(env, channel):
        raise ValidationError(f"the {channel.kind} connector cannot {job_label(job).lower()}",
                              fields={"job": "not available for this channel"})
    if not channel.is_active:
        raise Conflict(f"channel {channel.name} is disabled; enable it before syncing")
    # Only a drift check repairs: it then pushes the expected quantity of every SKU found wrong.
    repair = job is Job.CHECK_DRIFT and request.form.get("repair") == "1"
    # End this request's transaction before the job opens its own: on SQLite every transaction takes the one
    # write lock at BEGIN, so a job started while the request still held it would wait for the request to end.
    name = channel.name  # read before the rollback expires the row
    db().rollback()
    start_in_background(partial(_run, env, channel_id, job, repair), f"sync-now:{channel_id}:{job.value}")
    flash((_("%(job)s and repair of %(name)s started. Reload this page to see the run.", job=job_label(job), name=name)
           if repair else
           _("%(job)s of %(name)s started. Reload this page to see the run.", job=job_label(job), name=name)),
          "success")
    return redirect(url_for(".detail", channel_id=channel_id))


@bp.route("/runs/<id:run_id>")
@login_required
def run_detail(run_id: int):
    session, actor = db(), current_user.actor
    run = services.get_run(session, actor, run_id)
    channel = services.get_channel(session, actor, run.channel_id)
    calls = services.run_calls(session, actor, run)
    return render_template("channels/run.html", run=run, channel=channel, calls=calls, limit=services.MAX_CALLS)
