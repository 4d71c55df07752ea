"""Exchange rates: today's rate for each currency pair the seller deals in, each pair's stored quotes, and the
manual override. Everyone reads; only a platform admin sets a manual rate (platform data, not a seller's).

The pairs are 1 base currency = x quote currency, for the seller's base currency and every currency of its
channels and of its orders of the last RECENT_DAYS, and the euro; a platform admin acting for no seller sees
the pairs of every seller's base currency. Rates come from hub.currency.rates.lookup, as orders and prices use them (EUR
quotes stored, other pairs crossed through EUR); a rate older than FX_MAX_AGE_DAYS is shown, flagged stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from hub.accounts.models import Seller
from hub.channels.models import Channel
from hub.currency.models import FxRate
from hub.currency.pricing import max_age_from
from hub.currency.rates import PIVOT, Quote, RateUnavailable, lookup
from hub.currency.store import set_manual_rate
from hub.db import MAX_ID
from hub.errors import ValidationError
from hub.extensions import db
from hub.money import is_currency
from hub.orders.models import Order
from hub.timeutil import utcnow
from hub.web.forms import failure, form_data

bp = Blueprint("fx", __name__, template_folder="templates", url_prefix="/fx")

PAGE = 50
RECENT_DAYS = 90  # orders this recent bring their currency to the page
MAX_PAIRS = 200
_CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2})_(\d{1,10})", re.ASCII)


@dataclass(frozen=True)
class PairRate:
    base: str
    quote: str
    found: Quote | None
    age_days: int | None
    error: str = ""


def _codes(values) -> set[str]:
    return {v for v in values if is_currency(v)}


def pairs_in_use(session, actor) -> list[tuple[str, str]]:
    """(base, quote) pairs: each base currency the actor sees, to every currency its channels and recent orders
    use. A seller sees its own; a platform admin (acting for no seller) every seller's."""
    since = utcnow() - timedelta(days=RECENT_DAYS)
    bases = _codes(session.scalars(sa.select(Seller.base_currency).where(actor.sees(Seller.id)).distinct()))
    used = _codes(session.scalars(sa.select(Channel.currency).where(actor.sees(Channel.seller_id)).distinct()))
    used |= _codes(session.scalars(sa.select(Order.currency).where(actor.sees(Order.seller_id),
                                                                   Order.placed_at >= since).distinct()))
    bases = bases or {PIVOT}
    used |= bases | {PIVOT}  # the rates' reference: its row shows whether any rate is stored at all
    return sorted((b, q) for b in bases for q in used if b != q)[:MAX_PAIRS]


def current_rates(session, actor, on: date) -> list[PairRate]:
    max_age = max_age_from(current_app.config)
    rows = []
    for base, quote in pairs_in_use(session, actor):
        try:
            found = lookup(session, base, quote, on, max_age_days=max_age, allow_stale=True)
        except RateUnavailable as exc:
            rows.append(PairRate(base, quote, None, None, exc.message))
            continue
        rows.append(PairRate(base, quote, found, (on - found.as_of).days))
    return rows


def _page(manual_form: dict | None = None, errors: dict | None = None, status: int = 200):
    today = utcnow().date()
    rows = current_rates(db(), current_user.actor, today)
    form = manual_form or {"day": today.isoformat()}
    return render_template("fx/rates.html", rows=rows, today=today, form=form, errors=errors or {},
                           max_age=max_age_from(current_app.config)), status


@bp.route("")
@login_required
def rates():
    return _page()


def _currency(code: str) -> str:
    if not is_currency(code.upper()):
        abort(404, description=_("%(code)s is not a currency.", code=code[:20]))
    return code.upper()


def _cursor() -> tuple[date, int] | None:
    value = request.args.get("after", "").strip()
    if not value:
        return None
    match = _CURSOR.fullmatch(value)
    try:
        day = date.fromisoformat(match.group(1)) if match else None
    except ValueError:
        day = None
    if day is None or int(match.group(2)) > MAX_ID:
        raise ValidationError("after must name the last quote of the previous page", fields={"after": "not a cursor"})
    return day, int(match.group(2))


@bp.route("/<base>/<quote>")
@login_required
def history(base: str, quote: str):
    """The stored quotes of the pair, either way round, newest first (keyset on as-of day and id)."""
    base_code, quote_code = _currency(base), _currency(quote)
    if (base_code, quote_code) != (base, quote):
        after = request.args.get("after", "").strip()  # the canonical (upper-case) address, same page
        return redirect(url_for(".history", base=base_code, quote=quote_code, **({"after": after} if after else {})))
    after = _cursor()
    query = (sa.select(FxRate).where(sa.or_(sa.and_(FxRate.base == base_code, FxRate.quote == quote_code),
                                            sa.and_(FxRate.base == quote_code, FxRate.quote == base_code)))
             .order_by(FxRate.as_of.desc(), FxRate.id.desc()).limit(PAGE + 1))
    if after is not None:
        day, row_id = after
        query = query.where(sa.or_(FxRate.as_of < day, sa.and_(FxRate.as_of == day, FxRate.id < row_id)))
    rows = db().scalars(query).all()
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    next_after = f"{rows[-1].as_of.isoformat()}_{rows[-1].id}" if more else None
    crossed = base_code != PIVOT and quote_code != PIVOT
    return render_template("fx/history.html", base=base_code, quote=quote_code, rows=rows, next_after=next_after,
                           crossed=crossed, pivot=PIVOT, first_page=after is None)


def _manual_input(data: dict) -> tuple[str, str, str, date]:
    errors: dict[str, str] = {}
    rate = str(data.get("rate", "")).strip()
    if len(rate) > 40:
        errors["rate"] = "the rate must be a number greater than 0"
    try:
        day = date.fromisoformat(str(data.get("day", "")).strip())
    except ValueError:
        errors["day"] = "the day must be a date (YYYY-MM-DD)"
        day = date.min
    if errors:
        raise ValidationError("invalid manual exchange rate", fields=errors)
    return str(data.get("base", ""))[:10], str(data.get("quote", ""))[:10], rate, day


@bp.route("/manual", methods=["POST"])
@login_required
def manual():
    actor = current_user.platform_actor  # the admin's own, even while acting for a seller
    if actor is None:
        abort(403, description=_("Only a platform admin may set exchange rates."))
    data = form_data()
    try:
        base, quote, rate, day = _manual_input(data)
        row = set_manual_rate(db(), actor, base, quote, rate, day)
        db().commit()
    except ValidationError as exc:
        errors, status = failure(exc)
        return _page({k: str(v) for k, v in data.items()}, errors, status)
    flash(_("Manual rate set: 1 %(base)s = %(rate)s %(quote)s on %(day)s.", base=row.base, quote=row.quote,
            rate=f"{Decimal(row.rate).normalize():f}", day=row.as_of.isoformat()), "success")
    return redirect(url_for(".history", base=row.base, quote=row.quote))
