"""The audit rows of finds on a served lrs-ws: written off the request within --find-log-delay,
and by a graceful stop when that has not come yet; a register right after its search waits for the
search's row."""
from __future__ import annotations

import time

from sqlalchemy import select

from lrs_ws.adapters.engines import make_engine
from lrs_ws.adapters.orm import audit_events
from tests.e2e.serving import eventually, find_by_demographics, find_by_uln, register, serving, stop


def _find_rows(database_url: str) -> list[tuple[str, str]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            query = select(audit_events.c.operation, audit_events.c.outcome).where(audit_events.c.operation == "learnerByULN")
            return [tuple(row) for row in connection.execute(query)]
    finally:
        engine.dispose()


def test_a_find_is_audited_within_the_delay(tmp_path) -> None:
    with serving(tmp_path, "--find-log-delay", "0.2") as served:
        assert served.call(find_by_uln()) == "WSRC0004"
        assert eventually(lambda: _find_rows(served.database_url), 5, interval=0.05, what="the find's audit row") == [
            ("learnerByULN", "WSRC0004")]


def test_a_graceful_stop_writes_the_rows_still_waiting(tmp_path) -> None:
    with serving(tmp_path, "--find-log-delay", "10") as served:
        for _ in range(3):
            assert served.call(find_by_uln()) == "WSRC0004"
        assert _find_rows(served.database_url) == []  # not yet: the delay is 10 s
        stop(served.process)
        assert _find_rows(served.database_url) == [("learnerByULN", "WSRC0004")] * 3


def test_a_register_right_after_its_search_waits_for_the_search_row(tmp_path) -> None:
    """The search's row is written up to a second later (--find-log-delay 1); the register sent
    at once waits for it instead of refusing with WSRC0021."""
    with serving(tmp_path, "--find-log-delay", "1") as served:
        for n, family in enumerate(("Okonkwo", "Haddad", "Lindqvist")):
            learner = {"GivenName": "Ada", "FamilyName": family, "DateOfBirth": f"2009-0{n + 1}-15", "Gender": "2",
                       "LastKnownPostCode": "NE1 7RU"}
            assert served.call(find_by_demographics(learner)) == "WSRC0001"
            assert served.call(register(learner)) == "WSRC0005", family
        stranger = {"GivenName": "Bo", "FamilyName": "Nobody", "DateOfBirth": "2009-05-05", "Gender": "1",
                    "LastKnownPostCode": "NE1 7RU"}
        started = time.monotonic()
        assert served.call(register(stranger)) == "WSRC0021"  # never searched: refused once its patience is spent
        assert 1.0 <= time.monotonic() - started < 10
