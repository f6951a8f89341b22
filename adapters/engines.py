"""Engines and connections: database URLs, how each backend is set up, and pooled connections.

SQLite: WAL, foreign keys, a busy timeout, a file that must already exist unless created on
purpose, and writers taking turns (lrs_ws.adapters.write_control). PostgreSQL: psycopg 3,
timeouts for a server that stops answering, and a ping only for connections idle a while.
"""
from __future__ import annotations

import importlib.util
import os
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import make_url

from lrs_ws.adapters.write_control import SQLITE_BUSY_TIMEOUT_MS, limit_writes, take_write_turns
from lrs_ws.config import DEFAULT_DATABASE_URL  # one default, for every entry point

# A PostgreSQL server that does not answer must not hold a request thread for minutes.
POSTGRES_CONNECT_TIMEOUT_S = 5
# A pooled PostgreSQL connection back in the pool this long is pinged before its next use.
IDLE_BEFORE_PING_S = 1.0


def normalise_url(url: str) -> str:
    """`postgresql://` (and `postgres://`) use psycopg 3, not SQLAlchemy's psycopg2 default."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redacted(url: str) -> str:
    """The URL to show people: its password hidden (even when the URL does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (exc.ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite URL, absolute; None for other databases and in-memory SQLite."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return os.path.abspath(parsed.database)


def make_engine(
    url: str = DEFAULT_DATABASE_URL, *, create: bool = True, statement_timeout: float | None = None, **engine_options: Any
) -> Engine:
    """An engine for `url`. With `create=False` a SQLite file that does not exist is an error
    on connecting, never a new empty database (SQLite's URI mode=rw).

    PostgreSQL connections give up on a server that does not answer: connecting after 5 s, an
    established connection whose packets go unanswered after about 15 s (TCP keepalives and
    user timeout), and, with `statement_timeout` (seconds; the server's requests), a statement
    or a lock wait that runs longer. A pooled connection is pinged before use only when it has
    been idle (`_ping_when_idle`).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_driver_name() == "psycopg" and importlib.util.find_spec("psycopg") is None:
        raise RuntimeError("PostgreSQL needs the psycopg driver: pip install 'lrs-ws[postgres]'")
    if parsed.get_backend_name() != "sqlite":
        if parsed.get_backend_name() == "postgresql":
            engine_options["connect_args"] = _postgres_connect_args(engine_options.pop("connect_args", {}), statement_timeout)
        engine = create_engine(url, **engine_options)
        if not engine_options.get("pool_pre_ping"):
            _ping_when_idle(engine)
        limit_writes(engine)
        return engine

    path = sqlite_path(url)
    target: Any = url
    if path is not None and not create:
        target = parsed.set(database="file:" + quote(path), query={**parsed.query, "mode": "rw", "uri": "true"})
    connect_args = dict(engine_options.pop("connect_args", {}))
    # Worker threads share the pool; each connection is still used by one thread at a time.
    connect_args.setdefault("check_same_thread", False)
    connect_args.setdefault("timeout", SQLITE_BUSY_TIMEOUT_MS / 1000)
    engine = create_engine(target, connect_args=connect_args, **engine_options)

    if path is not None:
        take_write_turns(engine, path)
    limit_writes(engine)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            # WAL: readers never block the writer, so finds keep running during registers.
            if path is not None:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")  # durable at checkpoints in WAL mode
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        finally:
            cursor.close()

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use when it has been back in the pool IDLE_BEFORE_PING_S
    or longer; one that does not answer is replaced (SQLAlchemy retries the checkout).

    SQLAlchemy's pool_pre_ping pings on every checkout: a round trip on every request. A
    connection used a moment ago is very likely alive; if the server went away meanwhile, the
    statement that finds out fails (WSEC0999) and SQLAlchemy replaces every connection of the
    pool, so only the requests already under way are answered with that fault."""

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at < IDLE_BEFORE_PING_S:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise exc.DisconnectionError(f"a pooled connection did not answer: {error}") from error


def _postgres_connect_args(given: dict[str, Any], statement_timeout: float | None) -> dict[str, Any]:
    args = {
        "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
        "keepalives": 1,
        "keepalives_idle": 5,
        "keepalives_interval": 2,
        "keepalives_count": 3,
        "tcp_user_timeout": 15_000,  # milliseconds: unacknowledged data on a dead link
        **given,
    }
    if statement_timeout is not None:
        milliseconds = int(statement_timeout * 1000)
        timeouts = f"-c statement_timeout={milliseconds} -c lock_timeout={milliseconds}"
        args["options"] = f"{given.get('options', '')} {timeouts}".strip()
    return args


def connection_factory(engine: Engine) -> Callable[[], Connection]:
    """Where each unit of work gets its connection (and with it, its transaction). Core, not an
    ORM Session: the repositories map rows themselves, and a Session's bookkeeping around every
    statement and commit cost a tenth of a find."""
    return engine.connect
