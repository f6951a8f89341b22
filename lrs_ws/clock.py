"""What time it is, for everything that asks: one clock, in UK time.

The LRS keeps the UK's calendar: record dates, ages and the times it shows are UK ones. Code that
needs "now" asks a :class:`Clock`; a unit of work carries the one to use (`uow.clock`), so that a
clock kept elsewhere (the database, in sandbox mode) can stand in for the host's without any
caller knowing. Domain rules take the date as an argument. Timeouts are not "now": they stay on
`time.monotonic()`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware, in UK time: `.date()` is the UK calendar day. (Stored as UTC instants, so
        windows such as find-before-register survive the clock changes.)"""
        ...


class SystemClock:
    """The host's clock."""

    def now(self) -> datetime:
        return datetime.now(UK)


SYSTEM_CLOCK = SystemClock()


def uk_date_time(moment: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in UK time (MIAPDateTime; fault timestamps; the command line)."""
    return moment.astimezone(UK).strftime("%Y-%m-%d %H:%M:%S")
