"""The providers: ECB files parsed in both formats, forex-python bounded and falling back, manual rates, the CLI
and the scheduled refresh. The network is blocked; HTTP is answered by `responses`."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
import responses
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.accounts.models import Role
from hub.currency.models import FxRate
from hub.currency.providers import build_providers
from hub.currency.providers.ecb import EcbProvider, parse_csv, parse_xml
from hub.currency.providers.forex import ForexPythonProvider
from hub.currency.providers.offline import OfflineProvider
from hub.currency.store import refresh, set_manual_rate
from hub.errors import PermanentError, PermissionDenied, ValidationError
from hub.outbound.audit import MemoryAudit
from hub.sync.env import SyncEnv
from hub.sync.schedule import FX_ID, reconcile
from tests.conftest import Account
from tests.currency import no_network  # noqa: F401 - autouse: the network is blocked here

ECB = "https://www.ecb.europa.eu/stats/eurofxref/"
FOREX = "https://theratesapi.com/api/"
DAILY_XML = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
                 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <Cube><Cube time='2026-11-27'>
    <Cube currency='USD' rate='1.1225'/><Cube currency='JPY' rate='176.10'/><Cube currency='GBP' rate='0.8412'/>
  </Cube></Cube>
</gesmes:Envelope>"""


def no_sleep(_seconds: float) -> None:
    pass


def forex(audit: MemoryAudit, deadline: float = 0.3) -> ForexPythonProvider:
    return ForexPythonProvider(audit=audit, deadline_seconds=deadline, attempts=2, sleep=no_sleep)


@pytest.fixture
def hang() -> Iterator[threading.Event]:
    """A server that never answers: the callback blocks until the test is over."""
    release = threading.Event()
    yield release
    release.set()


def stored_sources(sessions: sessionmaker[Session]) -> set[str]:
    with sessions() as session:
        return set(session.scalars(sa.select(FxRate.source).distinct()))


# --- ECB ---------------------------------------------------------------------------------------------------

def test_the_ecb_daily_xml_becomes_one_eur_quote_per_currency() -> None:
    rows = parse_xml(DAILY_XML)
    assert [(r.base, r.quote, r.rate, r.as_of) for r in rows] == [
        ("EUR", "USD", Decimal("1.1225"), date(2026, 11, 27)), ("EUR", "JPY", Decimal("176.10"), date(2026, 11, 27)),
        ("EUR", "GBP", Decimal("0.8412"), date(2026, 11, 27))]


def test_the_ecb_daily_csv_with_its_spelled_out_date_parses_like_the_history() -> None:
    rows = list(parse_csv(["Date, USD, JPY, CYP, ", "30 October 2026, 1.1172, 175.68, N/A, "]))
    assert [(r.quote, r.rate, r.as_of) for r in rows] == [("USD", Decimal("1.1172"), date(2026, 10, 30)),
                                                         ("JPY", Decimal("175.68"), date(2026, 10, 30))]


def test_a_file_that_is_not_the_ecbs_is_refused() -> None:
    with pytest.raises(PermanentError):
        parse_xml("<html><body>maintenance</body></html>")


@responses.activate
def test_the_ecb_is_fetched_through_the_http_client_with_an_audit_record() -> None:
    responses.get(ECB + "eurofxref-daily.xml", body=DAILY_XML)
    audit = MemoryAudit()
    rows = EcbProvider(audit=audit, sleep=no_sleep).fetch(None)
    assert len(rows) == 3
    assert [(c.service, c.status, c.url) for c in audit.calls] == [("ecb", 200, ECB + "eurofxref-daily.xml")]


@responses.activate
def test_an_ecb_outage_is_retried_then_the_offline_copy_answers(sessions: sessionmaker[Session]) -> None:
    responses.get(ECB + "eurofxref-daily.xml", status=503)
    audit = MemoryAudit()
    result = refresh(sessions, [EcbProvider(audit=audit, sleep=no_sleep), OfflineProvider()])
    assert (result.provider, result.as_of) == ("offline", date(2026, 10, 30))
    assert result.failures[0][0] == "ecb" and len(audit.calls) == 3
    assert stored_sources(sessions) == {"ecb"}  # the bundled copy is the ECB's own


