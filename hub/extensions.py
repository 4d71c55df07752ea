"""What the web layer and jobs share per application: engine, session factory, security settings."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.accounts.actor import Actor
from hub.accounts.passwords import Hasher, PasswordPolicy
from hub.accounts.services import LoginPolicy, Security
from hub.db import make_engine, make_session_factory


@dataclass
class Hub:
    engine: Engine
    sessions: sessionmaker[Session]
    security: Security

    @classmethod
    def from_settings(cls, settings: dict) -> Hub:
        engine = make_engine(settings["DATABASE_URL"])
        security = Security(
            hasher=Hasher(time_cost=settings["PASSWORD_HASH_TIME_COST"],
                          memory_kib=settings["PASSWORD_HASH_MEMORY_KIB"]),
            policy=PasswordPolicy(min_length=settings["PASSWORD_MIN_LENGTH"],
                                  min_entropy_bits=settings["PASSWORD_MIN_ENTROPY_BITS"]),
            login=LoginPolicy(max_failures=settings["LOGIN_MAX_FAILURES"], lock_seconds=settings["LOGIN_LOCK_SECONDS"],
                              lock_max_seconds=settings["LOGIN_LOCK_MAX_SECONDS"]),
        )
        return cls(engine=engine, sessions=make_session_factory(engine), security=security)


def hub() -> Hub:
    return current_app.extensions["hub"]


def db() -> Session:
    """The request's session, scoped to the acting user's seller (unscoped for platform admins)."""
    if "db_session" not in g:
        session = hub().sessions()
        actor: Actor | None = g.get("actor")
        session.info["seller_id"] = actor.seller_id if actor and not actor.is_admin else None
        g.db_session = session
    return g.db_session


def rescope(actor: Actor) -> None:
    """Once the actor is known (after login or token check), scope the open session to its seller."""
    g.actor = actor
    if "db_session" in g:
        g.db_session.info["seller_id"] = None if actor.is_admin else actor.seller_id


def close_session(exc: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        if exc is not None:
            session.rollback()
        session.close()


def sync_env():  # -> hub.sync.env.SyncEnv (imported late: the web layer loads connectors only when needed)
    """The app's sync environment (connectors, credential box, locks), built on first use."""
    from hub.sync.env import SyncEnv

    app = current_app
    if "sync" not in app.extensions:
        app.extensions["sync"] = SyncEnv.build(hub().engine, hub().sessions, app.config)
    return app.extensions["sync"]
