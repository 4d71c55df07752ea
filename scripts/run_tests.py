"""Run the test suite once per database backend and say which ran.

SQLite always runs. PostgreSQL runs when HUB_TEST_DATABASE_URL is reachable; under CI (CI=true)
an unreachable PostgreSQL fails the run instead of being skipped.

The passes run side by side, one pytest process each by default. HUB_TEST_SHARDS=N splits each pass into N
processes over disjoint sets of test files; on this two-core machine two per backend measured slower (about
20 min against 15.5 min: four processes contend for two cores), so it is for machines with more cores.
Every process writes its own log, printed whole when it ends, so no output is interleaved.
Explicit pytest arguments (a file, -k ...) run unsplit; HUB_TEST_SERIAL=1 runs one process per backend, one
after the other.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path
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


def shards(count: int) -> list[list[str]]:
    """The test files in `count` sets of about equal size (by bytes: longer files hold more or slower tests),
    largest first into the lightest set."""
    files = sorted(Path("tests").rglob("test_*.py"), key=lambda f: (-f.stat().st_size, str(f)))
    sets: list[list[str]] = [[] for _ in range(count)]
    weights = [0] * count
    for file in files:
        lightest = weights.index(min(weights))
        sets[lightest].append(str(file))
        weights[lightest] += file.stat().st_size
    return sets


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
        count = 1 if extra else max(1, int(os.environ.get("HUB_TEST_SHARDS", "1")))
        parts = shards(count) if count > 1 else [[]]
        print(f"=== SQLite and PostgreSQL passes run side by side, {count} process(es) each; each prints when it "
              "ends ===", flush=True)
        with contextlib.ExitStack() as logs:
            runs = []
            for backend, url, title in (("sqlite", None, sqlite_title), ("postgresql", pg_url, pg_title)):
                for k, files in enumerate(parts, 1):
                    log = logs.enter_context(tempfile.TemporaryFile())
                    label = backend if count == 1 else f"{backend} {k}/{count}"
                    shown = title if count == 1 else f"{title[:-4]}, files {k}/{count} ==="
                    runs.append((label, shown, start(url, [*extra, *files], log), log))
            for label, shown, process, log in runs:
                results[label] = finish(shown, process, log)

    if reason is not None:
        results["postgresql"] = (f"FAILED (unreachable under CI: {reason})" if ci
                                 else f"not run (unreachable: {reason})")

    print("\n=== backends ===")
    for backend, outcome in results.items():
        print(f"  {backend:<15} {outcome}")
    return 1 if any(o.startswith("FAILED") for o in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
