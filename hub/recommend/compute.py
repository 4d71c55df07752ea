"""The recommendation job: from orders (every channel) and behaviour events to the precomputed lists.

Why scipy.sparse and no recommender library: the lists are item-to-item neighbourhoods, which are two sparse
matrix products (baskets x products transposed onto itself, buyers x products likewise) and a top-k per row. That
is what scipy.sparse does well, in C, on a million orders in seconds; `implicit` (ALS) would add a compiled
dependency and a model whose factors must be tuned and explained, for lists a co-occurrence model already makes
well on baskets of a few items; scikit-learn would only wrap the same cosine.

- Buyers: an order's `customer_id` (the cross-channel profile) when it has one, else its normalised buyer email,
  else the order itself (a one-order pseudo-buyer). Events count for their customer, else for their visitor key.
- Bought together: B = orders x products (1 if the order holds it). C = B'B over baskets of two or more products
  is how many baskets hold both; score = C_ij / sqrt(n_i n_j) (cosine, n_i = orders holding i), kept where
  C_ij >= MIN_SUPPORT, the TOP_N best per product.
- For this buyer: U = buyers x products, purchases weighing 1 per order (at most 3), add-to-cart and purchase
  events 0.5, clicks 0.3, views 0.1. S = cosine of U's columns (products similar when the same buyers want them),
  pruned to NEIGHBOURS per product. A buyer's scores are u S; already bought non-consumables and consumables
  bought within CONSUMABLE_WINDOW are left out, as are inactive or deleted products; a short list is topped up
  from the best sellers. Stored for buyers with a customer profile (the API asks by customer id).
- Popular: products by distinct buyers, the fallback list.
- Listing opportunities: products with MIN_UNITS or more sold, for each active marketplace channel where they have
  no active listing and no sales, and for each big ship-to country where they never sold.
- Writes are set-based and per seller in one transaction: DELETE the seller's rows, bulk INSERT the new ones (COPY
  on PostgreSQL), and a `recommend_runs` row with the counts and the duration.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import scipy.sparse as sp
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from hub.catalog.models import Product
from hub.channels.models import DIRECT, Channel, Listing
from hub.db import is_postgres
from hub.jsonexact import dumps_exact
from hub.orders.models import Order, OrderLine
from hub.orders.status import OrderStatus
from hub.recommend.models import (
    BehaviourEvent,
    BoughtTogether,
    EventKind,
    ForBuyer,
    ListingOpportunity,
    Popular,
    RecommendRun,
)
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

TOP_N = 10
NEIGHBOURS = 30
MIN_SUPPORT = 2
POPULAR_N = 50
CONSUMABLE_WINDOW = timedelta(days=30)
PURCHASE_CAP = 3.0
EVENT_WEIGHTS = {EventKind.VIEW: 0.1, EventKind.CLICK: 0.3, EventKind.ADD_TO_CART: 0.5, EventKind.PURCHASE: 0.5}
MIN_UNITS = 3
MAX_OPPORTUNITIES = 500
BIG_COUNTRY_SHARE = 0.05  # a ship-to country with at least this share of the orders is worth selling into
CHUNK = 20_000  # buyers scored at once: bounds the memory of u S


# --- the data ------------------------------------------------------------------------------------------------

@dataclass
class Catalog:
    ids: np.ndarray  # column -> product id
    col: dict[int, int]  # product id -> column
    consumable: np.ndarray  # bool per column
    recommendable: np.ndarray  # bool per column: active and not deleted


@dataclass
class History:
    """Purchases as parallel arrays, one entry per order line with a product (order, buyer, column, time...)."""

    order: np.ndarray
    buyer: np.ndarray
    item: np.ndarray
    quantity: np.ndarray
    placed: np.ndarray  # seconds since the epoch
    channel: np.ndarray
    country: list[str]
    buyer_keys: list[tuple[str, Any]]  # buyer index -> ("c", customer id) | ("e", email) | ("o", order id) | ("v", ..)
    buyer_index: dict[tuple[str, Any], int] = field(default_factory=dict)

    def buyer_of(self, key: tuple[str, Any]) -> int:
        if key not in self.buyer_index:
            self.buyer_index[key] = len(self.buyer_keys)
            self.buyer_keys.append(key)
        return self.buyer_index[key]


@dataclass
class Events:
    buyer: np.ndarray
    item: np.ndarray
    weight: np.ndarray


def load_catalog(session: Session, seller_id: int) -> Catalog:
    rows = session.execute(sa.select(Product.id, Product.consumable, Product.is_active, Product.deleted_at)
                           .where(Product.seller_id == seller_id).order_by(Product.id)).all()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    return Catalog(ids=ids, col={int(p): i for i, p in enumerate(ids)},
                   consumable=np.array([bool(r[1]) for r in rows], dtype=bool),
                   recommendable=np.array([bool(r[2]) and r[3] is None for r in rows], dtype=bool))


def _epoch(session: Session, column: Any) -> Any:
    """Seconds since the epoch in SQL: a float per row is far cheaper to fetch than a datetime."""
    if is_postgres(session):
        return sa.extract("epoch", column)
    return (sa.func.julianday(column) - 2440587.5) * 86400.0  # SQLite keeps naive UTC text


def load_history(session: Session, seller_id: int, catalog: Catalog, *, before: datetime | None = None,
                 since: datetime | None = None) -> History:
    """Order lines of the seller's orders that were not cancelled, optionally only those placed in [since, before)."""
    query = (sa.select(Order.id, Order.customer_id, sa.func.lower(sa.func.trim(Order.buyer_email)),
                       OrderLine.product_id, OrderLine.quantity, _epoch(session, Order.placed_at), Order.channel_id,
                       sa.func.coalesce(Order.ship_country, ""))
             .join(OrderLine, OrderLine.order_id == Order.id)
             .where(Order.seller_id == seller_id, OrderLine.seller_id == seller_id, OrderLine.product_id.is_not(None),
                    Order.status != OrderStatus.CANCELLED))
    if before is not None:
        query = query.where(Order.placed_at < before)
    if since is not None:
        query = query.where(Order.placed_at >= since)
    # Plain Core rows (the seller is named in the WHERE): the ORM's per-row work would cost more than the matrices.
    rows = [r for r in session.connection().execute(query).all() if r[3] in catalog.col]
    history = History(order=np.empty(0, dtype=np.int64), buyer=np.empty(0, dtype=np.int64),
                      item=np.empty(0, dtype=np.int64), quantity=np.empty(0, dtype=np.int64),
                      placed=np.empty(0), channel=np.empty(0, dtype=np.int64), country=[], buyer_keys=[])
    if not rows:
        return history
    orders, customers, emails, products, quantities, placed, channels, countries = zip(*rows, strict=True)
    buyer_of = history.buyer_of
    history.order = np.array(orders, dtype=np.int64)
    history.buyer = np.array([buyer_of(("c", c) if c is not None else ("e", e) if e else ("o", o))
                              for o, c, e in zip(orders, customers, emails, strict=True)], dtype=np.int64)
    history.item = np.array([catalog.col[p] for p in products], dtype=np.int64)
    history.quantity = np.array(quantities, dtype=np.int64)
    history.placed = np.array([float(t) for t in placed], dtype=np.float64)
    history.channel = np.array(channels, dtype=np.int64)
    history.country = list(countries)
    return history


