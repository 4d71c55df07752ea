"""Scheduled review work for `hub worker`: pull every active channel's reviews, then push the overall ratings
back to the channels that take them (hub.reviews.export says which).

Shaped like hub.logistics.jobs.poll_tracking_job: a module-level function (APScheduler stores a textual reference
to it) that finds the process's SyncEnv in the running Worker. One channel's failure is logged and the others go
on: a marketplace that is down must not keep the rest from their reviews.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import sqlalchemy as sa

from hub.channels.models import Channel
from hub.errors import HubError
from hub.reviews.export import accepts_ratings, push_ratings
from hub.reviews.pull import pull_reviews, reads_reviews
from hub.sync.env import SyncEnv

log = logging.getLogger(__name__)


@dataclass
class ReviewsPass:
    pulled: dict[int, int] = field(default_factory=dict)  # channel id -> reviews stored or updated
    pushed: list[int] = field(default_factory=list)       # channel ids whose ratings were sent
    failed: dict[int, str] = field(default_factory=dict)  # channel id -> why


def run_reviews(env: SyncEnv) -> ReviewsPass:
    """One pass over every active channel of every seller."""
    with env.sessions() as session:
        channels = session.execute(sa.select(Channel.id, Channel.kind).where(Channel.is_active.is_(True))
                                   .order_by(Channel.id)).all()
    done = ReviewsPass()
    for channel_id, kind in channels:
        try:
            if reads_reviews(env, kind):
                done.pulled[channel_id] = pull_reviews(env, channel_id).pulled
            if accepts_ratings(env, kind):
                push_ratings(env, channel_id)
                done.pushed.append(channel_id)
        except HubError as exc:
            done.failed[channel_id] = exc.message
            log.warning("reviews of channel %s: %s", channel_id, exc.message)
    return done


def pull_reviews_job() -> None:
    from hub.sync import worker

    done = run_reviews(worker._current().env)
    log.info("reviews: pulled from %d channels, ratings pushed to %d, %d failed", len(done.pulled),
             len(done.pushed), len(done.failed))
