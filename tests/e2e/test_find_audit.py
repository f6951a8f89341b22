"""The audit rows of finds on a served lrs-ws: written off the request within --find-audit-delay,
and by a graceful stop when that has not come yet."""
from __future__ import annotations

from sqlalchemy import select

from lrs_ws.adapters.orm import audit_events
from lrs_ws.adapters.unit_of_work import make_engine
from tests.e2e.serving import eventually, find_by_uln, serving, stop


def _find_rows(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(audit_events.c.operation, audit_events.c.outcome).where(audit_events.c.operation == "learnerByULN")
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def test_a_find_is_audited_within_the_delay(tmp_path) -> None:
    with serving(tmp_path, "--find-audit-delay", "0.2") as served:
        assert served.call(find_by_uln()) == "WSRC0004"
        assert eventually(lambda: _find_rows(served.database_url), 5, interval=0.05, what="the find's audit row") == [
            ("learnerByULN", "WSRC0004")]


def test_a_graceful_stop_writes_the_rows_still_waiting(tmp_path) -> None:
    with serving(tmp_path, "--find-audit-delay", "10") as served:
        for _ in range(3):
            assert served.call(find_by_uln()) == "WSRC0004"
        assert _find_rows(served.database_url) == []  # not yet: the delay is 10 s
        stop(served.process)
        assert _find_rows(served.database_url) == [("learnerByULN", "WSRC0004")] * 3
