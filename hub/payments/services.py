"""Payment use cases: pay an order, capture, refund, void, refresh; take in and apply provider notifications;
reconcile what was left unknown.

Only orders of the seller's own site (the direct channel) are paid through the hub; marketplace orders arrive
paid. The payment has its own state machine (hub.payments.states) and drives the order's through
hub.orders.services.move, which writes the order's timeline (and its order.* events).

Idempotency. Each provider call is a PaymentAttempt whose key is COMMITTED before the call: these services
commit the session they are given (once before the call, once after a transport failure), so they must not
run inside `sessionmaker.begin()`; use a plain session (or the request's) and commit at the end, as the web
layer does. A transport failure after the provider acted (the connection dropped after the charge) leaves
the attempt `unknown`; the next try of the same operation (the user again, or reconcile_pending) sends the
same key, and the provider replays its first answer instead of charging again.

Amounts only grow and statuses only move forward (hub.payments.states), so a webhook that repeats or
precedes an answer changes nothing twice: captured comes from the provider's cumulative figure, refunded is
the larger of the provider's cumulative figure and the sum of the refunds the hub made.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.channels.models import DIRECT
from hub.channels.secrets import CredentialBox
from hub.db import dialect_insert
from hub.errors import Conflict, DomainError, ExternalError, NotFound, PermanentError, TransientError, ValidationError
from hub.money import Money
from hub.orders import services as orders
from hub.orders.models import Order
from hub.orders.schemas import StatusMove
from hub.orders.status import OrderStatus
from hub.orders.totals import exact
from hub.outbox import EventKind, emit
from hub.payments import registry, states
from hub.payments.models import (
    OPEN_ATTEMPTS,
    AttemptStatus,
    Operation,
    Payment,
    PaymentAccount,
    PaymentAttempt,
    PaymentNotification,
)
from hub.payments.port import (
    NotificationParser,
    PaymentDeclined,
    PaymentProvider,
    PaymentRequest,
    PaymentStatus,
    ProviderPayment,
    ProviderRefund,
)
from hub.tenancy import owned
from hub.timeutil import utcnow

log = logging.getLogger(__name__)

P = PaymentStatus
ProviderFactory = Callable[[PaymentAccount], PaymentProvider]
ParserFactory = Callable[[PaymentAccount], NotificationParser]
T = TypeVar("T")

# Stripe keeps an idempotency key for 24 h: an attempt older than this is never re-sent with its key, since the
# provider would no longer recognise it and might act twice. It waits for a person (or a query shows the truth).
KEY_LIFETIME = timedelta(hours=23)
# A notification for a payment the hub does not know yet (its create call has not come back) is retried by the
# next runs for this long, then set aside with its error.
ORPHAN_PATIENCE = timedelta(days=1)


# --- accounts ----------------------------------------------------------------------------------------------

def add_account(session: Session, actor: Actor, box: CredentialBox, provider: str, credentials: dict[str, str], *,
                base_url: str | None = None, name: str = "") -> PaymentAccount:
    """Connect a provider account; its credentials (webhook secret included) are sealed at rest."""
    actor.require(Role.OWNER, "connect payment accounts")
    module = registry.package(provider)
    missing = [f for f in module.CREDENTIAL_FIELDS if not credentials.get(f)]
    if missing:
        raise ValidationError(f"{provider} needs {', '.join(missing)}", fields={f: "required" for f in missing})
    url = base_url or getattr(module, "DEFAULT_BASE_URL", "")
    if not url:
        raise ValidationError("a base URL is needed", fields={"base_url": "required"})
    account = PaymentAccount(seller_id=actor.acting_seller("connect payment accounts"), provider=provider,
                             name=name or provider, base_url=url, credentials_encrypted=box.seal(credentials))
    session.add(account)
    session.flush()
    return account


def _account(session: Session, actor: Actor, account_id: int) -> PaymentAccount:
    return owned(session, actor, PaymentAccount, account_id, "payment account", PaymentAccount.enabled.is_(True))


def get_payment(session: Session, actor: Actor, payment_id: int) -> Payment:
    return owned(session, actor, Payment, payment_id, "payment")


def payments_of(session: Session, actor: Actor, order_id: int) -> list[Payment]:
    return list(session.scalars(sa.select(Payment).where(Payment.order_id == order_id,
                                                         actor.sees(Payment.seller_id)).order_by(Payment.id)))


def _lock(session: Session, payment: Payment) -> None:
    """Re-read the payment under a row lock: a webhook may have moved it while the provider call ran. What this
    session changed (the attempt's outcome) is flushed first, so the re-read keeps it."""
    session.flush()
    session.refresh(payment, with_for_update=True)


# --- attempts: the key is in the database before the call ----------------------------------------------------

def _open_attempt(payment: Payment, operation: Operation, amount: Decimal | None) -> PaymentAttempt | None:
    for attempt in payment.attempts:
        if attempt.operation is operation and attempt.status in OPEN_ATTEMPTS and attempt.amount == amount:
            return attempt
    return None


def _attempt(payment: Payment, operation: Operation, amount: Decimal | None) -> PaymentAttempt:
    """The open attempt of this operation (same amount) if there is one, so a retry reuses its key; else a new one."""
    attempt = _open_attempt(payment, operation, amount)
    if attempt is None:
        attempt = PaymentAttempt(seller_id=payment.seller_id, operation=operation, amount=amount,
                                 idempotency_key=f"hub-{operation}-{uuid.uuid4().hex}", status=AttemptStatus.STARTED,
                                 tries=0, error="", created_at=utcnow())
        payment.attempts.append(attempt)
    return attempt


def _send(session: Session, attempt: PaymentAttempt, call: Callable[[str], T]) -> T:
    """Commit the attempt (and its key), then call. A transport failure leaves it `unknown` (committed) and is
    raised; a refusal marks it failed and is raised; success marks it succeeded (committed by the caller)."""
    attempt.tries += 1
    attempt.status = AttemptStatus.STARTED
    session.commit()
    try:
        result = call(attempt.idempotency_key)
    except TransientError as exc:
        attempt.status = AttemptStatus.UNKNOWN
        attempt.error = exc.message[:500]
        session.commit()
        raise
    except PermanentError as exc:
        # Refused: committed, so the next try of the operation is a new attempt with a new key.
        attempt.status = AttemptStatus.FAILED
        attempt.error = exc.message[:500]
        attempt.finished_at = utcnow()
        session.commit()
        raise
    attempt.status = AttemptStatus.SUCCEEDED
    attempt.finished_at = utcnow()
    raw = getattr(result, "raw", None)
    attempt.response = dict(raw) if isinstance(raw, dict) else None
    if isinstance(result, ProviderRefund):
        attempt.provider_ref = result.provider_id
    return result


# --- applying what the provider reports --------------------------------------------------------------------

def _apply(session: Session, actor: Actor, payment: Payment, status: PaymentStatus, *,
           provider_id: str | None = None, captured: Money | None = None, refunded: Money | None = None,
           failure_reason: str = "", action_url: str | None = None) -> bool:
    """Move the payment forward (never back) and the order with it. Returns whether anything changed."""
    changed = False
    if provider_id and not payment.provider_id:
        payment.provider_id = provider_id
        changed = True
    if action_url and not payment.action_url:
        payment.action_url = action_url
    if captured is not None and captured.currency == payment.currency and captured.amount > payment.captured:
        payment.captured = captured.amount
        changed = True
    refunds = _hub_refunds(payment)
    new_refunded = max(payment.refunded, refunds, refunded.amount if refunded is not None
                       and refunded.currency == payment.currency else Decimal(0))
    if new_refunded > payment.refunded:
        payment.refunded = new_refunded
        changed = True
    target = status
    if target is P.PARTIALLY_REFUNDED and payment.captured and payment.refunded >= payment.captured:
        target = P.REFUNDED
    if states.advances(payment.status, target) and (target is not payment.status or changed):
        if target is not payment.status:
            log.info("payment %s: %s -> %s", payment.id, payment.status, target)
        payment.status = target
        changed = True
        if target is P.FAILED:
            payment.failure_reason = failure_reason[:500]
            emit(session, payment.seller_id, EventKind.PAYMENT_FAILED, f"order:{payment.order_id}", {
                "payment_id": payment.id, "order_id": payment.order_id, "provider": payment.provider,
                "provider_id": payment.provider_id, "amount": str(payment.amount), "currency": payment.currency,
                "reason": payment.failure_reason})
    if changed:
        payment.updated_at = utcnow()
        _follow_order(session, actor, payment)
    return changed


def _hub_refunds(payment: Payment) -> Decimal:
    return sum((a.amount or Decimal(0) for a in payment.attempts
                if a.operation is Operation.REFUND and a.status is AttemptStatus.SUCCEEDED), Decimal(0))


def _apply_payment(session: Session, actor: Actor, payment: Payment, reported: ProviderPayment) -> bool:
    return _apply(session, actor, payment, reported.status, provider_id=reported.provider_id,
                  captured=reported.captured, refunded=reported.refunded, failure_reason=reported.failure_reason,
                  action_url=reported.action_url)


def _follow_order(session: Session, actor: Actor, payment: Payment) -> None:
    """The order's status follows the money: captured -> paid; refunds -> partially_refunded / refunded."""
    order = session.get(Order, payment.order_id)
    if order is None:
        return
    # The user who took the payment moves the order; a webhook or a job moves it as the system.
    mover = actor if actor.seller_id == payment.seller_id else Actor.system(payment.seller_id, label=payment.provider)
    try:
        if payment.status in (P.CAPTURED, P.PARTIALLY_REFUNDED, P.REFUNDED) and order.status is OrderStatus.PENDING:
            orders.move(session, mover, order.id, StatusMove(
                status=OrderStatus.PAID, note=f"paid through {payment.provider} {payment.provider_id or ''}".strip()))
        if order.status in (OrderStatus.CANCELLED, OrderStatus.REFUNDED, OrderStatus.PENDING):
            return
        note = f"refunded through {payment.provider} {payment.provider_id or ''}".strip()
        if payment.status is P.REFUNDED:
            orders.move(session, mover, order.id, StatusMove(status=OrderStatus.REFUNDED, note=note))
        elif payment.refunded > order.refunded_total:
            orders.move(session, mover, order.id, StatusMove(
                status=OrderStatus.PARTIALLY_REFUNDED, amount=payment.refunded - order.refunded_total, note=note))
    except DomainError as exc:
        # The order went its own way meanwhile (cancelled by hand while the charge ran): the payment still records
        # what the provider did, and the mismatch is in the log for a person to settle.
        log.warning("payment %s is %s but order %s cannot follow: %s", payment.id, payment.status, order.id,
                    exc.message)


# --- the use cases ------------------------------------------------------------------------------------------

def pay_order(session: Session, actor: Actor, order_id: int, account_id: int, *, providers: ProviderFactory,
              payment_method: str | None = None, capture: bool = True, return_url: str | None = None,
              notify_url: str | None = None) -> Payment:
    """Charge (capture=True) or authorize a pending direct order's total. A declined payment is a result, not an
    error: it comes back failed with its reason (and payment.failed is emitted). A transport failure raises
    TransientError with the attempt kept open: calling again re-sends the same key."""
    actor.require(Role.STAFF, "take payments")
    order = orders.get_order(session, actor, order_id, for_update=True)
    if order.channel.kind != DIRECT:
        raise Conflict("marketplace orders are paid at the marketplace, not through the hub",
                       code="not_payable")
    account = _account(session, actor, account_id)
    payment = None
    for existing in payments_of(session, actor, order_id):
        if existing.status in states.HOLDS_MONEY or existing.status is P.REFUNDED:
            raise Conflict(f"order {order_id} is already paid (payment {existing.id} is {existing.status})",
                           code="already_paid")
        unresolved = _open_attempt(existing, Operation.CREATE, None) if existing.status is P.PENDING else None
        if unresolved is not None and (existing.account_id != account.id
                                       or utcnow() - unresolved.created_at >= KEY_LIFETIME):
            # Its charge may have gone through: charging anew (elsewhere, or with a key the provider has forgotten)
            # could take the money twice. Reconcile or a person settles it first.
            raise Conflict(f"payment {existing.id} of order {order_id} has an unresolved charge; refresh it first",
                           code="payment_unresolved")
        if existing.status is P.PENDING and existing.account_id == account.id:
            payment = existing  # a create that never came back, or a payer who has not approved yet
    if order.status is not OrderStatus.PENDING:
        raise Conflict(f"only a pending order can be paid; order {order_id} is {order.status}", code="not_payable")
    if payment is None:
        payment = Payment(seller_id=order.seller_id, order_id=order.id, account_id=account.id,
                          provider=account.provider, reference=f"pay_{uuid.uuid4().hex[:24]}",
                          status=P.PENDING, currency=order.currency, amount=order.grand_total,
                          captured=Decimal(0), refunded=Decimal(0), capture_requested=capture,
                          payment_method=payment_method, return_url=return_url, notify_url=notify_url,
                          failure_reason="", created_at=utcnow(), updated_at=utcnow())
        session.add(payment)
    elif _open_attempt(payment, Operation.CREATE, None) is None and payment.provider_id:
        return refresh(session, actor, payment.id, providers=providers)  # created already: ask where it stands
    attempt = _attempt(payment, Operation.CREATE, None)
    return _create(session, actor, payment, attempt, providers(account))


def _create(session: Session, actor: Actor, payment: Payment, attempt: PaymentAttempt,
            provider: PaymentProvider) -> Payment:
    # Built from the row alone: every try of this attempt sends the very same parameters with its key.
    request = PaymentRequest(reference=payment.reference, amount=payment.money(payment.amount),
                             capture=payment.capture_requested, description=f"order {payment.order_id}",
                             return_url=payment.return_url, notify_url=payment.notify_url,
                             payment_method=payment.payment_method)
    try:
        reported = _send(session, attempt, lambda key: provider.create(request, key))
    except PaymentDeclined as exc:
        _lock(session, payment)
        _apply(session, actor, payment, P.FAILED, failure_reason=getattr(exc, "reason", "") or exc.message)
        return payment
    except PermanentError as exc:
        _lock(session, payment)
        _apply(session, actor, payment, P.FAILED, failure_reason=exc.message)
        return payment
    _lock(session, payment)
    _apply_payment(session, actor, payment, reported)
    return payment


def capture(session: Session, actor: Actor, payment_id: int, amount: Decimal | None = None, *,
            providers: ProviderFactory) -> Payment:
    """Capture an authorized payment, all of it (amount None) or part; the rest is released by the provider."""
    actor.require(Role.STAFF, "capture payments")
    payment = get_payment(session, actor, payment_id)
    if payment.status is not P.AUTHORIZED or not payment.provider_id:
        raise Conflict(f"only an authorized payment can be captured; payment {payment_id} is {payment.status}",
                       code="not_capturable")
    money = _amount(payment, amount, payment.money(payment.amount), "capture")
    provider_id, provider = payment.provider_id, providers(payment.account)  # read before _send commits
    attempt = _attempt(payment, Operation.CAPTURE, money.amount if money else None)
    reported = _send(session, attempt, lambda key: provider.capture(provider_id, money, key))
    _lock(session, payment)
    _apply_payment(session, actor, payment, reported)
    return payment


def refund(session: Session, actor: Actor, payment_id: int, amount: Decimal | None = None, *,
           providers: ProviderFactory) -> Payment:
    """Refund what is left (amount None) or part of it. Partial refunds that add up to the capture make the
    payment (and, through it, the order) refunded."""
    actor.require(Role.STAFF, "refund payments")
    payment = get_payment(session, actor, payment_id)
    if payment.status not in (P.CAPTURED, P.PARTIALLY_REFUNDED) or not payment.provider_id:
        raise Conflict(f"only a captured payment can be refunded; payment {payment_id} is {payment.status}",
                       code="not_refundable")
    left = payment.money(payment.captured) - payment.money(payment.refunded)
    money = _amount(payment, amount, left, "refund") or left
    provider_id, provider = payment.provider_id, providers(payment.account)
    attempt = _attempt(payment, Operation.REFUND, money.amount)
    done = _send(session, attempt, lambda key: provider.refund(provider_id, money, key))
    _refund_done(session, actor, payment, attempt, done)
    return payment


def void(session: Session, actor: Actor, payment_id: int, *, providers: ProviderFactory) -> Payment:
    """Release an authorization (or abandon a payment the payer never completed)."""
    actor.require(Role.STAFF, "void payments")
    payment = get_payment(session, actor, payment_id)
    if payment.status not in states.OPEN or not payment.provider_id:
        raise Conflict(f"only an authorized or pending payment can be voided; payment {payment_id} is "
                       f"{payment.status}", code="not_voidable")
    provider_id, provider = payment.provider_id, providers(payment.account)
    attempt = _attempt(payment, Operation.VOID, None)
    reported = _send(session, attempt, lambda key: provider.void(provider_id, key))
    _lock(session, payment)
    _apply_payment(session, actor, payment, reported)
    return payment


def cancel_order(session: Session, actor: Actor, order_id: int, *, providers: ProviderFactory,
                 note: str = "") -> Order:
    """Cancel a pending order, voiding its authorized payments first (a captured one must be refunded instead)."""
    actor.require(Role.STAFF, "cancel orders")
    for payment in payments_of(session, actor, order_id):
        if payment.status in (P.CAPTURED, P.PARTIALLY_REFUNDED):
            raise Conflict(f"payment {payment.id} is captured: refund it rather than cancel the order",
                           code="captured")
        if payment.status in states.OPEN and payment.provider_id:
            void(session, actor, payment.id, providers=providers)
    return orders.move(session, actor, order_id, StatusMove(status=OrderStatus.CANCELLED, note=note))


def refresh(session: Session, actor: Actor, payment_id: int, *, providers: ProviderFactory) -> Payment:
    """Ask the provider where a payment stands. A create whose answer was lost is re-sent with its own key
    first (the provider replays it), since without it the hub has no provider id to ask about."""
    payment = get_payment(session, actor, payment_id)
    provider = providers(payment.account)
    pending_create = _open_attempt(payment, Operation.CREATE, None)
    if pending_create is not None:
        if utcnow() - pending_create.created_at < KEY_LIFETIME:
            return _create(session, actor, payment, pending_create, provider)
        pending_create.error = "its key has expired at the provider; not re-sent"
    if not payment.provider_id:
        return payment
    session.commit()  # no transaction (and no SQLite write lock) stays open across the call
    reported = provider.query(payment.provider_id)
    _lock(session, payment)
    _apply_payment(session, actor, payment, reported)
    return payment


def _amount(payment: Payment, amount: Decimal | None, most: Money, action: str) -> Money | None:
    if amount is None:
        return None
    money = exact(amount, payment.currency, "amount")
    if money.amount <= 0 or money > most:
        raise ValidationError(f"cannot {action} {money}: at most {most}", fields={"amount": f"at most {most.amount}"})
    return money


# --- notifications ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Receipt:
    stored: bool  # False: a duplicate of a delivery already stored
    acknowledgement: tuple[int, str, str]  # status, content type, body: what the provider expects back


def receive_notification(session: Session, provider: str, account_id: int, headers: dict[str, str], body: bytes, *,
                         parsers: ParserFactory, now: datetime | None = None) -> Receipt:
    """Verify and store one delivery. A bad or stale signature raises SignatureInvalid (400) before anything is
    written. Applying is the job's (apply_pending_notifications), so the answer comes within one transaction."""
    account = session.get(PaymentAccount, account_id)
    if account is None or account.provider != provider or not account.enabled:
        raise NotFound(f"no {provider} account {account_id}")
    parser = parsers(account)
    event = parser.parse(headers, body, now or utcnow())
    values: dict[str, Any] = {
        "seller_id": account.seller_id, "account_id": account.id, "provider": provider,
        "event_id": event.event_id[:128], "provider_id": event.provider_id[:128],
        "reference": (event.reference or None) and event.reference[:64], "event_status": event.status,
        "amount": event.amount.amount if event.amount else None,
        "currency": event.amount.currency if event.amount else None, "occurred_at": event.occurred_at,
        "body": body.decode("utf-8", "replace"), "received_at": utcnow(), "error": ""}
    # The unique (provider, event_id) decides, not a read before the insert: two racing deliveries store one row.
    table = PaymentNotification.__table__
    new_id = session.execute(dialect_insert(session)(table).values(**values).on_conflict_do_nothing()
                             .returning(table.c.id)).scalar()
    return Receipt(stored=new_id is not None, acknowledgement=parser.acknowledgement())


@dataclass
class Applied:
    applied: int = 0
    unchanged: int = 0
    waiting: int = 0
    failed: int = 0


def apply_pending_notifications(session: Session, *, limit: int = 200, now: datetime | None = None) -> Applied:
    """Apply stored notifications in the order the provider says they happened; each in a savepoint, so one
    bad row never holds up the rest. Safe to run twice or concurrently with a webhook: statuses only move
    forward and amounts only grow."""
    now = now or utcnow()
    counts = Applied()
    pending = session.scalars(sa.select(PaymentNotification).where(PaymentNotification.applied_at.is_(None))
                              .order_by(PaymentNotification.occurred_at, PaymentNotification.id).limit(limit)).all()
    for note in pending:
        payment = _payment_for(session, note)
        if payment is None:
            if note.event_status is P.PENDING:  # no news about a payment the hub does not know: nothing to wait for
                note.applied_at, note.error = now, "no payment with this id; the event reports nothing new"
                counts.unchanged += 1
            elif now - note.received_at > ORPHAN_PATIENCE:
                note.applied_at, note.error = now, "no payment with this id"
                counts.failed += 1
            else:
                note.error = "no payment with this id yet"
                counts.waiting += 1
            continue
        try:
            with session.begin_nested():
                _lock(session, payment)
                amount = Money(note.amount, note.currency) if note.amount is not None and note.currency else None
                refunds = note.event_status in (P.PARTIALLY_REFUNDED, P.REFUNDED)
                changed = _apply(session, Actor.system(payment.seller_id, label=f"{note.provider} webhook"), payment,
                                 note.event_status, provider_id=note.provider_id or None,
                                 captured=amount if note.event_status is P.CAPTURED else None,
                                 refunded=amount if refunds else None,
                                 failure_reason=f"{note.provider} reported the payment failed")
                note.applied_at, note.error = now, ""
        except (DomainError, ExternalError) as exc:
            note.error = exc.message[:500]
            counts.failed += 1
            continue
        if changed:
            counts.applied += 1
        else:
            counts.unchanged += 1
    session.flush()
    return counts


def _payment_for(session: Session, note: PaymentNotification) -> Payment | None:
    base = sa.select(Payment).where(Payment.seller_id == note.seller_id, Payment.provider == note.provider)
    payment = session.scalar(base.where(Payment.provider_id == note.provider_id)) if note.provider_id else None
    if payment is None and note.reference:
        payment = session.scalar(base.where(Payment.reference == note.reference))
    return payment


# --- reconciliation -----------------------------------------------------------------------------------------

@dataclass
class Reconciled:
    checked: int = 0
    changed: int = 0
    failed: int = 0


def reconcile_pending(session: Session, *, providers: ProviderFactory, older_than_minutes: int = 15,
                      now: datetime | None = None, limit: int = 100) -> Reconciled:
    """Payments still pending, and provider calls left unknown, for longer than the grace period: re-send each
    open call with its own key (the provider replays it if it was done), then ask the provider for the rest.
    Commits after each payment; one provider's outage does not stop the others."""
    cutoff = (now or utcnow()) - timedelta(minutes=older_than_minutes)
    with_open_attempts = sa.select(PaymentAttempt.payment_id).where(PaymentAttempt.status.in_(OPEN_ATTEMPTS),
                                                                    PaymentAttempt.created_at < cutoff)
    ids = session.scalars(sa.select(Payment.id).where(
        sa.or_(sa.and_(Payment.status == P.PENDING, Payment.updated_at < cutoff), Payment.id.in_(with_open_attempts))
    ).order_by(Payment.updated_at).limit(limit)).all()
    result = Reconciled()
    for payment_id in ids:
        payment = session.get(Payment, payment_id)
        if payment is None:
            continue
        actor = Actor.system(payment.seller_id, label="reconcile")
        before = (payment.status, payment.captured, payment.refunded, payment.provider_id)
        result.checked += 1
        try:
            _resume_open(session, actor, payment, providers)
            if payment.provider_id and payment.status in states.OPEN:
                refresh(session, actor, payment.id, providers=providers)
            session.commit()
        except (ExternalError, DomainError) as exc:
            session.commit()  # what was learnt (an attempt now unknown) stays
            log.warning("reconcile of payment %s: %s", payment.id, exc.message)
            result.failed += 1
            continue
        if (payment.status, payment.captured, payment.refunded, payment.provider_id) != before:
            result.changed += 1
    return result


def _resume_open(session: Session, actor: Actor, payment: Payment, providers: ProviderFactory) -> None:
    """Re-send each open (started or unknown) call with its own key, while the provider still knows the key."""
    provider = providers(payment.account)
    for attempt in list(payment.attempts):
        if attempt.status not in OPEN_ATTEMPTS:
            continue
        if utcnow() - attempt.created_at >= KEY_LIFETIME:
            attempt.error = "its key has expired at the provider; not re-sent: check the provider's dashboard"
            continue
        _resend(session, actor, payment, attempt, provider)


def _resend(session: Session, actor: Actor, payment: Payment, attempt: PaymentAttempt,
            provider: PaymentProvider) -> None:
    amount = payment.money(attempt.amount) if attempt.amount is not None else None
    provider_id = payment.provider_id
    if attempt.operation is Operation.CREATE:
        _create(session, actor, payment, attempt, provider)
    elif provider_id is None:
        return
    elif attempt.operation is Operation.CAPTURE:
        reported = _send(session, attempt, lambda key: provider.capture(provider_id, amount, key))
        _lock(session, payment)
        _apply_payment(session, actor, payment, reported)
    elif attempt.operation is Operation.VOID:
        reported = _send(session, attempt, lambda key: provider.void(provider_id, key))
        _lock(session, payment)
        _apply_payment(session, actor, payment, reported)
    elif attempt.operation is Operation.REFUND:
        done = _send(session, attempt, lambda key: provider.refund(provider_id, amount, key))
        _refund_done(session, actor, payment, attempt, done)


def _refund_done(session: Session, actor: Actor, payment: Payment, attempt: PaymentAttempt,
                 done: ProviderRefund) -> None:
    if not done.succeeded:
        attempt.status = AttemptStatus.FAILED
        session.commit()
        raise Conflict(f"{payment.provider} did not make the refund {done.provider_id}", code="refund_failed")
    _lock(session, payment)
    refunded = payment.money(max(payment.refunded, _hub_refunds(payment)))
    status = P.REFUNDED if refunded.amount >= payment.captured else P.PARTIALLY_REFUNDED
    _apply(session, actor, payment, status, refunded=refunded)
