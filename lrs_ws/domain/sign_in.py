"""Backoff after wrong passwords (our reading: the LRS publishes no lockout rule).

Each organisation and source address has a few free failures; then every further wrong
password blocks that pair for a while, twice as long each time, up to a cap. While blocked, a
request is refused without checking its password (no scrypt is spent on it, and a guessed
password is never confirmed); once the block ends, a correct password signs in and clears the
count. A failure long after the previous one (and after its block) starts the count again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    free_failures: int = 5  # wrong passwords before the first block
    max_delay: float = 60.0  # seconds: the longest block
    first_delay: float = 1.0  # seconds: the first block; each further failure doubles it
    forget_after: timedelta = timedelta(minutes=15)  # quiet this long after a block: count again

    def delay(self, failures: int) -> timedelta:
        """How long the pair is blocked after its `failures`-th consecutive failure."""
        if failures < self.free_failures:
            return timedelta(0)
        doublings = min(failures - self.free_failures, 30)
        return timedelta(seconds=min(self.max_delay, self.first_delay * 2**doublings))


@dataclass(frozen=True)
class FailedSignIns:
    """Consecutive wrong passwords of one organisation from one address. Times are aware."""

    count: int
    last_at: datetime
    blocked_until: datetime | None = None

    def blocks(self, now: datetime) -> bool:
        return self.blocked_until is not None and now < self.blocked_until

    def seconds_left(self, now: datetime) -> int:
        if self.blocked_until is None:
            return 0
        return max(1, math.ceil((self.blocked_until - now).total_seconds()))

    def after_another(self, now: datetime, backoff: Backoff) -> FailedSignIns:
        # Quiet is counted from the end of the last block, not from the last failure: however
        # long the blocks grow, waiting one out never earns the free failures back.
        quiet_since = max(self.last_at, self.blocked_until or self.last_at)
        count = 1 if now - quiet_since > backoff.forget_after else self.count + 1
        return first_failure(now, backoff, count)


def first_failure(now: datetime, backoff: Backoff, count: int = 1) -> FailedSignIns:
    delay = backoff.delay(count)
    return FailedSignIns(count=count, last_at=now, blocked_until=now + delay if delay else None)
