"""Read-only summaries for the overview page, and the summary tables that keep it fast.

Design (the overview must answer in well under 100 ms on a million orders of one seller):

- Per-day order counts and base-currency revenue come from `sales_daily` (hub.reports_models.SalesDaily): one row
  per (seller, UTC day, channel, ship-to country, base currency) with the orders that count as revenue (not
  cancelled or refunded) and the sum of their FX-snapshot grand totals in 1/10000 of the base currency (exact on
  SQLite too). Orders still without a snapshot are counted under base currency "" with no revenue.
  `fx_usage_daily` keeps, per day, the conversions used (order currency, base currency, rate source) with their
  rates' as-of range, for "FX rates in use".
- `refresh_sales(session, seller_id=None, days=35)` recomputes a window of recent UTC days (or everything with
  `full=True`): per seller one DELETE of the window's rows and one INSERT ... SELECT aggregating orders left-joined
  to order_fx over the (seller_id, placed_at) index, in the caller's transaction. It stamps `sales_refreshes` with
  the time, the newest order id the rows cover (`max_order_id`, read before the aggregation, which takes only
  orders up to it) and the rows of the last 30 days already summed per period and channel, country or day
  (`rollup`, a few dozen figures, for `rollup_day`). The worker's platform job "refresh-sales"
  (hub.sync.worker.refresh_sales_job) runs it every SALES_REFRESH_SECONDS, one transaction per seller.
- The overview takes the orders up to `max_order_id` from the rollup (summing the summary rows itself when the
  rollup is of an earlier day: in the minute after midnight UTC) and reads the orders after it straight from the
  orders table (through the primary key: a few minutes' worth while the worker runs; everything for a seller
  never refreshed). So a new order shows at once, even one placed days ago and imported late, and none is
  counted twice. A status change of an order the summary covers (a cancellation, a refund) shows after the next
  refresh, as does an order whose transaction committed during a refresh with an id below the bound.
- Everything else is bounded and index-backed: sync health per channel (hub.channels.services.health: the
  newest run of each by one index probe, circuits and open quarantine counts in a second statement; the page's
  quarantine total is their sum), unmatched SKUs (listings of the seller without a product, counted with the
  open orders), low stock (stock levels, LIMIT 20), oversell risk (order lines with
  quantity_short > 0 through the partial index ix_order_lines_seller_short, on open orders, LIMIT 20), open orders
  by status (each status counted through ix_orders_seller_status, capped at OPEN_COUNT_CAP), and recent orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.catalog.models import Product, StockLevel, Warehouse
from hub.channels.models import Channel, Listing
from hub.currency.models import OrderFx
from hub.money import Money
from hub.orders.models import Order, OrderLine
from hub.orders.rows import ROW_COLUMNS
from hub.orders.status import OrderStatus
from hub.reports_models import FxUsageDaily, SalesDaily, SalesRefresh
from hub.timeutil import utcnow

LOW_STOCK_THRESHOLD = 5
_NOT_REVENUE = (OrderStatus.CANCELLED, OrderStatus.REFUNDED)
OPEN_STATUSES = (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.PARTIALLY_FULFILLED)
OPEN_COUNT_CAP = 1_000


@dataclass(frozen=True)
class Overview:
    orders_by_status: dict[str, int]  # open orders only, each count capped at OPEN_COUNT_CAP
    product_count: int
    unmatched_skus: int  # channel listings not mapped to a product
    low_stock: list[tuple[str, str, int]]  # sku, warehouse, available
    recent_orders: list[Any]  # rows of hub.orders.services.ROW_COLUMNS
    open_count_cap: int = OPEN_COUNT_CAP


def overview(session: Session, actor: Actor) -> Overview:
    sid = actor.seller_id
    # One statement, each status counted through ix_orders_seller_status up to the cap (the page says "1,000+"):
    # an exact count would walk every open order of a large seller on each view.
    capped = [sa.select(sa.func.count()).select_from(
        sa.select(sa.literal_column("1")).select_from(Order).where(Order.seller_id == sid, Order.status == status)
        .limit(OPEN_COUNT_CAP).subquery()).scalar_subquery() for status in OPEN_STATUSES]
    products = sa.select(sa.func.count()).select_from(Product).where(
        Product.seller_id == sid, Product.deleted_at.is_(None)).scalar_subquery()
    unmatched = sa.select(sa.func.count()).select_from(Listing).where(
        Listing.seller_id == sid, Listing.product_id.is_(None)).scalar_subquery()
    *counts, product_count, unmatched_skus = session.execute(sa.select(*capped, products, unmatched)).one()
    by_status = {str(status): count for status, count in zip(OPEN_STATUSES, counts, strict=True) if count}
    low = session.execute(
        sa.select(Product.sku, Warehouse.code, StockLevel.on_hand - StockLevel.reserved)
        .join(Product, StockLevel.product_id == Product.id).join(Warehouse, StockLevel.warehouse_id == Warehouse.id)
        .where(StockLevel.seller_id == sid, Product.deleted_at.is_(None), Product.is_active.is_(True),
               StockLevel.on_hand - StockLevel.reserved <= LOW_STOCK_THRESHOLD)
        .order_by(StockLevel.on_hand - StockLevel.reserved, Product.sku).limit(20)).all()
    return Overview(
        orders_by_status=by_status,
        product_count=product_count or 0,
        unmatched_skus=unmatched_skus or 0,
        low_stock=[tuple(row) for row in low],
        recent_orders=list(session.execute(
            sa.select(*ROW_COLUMNS).join(Channel, Channel.id == Order.channel_id).where(Order.seller_id == sid)
            .order_by(Order.placed_at.desc(), Order.id.desc()).limit(10))),
    )


# --- revenue in the base currency, from the FX snapshots -----------------------------------------------------
GROUPINGS = ("channel", "country", "day")
# Converted amounts are Numeric(19, 4): summed as integers of 1/10000 so SQLite (which keeps NUMERIC as a
# float) adds them exactly too, as PostgreSQL's numeric does.
_SCALE = 10_000


@dataclass(frozen=True)
class BaseRevenue:
    key: str  # the channel's name, the ship-to country ("" when unknown) or the UTC day (YYYY-MM-DD)
    orders: int
    revenue: Money  # converted grand totals, each at the rate of its own order's day


@dataclass(frozen=True)
class BaseRevenueReport:
    rows: list[BaseRevenue]
    unconverted: int  # orders in the period still without a snapshot (no rate yet): not in `rows`


def _grand_total_e4() -> sa.ColumnElement[Any]:
    return sa.cast(sa.func.round(OrderFx.grand_total * _SCALE), sa.BigInteger)


def _day(session: Session) -> sa.ColumnElement[object]:
    # placed_at is timestamptz on PostgreSQL (the day is taken in UTC, not the session's zone) and naive UTC
    # text on SQLite.
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.to_char(sa.func.timezone("UTC", Order.placed_at), "YYYY-MM-DD")
    return sa.func.strftime("%Y-%m-%d", Order.placed_at)


def revenue_in_base(session: Session, actor: Actor, start: datetime, end: datetime, by: str) -> BaseRevenueReport:
    """Revenue of orders placed in [start, end) in the seller's base currency, grouped `by` channel, ship-to
    country or UTC day. Only stored snapshots are summed, never today's rate, so a report of a past period
    does not move with the rates. Cancelled and refunded orders are left out, as on the overview."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}, not {by!r}")
    sid = actor.seller_id
    key = {"channel": Channel.name, "country": sa.func.coalesce(Order.ship_country, ""), "day": _day(session)}[by]
    in_period = (Order.seller_id == sid, Order.placed_at >= start, Order.placed_at < end,
                 Order.status.not_in(_NOT_REVENUE))
    query = (sa.select(key, OrderFx.base_currency, sa.func.count(), sa.func.sum(_grand_total_e4()))
             .select_from(OrderFx).join(Order, Order.id == OrderFx.order_id)
             .where(OrderFx.seller_id == sid, *in_period))
    if by == "channel":
        query = query.join(Channel, Channel.id == Order.channel_id)
    rows = session.execute(query.group_by(key, OrderFx.base_currency).order_by(key, OrderFx.base_currency)).all()
    unconverted = session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        *in_period, ~sa.exists().where(OrderFx.order_id == Order.id))) or 0
    return BaseRevenueReport(
        rows=[BaseRevenue(key=str(k.isoformat() if isinstance(k, date) else k), orders=n,
                          revenue=Money(Decimal(int(total)).scaleb(-4), cur).rounded())
              for k, cur, n, total in rows],
        unconverted=unconverted)



