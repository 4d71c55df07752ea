"""Customer profiles: linking orders to them as they arrive, merging and un-merging them, reading them.

    link_order(session, order) -> CustomerLink          every new order (imports and direct ones), once
    customer_for_email(session, seller_id, email, name)  the profile of an email, made if new (the buyer API)
    backfill(session, seller_id) -> int                  links the seller's orders that have no link yet
    merge(session, actor, into_id, other_id)             staff: one person, two profiles
    unmerge(session, actor, customer_id)                 staff: undoes the merge of `customer_id`, exactly
    list_customers / get_customer / customer_detail      reads, scoped to the actor's seller

Profiles are made by INSERT ... ON CONFLICT DO NOTHING on the seller's unique email (or match) key, then read
back: two transactions linking orders of one email at once both end up on the one row the database let in,
whichever came first (PostgreSQL makes the second INSERT wait for the first to commit). Never read-then-insert.

The rule itself (which keys, which order, masked buyers) is hub.customers.matching's; this module applies it and
records every decision: the order's `customer_match` says why in a few words, its CustomerLink row keeps the keys
and the profile matching chose, a CustomerMerge row each merge and the orders it moved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role, Seller
from hub.channels.models import Channel
from hub.currency.models import OrderFx
from hub.customers import matching
from hub.customers.matching import Identity, OrderView
from hub.customers.models import Customer, CustomerLink, CustomerMerge
from hub.db import dialect_insert
from hub.errors import Conflict, NotFound, ValidationError
from hub.money import Money
from hub.orders.models import Order
from hub.orders.status import OrderStatus
from hub.timeutil import utcnow

MAX_CHAIN = 50  # merged_into hops: a merge refuses cycles, this only stops a corrupted chain from looping
PAGE = 50

# Reasons, as recorded on the order (Order.customer_match, at most 64 characters).
EMAIL = "email"
EMAIL_NAMES_DIFFER = "email, names differ"
CONTACT = "phone+name+address"
MASKED = "masked: own profile per channel buyer id"
MASKED_UNLINKED = "masked: no channel buyer id, not linked"
NO_KEYS = "no email, no full phone+name+address: not linked"
NEW = " (new profile)"


# --- linking --------------------------------------------------------------------------------------------------

def _view(session: Session, order: Order) -> OrderView:
    kind = session.scalar(sa.select(Channel.kind).where(Channel.id == order.channel_id)) or ""
    return OrderView(channel_id=order.channel_id, channel_kind=kind, buyer_name=order.buyer_name or "",
                     buyer_email=order.buyer_email, buyer_phone=order.buyer_phone,
                     shipping_address=order.shipping_address, ship_country=order.ship_country,
                     raw=order.raw_payload)


def _claim(session: Session, seller_id: int, name: str, *, email: str | None = None, phone: str | None = None,
           match: str | None = None) -> tuple[int, bool]:
    """The id of the seller's profile with this email (or match key), made now if there is none; and whether it
    was made now. The INSERT decides, so racing transactions agree on one row."""
    now = utcnow()
    column, value = (Customer.email_key, email) if email is not None else (Customer.match_key, match)
    insert = dialect_insert(session)
    new_id = session.execute(
        insert(Customer).values(seller_id=seller_id, name=(name or "")[:200], email_key=email, phone_key=phone,
                                match_key=match, created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=["seller_id", column.name], index_where=column.isnot(None))
        .returning(Customer.id)
    ).scalar_one_or_none()
    if new_id is not None:
        return new_id, True
    return session.scalars(sa.select(Customer.id).where(Customer.seller_id == seller_id, column == value)).one(), False


def resolve(session: Session, customer_id: int, *, lock: bool = False) -> int:
    """The profile a (possibly merged) profile lives on now. `lock` (linking an order) takes a share lock on each
    profile read, so a merge committing meanwhile is waited for instead of leaving the order on the merged one."""
    current = customer_id
    for _ in range(MAX_CHAIN):
        query = sa.select(Customer.merged_into_id).where(Customer.id == current)
        following = session.scalar(query.with_for_update(read=True) if lock else query)
        if following is None:
            return current
        current = following
    return current


@dataclass(frozen=True)
class Decision:
    customer_id: int | None  # the profile matching chose (a merged one is resolved when the order is linked)
    reason: str
    created: bool = False
    detail: str = ""


def _earlier_contact(session: Session, seller_id: int, who: Identity) -> int | None:
    """The profile an earlier order with the same phone, name and address was linked to."""
    return session.scalar(sa.select(CustomerLink.customer_id).where(
        CustomerLink.seller_id == seller_id, CustomerLink.phone_key == who.phone, CustomerLink.name_key == who.name,
        CustomerLink.address_key == who.address, CustomerLink.customer_id.isnot(None)).order_by(CustomerLink.id)
        .limit(1))


def _adopt_email(session: Session, customer_id: int, email: str) -> bool:
    """Give an email-less profile the email of a later order by the same phone, name and address. The unique index
    decides: when another transaction has just made a profile of that email, this one stays without it."""
    try:
        with session.begin_nested():
            changed = session.execute(
                sa.update(Customer).where(Customer.id == customer_id, Customer.email_key.is_(None))
                .values(email_key=email, updated_at=utcnow()), execution_options={"synchronize_session": False})
    except IntegrityError:
        return False
    return bool(changed.rowcount)


def decide(session: Session, seller_id: int, order: Order, who: Identity, view: OrderView) -> Decision:
    if who.masked:
        if not who.buyer_id:
            return Decision(None, MASKED_UNLINKED, detail=who.masked_why)
        customer_id, created = _claim(session, seller_id, order.buyer_name or who.buyer_id,
                                      match=matching.channel_key(view.channel_id, who.buyer_id))
        return Decision(customer_id, MASKED, created, f"{who.masked_why}; channel buyer id {who.buyer_id}")
    contact = matching.contact_key(who)
    if who.email:
        known = session.scalar(sa.select(Customer.id).where(Customer.seller_id == seller_id,
                                                            Customer.email_key == who.email))
        # A first email of a buyer known so far only by phone, name and address (a guest checkout without email):
        # that profile takes the email, if it has none yet. A profile with another email stays another person.
        if known is None and contact is not None:
            earlier = _earlier_contact(session, seller_id, who)
            if earlier is not None and _adopt_email(session, resolve(session, earlier), who.email):
                return Decision(earlier, CONTACT, False,
                                "same phone, name and address as an earlier order; the profile takes this email")
        customer_id, created = _claim(session, seller_id, order.buyer_name, email=who.email, phone=who.phone)
        if not created:
            name = session.scalar(sa.select(Customer.name).where(Customer.id == customer_id)) or ""
            if matching.names_conflict(name, order.buyer_name):
                return Decision(customer_id, EMAIL_NAMES_DIFFER, False,
                                f"profile name {name!r}, this order's {order.buyer_name!r}")
        return Decision(customer_id, EMAIL, created)
    if contact is None:
        return Decision(None, NO_KEYS)
    earlier = _earlier_contact(session, seller_id, who)
    if earlier is not None:
        return Decision(earlier, CONTACT, False, "same phone, name and address as an earlier order")
    customer_id, created = _claim(session, seller_id, order.buyer_name, phone=who.phone, match=contact)
    return Decision(customer_id, CONTACT, created)


def link_order(session: Session, order: Order) -> CustomerLink:
    """Link a new order to its buyer's profile (made if new) and record why. Once per order: a second call
    returns the first decision. Call it in the transaction that creates the order."""
    existing = session.scalar(sa.select(CustomerLink).where(CustomerLink.order_id == order.id))
    if existing is not None:
        return existing
    view = _view(session, order)
    who = matching.identify(view)
    decision = decide(session, order.seller_id, order, who, view)
    current = resolve(session, decision.customer_id, lock=True) if decision.customer_id is not None else None
    reason = decision.reason + (NEW if decision.created else "")
    link = CustomerLink(seller_id=order.seller_id, order_id=order.id, customer_id=decision.customer_id,
                        reason=decision.reason, detail=decision.detail, created_profile=decision.created,
                        email_key=who.email, phone_key=who.phone, name_key=who.name, address_key=who.address)
    session.add(link)
    order.customer_id = current
    order.customer_match = reason[:64]
    session.flush()
    return link


def customer_for_email(session: Session, seller_id: int, email: str, name: str = "") -> Customer:
    """The seller's profile for this email (following merges), made if there is none. Race-safe: two calls at
    once for one email get the same row. Raises ValidationError for something that is not a usable email."""
    key = matching.email_key(email)
    if key is None:
        raise ValidationError("not a usable email address", fields={"email": "not a usable email address"})
    customer_id, _ = _claim(session, seller_id, name, email=key)
    return session.get_one(Customer, resolve(session, customer_id))


def backfill(session: Session, seller_id: int, *, batch: int = 500, limit: int | None = None) -> int:
    """Link the seller's orders that have no link yet, oldest first, at most `limit`; returns how many. Flushes
    per batch, the caller commits (the CLI after each `limit`, so a long history is done in several transactions)."""
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        orders = session.scalars(
            sa.select(Order).where(Order.seller_id == seller_id, ~sa.exists().where(CustomerLink.order_id == Order.id))
            .order_by(Order.placed_at, Order.id).limit(size)).all()
        for order in orders:
            link_order(session, order)
        done += len(orders)
        if len(orders) < size:
            break
    return done


# --- merging --------------------------------------------------------------------------------------------------

def get_customer(session: Session, actor: Actor, customer_id: int, *, for_update: bool = False) -> Customer:
    query = sa.select(Customer).where(Customer.id == customer_id, actor.sees(Customer.seller_id))
    if for_update:
        query = query.with_for_update()
    customer = session.scalar(query)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def _family(session: Session, customer_id: int) -> set[int]:
    """The profile and every profile merged into it, directly or through others."""
    family, frontier = {customer_id}, {customer_id}
    for _ in range(MAX_CHAIN):
        frontier = set(session.scalars(sa.select(Customer.id).where(Customer.merged_into_id.in_(frontier)))) - family
        if not frontier:
            break
        family |= frontier
    return family


def merge(session: Session, actor: Actor, into_id: int, other_id: int) -> CustomerMerge:
    """Merge profile `other_id` into `into_id`: its orders move over, it is kept, marked merged, for an un-merge."""
    actor.require(Role.STAFF, "merge customers")
    if into_id == other_id:
        raise ValidationError("a profile cannot be merged into itself", fields={"other_id": "the same profile"})
    # Locks in id order, so two merges of the same pair the other way round wait instead of deadlocking.
    first, second = sorted((into_id, other_id))
    locked = {c.id: c for c in (get_customer(session, actor, first, for_update=True),
                                get_customer(session, actor, second, for_update=True))}
    into, other = locked[into_id], locked[other_id]
    if into.seller_id != other.seller_id:
        raise NotFound(f"customer {other_id} not found")
    for customer in (into, other):
        if customer.merged_into_id is not None:
            raise Conflict(f"customer {customer.id} is already merged into {customer.merged_into_id}; "
                           f"use that profile", fields={"other_id": "already merged"}, code="already_merged")
    moved = list(session.scalars(sa.select(Order.id).where(Order.customer_id == other.id).order_by(Order.id)))
    if moved:
        session.execute(sa.update(Order).where(Order.id.in_(moved)).values(customer_id=into.id),
                        execution_options={"synchronize_session": False})
    now = utcnow()
    other.merged_into_id, other.updated_at, into.updated_at = into.id, now, now
    record = CustomerMerge(seller_id=into.seller_id, into_id=into.id, other_id=other.id, order_ids=moved,
                           merged_by=actor.label[:120], merged_at=now)
    session.add(record)
    session.flush()
    return record


def unmerge(session: Session, actor: Actor, customer_id: int) -> CustomerMerge:
    """Undo the merge of `customer_id` into another profile: it stands on its own again with the orders the merge
    moved and those linked to it since, and the profiles merged into it stay with it."""
    actor.require(Role.STAFF, "un-merge customers")
    other = get_customer(session, actor, customer_id, for_update=True)
    if other.merged_into_id is None:
        raise Conflict(f"customer {customer_id} is not merged into another profile", code="not_merged")
    holder = resolve(session, other.merged_into_id)
    record = session.scalar(sa.select(CustomerMerge).where(
        CustomerMerge.other_id == other.id, CustomerMerge.unmerged_at.is_(None)).order_by(CustomerMerge.id.desc())
        .limit(1))
    homed = sa.select(CustomerLink.order_id).where(CustomerLink.customer_id.in_(_family(session, other.id)))
    moved_by_merge = record.order_ids if record is not None else []
    restored = list(session.scalars(sa.select(Order.id).where(
        Order.customer_id == holder, sa.or_(Order.id.in_(homed), Order.id.in_(moved_by_merge))).order_by(Order.id)))
    if restored:
        session.execute(sa.update(Order).where(Order.id.in_(restored)).values(customer_id=other.id),
                        execution_options={"synchronize_session": False})
    now = utcnow()
    other.merged_into_id, other.updated_at = None, now
    if record is None:  # merged before merges were recorded: record the undoing all the same
        record = CustomerMerge(seller_id=other.seller_id, into_id=holder, other_id=other.id, order_ids=[],
                               merged_by="", merged_at=now)
        session.add(record)
    record.unmerged_by, record.unmerged_at, record.restored_order_ids = actor.label[:120], now, restored
    session.flush()
    return record


# --- reading --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    email_key: str | None
    phone_key: str | None
    orders: int
    last_order_at: datetime | None


def list_customers(session: Session, actor: Actor, *, q: str = "", after_id: int = 0,
                   limit: int = PAGE) -> list[CustomerRow]:
    """The seller's profiles (not the merged-away ones), newest first, a keyset page after `after_id`. `q` finds
    a part of a name or of an email, or a whole email however it is written (Gmail dots and tags)."""
    query = sa.select(Customer).where(actor.sees(Customer.seller_id), Customer.merged_into_id.is_(None))
    term = q.strip()[:200]
    if term:
        escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions = [sa.func.lower(Customer.name).like(pattern, escape="\\"),
                      Customer.email_key.like(pattern, escape="\\")]
        key = matching.email_key(term)
        if key:
            conditions.append(Customer.email_key == key)
        query = query.where(sa.or_(*conditions))
    if after_id:
        query = query.where(Customer.id < after_id)
    customers = session.scalars(query.order_by(Customer.id.desc()).limit(limit)).all()
    stats = {row.customer_id: row for row in session.execute(
        sa.select(Order.customer_id, sa.func.count().label("n"), sa.func.max(Order.placed_at).label("last"))
        .where(Order.customer_id.in_([c.id for c in customers])).group_by(Order.customer_id))} if customers else {}
    return [CustomerRow(c.id, c.name, c.email_key, c.phone_key, stats[c.id].n if c.id in stats else 0,
                        stats[c.id].last if c.id in stats else None) for c in customers]


@dataclass(frozen=True)
class CustomerOrder:
    order: Order
    channel: str
    reason: str
    detail: str
    home_id: int | None  # the profile matching chose, when it is not the one shown (a merged profile)
    base_total: Money | None


@dataclass
class CustomerDetail:
    customer: Customer
    orders: list[CustomerOrder]
    totals: list[Money]  # per order currency, cancelled orders left out
    base_total: Money | None  # the same in the seller's base currency, from each order's FX snapshot
    unconverted: int  # orders counted in `totals` without a base-currency snapshot
    first_order_at: datetime | None
    last_order_at: datetime | None
    holder_id: int | None  # for a merged profile: the profile its orders are on now
    merged: list[Customer] = field(default_factory=list)  # profiles merged into this one
    history: list[CustomerMerge] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)


NOT_COUNTED = (OrderStatus.CANCELLED,)


def customer_detail(session: Session, actor: Actor, customer_id: int) -> CustomerDetail:
    """A profile with its orders from every channel. A merged profile shows the orders it brought (they are on
    the surviving profile now)."""
    customer = get_customer(session, actor, customer_id)
    holder = resolve(session, customer.merged_into_id) if customer.merged_into_id is not None else None
    query = (sa.select(Order, Channel.name, CustomerLink, OrderFx)
             .join(Channel, Channel.id == Order.channel_id)
             .outerjoin(CustomerLink, CustomerLink.order_id == Order.id)
             .outerjoin(OrderFx, OrderFx.order_id == Order.id))
    if holder is None:
        query = query.where(Order.customer_id == customer.id)
    else:
        query = query.where(CustomerLink.customer_id == customer.id)
    rows = session.execute(query.where(Order.seller_id == customer.seller_id)
                           .order_by(Order.placed_at.desc(), Order.id.desc())).all()
    base_currency = session.scalar(sa.select(Seller.base_currency).where(Seller.id == customer.seller_id)) or ""
    orders, sums = [], {}
    base_sum, unconverted = Decimal(0), 0
    for order, channel_name, link, fx in rows:
        base = Money(fx.grand_total, fx.base_currency).rounded() if fx is not None else None
        home = link.customer_id if link is not None and link.customer_id != customer.id else None
        orders.append(CustomerOrder(order, channel_name, order.customer_match, link.detail if link else "", home,
                                    base))
        if order.status in NOT_COUNTED:
            continue
        sums[order.currency] = sums.get(order.currency, Decimal(0)) + order.grand_total
        if base is not None and base.currency == base_currency:
            base_sum += base.amount
        else:
            unconverted += 1
    placed = [o.order.placed_at for o in orders]
    merged = list(session.scalars(sa.select(Customer).where(Customer.merged_into_id == customer.id)
                                  .order_by(Customer.id)))
    history = list(session.scalars(sa.select(CustomerMerge).where(
        sa.or_(CustomerMerge.into_id == customer.id, CustomerMerge.other_id == customer.id))
        .order_by(CustomerMerge.id.desc()).limit(50)))
    return CustomerDetail(
        customer=customer, orders=orders,
        totals=[Money(amount, currency).rounded() for currency, amount in sorted(sums.items())],
        base_total=Money(base_sum, base_currency).rounded() if base_currency and sums else None,
        unconverted=unconverted, first_order_at=min(placed) if placed else None,
        last_order_at=max(placed) if placed else None, holder_id=holder, merged=merged, history=history,
        channels=sorted({o.channel for o in orders}))


def orders_of(session: Session, seller_id: int, customer_id: int) -> list[int]:
    """The ids of the orders on a profile now (for other modules: recommendations group a buyer's history)."""
    return list(session.scalars(sa.select(Order.id).where(Order.seller_id == seller_id,
                                                          Order.customer_id == customer_id).order_by(Order.id)))

