"""Who writes, and how much: SQLite writers taking turns through a lock file, and the write limit
of a unit of work opened to write at most so many statements."""
from __future__ import annotations

import fcntl
import os
import time
from typing import Any

from sqlalchemy import Engine, event

SQLITE_BUSY_TIMEOUT_MS = 30_000  # how long a SQLite writer waits for the lock (the pragma's, and a turn's)

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


def limit_writes(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _count(connection, cursor, statement, parameters, context, executemany) -> None:
        left = connection.get_execution_options().get(WRITE_LIMIT)
        if left is not None and _is_write(statement):
            if left[0] <= 0:
                raise WriteLimitExceeded(f"a unit of work tried one write too many: {statement.split(chr(10))[0][:80]}")
            left[0] -= 1


def take_write_turns(engine: Engine, path: str) -> None:
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