# --- the summary tables and the overview's sales, health and attention lists ---------------------------------
SUMMARY_DAYS = 35
PERIODS = (("today", 1), ("7d", 7), ("30d", 30))


def _day_date(session: Session) -> sa.ColumnElement[object]:
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(sa.func.timezone("UTC", Order.placed_at), sa.Date)
    return sa.func.date(Order.placed_at)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _sales_columns(session: Session) -> tuple[sa.ColumnElement[Any], ...]:
    """The UTC day, ship-to country ("" unknown), snapshot's base currency ("" none yet) and summed revenue in
    1/10000 of it, of orders outer-joined to their FX snapshots: what the summary stores and the live read adds."""
    empty = sa.literal_column("''")
    return (_day_date(session), sa.func.coalesce(Order.ship_country, empty),
            sa.func.coalesce(OrderFx.base_currency, empty), sa.func.coalesce(sa.func.sum(_grand_total_e4()), 0))


def refresh_sales(session: Session, seller_id: int | None = None, days: int = SUMMARY_DAYS,
                  full: bool = False) -> int:
    """Recompute the summary rows of the last `days` UTC days (today included; everything when `full`) of one
    seller or of every seller, in the caller's transaction. Returns the number of sellers refreshed."""
    from hub.accounts.models import Seller

    sellers = [seller_id] if seller_id is not None else list(session.scalars(sa.select(Seller.id).order_by(Seller.id)))
    now = utcnow()
    today = now.date()
    start_day = today - timedelta(days=days - 1)
    day, country, base, scaled = _sales_columns(session)
    for sid in sellers:
        # The rows cover the orders up to the newest id now (in a statement before the aggregation: an order
        # committed in between with a higher id is left to the overview's live read, never counted twice).
        covered = session.scalar(sa.select(sa.func.max(Order.id)).where(Order.seller_id == sid)) or 0
        since = (Order.id <= covered,) if full else (Order.placed_at >= _midnight(start_day), Order.id <= covered)
        for table in (SalesDaily, FxUsageDaily):
            window = () if full else (table.day >= start_day,)
            session.execute(sa.delete(table).where(table.seller_id == sid, *window))
        session.execute(sa.insert(SalesDaily).from_select(
            ["seller_id", "day", "channel_id", "ship_country", "base_currency", "orders", "revenue_e4"],
            sa.select(Order.seller_id, day, Order.channel_id, country, base, sa.func.count(), scaled)
            .select_from(Order).outerjoin(OrderFx, OrderFx.order_id == Order.id)
            .where(Order.seller_id == sid, Order.status.not_in(_NOT_REVENUE), *since)
            .group_by(Order.seller_id, day, Order.channel_id, country, base)))
        session.execute(sa.insert(FxUsageDaily).from_select(
            ["seller_id", "day", "order_currency", "base_currency", "rate_source", "orders", "first_as_of",
             "last_as_of"],
            sa.select(Order.seller_id, day, OrderFx.order_currency, OrderFx.base_currency, OrderFx.rate_source,
                      sa.func.count(), sa.func.min(OrderFx.rate_as_of), sa.func.max(OrderFx.rate_as_of))
            .select_from(Order).join(OrderFx, OrderFx.order_id == Order.id)
            .where(Order.seller_id == sid, *since)
            .group_by(Order.seller_id, day, OrderFx.order_currency, OrderFx.base_currency, OrderFx.rate_source)))
        session.flush()
        rollup = _rollup(session, sid, today)
        stamp = session.get(SalesRefresh, sid)
        if stamp is None:
            session.add(SalesRefresh(seller_id=sid, refreshed_at=now, max_order_id=covered, rollup_day=today,
                                     rollup=rollup))
        else:
            stamp.refreshed_at, stamp.max_order_id, stamp.rollup_day, stamp.rollup = now, covered, today, rollup
        session.flush()
    return len(sellers)


