"""The backoff after wrong passwords: pure rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lrs_ws.domain.sign_in import Backoff, FailedSignIns, first_failure

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_free_failures_then_doubling_up_to_the_cap() -> None:
    backoff = Backoff(free_failures=5, max_delay=60)
    assert [backoff.delay(n).total_seconds() for n in range(1, 13)] == [0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert backoff.delay(10_000) == timedelta(seconds=60)  # no overflow however long the flood


def test_a_failure_counts_on_and_blocks_from_the_free_limit() -> None:
    backoff = Backoff(free_failures=2, max_delay=60)
    state = first_failure(NOW, backoff)
    assert (state.count, state.blocked_until) == (1, None) and not state.blocks(NOW)
    state = state.after_another(NOW + timedelta(seconds=1), backoff)
    assert state.count == 2 and state.blocked_until == NOW + timedelta(seconds=2)
    assert state.blocks(NOW + timedelta(seconds=1.5)) and not state.blocks(NOW + timedelta(seconds=2))
    assert state.seconds_left(NOW + timedelta(seconds=1.2)) == 1


def test_a_long_quiet_gap_starts_the_count_again() -> None:
    backoff = Backoff(free_failures=2, forget_after=timedelta(minutes=15))
    state = FailedSignIns(count=9, last_at=NOW, blocked_until=NOW + timedelta(seconds=60))
    later = state.after_another(NOW + timedelta(minutes=17), backoff)  # 16 quiet minutes after the block
    assert (later.count, later.blocked_until) == (1, None)
    sooner = state.after_another(NOW + timedelta(minutes=14), backoff)
    assert sooner.count == 10 and sooner.blocked_until == NOW + timedelta(minutes=14, seconds=60)


def test_long_blocks_do_not_earn_the_free_failures_back() -> None:
    backoff = Backoff(free_failures=2, max_delay=3600, forget_after=timedelta(minutes=15))
    state = FailedSignIns(count=9, last_at=NOW, blocked_until=NOW + timedelta(hours=1))
    # Twenty minutes after the block ended the count starts again; five minutes after, it does not.
    assert state.after_another(NOW + timedelta(hours=1, minutes=20), backoff).count == 1
    later = state.after_another(NOW + timedelta(hours=1, minutes=5), backoff)
    assert later.count == 10 and later.blocked_until == NOW + timedelta(hours=1, minutes=5, seconds=256)