def load_events(session: Session, seller_id: int, catalog: Catalog, history: History, *,
                before: datetime | None = None) -> Events:
    query = (sa.select(BehaviourEvent.kind, BehaviourEvent.product_id, BehaviourEvent.customer_id,
                       BehaviourEvent.visitor)
             .where(BehaviourEvent.seller_id == seller_id))
    if before is not None:
        query = query.where(BehaviourEvent.occurred_at < before)
    buyers, items, weights = [], [], []
    for kind, product_id, customer_id, visitor in session.execute(query):
        column = catalog.col.get(product_id)
        if column is None or (customer_id is None and not visitor):
            continue
        key = ("c", customer_id) if customer_id is not None else ("v", visitor)
        buyers.append(history.buyer_of(key))
        items.append(column)
        weights.append(EVENT_WEIGHTS[EventKind(kind)])
    return Events(np.array(buyers, dtype=np.int64), np.array(items, dtype=np.int64),
                  np.array(weights, dtype=np.float64))


# --- the matrices ------------------------------------------------------------------------------------------

def _binary(rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, cols)), shape=shape)
    matrix.data[:] = 1.0  # duplicates were summed
    return matrix


def _cosine(co: sp.csr_matrix, counts: np.ndarray) -> sp.csr_matrix:
    scale = sp.diags(np.where(counts > 0, 1.0 / np.sqrt(np.maximum(counts, 1e-12)), 0.0))
    return (scale @ co @ scale).tocsr()