def _window(today: date) -> tuple[date, dict[str, date]]:
    """The first of the 30 days to `today`, and each period's first day."""
    return today - timedelta(days=29), {key: today - timedelta(days=days - 1) for key, days in PERIODS}


def _rollup(session: Session, sid: int, today: date) -> dict[str, list[list[Any]]]:
    """The summary's 30 days to `today` summed for the overview, as `sales_refreshes.rollup` keeps them."""
    return {"sales": _summary_sales(session, sid, today), "fx": _summary_fx(session, sid, today)}


def _summary_sales(session: Session, sid: int, today: date) -> list[list[Any]]:
    """The summary rows of the 30 days to `today` summed per channel and per country for each period, and per
    day: a few dozen rows instead of every day x channel x country row of the month. Each row is [dimension (0
    channel id, 1 country, 2 day), key as text, base currency, then orders and revenue_e4 of each period]."""
    first, starts = _window(today)
    per_period = [agg for start in starts.values() for agg in (
        sa.func.sum(sa.case((SalesDaily.day >= start, SalesDaily.orders), else_=0)),
        sa.func.sum(sa.case((SalesDaily.day >= start, SalesDaily.revenue_e4), else_=0)))]
    # One statement: a UNION ALL of the three groupings, each row tagged with its dimension.
    arms = [sa.select(sa.literal(i).label("dimension"), sa.cast(column, sa.String).label("key"),
                      SalesDaily.base_currency, *per_period)
            .where(SalesDaily.seller_id == sid, SalesDaily.day >= first).group_by(column, SalesDaily.base_currency)
            for i, column in enumerate((SalesDaily.channel_id, SalesDaily.ship_country, SalesDaily.day))]
    return [[dimension, key, base, *(int(total or 0) for total in totals)]
            for dimension, key, base, *totals in session.execute(sa.union_all(*arms))]


