"""Offline evaluation you can reproduce: split the history by time, recommend from the past, score on the future.

- Cutoff: `split_days` before the seller's latest order. The model is built (hub.recommend.compute, the same code
  the job runs) from orders placed before the cutoff and events that occurred before it.
- Who is scored: buyers with orders both before and after the cutoff (a buyer unknown at the cutoff would get the
  popular list from either method). Their relevant products are those bought after the cutoff that could be
  recommended at the cutoff (not an already-bought non-consumable, nor a consumable bought within the window).
- precision@k = hits / (buyers x k); recall@k = mean over buyers of hits / relevant; coverage = distinct products
  recommended / recommendable products.
- Baseline: the k best sellers before the cutoff, minus what the buyer may not be offered.
- R = (N/M) x (K/L), the seed's accuracy: N correct recommendations (hits) over M shown (buyers x k), times K clicks
  on recommendations (click events with a recommendation context) over L clicks, both after the cutoff. Without
  click events there is no R.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.orders.models import Order
from hub.recommend import compute
from hub.recommend.models import BehaviourEvent, EventKind


@dataclass(frozen=True)
class Scores:
    name: str
    precision: float
    recall: float
    coverage: float
    hits: int  # N
    shown: int  # M
    r: float | None


@dataclass(frozen=True)
class Evaluation:
    k: int
    cutoff: str
    buyers: int
    train_orders: int
    test_orders: int
    rec_clicks: int  # K
    clicks: int  # L
    model: Scores
    baseline: Scores


def score(name: str, picks: dict[int, list[int]], relevant: dict[int, set[int]], k: int, recommendable: int,
          click_share: float | None) -> Scores:
    """Precision, recall and coverage of `picks` (buyer -> recommended columns) against `relevant`."""
    buyers = [b for b in relevant if relevant[b]]
    hits = sum(len(set(picks.get(b, [])[:k]) & relevant[b]) for b in buyers)
    shown = len(buyers) * k
    recall = float(np.mean([len(set(picks.get(b, [])[:k]) & relevant[b]) / len(relevant[b]) for b in buyers])) \
        if buyers else 0.0
    distinct = {c for b in buyers for c in picks.get(b, [])[:k]}
    precision = hits / shown if shown else 0.0
    return Scores(name=name, precision=precision, recall=recall,
                  coverage=len(distinct) / recommendable if recommendable else 0.0, hits=hits, shown=shown,
                  r=precision * click_share if click_share is not None else None)


def evaluate(session: Session, seller_id: int, *, k: int = 10, split_days: int = 30) -> Evaluation:
    latest = session.scalar(sa.select(sa.func.max(Order.placed_at)).where(Order.seller_id == seller_id))
    if latest is None:
        raise ValueError("the seller has no orders to evaluate on")
    if latest.tzinfo is None:  # SQLite's aggregate skips the column type
        from datetime import UTC

        latest = latest.replace(tzinfo=UTC)
    cutoff = latest - timedelta(days=split_days)
    catalog = compute.load_catalog(session, seller_id)
    train = compute.load_history(session, seller_id, catalog, before=cutoff)
    test = compute.load_history(session, seller_id, catalog, since=cutoff)
    events = compute.load_events(session, seller_id, catalog, train, before=cutoff)
    n_items = len(catalog.ids)

    block = compute.blocked(train, catalog, cutoff)
    relevant: dict[int, set[int]] = defaultdict(set)
    for key, item in zip((test.buyer_keys[b] for b in test.buyer.tolist()), test.item.tolist(), strict=True):
        buyer = train.buyer_index.get(key)
        if buyer is not None and buyer < block.shape[0] and catalog.recommendable[item] \
                and not block[buyer, item]:
            relevant[buyer].add(item)
    known = set(train.buyer.tolist())
    relevant = {b: items for b, items in relevant.items() if b in known and items}

    interest = compute.interest_matrix(train, events, n_items)
    popular = compute.popularity(train, catalog)
    buyers = sorted(relevant)
    model = compute.recommend(buyers, interest, compute.similarity(interest), block, catalog, popular, k)
    model_picks = {b: [c for c, _ in items] for b, items in model.items()}
    baseline_picks: dict[int, list[int]] = {}
    for b in buyers:
        no = set(block[b].indices.tolist())
        baseline_picks[b] = [c for c in popular.tolist() if c not in no][:k]

    rec_clicks, clicks = _clicks(session, seller_id, cutoff)
    share = rec_clicks / clicks if clicks else None
    recommendable = int(catalog.recommendable.sum())
    return Evaluation(
        k=k, cutoff=cutoff.isoformat(timespec="seconds"), buyers=len(buyers),
        train_orders=len(np.unique(train.order)), test_orders=len(np.unique(test.order)),
        rec_clicks=rec_clicks, clicks=clicks,
        model=score("item-item (scipy.sparse)", model_picks, relevant, k, recommendable, share),
        baseline=score("popularity", baseline_picks, relevant, k, recommendable, share))


def _clicks(session: Session, seller_id: int, since: object) -> tuple[int, int]:
    """(clicks on recommendations, all clicks) at or after `since`."""
    on_recs, total = session.execute(
        sa.select(sa.func.count().filter(BehaviourEvent.context != ""), sa.func.count())
        .where(BehaviourEvent.seller_id == seller_id, BehaviourEvent.kind == str(EventKind.CLICK),
               BehaviourEvent.occurred_at >= since)).one()
    return int(on_recs or 0), int(total or 0)


def table(result: Evaluation) -> str:
    """The evaluation as a printed table."""
    header = ("method", f"precision@{result.k}", f"recall@{result.k}", "coverage", "N (hits)", "M (shown)",
              "R = N/M x K/L")
    rows = [(s.name, f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.coverage:.4f}", str(s.hits), str(s.shown),
             f"{s.r:.4f}" if s.r is not None else "n/a (no clicks)") for s in (result.model, result.baseline)]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    out.append(f"cutoff {result.cutoff}: {result.train_orders} orders before, {result.test_orders} after; "
               f"{result.buyers} buyers scored; clicks K/L = {result.rec_clicks}/{result.clicks}")
    return "\n".join(out)
