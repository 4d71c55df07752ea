"""Fixtures shared by every test.

The backend is chosen by HUB_TEST_DATABASE_URL (a SQLite file in a temporary folder when unset;
`make test` runs the suite once per backend). The schema is built once per run by the Alembic
migrations, exactly as `hub db upgrade` builds it, and every test starts from empty tables.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub import create_app
from hub.accounts import services as accounts
from hub.accounts.actor import Actor
from hub.accounts.models import User
from hub.accounts.schemas import NewToken, SignUp
from hub.db import Base
from hub.scratch import migrated, scratch_database

PASSWORD = "velvet-harbor-quartz-71"


def pytest_report_header() -> str:
    return f"hub database backend: {_url_for_run('<tmp>').split(':')[0]}"


def _url_for_run(tmp: str) -> str:
    return os.environ.get("HUB_TEST_DATABASE_URL") or f"sqlite:///{tmp}/hub-test.sqlite3"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = _url_for_run(str(tmp_path_factory.mktemp("db")))
    if not url.startswith("postgresql"):
        migrated(url)
        yield url
        return
    with scratch_database(url) as run_url:
        yield run_url


# The id sequences of a PostgreSQL test database that a test used (rows inserted, then maybe deleted or rolled
# back), with their tables, so that every test starts again from id 1.
_USED_SEQUENCES = """
    SELECT t.relname, s.relname FROM pg_sequences q
    JOIN pg_class s ON s.relname = q.sequencename AND s.relkind = 'S'
    JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE q.schemaname = current_schema() AND q.last_value IS NOT NULL"""


def _empty_tables(engine: Engine) -> None:
    # APScheduler's job table is the migration's but on no model metadata.
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)] + ["apscheduler_jobs"]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # Only the tables a test touched (a handful), found in one query, emptied by DELETE children first:
            # TRUNCATE makes new files for every table it empties, and CASCADE from sellers reaches all of them,
            # half a second per test. Their sequences restart, as TRUNCATE ... RESTART IDENTITY would.
            holding = " UNION ".join(f"SELECT '{name}', NULL WHERE EXISTS (SELECT 1 FROM {name})" for name in tables)
            found = conn.exec_driver_sql(f"{holding} UNION {_USED_SEQUENCES}").all()
            touched = {table for table, _sequence in found}
            work = [f"DELETE FROM {name}" for name in tables if name in touched]
            work += [f"ALTER SEQUENCE {sequence} RESTART" for _table, sequence in found if sequence]
            if work:
                conn.exec_driver_sql("; ".join(work))
        else:
            for name in tables:
                conn.exec_driver_sql(f"DELETE FROM {name}")


TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    # Still argon2id, but cheap: the cost is a setting, the algorithm is not.
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 1024,
    "LOGIN_LOCK_SECONDS": 60,
}


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per test run instead of once per test: every test builds its own app, and so its
    own Jinja environment, and compiling the templates again was a fifth of the suite's time. Keyed by template
    name and source checksum (Jinja's buckets), so an edited template is compiled afresh."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    app = create_app({**TEST_SETTINGS, "DATABASE_URL": database_url})
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    yield app
    engine = app.extensions["hub"].engine
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def sessions(app: Flask) -> sessionmaker[Session]:
    return app.extensions["hub"].sessions


@pytest.fixture
def security(app: Flask) -> accounts.Security:
    return app.extensions["hub"].security


@pytest.fixture
def engine(app: Flask) -> Engine:
    return app.extensions["hub"].engine


@dataclass
class Account:
    user_id: int
    seller_id: int
    email: str
    actor: Actor
    token: str


@pytest.fixture
def make_account(sessions: sessionmaker[Session], security: accounts.Security) -> Callable[..., Account]:
    """Sign up a seller with its owner and give the owner an API token."""
    counter = iter(range(1, 10_000))

    def make(seller_name: str | None = None, currency: str = "EUR", **kw: str) -> Account:
        n = next(counter)
        email = kw.pop("email", f"owner{n}@seller{n}.example.com")
        with sessions.begin() as session:
            user = accounts.sign_up(session, security, SignUp(
                seller_name=seller_name or f"Seller {n}", name=f"Owner {n}", email=email, password=PASSWORD,
                base_currency=currency, **kw))
            actor = accounts.actor_for(user)
            _, token = accounts.create_token(session, actor, NewToken(name="tests"))
            return Account(user.id, user.seller_id, email, actor, token)

    return make


@pytest.fixture
def alice(make_account: Callable[..., Account]) -> Account:
    return make_account("Alice's Teas", email="alice@teas.example.com")


@pytest.fixture
def bob(make_account: Callable[..., Account]) -> Account:
    return make_account("Bob's Kettles", email="bob@kettles.example.com")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Api:
    """A JSON API client bound to one bearer token."""

    def __init__(self, client: FlaskClient, token: str):
        self.client, self.token = client, token

    def _call(self, method: str, path: str, json: object = None, **kw: object):
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, json=json, headers=headers, **kw)

    def get(self, path: str, **kw: object):
        return self._call("GET", path, **kw)

    def post(self, path: str, json: object = None, **kw: object):
        return self._call("POST", path, json, **kw)

    def put(self, path: str, json: object = None, **kw: object):
        return self._call("PUT", path, json, **kw)

    def delete(self, path: str, **kw: object):
        return self._call("DELETE", path, **kw)


@pytest.fixture
def api_for(client: FlaskClient) -> Callable[[Account], Api]:
    return lambda account: Api(client, account.token)


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({page.status_code})"
    return match.group(1)


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def user_row(sessions: sessionmaker[Session], email: str) -> User:
    with sessions() as session:
        return session.scalars(sa.select(User).where(User.email == email)).one()


@pytest.fixture
def pg_engine(engine: Engine) -> Engine:
    """The test database on PostgreSQL; in the SQLite pass, the PostgreSQL server the other pass uses (for tests
    of the server itself, such as advisory locks and connections, which touch no table). Unreachable only off
    CI, where `make test` says it skips PostgreSQL anyway."""
    if engine.dialect.name == "postgresql":
        return engine
    url = os.environ.get("HUB_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    pg = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        pg.connect().close()
    except sa.exc.OperationalError:
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip("PostgreSQL is not reachable off CI")
    return pg
