"""What a running service needs: settings, a unit-of-work factory, a clock and a random source."""
from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from lrs_ws.clock import SYSTEM_CLOCK, Clock
from lrs_ws.config import Settings
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS
from lrs_ws.domain.sign_in import Backoff
from lrs_ws.services.ports import SandboxView, UnitOfWork


@dataclass(frozen=True)
class ServedWorker:
    """The batch worker `serve` runs: its report's key (lrs_ws.services.batch_workers), and the
    process id of its supervisor now (serve starts the supervisor again should it end)."""

    name: str
    supervisor_pid: Callable[[], int]


@dataclass
class Runtime:
    settings: Settings
    unit_of_work: Callable[..., UnitOfWork]  # (write_limit=None): see adapters.unit_of_work.SqlUnitOfWork
    # Outside a unit of work (the timestamp of a request refused before one opens); inside one,
    # `uow.clock`, which is this clock unless something stands in for it (lrs_ws.clock).
    clock: Clock = SYSTEM_CLOCK
    # ULNs must be unguessable: the OS's CSPRNG, not a seeded generator.
    rng: random.Random = field(default_factory=secrets.SystemRandom)
    # How long a register waits for its search's row still on its way: set when the unit of work
    # writes finds' logs off the request (lrs_ws.bootstrap.build_runtime), else 0.
    search_patience: float = 0
    # The batch worker `serve` runs beside this service; None with `serve --no-worker` or
    # outside `serve`.
    batch_worker: ServedWorker | None = None
    # Sandbox mode: this process's view of the planted faults and the clock
    # (lrs_ws.adapters.sandbox.SandboxState); None outside sandbox mode.
    sandbox: SandboxView | None = None

    @property
    def prohibited_words(self) -> tuple[str, ...]:
        words = self.settings.prohibited_words
        return tuple(DEFAULT_PROHIBITED_WORDS) if words is None else words

    @property
    def backoff(self) -> Backoff:
        return Backoff(free_failures=self.settings.sign_in_failures, max_delay=self.settings.sign_in_backoff_max)

    @property
    def batch_retention(self) -> timedelta:
        return timedelta(days=self.settings.batch_retention_days)

    @property
    def find_window(self) -> timedelta:
        return timedelta(minutes=self.settings.find_before_register_minutes)