def _summary_fx(session: Session, sid: int, today: date) -> list[list[Any]]:
    """The conversions in the summary's 30 days to `today`: [order currency, base currency, rate source, orders,
    first and last rate as-of day (ISO text)]."""
    rows = session.execute(
        sa.select(FxUsageDaily.order_currency, FxUsageDaily.base_currency, FxUsageDaily.rate_source,
                  sa.func.sum(FxUsageDaily.orders), sa.func.min(FxUsageDaily.first_as_of),
                  sa.func.max(FxUsageDaily.last_as_of))
        .where(FxUsageDaily.seller_id == sid, FxUsageDaily.day >= _window(today)[0])
        .group_by(FxUsageDaily.order_currency, FxUsageDaily.base_currency, FxUsageDaily.rate_source))
    return [[oc, bc, src, int(n), _as_date(lo).isoformat(), _as_date(hi).isoformat()]
            for oc, bc, src, n, lo, hi in rows]


@dataclass(frozen=True)
class Bar:
    key: str  # channel name, country code ("" unknown) or day (YYYY-MM-DD)
    orders: int
    revenue: Money
    share: float  # of the largest revenue in its chart, 0..1, for the bar's length


@dataclass(frozen=True)
class Period:
    key: str  # "today", "7d", "30d"
    orders: int
    revenue: Money
    unconverted: int  # orders without an FX snapshot yet: counted, not in revenue
    by_channel: list[Bar]
    by_country: list[Bar]


@dataclass(frozen=True)
class FxInUse:
    order_currency: str
    base_currency: str
    rate_source: str
    orders: int
    first_as_of: date
    last_as_of: date


@dataclass(frozen=True)
class OversoldLine:
    order_id: int
    external_id: str
    sku: str
    quantity_short: int


@dataclass(frozen=True)
class Insights:
    base_currency: str
    periods: list[Period]
    daily: list[Bar]  # the last 30 UTC days, oldest first
    channels: list[Channel]
    health: dict[int, Any]  # channel id -> hub.channels.services.Health
    open_quarantine: int
    oversold: list[OversoldLine]
    fx_in_use: list[FxInUse]


