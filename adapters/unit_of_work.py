"""The SQLAlchemy unit of work: one connection, one transaction, the repositories over it."""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Connection, exc, text

from lrs_ws.adapters.batch_jobs import SqlBatchJobRepository
from lrs_ws.adapters.batch_workers import SqlBatchWorkerLog
from lrs_ws.adapters.callers import SqlAuditLog, SqlOrganisationRepository, SqlSearchLog, SqlSignInLog
from lrs_ws.adapters.deferred_writes import DeferredWrites
from lrs_ws.adapters.orm import NO_OP_WRITE
from lrs_ws.adapters.repository import SqlLearnerRepository, SqlLearningEventRepository
from lrs_ws.adapters.sandbox import SqlSandboxStore
from lrs_ws.adapters.sqlite_file import SqliteFileGuard
from lrs_ws.adapters.write_control import WRITE_LIMIT
from lrs_ws.clock import SYSTEM_CLOCK, Clock
from lrs_ws.services.ports import DatabaseUnavailable


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
        self._locks: set[str] = set()  # held by this transaction

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
        self.sandbox = SqlSandboxStore(self.connection)
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
        if key in self._locks:
            return
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
        elif not _sqlite_holds_write_lock(self.connection):
            self.connection.execute(NO_OP_WRITE)
        self._locks.add(key)

    def lock_all(self, keys: Iterable[str]) -> None:
        """PostgreSQL: one statement, the advisory locks taken in the order of their hashes."""
        assert self.connection is not None, "use the unit of work as a context manager"
        wanted = sorted(set(keys) - self._locks)
        if not wanted:
            return
        if self.connection.dialect.name != "postgresql":
            self.lock(wanted[0])  # SQLite: the one write lock
        else:
            self.connection.execute(_LOCK_ALL, {"keys": wanted})
        self._locks.update(wanted)

    def commit(self) -> None:
        assert self.connection is not None, "use the unit of work as a context manager"
        if self._guard is not None:
            self._guard.check()  # never commit into a file that left its path
        self.connection.commit()
        self._locks.clear()

    def rollback(self) -> None:
        assert self.connection is not None, "use the unit of work as a context manager"
        self._locks.clear()
        self.connection.rollback()


# The locks in one fixed order (their hashes'), each taken as lock() takes it; OFFSET 0 keeps the
# sorted subquery's order for the calls.
_LOCK_ALL = text(
    "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h"
    " FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h OFFSET 0) AS locks"
)


def _sqlite_holds_write_lock(connection: Connection) -> bool:
    """Whether this SQLite transaction already holds the database's write lock: the driver
    opens a transaction (BEGIN) only before a write, and the write takes the lock until the
    transaction ends. A batch job's chunk takes it first thing, so the registration lock of
    each of its learners costs no statement."""
    return bool(getattr(connection.connection.dbapi_connection, "in_transaction", False))
