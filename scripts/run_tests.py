"""Run the test suite once per database backend and say which ran.

SQLite always runs. PostgreSQL runs when HUB_TEST_DATABASE_URL is reachable; under CI (CI=true)
an unreachable PostgreSQL fails the run instead of being skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys

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


def pytest(env_url: str | None, extra: list[str]) -> int:
    env = dict(os.environ)
    env.pop("HUB_TEST_DATABASE_URL", None)
    if env_url:
        env["HUB_TEST_DATABASE_URL"] = env_url
    return subprocess.call([sys.executable, "-m", "pytest", "-q", *extra], env=env)


def main() -> int:
    extra = sys.argv[1:]
    pg_url = os.environ.get("HUB_TEST_DATABASE_URL") or PG_DEFAULT
    ci = os.environ.get("CI", "").lower() == "true"
    results: dict[str, str] = {}

    print("=== test pass 1: SQLite ===", flush=True)
    results["sqlite"] = "passed" if pytest(None, extra) == 0 else "FAILED"

    reason = postgres_reachable(pg_url)
    if reason is None:
        print(f"=== test pass 2: PostgreSQL ({make_url(pg_url).render_as_string(hide_password=True)}) ===",
              flush=True)
        results["postgresql"] = "passed" if pytest(pg_url, extra) == 0 else "FAILED"
    elif ci:
        results["postgresql"] = f"FAILED (unreachable under CI: {reason})"
    else:
        results["postgresql"] = f"not run (unreachable: {reason})"

    print("\n=== backends ===")
    for backend, outcome in results.items():
        print(f"  {backend:<11} {outcome}")
    return 1 if any(o.startswith("FAILED") for o in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