def _bars(totals: dict[str, list[int]], currency: str) -> list[Bar]:
    """Bars of {key: [orders, revenue_e4, ...]}, the largest revenue first."""
    top = max((v[1] for v in totals.values()), default=0)
    return [Bar(key, v[0], Money(Decimal(v[1]).scaleb(-4), currency).rounded(), (v[1] / top) if top > 0 else 0.0)
            for key, v in sorted(totals.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))]


class _SalesTally:
    """The overview's sales figures being added up. Per period, by channel name and by country: [orders,
    revenue_e4, orders without a snapshot]; per day of the last 30: [orders, revenue_e4]. Only revenue in the base
    currency counts (a seller who changed it keeps older snapshots in the former one)."""

    def __init__(self, currency: str, today: date, channel_names: dict[int, str]):
        self.currency, self.names = currency, channel_names
        self.first, self.starts = _window(today)
        self.sums: dict[str, tuple[dict[str, list[int]], dict[str, list[int]]]] = {k: ({}, {}) for k in self.starts}
        self.per_day: dict[date, list[int]] = {self.first + timedelta(days=i): [0, 0] for i in range(30)}

    def _counts(self, base: str) -> bool:
        return not base or base == self.currency

    def _add(self, bucket: dict[str, list[int]], name: str, base: str, n: int, e4: int) -> None:
        if (n or e4) and self._counts(base):
            slot = bucket.setdefault(name, [0, 0, 0])
            slot[0] += n
            slot[1] += e4
            slot[2] += 0 if base else n

    def _channel(self, channel_id: int) -> str:
        return self.names.get(channel_id, str(channel_id))

    def add_summary(self, rows: list[list[Any]]) -> None:
        """Rows of `_summary_sales` for the same day."""
        for dimension, key, base, *sums in rows:
            if dimension == 2:  # a day: every day of the window is in the 30 days' sums (the last pair)
                self._add_day(date.fromisoformat(key), base, sums[-2], sums[-1])
                continue
            name = self._channel(int(key)) if dimension == 0 else key
            for i, period in enumerate(self.starts):
                self._add(self.sums[period][dimension], name, base, sums[2 * i], sums[2 * i + 1])

    def add_live(self, session: Session, sid: int, covered: int | None) -> None:
        """The orders of the 30 days after order id `covered` (all when None), straight from the orders."""
        day, country, base_column, scaled = _sales_columns(session)
        after = () if covered is None else (Order.id > covered,)
        for d, channel_id, k, base, n, e4 in session.execute(
                sa.select(day, Order.channel_id, country, base_column, sa.func.count(), scaled)
                .select_from(Order).outerjoin(OrderFx, OrderFx.order_id == Order.id)
                .where(Order.seller_id == sid, *after, Order.placed_at >= _midnight(self.first),
                       Order.status.not_in(_NOT_REVENUE))
                .group_by(day, Order.channel_id, country, base_column)):
            d, e4 = _as_date(d), int(e4)
            for key, start in self.starts.items():
                if d >= start:
                    self._add(self.sums[key][0], self._channel(channel_id), base, n, e4)
                    self._add(self.sums[key][1], k, base, n, e4)
            self._add_day(d, base, n, e4)

    def _add_day(self, day: date, base: str, n: int, e4: int) -> None:
        if day in self.per_day and self._counts(base):
            self.per_day[day][0] += n
            self.per_day[day][1] += e4

    def _money(self, e4: int) -> Money:
        return Money(Decimal(e4).scaleb(-4), self.currency).rounded()

    def periods(self) -> list[Period]:
        periods = []
        for key, (by_channel, by_country) in self.sums.items():
            orders, total, unconverted = (sum(slot[i] for slot in by_channel.values()) for i in range(3))
            periods.append(Period(key, orders, self._money(total), unconverted, _bars(by_channel, self.currency),
                                  _bars(by_country, self.currency)))
        return periods

    def daily(self) -> list[Bar]:
        top = max((v[1] for v in self.per_day.values()), default=0)
        return [Bar(d.isoformat(), n, self._money(e4), (e4 / top) if top > 0 else 0.0)
                for d, (n, e4) in self.per_day.items()]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def insights(session: Session, actor: Actor) -> Insights:
    """Everything the overview shows beyond `overview`, for a seller (not a platform admin acting for none)."""
    from hub.accounts.models import Seller
    from hub.channels.services import health

    sid = actor.seller_id
    if sid is None:
        raise ValueError("insights are a seller's")
    currency, covered, rollup_day, rollup = session.execute(
        sa.select(Seller.base_currency, SalesRefresh.max_order_id, SalesRefresh.rollup_day, SalesRefresh.rollup)
        .outerjoin(SalesRefresh, SalesRefresh.seller_id == Seller.id).where(Seller.id == sid)).one()
    currency = currency or ""
    today = utcnow().date()
    if covered is not None and (rollup is None or rollup_day != today):  # no rollup yet, or one of yesterday
        rollup = _rollup(session, sid, today)
    channels = list(session.scalars(sa.select(Channel).where(Channel.seller_id == sid).order_by(Channel.name)))
    names = {c.id: c.name for c in channels}

    # Orders after the summary's bound, if any: a probe down the primary key first, since the two live
    # aggregations cost a few milliseconds of planning each even when they find nothing (orders has many indexes),
    # and while the worker refreshes every minute most views find nothing newer. (Its own statement: correlated
    # to the stamp's bound in the statement above, PostgreSQL cannot tell the range is the newest few orders and
    # scans the table.)
    live = covered is None or session.scalar(
        sa.select(Order.id).where(Order.seller_id == sid, Order.id > covered).limit(1)) is not None
    tally = _SalesTally(currency, today, names)
    if covered is not None:
        tally.add_summary(rollup["sales"])
    if live:
        tally.add_live(session, sid, covered)
    periods, daily = tally.periods(), tally.daily()

    oversold = session.execute(
        sa.select(Order.id, Order.external_id, OrderLine.sku, OrderLine.quantity_short)
        .select_from(OrderLine).join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.seller_id == sid, sa.text("order_lines.quantity_short > 0"),
               Order.status.in_(OPEN_STATUSES))
        .order_by(Order.id.desc(), OrderLine.line_no).limit(20)).all()
    per_channel = health(session, actor, channels, per_job=False)
    return Insights(
        base_currency=currency, periods=periods, daily=daily, channels=channels, health=per_channel,
        # Every quarantined order belongs to one of the seller's channels.
        open_quarantine=sum(h.open_quarantine for h in per_channel.values()),
        oversold=[OversoldLine(*row) for row in oversold],
        fx_in_use=_fx_in_use(session, sid, tally.first, covered, [] if covered is None else rollup["fx"], live),
    )


