"""Engines, sessions and the SQLAlchemy unit of work."""
from __future__ import annotations

import importlib.util
from typing import Any, Callable

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from lrs_ws.adapters.repository import (
    SqlAuditLog,
    SqlLearnerRepository,
    SqlLearningEventRepository,
    SqlOrganisationRepository,
    SqlSearchLog,
)
from lrs_ws.config import DEFAULT_DATABASE_URL  # one default, for every entry point

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """`postgresql://` (and `postgres://`) use psycopg 3, not SQLAlchemy's psycopg2 default."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str = DEFAULT_DATABASE_URL, **engine_options: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_driver_name() == "psycopg" and importlib.util.find_spec("psycopg") is None:
        raise RuntimeError("PostgreSQL needs the psycopg driver: pip install 'lrs-ws[postgres]'")
    if parsed.get_backend_name() != "sqlite":
        engine_options.setdefault("pool_pre_ping", True)
        return create_engine(url, **engine_options)

    connect_args = dict(engine_options.pop("connect_args", {}))
    # Worker threads share the pool; each connection is still used by one thread at a time.
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(url, connect_args=connect_args, **engine_options)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer, so finds keep running during registers.
            if make_url(url).database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints in WAL mode
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    # Domain objects are plain dataclasses; nothing to expire after commit.
    return sessionmaker(bind=engine, expire_on_commit=False)


class SqlUnitOfWork:
    """One session, one transaction: commit() keeps everything, leaving without it keeps nothing."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._session_factory = session_factory
        self.session: Session | None = None

    def __enter__(self) -> "SqlUnitOfWork":
        self.session = self._session_factory()
        self.learners = SqlLearnerRepository(self.session)
        self.organisations = SqlOrganisationRepository(self.session)
        self.searches = SqlSearchLog(self.session)
        self.audit = SqlAuditLog(self.session)
        self.events = SqlLearningEventRepository(self.session)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.session is not None
        try:
            self.rollback()  # a no-op after commit()
        finally:
            self.session.close()
            self.session = None

    def lock(self, key: str) -> None:
        """Hold an exclusive lock named `key` until this transaction ends.

        PostgreSQL: a transaction-level advisory lock on the key. SQLite has one writer at a
        time and the first write of a transaction takes the database lock, so a no-op write
        does (other writers wait up to the busy timeout).
        """
        assert self.session is not None, "use the unit of work as a context manager"
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
        else:
            self.session.execute(text("UPDATE organisations SET id = id WHERE 1 = 0"))

    def commit(self) -> None:
        assert self.session is not None, "use the unit of work as a context manager"
        self.session.commit()

    def rollback(self) -> None:
        assert self.session is not None, "use the unit of work as a context manager"
        self.session.rollback()
