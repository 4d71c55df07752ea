"""Drift check: read back what the channel lists and compare it with what it should list.

A marketplace's quantity can move without us: its own sales before their orders are imported, a human in
its back office, another tool. The check reads the channel's quantities for its linked listings, page by
page (the connector batches the reads by its own cap), and records every difference on the run:

    run.details = {"checked": n, "differing": d, "drift": [{"sku", "expected", "listed", "last_pushed"}, ...],
                   "missing": [sku, ...]}    # lists capped at DETAIL_LIMIT entries; the counts are complete
    counts: fetched = SKUs checked, unchanged = SKUs listing the expected quantity,
            pushed = differences repaired, push_failed = differences left standing (not repaired, or the
            repair was refused), so a run ends "partial" exactly when the channel is left listing a wrong quantity.

"missing": SKUs the channel did not report (no such item, or stock not managed there); they are not drift
to repair here, the next push records why the channel refuses them.

With `repair=True` the expected quantities of the differing SKUs are pushed (last_pushed_quantity follows).
Note a difference may also be a marketplace sale whose order is not imported yet; the next pull reserves it
and the next push corrects the channel again, so a repair races harmlessly with an import.
"""

from __future__ import annotations

from typing import Any

from hub.channels.models import Channel
from hub.sync.env import SyncEnv
from hub.sync.push import CHUNK, Progress, expected_pages, send_stock
from hub.sync.runs import Run

DETAIL_LIMIT = 500  # differences kept on the run row; a channel gone wholesale wrong must not bloat it


def check_drift(env: SyncEnv, channel: Channel, connector: Any, run: Run, *, since: object = None,
                progress: Progress | None = None, repair: bool = False, chunk: int = CHUNK,
                **_options: object) -> None:
    drift: list[dict[str, Any]] = []
    missing: list[str] = []
    checked = differing = missing_count = 0
    for page in expected_pages(env, channel, chunk):
        listed = connector.read_stock([e.sku for e in page])
        known = [e for e in page if e.sku in listed]
        wrong = [e for e in known if listed[e.sku] != e.quantity]
        absent = [e.sku for e in page if e.sku not in listed]
        checked, differing, missing_count = checked + len(known), differing + len(wrong), missing_count + len(absent)
        drift += [{"sku": e.sku, "expected": e.quantity, "listed": listed[e.sku], "last_pushed": e.last_pushed}
                  for e in wrong[:DETAIL_LIMIT - len(drift)]]
        missing += absent[:DETAIL_LIMIT - len(missing)]
        run.add(fetched=len(known), unchanged=len(known) - len(wrong))
        if repair:
            send_stock(env, channel, connector, wrong, run)  # counts pushed, and push_failed for refused repairs
        else:
            run.add(push_failed=len(wrong))
        if progress:
            progress(run.counts)
    details = {"checked": checked, "differing": differing, "missing_count": missing_count, "drift": drift,
               "missing": missing, "repaired": run.counts["pushed"]}
    run.details = details
    run.message = (f"{differing} of {checked} SKUs differ from the expected quantity"
                   + (f", {run.counts['pushed']} repaired" if repair else "")
                   + (f"; {missing_count} not reported by the channel" if missing_count else ""))