def _fx_in_use(session: Session, sid: int, first: date, covered: int | None, summarised: list[list[Any]],
               live: bool) -> list[FxInUse]:
    """The conversions of the orders placed since `first`: `summarised` (rows of `_summary_fx`) up to order id
    `covered`, read live after it (when `live`: there are orders after it)."""
    rows = list(summarised)
    rows += [] if not live else session.execute(
        sa.select(OrderFx.order_currency, OrderFx.base_currency, OrderFx.rate_source, sa.func.count(),
                  sa.func.min(OrderFx.rate_as_of), sa.func.max(OrderFx.rate_as_of))
        .select_from(Order).join(OrderFx, OrderFx.order_id == Order.id)
        .where(Order.seller_id == sid, *(() if covered is None else (Order.id > covered,)),
               Order.placed_at >= _midnight(first))
        .group_by(OrderFx.order_currency, OrderFx.base_currency, OrderFx.rate_source)).all()
    fx: dict[tuple[str, str, str], list[Any]] = {}
    for oc, bc, src, n, lo, hi in rows:
        lo, hi = _as_date(lo), _as_date(hi)
        slot = fx.setdefault((oc, bc, src), [0, lo, hi])
        slot[0] += n
        slot[1], slot[2] = min(slot[1], lo), max(slot[2], hi)
    return [FxInUse(oc, bc, src, n, lo, hi) for (oc, bc, src), (n, lo, hi) in sorted(fx.items())]
