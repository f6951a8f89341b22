"""The database goes away under the running server, and comes back.

While it is gone every request is answered with WSEC0999 (MIAPAPIException on the Learner
Register, DomainFault on the PLR service), /health says 503 and why, nothing is written anywhere
else (no new SQLite file, no register half-done), and a worker killed meanwhile is replaced by one
that answers the same way. When the database is back the service resumes by itself.
"""
from __future__ import annotations

import os
import shutil
import signal
import sqlite3

import pytest
from sqlalchemy import create_engine, text

from lrs_ws.adapters.engines import normalise_url, sqlite_path
from tests.conftest import DEFAULT_POSTGRES_URL, _postgres_database
from tests.e2e.serving import (
    eventually,
    fault_detail,
    find_by_demographics,
    find_by_uln,
    learning_events,
    postgres_base_url,
    register,
    serving,
)

NEWCOMER = {"GivenName": "Isla", "FamilyName": "Fairbairn", "DateOfBirth": "2008-04-04", "Gender": "2", "LastKnownPostCode": "EH1 1YZ"}


def _unavailable(server) -> None:
    """Every kind of request answers WSEC0999 in its service's fault kind; /health says 503."""
    response = server.post("/LearnerService.svc", find_by_uln())
    assert fault_detail(response.content)[:2] == ("MIAPAPIException", "WSEC0999"), response.text[:300]
    response = server.post("/LearnerServiceR9.svc", learning_events(), soap_action='"http://tempuri.org/ILearnerServiceR9/GetLearnerLearningEvents"')
    assert fault_detail(response.content)[:2] == ("DomainFault", "WSEC0999"), response.text[:300]
    status, health = server.health()
    assert status == 503 and health["status"] == "unavailable", health


def _kill_a_worker(server) -> None:
    """SIGKILL the worker; gunicorn starts another while the server stays up."""
    (worker,) = server.worker_pids()
    os.kill(worker, signal.SIGKILL)
    server.wait_for_workers(1, not_in={worker})
    assert server.process.poll() is None, "the server itself went down with its worker"
    # the new worker answers (503: the database is still away)
    eventually(lambda: server.health()[0] == 503, timeout=15, what="an answer from the new worker")


def _learners_named(path: str, given: str, family: str) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM learners WHERE given_name = ? AND family_name = ?", (given, family)).fetchone()[0]


def test_sqlite_file_renamed_away_then_back_then_replaced(tmp_path):
    with serving(tmp_path, "--workers", "1", sqlite=True) as server:
        path = sqlite_path(server.database_url)
        away = path + ".away"
        assert server.call(find_by_uln()) == "WSRC0004"
        assert server.call(find_by_demographics(NEWCOMER)) == "WSRC0001"  # a register may follow

        os.rename(path, away)  # its -wal and -shm stay where they are
        try:
            _unavailable(server)
            reason = server.health()[1]["reason"]
            # Anyone may read /health: the reason, not the file's path (that goes to the log).
            assert reason == "the database file is gone" and path in server.log()
            response = server.post("/LearnerService.svc", register(NEWCOMER))
            assert fault_detail(response.content)[:2] == ("MIAPAPIException", "WSEC0999"), response.text[:300]
            assert not os.path.exists(path), "a request created a new database file"

            _kill_a_worker(server)
            _unavailable(server)
            assert not os.path.exists(path), "the new worker created a new database file"
        finally:
            os.rename(away, path)

        eventually(lambda: server.call(find_by_uln()) == "WSRC0004", timeout=2, what="finds after the file came back")
        assert server.health() == (200, {"status": "ok", "batch_worker": "running"})
        assert _learners_named(path, NEWCOMER["GivenName"], NEWCOMER["FamilyName"]) == 0, "the refused register was written"

        copy = path + ".copy"
        shutil.copyfile(path, copy)
        os.replace(copy, path)  # another file (inode) at the same path
        assert server.call(find_by_uln()) == "WSEC0999"
        status, health = server.health()
        assert status == 503 and "replaced" in health["reason"], health


@pytest.fixture
def postgres():
    """A fresh database on the PostgreSQL server (the suite's, else the local test server,
    as the integration tests use it), and an admin engine; skipped if unreachable outside CI."""
    base = postgres_base_url() or os.environ.get("LRS_WS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    url, drop = _postgres_database(base)  # fails under CI=true, skips otherwise, when unreachable
    admin = create_engine(normalise_url(base), isolation_level="AUTOCOMMIT")
    yield url, admin
    admin.dispose()
    drop()


def test_postgres_database_refusing_connections_then_back(tmp_path, postgres):
    database_url, postgres_admin = postgres
    with serving(tmp_path, "--workers", "1", database_url=database_url) as server:
        name = server.database_url.rsplit("/", 1)[1]
        assert server.call(find_by_uln()) == "WSRC0004"

        def allow(allowed: bool) -> None:
            with postgres_admin.connect() as conn:
                conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
                if not allowed:
                    conn.execute(
                        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                        {"name": name},
                    )

        allow(False)
        try:
            _unavailable(server)
            _kill_a_worker(server)
            _unavailable(server)
        finally:
            allow(True)  # also so that the database can be dropped afterwards
        eventually(lambda: server.call(find_by_uln()) == "WSRC0004", timeout=5, what="finds after connections are allowed again")
        assert server.health() == (200, {"status": "ok", "batch_worker": "running"})
        assert "Traceback" not in server.log()  # an outage is one log line per request, not a bug