def test_the_offline_copy_answers_a_weekend_with_the_friday_before() -> None:
    rows = OfflineProvider().fetch(date(2026, 11, 1))
    assert {r.as_of for r in rows} == {date(2026, 10, 30)} and len(rows) > 25


def test_refreshing_twice_stores_each_quote_once(sessions: sessionmaker[Session]) -> None:
    first = refresh(sessions, [OfflineProvider()])
    again = refresh(sessions, [OfflineProvider()])
    assert first.stored == first.fetched > 25
    assert (again.fetched, again.stored) == (first.fetched, 0)


# --- forex-python ------------------------------------------------------------------------------------------

@responses.activate
def test_forex_python_rates_are_stored_with_the_day_its_answer_names() -> None:
    responses.get(FOREX + "latest", json={"base": "EUR", "date": "2026-11-27", "rates": {"USD": 1.1225, "JPY": 176.1}})
    audit = MemoryAudit()
    rows = forex(audit).fetch(None)
    assert {(r.quote, r.rate, r.as_of, r.source) for r in rows} == {
        ("USD", Decimal("1.1225"), date(2026, 11, 27), "forex-python"),
        ("JPY", Decimal("176.1"), date(2026, 11, 27), "forex-python")}
    assert [(c.service, c.status, c.url) for c in audit.calls] == [("forex-python", 200, FOREX + "latest?base=EUR")]


@responses.activate
def test_forex_python_refused_connections_are_retried_and_audited_then_fall_back(
        sessions: sessionmaker[Session]) -> None:
    # `responses` refuses every URL not registered: a connection error, as with no DNS or a host down.
    audit = MemoryAudit()
    result = refresh(sessions, [forex(audit), OfflineProvider()])
    assert result.provider == "offline"
    assert [(c.attempt, c.status, c.error) for c in audit.calls] == [(1, None, "ConnectionError"),
                                                                       (2, None, "ConnectionError")]


@responses.activate
def test_a_forex_python_host_that_never_answers_is_given_up_on_in_bounded_time(
        sessions: sessionmaker[Session], hang: threading.Event) -> None:
    def never(_request: object) -> tuple[int, dict[str, str], str]:
        hang.wait(30)
        return 504, {}, ""

    responses.add_callback(responses.GET, FOREX + "latest", callback=never)
    audit = MemoryAudit()
    started = time.monotonic()
    result = refresh(sessions, [forex(audit, deadline=0.3), OfflineProvider()])
    assert time.monotonic() - started < 3
    assert result.provider == "offline"
    assert [c.error for c in audit.calls] == ["forex-python: no answer within 0.3 s"] * 2


@responses.activate
def test_forex_python_answering_html_is_not_retried_and_falls_back(sessions: sessionmaker[Session]) -> None:
    responses.get(FOREX + "latest", body="<html>Bad gateway</html>", content_type="text/html")
    audit = MemoryAudit()
    result = refresh(sessions, [forex(audit), OfflineProvider()])
    assert result.provider == "offline" and "not JSON" in result.failures[0][1]
    assert [(c.status, c.attempt) for c in audit.calls] == [(200, 1)]


@responses.activate
def test_forex_python_answering_an_error_status_falls_back_at_once() -> None:
    responses.get(FOREX + "latest", status=500, body="oops")
    audit = MemoryAudit()
    with pytest.raises(PermanentError, match="error status"):
        forex(audit).fetch(None)
    assert len(audit.calls) == 1


def test_the_providers_are_built_in_fx_providers_order() -> None:
    names = [p.name for p in build_providers({"FX_PROVIDERS": "offline, ecb"})]
    assert names == ["offline", "ecb"]
    with pytest.raises(ValueError, match="unknown rate provider"):
        build_providers({"FX_PROVIDERS": "ecb,yahoo"})


