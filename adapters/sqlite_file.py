"""The SQLite file a server was started on: it must still be the file at its path."""
from __future__ import annotations

import os

from lrs_ws.services.ports import DatabaseUnavailable


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
