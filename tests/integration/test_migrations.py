"""The migrations build exactly the schema the models declare, and can be walked back and forth."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from hub import migrate
from hub.db import Base

# Indexes on expressions cannot be reflected (by SQLite at all, by SQLAlchemy on PostgreSQL in a comparison):
# they are left out of it (hub.migrate.include_name), and the warning that says so is expected.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True,
                                                           "include_name": migrate.include_name})
        assert compare_metadata(context, Base.metadata) == []


def test_the_migration_history_is_linear_with_one_head():
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_migrations_downgrade_to_nothing_and_upgrade_again(tmp_path):
    from hub.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/walk.sqlite3")
    migrate.upgrade(engine)
    migrate.downgrade(engine, "base")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table' AND name != "
                                    "'alembic_version'").all() == []
    migrate.upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn, opts={"include_name": migrate.include_name}),
                                Base.metadata) == []
    engine.dispose()