# --- manual rates ------------------------------------------------------------------------------------------

def test_only_a_platform_admin_may_set_a_manual_rate(sessions: sessionmaker[Session], alice: Account) -> None:
    with sessions.begin() as session, pytest.raises(PermissionDenied):
        set_manual_rate(session, alice.actor, "EUR", "USD", Decimal("1.1"), date(2026, 11, 27))


@pytest.mark.parametrize(("base", "quote", "rate", "day", "field"), [
    ("EUR", "XYZ", "1.1", date(2026, 11, 27), "quote"),
    ("EUR", "EUR", "1.1", date(2026, 11, 27), "quote"),
    ("EUR", "USD", "0", date(2026, 11, 27), "rate"),
    ("EUR", "USD", "-2", date(2026, 11, 27), "rate"),
    ("EUR", "USD", "1.1", date(2999, 1, 1), "day"),
])
def test_a_manual_rate_with_a_bad_currency_rate_or_day_is_refused(
        sessions: sessionmaker[Session], base: str, quote: str, rate: str, day: date, field: str) -> None:
    admin = Actor(user_id=None, seller_id=None, role=Role.ADMIN, label="tests")
    with sessions.begin() as session, pytest.raises(ValidationError) as caught:
        set_manual_rate(session, admin, base, quote, Decimal(rate), day)
    assert field in caught.value.fields


def test_setting_a_manual_rate_again_for_its_day_replaces_it(sessions: sessionmaker[Session]) -> None:
    admin = Actor(user_id=None, seller_id=None, role=Role.ADMIN, label="tests")
    for rate in ("1.1", "1.15"):
        with sessions.begin() as session:
            set_manual_rate(session, admin, "eur", "usd", Decimal(rate), date(2026, 11, 27))
    with sessions() as session:
        assert session.scalars(sa.select(FxRate.rate)).all() == [Decimal("1.15")]


# --- CLI and worker ----------------------------------------------------------------------------------------

def test_the_cli_sets_and_shows_a_manual_rate_with_its_source_and_day(app: Flask) -> None:
    runner = app.test_cli_runner()
    done = runner.invoke(args=["fx", "set", "EUR", "USD", "1.2", "--day", "2026-11-27"])
    assert done.exit_code == 0, done.output
    shown = runner.invoke(args=["fx", "show", "EUR", "USD", "--day", "2026-11-28"])
    assert shown.output.strip() == "1 EUR = 1.2 USD (manual, as of 2026-11-27)"


def test_the_cli_refreshes_from_the_named_provider_and_refuses_a_stale_rate(app: Flask) -> None:
    runner = app.test_cli_runner()
    done = runner.invoke(args=["fx", "refresh", "--provider", "offline"])
    assert done.exit_code == 0, done.output
    assert "offline:" in done.output and "as of 2026-10-30" in done.output
    stale = runner.invoke(args=["fx", "show", "USD", "JPY", "--day", "2026-11-30"])
    assert stale.exit_code == 1 and "USD/JPY rate is from 2026-10-30" in stale.output
    flagged = runner.invoke(args=["fx", "show", "USD", "JPY", "--day", "2026-11-30", "--allow-stale"])
    assert "(ecb via EUR, as of 2026-10-30) STALE" in flagged.output


def test_the_worker_schedules_the_rate_refresh_every_fx_refresh_seconds(app: Flask) -> None:
    hub = app.extensions["hub"]
    env = SyncEnv.build(hub.engine, hub.sessions, app.config)
    scheduler = BackgroundScheduler()
    scheduler.start(paused=True)
    try:
        assert FX_ID in reconcile(env, scheduler, 3600).added
        assert FX_ID in reconcile(env, scheduler, 600).changed
        assert scheduler.get_job(FX_ID).trigger.interval.total_seconds() == 600
    finally:
        scheduler.shutdown(wait=False)
