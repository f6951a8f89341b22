"""Engines, connections and the SQLAlchemy unit of work."""
from __future__ import annotations

import fcntl
import functools
import importlib.util
import os
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url

from lrs_ws.adapters.batch_jobs import SqlBatchJobRepository
from lrs_ws.adapters.batch_workers import SqlBatchWorkerLog
from lrs_ws.adapters.deferred_writes import DeferredWrites
from lrs_ws.adapters.orm import NO_OP_WRITE
from lrs_ws.adapters.repository import (
    SqlAuditLog,
    SqlLearnerRepository,
    SqlLearningEventRepository,
    SqlOrganisationRepository,
    SqlSearchLog,
    SqlSignInLog,
)
from lrs_ws.clock import SYSTEM_CLOCK, Clock
from lrs_ws.config import DEFAULT_DATABASE_URL  # one default, for every entry point
from lrs_ws.services.ports import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000
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
        _limit_writes(engine)
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
        _take_write_turns(engine, path)
    _limit_writes(engine)

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


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# A writer waiting for its turn looks again after 50 us, then twice as long each time, up to 1 ms:
# the turn of a request (an audit row and a commit) lasts a fraction of a millisecond, and a
# fixed 1 ms sleep doubled the time of a PLR read whenever two met.
WRITE_TURN_FIRST_POLL_S = 0.00005
WRITE_TURN_MAX_POLL_S = 0.001


class _WriteTurn:
    """An exclusive lock on a file beside the database, held from a connection's first write until
    it goes back to the pool.

    SQLite lets one connection write at a time, and a writer that finds the database locked
    sleeps and retries at growing intervals (up to 100 ms). A batch job that commits a chunk and
    starts the next within a millisecond would keep every other writer (each request writes its
    audit row) waiting for seconds. Waiting here instead, looking again from every 50 us to every
    millisecond, every writer of every lrs-ws process gets its turn within a moment of the one
    before it committing."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path + ".write-turn", os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
        pause = WRITE_TURN_FIRST_POLL_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:  # let SQLite's own busy timeout decide
                    return
                time.sleep(pause)
                pause = min(2 * pause, WRITE_TURN_MAX_POLL_S)

    def release(self) -> None:
        os.close(self.fd)  # closing the descriptor releases the lock


WRITE_LIMIT = "lrs_ws_write_limit"  # execution option of a limited unit of work's connection: [writes left]


class WriteLimitExceeded(RuntimeError):
    """A unit of work opened to write at most so many statements tried one more (a bug: its
    writes would not be one transaction)."""


def _is_write(statement: str) -> bool:
    return statement.lstrip()[:7].upper().startswith(_WRITES)


def _limit_writes(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _count(connection, cursor, statement, parameters, context, executemany) -> None:
        left = connection.get_execution_options().get(WRITE_LIMIT)
        if left is not None and _is_write(statement):
            if left[0] <= 0:
                raise WriteLimitExceeded(f"a unit of work tried one write too many: {statement.split(chr(10))[0][:80]}")
            left[0] -= 1


def _take_write_turns(engine: Engine, path: str) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _before_a_write(connection, cursor, statement, parameters, context, executemany) -> None:
        if "write_turn" not in connection.info and _is_write(statement):
            connection.info["write_turn"] = _WriteTurn(path)

    def _release(dbapi_connection: Any, record: Any, *rest: Any) -> None:
        turn = record.info.pop("write_turn", None) if record is not None else None
        if turn is not None:
            turn.release()

    # Back in the pool (after its commit or rollback), or closed: the turn passes on.
    event.listen(engine, "checkin", _release)
    event.listen(engine, "close", _release)
    event.listen(engine, "invalidate", _release)


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


def file_identity(path: str) -> tuple[int, int] | None:
    """(device, inode) of a file: the same path holding another file has another identity."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


class SqliteFileGuard:
    """The SQLite file a server was started on must still be at its path, the same file.

    A connection keeps writing to a file that was deleted (or renamed away) under it, and a new
    connection would open whatever now sits at the path: either way data would go where nobody
    looks. So every unit of work checks the path first (one stat call) and again before it
    commits, and answers DatabaseUnavailable instead. The file coming back (renamed back) ends
    the outage by itself; another file at the path needs a restart of lrs-ws to be served.
    """

    def __init__(self, path: str, identity: tuple[int, int]) -> None:
        self.path = path
        self.identity = identity

    def check(self) -> None:
        found = file_identity(self.path)
        if found is None:
            raise DatabaseUnavailable("the database file is gone", self.path)
        if found != self.identity:
            raise DatabaseUnavailable(
                "the database file was replaced by another file since lrs-ws started (restart lrs-ws to serve it)",
                self.path,
            )