def top_k(matrix: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The k largest entries of each row: (row, column, value, rank from 1), vectorised over the whole matrix.
    Ties go to the lower column, so the lists are deterministic."""
    matrix = matrix.tocsr()
    matrix.sum_duplicates()
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    order = np.lexsort((matrix.indices, -matrix.data, rows))
    rows, cols, vals = rows[order], matrix.indices[order], matrix.data[order]
    rank = np.arange(len(rows)) - matrix.indptr[rows] + 1
    keep = (rank <= k) & (vals > 0)
    return rows[keep], cols[keep], vals[keep], rank[keep]


def bought_together(history: History, n_items: int) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """(cosine scores, support counts), both products x products, pruned to MIN_SUPPORT."""
    if not len(history.order):
        empty = sp.csr_matrix((n_items, n_items))
        return empty, empty
    _, basket = np.unique(history.order, return_inverse=True)
    baskets = _binary(basket, history.item, (int(basket.max()) + 1, n_items))
    holding = np.asarray(baskets.sum(axis=0)).ravel()  # orders holding each product
    multi = baskets[baskets.getnnz(axis=1) >= 2]
    co = (multi.T @ multi).tocsr()
    co.setdiag(0)
    co.data[co.data < MIN_SUPPORT] = 0
    co.eliminate_zeros()
    return _cosine(co, holding), co


def interest_matrix(history: History, events: Events, n_items: int) -> sp.csr_matrix:
    """Buyers x products: purchases (1 per order, at most PURCHASE_CAP) plus the lighter events."""
    n_buyers = len(history.buyer_keys)
    if len(history.order):
        pairs = np.unique(np.stack([history.buyer, history.item, history.order]), axis=1)
        purchases = sp.csr_matrix((np.ones(pairs.shape[1]), (pairs[0], pairs[1])), shape=(n_buyers, n_items))
        purchases.data = np.minimum(purchases.data, PURCHASE_CAP)
    else:
        purchases = sp.csr_matrix((n_buyers, n_items))
    seen = sp.csr_matrix((events.weight, (events.buyer, events.item)), shape=(n_buyers, n_items))
    seen.data = np.minimum(seen.data, 1.0)  # many views never outweigh one purchase
    return (purchases + seen).tocsr()


def similarity(interest: sp.csr_matrix) -> sp.csr_matrix:
    """Products x products cosine over the buyers who want them, the NEIGHBOURS best per product."""
    by_item = interest.T.tocsr()
    norms = np.sqrt(np.asarray(by_item.multiply(by_item).sum(axis=1)).ravel())
    co = (by_item @ by_item.T).tocsr()
    co.setdiag(0)
    co.eliminate_zeros()
    cosine = _cosine(co, norms**2)
    rows, cols, vals, _ = top_k(cosine, NEIGHBOURS)
    return sp.csr_matrix((vals, (rows, cols)), shape=cosine.shape)


def blocked(history: History, catalog: Catalog, now: datetime) -> sp.csr_matrix:
    """Buyers x products not to suggest: non-consumables they bought, consumables they bought within the window."""
    n_buyers, n_items = len(history.buyer_keys), len(catalog.ids)
    if not len(history.order):
        return sp.csr_matrix((n_buyers, n_items))
    recent = history.placed >= (now - CONSUMABLE_WINDOW).timestamp()
    keep = ~catalog.consumable[history.item] | recent
    return _binary(history.buyer[keep], history.item[keep], (n_buyers, n_items))


def popularity(history: History, catalog: Catalog) -> np.ndarray:
    """Recommendable product columns by distinct buyers, best first (ties: lower product id)."""
    if not len(history.order):
        return np.empty(0, dtype=np.int64)
    pairs = np.unique(np.stack([history.buyer, history.item]), axis=1)
    counts = np.bincount(pairs[1], minlength=len(catalog.ids)).astype(np.float64)
    order = np.lexsort((np.arange(len(counts)), -counts))
    return np.array([c for c in order if counts[c] > 0 and catalog.recommendable[c]], dtype=np.int64)


def recommend(buyers: Sequence[int], interest: sp.csr_matrix, sim: sp.csr_matrix, block: sp.csr_matrix,
              catalog: Catalog, popular: np.ndarray, k: int) -> dict[int, list[tuple[int, float]]]:
    """Top k (column, score) per buyer: u S without the blocked and unrecommendable products, topped up from the
    popular list (score 0)."""
    result: dict[int, list[tuple[int, float]]] = {}
    allowed = sp.diags(catalog.recommendable.astype(np.float64))
    buyers = list(buyers)
    for start in range(0, len(buyers), CHUNK):
        chunk = np.array(buyers[start:start + CHUNK], dtype=np.int64)
        scores = (interest[chunk] @ sim @ allowed).tocsr()
        scores = (scores - scores.multiply(block[chunk])).tocsr()
        scores.eliminate_zeros()
        rows, cols, vals, _ = top_k(scores, k)
        picked: dict[int, list[tuple[int, float]]] = defaultdict(list)
        for r, c, v in zip(rows.tolist(), cols.tolist(), vals.tolist(), strict=True):
            picked[r].append((c, v))
        for r, buyer in enumerate(chunk.tolist()):
            items = picked.get(r, [])
            if len(items) < k:
                have = {c for c, _ in items}
                no = set(block[buyer].indices.tolist())
                for c in popular.tolist():
                    if len(items) >= k:
                        break
                    if c not in have and c not in no:
                        items.append((c, 0.0))
            result[buyer] = items
    return result


# --- listing opportunities ------------------------------------------------------------------------------

def opportunities(session: Session, seller_id: int, history: History, catalog: Catalog) -> list[dict[str, Any]]:
    if not len(history.order):
        return []
    channels = dict(session.execute(sa.select(Channel.id, Channel.name).where(Channel.seller_id == seller_id)).all())
    targets = list(session.scalars(sa.select(Channel.id).where(
        Channel.seller_id == seller_id, Channel.is_active.is_(True), Channel.kind != DIRECT).order_by(Channel.id)))
    listed = set(session.execute(sa.select(Listing.product_id, Listing.channel_id).where(
        Listing.seller_id == seller_id, Listing.is_active.is_(True), Listing.product_id.is_not(None))).all())
    units = np.bincount(history.item, weights=history.quantity, minlength=len(catalog.ids))
    candidates = [c for c in np.argsort(-units, kind="stable")[:2000].tolist()
                  if units[c] >= MIN_UNITS and catalog.recommendable[c]]
    wanted = set(candidates)
    by_channel: dict[int, Counter[int]] = defaultdict(Counter)
    by_country: dict[int, Counter[str]] = defaultdict(Counter)
    orders_of: dict[int, set[int]] = defaultdict(set)
    for item, qty, channel, country, order in zip(history.item.tolist(), history.quantity.tolist(),
                                                  history.channel.tolist(), history.country,
                                                  history.order.tolist(), strict=True):
        if item in wanted:
            by_channel[item][channel] += qty
            if country:
                by_country[item][country] += qty
            orders_of[item].add(order)
    orders_per_country: Counter[str] = Counter()
    for country, _order in set(zip(history.country, history.order.tolist(), strict=True)):
        if country:
            orders_per_country[country] += 1
    total_orders = len(np.unique(history.order))
    big = sorted(c for c, n in orders_per_country.items() if n >= BIG_COUNTRY_SHARE * total_orders)
    found = []
    for item in candidates:
        product_id = int(catalog.ids[item])
        sold = by_channel[item]
        evidence = {"channels": {channels.get(ch, str(ch)): n for ch, n in sold.most_common(5)}}
        for channel in targets:
            if sold.get(channel) or (product_id, channel) in listed:
                continue
            found.append({"product_id": product_id, "channel_id": channel, "country": None,
                          "units_elsewhere": int(units[item]), "orders_elsewhere": len(orders_of[item]),
                          "evidence": evidence})
        in_countries = by_country[item]
        for country in big:
            if in_countries.get(country):
                continue
            found.append({"product_id": product_id, "channel_id": None, "country": country,
                          "units_elsewhere": int(units[item]), "orders_elsewhere": len(orders_of[item]),
                          "evidence": {"countries": dict(in_countries.most_common(5))}})
    found.sort(key=lambda o: (-o["units_elsewhere"], o["product_id"], o["channel_id"] or 0, o["country"] or ""))
    return found[:MAX_OPPORTUNITIES]


# --- the job ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lists:
    bought_together: list[dict[str, Any]]
    for_buyer: list[dict[str, Any]]
    popular: list[dict[str, Any]]
    opportunities: list[dict[str, Any]]
    orders: int
    events: int


def build(session: Session, seller_id: int, now: datetime) -> Lists:
    catalog = load_catalog(session, seller_id)
    n_items = len(catalog.ids)
    history = load_history(session, seller_id, catalog)
    events = load_events(session, seller_id, catalog, history)
    ids = catalog.ids

    cosine, support = bought_together(history, n_items)
    cosine = (cosine @ sp.diags(catalog.recommendable.astype(np.float64))).tocsr()
    rows, cols, vals, ranks = top_k(cosine, TOP_N)
    baskets = np.asarray(support.tocsr()[rows, cols]).ravel() if len(rows) else np.empty(0)
    together = [{"seller_id": seller_id, "product_id": int(ids[r]), "other_id": int(ids[c]), "rank": k,
                 "score": round(v, 6), "baskets": int(n)}
                for r, c, v, k, n in zip(rows.tolist(), cols.tolist(), vals.tolist(), ranks.tolist(),
                                         baskets.tolist(), strict=True)]

    popular = popularity(history, catalog)
    popular_rows = [{"seller_id": seller_id, "product_id": int(ids[c]), "rank": i + 1, "score": 0.0}
                    for i, c in enumerate(popular[:POPULAR_N].tolist())]

    interest = interest_matrix(history, events, n_items)
    customers = [b for b, key in enumerate(history.buyer_keys) if key[0] == "c"]
    picks = recommend(customers, interest, similarity(interest), blocked(history, catalog, now), catalog, popular,
                      TOP_N) if customers else {}
    for_buyer = [{"seller_id": seller_id, "customer_id": int(history.buyer_keys[b][1]), "product_id": int(ids[c]),
                  "rank": i + 1, "score": round(float(v), 6)}
                 for b, items in picks.items() for i, (c, v) in enumerate(items)]

    found = opportunities(session, seller_id, history, catalog)
    opportunity_rows = [{"seller_id": seller_id, "rank": i + 1, **o} for i, o in enumerate(found)]
    return Lists(together, for_buyer, popular_rows, opportunity_rows, orders=len(np.unique(history.order)),
                 events=len(events.item))


def recompute(session: Session, seller_id: int, *, now: datetime | None = None) -> RecommendRun:
    """Rebuild one seller's lists in the caller's transaction: a reader sees the old lists until it commits."""
    started, clock = now or utcnow(), time.perf_counter()
    lists = build(session, seller_id, started)
    for model, rows in ((BoughtTogether, lists.bought_together), (ForBuyer, lists.for_buyer),
                        (Popular, lists.popular), (ListingOpportunity, lists.opportunities)):
        session.execute(sa.delete(model).where(model.seller_id == seller_id))
        bulk_insert(session, model.__table__, rows)
    run = RecommendRun(seller_id=seller_id, started_at=started, duration_ms=int((time.perf_counter() - clock) * 1000),
                       orders=lists.orders, events=lists.events, bought_together=len(lists.bought_together),
                       for_buyer=len(lists.for_buyer), opportunities=len(lists.opportunities))
    session.add(run)
    session.flush()
    return run


def recompute_all(sessions: sessionmaker[Session], seller_ids: Iterable[int] | None = None) -> list[RecommendRun]:
    """Every seller (or those given), one transaction each: a big seller never holds up the others' lists."""
    from hub.accounts.models import Seller

    if seller_ids is None:
        with sessions() as session:
            seller_ids = session.scalars(sa.select(Seller.id).order_by(Seller.id)).all()
    runs = []
    for seller_id in seller_ids:
        with sessions.begin() as session:
            runs.append(recompute(session, seller_id))
    return runs


def recompute_job() -> None:
    """The worker's platform job "recompute-recommendations" (scheduled by hub.sync.worker)."""
    from hub.sync.worker import _current

    for run in recompute_all(_current().env.sessions):
        log.info("recommendations of seller %s: %d bought-together, %d for-buyer, %d opportunities from %d orders "
                 "and %d events in %d ms", run.seller_id, run.bought_together, run.for_buyer, run.opportunities,
                 run.orders, run.events, run.duration_ms)


# --- writing --------------------------------------------------------------------------------------------

def bulk_insert(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows at once: COPY on PostgreSQL (ten times an executemany), an executemany elsewhere."""
    if not rows:
        return
    columns = list(rows[0])
    if not is_postgres(session):
        session.execute(table.insert(), rows)
        return
    json_columns = {c.name for c in table.columns if isinstance(c.type, sa.JSON) or "JSON" in str(c.type)}
    connection = session.connection().connection.driver_connection
    with connection.cursor() as cursor, cursor.copy(
            f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([dumps_exact(row[c]) if c in json_columns else row[c] for c in columns])
