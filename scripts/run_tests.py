"""Run the test suite once per database backend and say which ran.

SQLite always runs. PostgreSQL runs when HUB_TEST_DATABASE_URL is reachable; under CI (CI=true)
an unreachable PostgreSQL fails the run instead of being skipped.

The two passes run side by side (each pytest process is mostly one core of Python; the machine has two), each
into its own log, printed whole when the pass ends, so the output of one pass is never interleaved with the
other's. HUB_TEST_SERIAL=1 runs them one after the other instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import IO

import psycopg
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_reachable(url: str) -> str | None:
    """None if we can connect, else the reason."""
    u = make_url(url)
    try:
        psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                        dbname=u.database, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]
    return None


def start(env_url: str | None, extra: list[str], log: IO[bytes] | None) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("HUB_TEST_DATABASE_URL", None)
    if env_url:
        env["HUB_TEST_DATABASE_URL"] = env_url
    return subprocess.Popen([sys.executable, "-m", "pytest", "-q", *extra], env=env,
                            stdout=log, stderr=subprocess.STDOUT if log else None)


def finish(title: str, process: subprocess.Popen[bytes], log: IO[bytes] | None) -> str:
    code = process.wait()
    if log is not None:
        log.seek(0)
        print(title, flush=True)
        sys.stdout.buffer.write(log.read())
        sys.stdout.flush()
    return "passed" if code == 0 else "FAILED"


def main() -> int:
    extra = sys.argv[1:]
    pg_url = os.environ.get("HUB_TEST_DATABASE_URL") or PG_DEFAULT
    ci = os.environ.get("CI", "").lower() == "true"
    results: dict[str, str] = {}

    serial = os.environ.get("HUB_TEST_SERIAL", "") == "1"
    reason = postgres_reachable(pg_url)
    sqlite_title = "=== test pass 1: SQLite ==="
    pg_title = f"=== test pass 2: PostgreSQL ({make_url(pg_url).render_as_string(hide_password=True)}) ==="

    if serial or reason is not None:
        print(sqlite_title, flush=True)
        results["sqlite"] = finish("", start(None, extra, None), None)
        if reason is None:
            print(pg_title, flush=True)
            results["postgresql"] = finish("", start(pg_url, extra, None), None)
    else:
        print("=== SQLite and PostgreSQL passes run side by side; each prints when it ends ===", flush=True)
        with tempfile.TemporaryFile() as sqlite_log, tempfile.TemporaryFile() as pg_log:
            sqlite_run, pg_run = start(None, extra, sqlite_log), start(pg_url, extra, pg_log)
            results["sqlite"] = finish(sqlite_title, sqlite_run, sqlite_log)
            results["postgresql"] = finish(pg_title, pg_run, pg_log)

    if reason is not None:
        results["postgresql"] = (f"FAILED (unreachable under CI: {reason})" if ci
                                 else f"not run (unreachable: {reason})")

    print("\n=== backends ===")
    for backend, outcome in results.items():
        print(f"  {backend:<11} {outcome}")
    return 1 if any(o.startswith("FAILED") for o in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