@functools.lru_cache(maxsize=1)
def _head_revision() -> str | None:
    from lrs_ws.adapters.migrate import head_revision  # Alembic's script directory, read once

    return head_revision()


def _unavailable(error: exc.DBAPIError) -> DatabaseUnavailable:
    reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
    return DatabaseUnavailable("the database does not answer", reason)


class SqlUnitOfWork:
    """One connection, one transaction: commit() keeps everything, leaving without it keeps nothing.

    A database that cannot be reached (or, with a guard, a SQLite file that is gone) surfaces as
    DatabaseUnavailable, whatever statement met it.

    `write_limit`: the use case writes at most that many statements itself. 0: nothing but what
    it hands to the DeferredWrites (a find; without DeferredWrites the unit is an ordinary one,
    since a find then writes its rows itself). 1: one statement (a PLR read's audit row). With
    0 or 1, on PostgreSQL the connection runs in autocommit: no BEGIN and COMMIT round trips,
    each statement sees the latest commits (as under READ COMMITTED in a transaction anyway),
    and the one write is a transaction by itself, committed (durably) when it returns, so
    commit() has nothing left to do. A write beyond the limit raises WriteLimitExceeded.
    """

    def __init__(
        self,
        connect: Callable[[], Connection],
        guard: SqliteFileGuard | None = None,
        deferred_writes: DeferredWrites | None = None,
        *,
        write_limit: int | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._connect = connect
        self.clock = clock
        self._guard = guard
        self._deferred_writes = deferred_writes
        self._write_limit = None if write_limit == 0 and deferred_writes is None else write_limit
        self.connection: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        if self._guard is not None:
            self._guard.check()
        try:
            self.connection = self._connect()  # a Connection connects now, not at its first statement
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise _unavailable(error) from error
        if self._write_limit is not None:
            options: dict[str, Any] = {WRITE_LIMIT: [self._write_limit]}
            if self._write_limit <= 1 and self.connection.dialect.name == "postgresql":
                options["isolation_level"] = "AUTOCOMMIT"
            self.connection.execution_options(**options)
        self.learners = SqlLearnerRepository(self.connection)
        self.organisations = SqlOrganisationRepository(self.connection)
        self.searches = SqlSearchLog(self.connection, self._deferred_writes)
        self.audit = SqlAuditLog(self.connection, self._deferred_writes)
        self.events = SqlLearningEventRepository(self.connection)
        self.sign_ins = SqlSignInLog(self.connection)
        self.jobs = SqlBatchJobRepository(self.connection)
        self.batch_workers = SqlBatchWorkerLog(self.connection)
        return self

    def __exit__(self, exc_type: object, error: object, traceback: object) -> None:
        assert self.connection is not None
        try:
            self.rollback()  # a no-op after commit()
        except exc.DBAPIError:
            pass  # the connection is gone, and the transaction with it
        finally:
            self.connection.close()
            self.connection = None
        if isinstance(error, (exc.OperationalError, exc.InterfaceError)):
            raise _unavailable(error) from error

    def ping(self) -> None:
        """The database answers, holds the schema this lrs-ws expects, and takes writes (a
        no-op write inside this transaction, rolled back: every request writes its audit row)."""
        assert self.connection is not None, "use the unit of work as a context manager"
        try:
            found = self.connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except exc.ProgrammingError:  # PostgreSQL: no such table
            found = None
        except exc.OperationalError as error:
            if "no such table" not in str(error):
                raise
            found = None
        if found != _head_revision():
            raise DatabaseUnavailable(f"the database has schema revision {found}, not {_head_revision()}: run lrs-ws db upgrade")
        try:
            self.connection.execute(NO_OP_WRITE)
        except exc.DBAPIError as error:  # read-only file, standby server, no write permission
            raise DatabaseUnavailable("the database does not take writes", str(error.orig).strip().splitlines()[0]) from None

    def lock(self, key: str) -> None:
        """Hold an exclusive lock named `key` until this transaction ends.

        PostgreSQL: a transaction-level advisory lock on the key. SQLite has one writer at a
        time and the first write of a transaction takes the database lock, so a no-op write
        does (other writers wait up to the busy timeout).
        """
        assert self.connection is not None, "use the unit of work as a context manager"
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
        else:
            self.connection.execute(NO_OP_WRITE)

    def commit(self) -> None:
        assert self.connection is not None, "use the unit of work as a context manager"
        if self._guard is not None:
            self._guard.check()  # never commit into a file that left its path
        self.connection.commit()

    def rollback(self) -> None:
        assert self.connection is not None, "use the unit of work as a context manager"
        self.connection.rollback()
