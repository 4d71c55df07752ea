"""Schema migrations through Alembic, with the scripts shipped inside the package."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "hub:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


# Indexes on expressions, which a migration creates on PostgreSQL only and no model declares: SQLite cannot reflect
# them (so a batch migration would drop them there) and the trigram one needs pg_trgm. Both serve the orders search.
SEARCH_EMAIL_INDEX = "ix_orders_seller_email"
SEARCH_TRIGRAM_INDEX = "ix_orders_buyer_name_trgm"
EXPRESSION_INDEXES = frozenset({SEARCH_EMAIL_INDEX, SEARCH_TRIGRAM_INDEX})


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """What autogenerate compares: everything but APScheduler's job table, which a migration creates but
    APScheduler defines (it is on no metadata of ours), and the indexes on expressions."""
    if type_ == "index" and name in EXPRESSION_INDEXES:
        return False
    return not (type_ == "table" and name == "apscheduler_jobs")


def upgrade(engine: Engine, revision: str = "head") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def revision(engine: Engine, message: str) -> None:
    """Autogenerate a new revision from the models (developers only)."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)
