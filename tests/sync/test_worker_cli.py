"""`hub sync CHANNEL`: one job now, through run_job, with its result printed."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from hub import create_app
from hub.channels.models import Channel
from hub.sync import jobs, worker
from hub.sync.cli import _progress_line
from hub.sync.env import SyncEnv
from hub.sync.jobs import JobResult
from hub.sync.models import Outcome, SyncRun
from tests.conftest import TEST_SETTINGS, Account


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def csv_channel(make_account: Callable[..., Account], make_channel: Callable[..., Channel],
                tmp_path: Path) -> Channel:
    (tmp_path / "in").mkdir()
    return make_channel(make_account().seller_id, "csv", "", name="market stall",
                        options={"inbox": str(tmp_path / "in"), "outbox": str(tmp_path / "out")})


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replaces run_job with one that records how it was called and answers calls[0]["answer"]."""
    seen: list[dict[str, Any]] = [{"answer": JobResult(Outcome.OK, 7, "", {"pages": 1, "fetched": 2})}]

    def fake(env: SyncEnv, channel_id: int, job: str, **kw: Any) -> JobResult:
        seen.append({"channel_id": channel_id, "job": job, **kw})
        return seen[0]["answer"]

    monkeypatch.setattr(jobs, "run_job", fake)
    return seen


def test_sync_pulls_a_csv_channel_and_prints_the_runs_counts(runner: FlaskCliRunner, csv_channel: Channel,
                                                             env: SyncEnv) -> None:
    result = runner.invoke(args=["sync", str(csv_channel.id)])
    assert result.exit_code == 0, result.output
    assert f"pull of market stall (channel {csv_channel.id}): ok, run " in result.output
    assert "fetched 0" in result.output
    with env.sessions() as session:
        run = session.scalars(sa.select(SyncRun)).one()
    assert (run.channel_id, run.job, run.trigger, run.outcome) == (csv_channel.id, "pull", "cli", Outcome.OK)


def test_sync_finds_a_channel_by_its_name_and_passes_since_as_utc(runner: FlaskCliRunner, csv_channel: Channel,
                                                                 calls: list[dict[str, Any]]) -> None:
    result = runner.invoke(args=["sync", "market stall", "--since", "2026-03-01T10:00:00"])
    assert result.exit_code == 0, result.output
    assert calls[1]["channel_id"] == csv_channel.id and calls[1]["job"] == "pull"
    assert calls[1]["trigger"] == "cli"
    assert calls[1]["since"] == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert "pages 1  fetched 2" in result.output


def test_sync_exits_non_zero_when_the_run_failed(runner: FlaskCliRunner, csv_channel: Channel,
                                                 calls: list[dict[str, Any]]) -> None:
    calls[0]["answer"] = JobResult(Outcome.FAILED, 8, "FileNotFoundError: csv: inbox is not a folder")
    result = runner.invoke(args=["sync", str(csv_channel.id), "--job", "push-inventory"])
    assert result.exit_code == 1
    assert "push-inventory of market stall" in result.output and ": failed, run 8" in result.output
    assert "inbox is not a folder" in result.output


def test_sync_of_an_unknown_channel_says_so_and_fails(runner: FlaskCliRunner, csv_channel: Channel) -> None:
    result = runner.invoke(args=["sync", "no such shop"])
    assert result.exit_code == 1
    assert "no channel 'no such shop'" in result.output
    assert runner.invoke(args=["sync", "99999"]).exit_code == 1


def test_sync_asks_for_the_id_when_a_name_is_not_unique(runner: FlaskCliRunner, csv_channel: Channel,
                                                         make_account: Callable[..., Account],
                                                         make_channel: Callable[..., Channel]) -> None:
    make_channel(make_account().seller_id, "csv", "", name="market stall", options={"inbox": "a", "outbox": "b"})
    result = runner.invoke(args=["sync", "market stall"])
    assert result.exit_code == 1
    assert "2 channels are named 'market stall'" in result.output and "give the id" in result.output


def test_sync_refuses_a_since_that_is_not_iso_8601(runner: FlaskCliRunner, csv_channel: Channel,
                                                   calls: list[dict[str, Any]]) -> None:
    result = runner.invoke(args=["sync", str(csv_channel.id), "--since", "last tuesday"])
    assert result.exit_code == 2
    assert "'last tuesday' is not an ISO 8601 date or time" in result.output
    assert len(calls) == 1  # nothing ran


def test_sync_refuses_a_job_the_connector_cannot_run(runner: FlaskCliRunner, csv_channel: Channel,
                                                     calls: list[dict[str, Any]]) -> None:
    result = runner.invoke(args=["sync", str(csv_channel.id), "--job", "push-prices"])
    assert result.exit_code == 1
    assert "csv channel market stall cannot push-prices (it can: pull, push-inventory)" in result.output
    assert len(calls) == 1


def test_progress_is_one_rewritten_line_on_a_terminal_and_nothing_elsewhere() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    show = _progress_line(screen)
    assert show is not None
    show({"pages": 1, "fetched": 50})
    show({"pages": 2, "fetched": 100})
    assert screen.getvalue() == "\rpages 1  fetched 50 \rpages 2  fetched 100 "
    assert _progress_line(io.StringIO()) is None


def test_building_the_app_starts_no_scheduler(database_url: str) -> None:
    threads, runtime = set(threading.enumerate()), worker._runtime
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url})
    assert "worker" in app.cli.commands and "sync" in app.cli.commands
    assert set(threading.enumerate()) <= threads
    assert worker._runtime is runtime
    app.extensions["hub"].engine.dispose()
