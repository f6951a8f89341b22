"""The service clock is aware UK time, so stored instants and windows are right across BST."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lrs_ws.adapters.mapping import to_naive_utc
from lrs_ws.clock import SYSTEM_CLOCK


def test_clock_is_aware_uk_time():
    now = SYSTEM_CLOCK.now()
    assert now.tzinfo is not None
    assert now.utcoffset() in (timedelta(0), timedelta(hours=1))


def test_instants_either_side_of_the_spring_change_are_stored_fifteen_minutes_apart():
    london = ZoneInfo("Europe/London")
    before = datetime(2027, 3, 28, 0, 50, tzinfo=london)  # GMT
    after = datetime(2027, 3, 28, 2, 5, tzinfo=london)  # BST, 15 real minutes later
    assert to_naive_utc(after) - to_naive_utc(before) == timedelta(minutes=15)
    assert to_naive_utc(after) == datetime(2027, 3, 28, 1, 5)
    assert after.date() == before.date()  # the UK calendar day for ages and record dates
    assert to_naive_utc(datetime(2026, 7, 1, 12, tzinfo=UTC)) == datetime(2026, 7, 1, 12)
