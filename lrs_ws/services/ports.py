"""The ports the use cases need; `adapters/` implements them with SQLAlchemy, tests with fakes."""
from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from lrs_ws.clock import Clock
from lrs_ws.domain.batch import BatchJob, JobLearner, JobPart, JobStatus, LearnerOutcome
from lrs_ws.domain.learner import Learner
from lrs_ws.domain.learning_event import LearningEvent
from lrs_ws.domain.matching import MatchCandidate, NameCodes, SearchKey
from lrs_ws.domain.roles import Role
from lrs_ws.domain.sign_in import FailedSignIns


class DatabaseUnavailable(Exception):
    """The database cannot be used now (down, unreachable, read-only, or its file gone).

    `reason` is what anyone may be told (the health check says it); `detail` adds what only the
    operator's log should show (host names, file paths, driver messages). Requests are answered
    WSEC0999 meanwhile.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Organisation:
    id: int | None
    name: str
    ukprn: str | None
    organisation_ref: str | None
    password_hash: str  # see lrs_ws.domain.passwords


@dataclass
class User:
    id: int | None
    organisation_id: int
    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Caller:
    """Who is calling: an organisation and one of its users, after the credentials check."""

    organisation_id: int
    organisation_name: str
    user_id: int
    username: str
    roles: frozenset[Role]
    address: str = ""  # the client's network address, as the HTTP server saw it
    failed_sign_ins: bool = False  # wrong passwords were counted for this organisation and address


class LearnerRepository(Protocol):
    def get(self, uln: str) -> Learner | None: ...
    def get_many(self, ulns: Iterable[str]) -> list[Learner]: ...
    def add(self, learner: Learner) -> None: ...
    def update(self, learner: Learner, expected_version: int) -> bool:
        """Store `learner`; False when the stored version is no longer `expected_version`."""
    def uln_exists(self, uln: str) -> bool:
        """True for every ULN ever issued, retired ones included (ULNs are never reissued)."""
    def known_ulns(self, ulns: Iterable[str]) -> set[str]:
        """Those of `ulns` ever issued (retired ones included): one query per chunk, not per ULN."""
    def candidates_born_on(
        self, dates: Iterable[date], *, names: NameCodes | None = None, fresh: bool = False
    ) -> list[MatchCandidate]:
        """Light rows for matching, from the candidate index (it leads with the date of birth); never a table scan.
        `names`: only learners whose name codes may match these (matching.may_match); every
        learner of the date may come back too. `fresh`: what other writers committed since
        remember_candidates() read a date, too."""
    def remember_candidates(self, searches: Iterable[tuple[Iterable[date], NameCodes]] = ()) -> None:
        """Until the unit of work ends, read each date's candidates, and each search's (dates
        and name codes), once (batch jobs); `searches`: those to read now, all at once."""
    def remembered_may_be_stale(self) -> bool:
        """Whether other writers can commit while candidates are remembered (then read `fresh`)."""
    def merge(self, master_uln: str, retired_uln: str, today: date) -> None:
        """Retire `retired_uln` into `master_uln`; ValueError says why a merge is impossible."""


class OrganisationRepository(Protocol):
    def by_ukprn(self, ukprn: str) -> Organisation | None: ...
    def by_reference(self, organisation_ref: str) -> Organisation | None: ...
    def by_id(self, organisation_id: int) -> Organisation | None: ...
    def user(self, organisation_id: int, username: str) -> User | None: ...
    def with_user(
        self, *, ukprn: str | None, organisation_ref: str | None, username: str, address: str = ""
    ) -> tuple[Organisation | None, User | None, FailedSignIns | None]:
        """The organisation named by UKPRN (else OrganisationRef), its user `username`, and its
        wrong passwords from `address`: what every request's credentials check needs, at once."""
    def add(self, organisation: Organisation) -> Organisation: ...
    def add_user(self, user: User) -> User: ...
    def all(self) -> list[Organisation]:
        """Every organisation, by name."""
    def users_of(self, organisation_id: int) -> list[User]:
        """An organisation's users, by user name."""
    def user_by_id(self, user_id: int) -> User | None: ...


class SearchLog(Protocol):
    """Demographic searches, kept for the find-before-register rule."""

    def record(self, organisation_id: int, search_key: str, response_code: str, at: datetime, *, deferred: bool = False) -> None:
        """With `deferred`, the row may be written a moment after the unit of work."""
    def recent(self, organisation_id: int, search_key: str, since: datetime) -> list[str]:
        """Response codes of this organisation's FUL searches with this key since `since`."""


class SignInLog(Protocol):
    """Consecutive wrong passwords per organisation and source address (the backoff)."""

    def get(self, organisation_id: int, address: str) -> FailedSignIns | None: ...
    def save(self, organisation_id: int, address: str, state: FailedSignIns) -> None: ...
    def clear(self, organisation_id: int, address: str) -> None: ...


@dataclass(frozen=True)
class AuditEntry:
    """One row of a learner's audit trail. R9 ViewAudit answers the first four fields only; the
    console shows the rest too."""

    at: datetime  # aware UTC
    operation: str
    organisation_name: str | None
    username: str | None
    uln: str | None = None
    address: str | None = None  # the client's network address
    outcome: str | None = None
    organisation_id: int | None = None


class AuditLog(Protocol):
    def entries(
        self, ulns: Iterable[str], operations: Iterable[str] | None, offset: int, limit: int
    ) -> tuple[int, list[AuditEntry]]:
        """How many rows these ULNs have for these operations (None: any), and a page of them,
        newest first."""
    def record(
        self,
        *,
        at: datetime,
        organisation_id: int | None,
        username: str | None,
        operation: str,
        uln: str | None,
        outcome: str,
        address: str | None = None,
        deferred: bool = False,
    ) -> None:
        """With `deferred`, the row may be written a moment after the unit of work (finds only)."""


class LearningEventRepository(Protocol):
    """The Personal Learning Record: learning events, each loaded against one ULN."""

    def for_learners(self, ulns: Iterable[str]) -> list[LearningEvent]:
        """Every event of these ULNs, sensitive ones included, ordered by
        `lrs_ws.domain.learning_event.event_order` (date, then ID)."""
    def with_learner(self, uln: str) -> tuple[Learner | None, list[LearningEvent]]:
        """The learner (as LearnerRepository.get) and the events of its own ULN (as for_learners,
        not those of the ULNs linked to it), read together; (None, []) for an unknown ULN."""
    def add_many(self, events: Iterable[LearningEvent]) -> list[int]:
        """Insert; events without an ID get the next free ones (set on them). The IDs, in order."""
    def next_ids(self, count: int) -> list[int]:
        """`count` IDs above every stored one."""
    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        """Those of `ids` already taken."""


class BatchJobRepository(Protocol):
    """Batch jobs and their learners; a worker holds a job by a lease it renews as it goes."""

    def add(self, job: BatchJob) -> int:
        """Store a new job (its id is ignored); the new JobID: positive, increasing, unique."""
    def add_learners(self, job_id: int, learners: Iterable[JobLearner]) -> None:
        """Store learners of a job, in order; those with an outcome already (rows refused when the
        file was read) count as processed."""
    def get(self, job_id: int) -> BatchJob | None: ...
    def claim(self, worker: str, now: datetime, lease_until: datetime) -> BatchJob | None:
        """The oldest job waiting, or running with its lease run out, now held by `worker`
        (PostgreSQL: FOR UPDATE SKIP LOCKED, so workers never wait for each other)."""
    def held(self) -> list[tuple[int, str]]:
        """Running jobs and the workers holding them."""
    def take_over(self, job_id: int, holder: str, worker: str, lease_until: datetime) -> bool:
        """Hold a job that `holder` held (known dead); False when it no longer held it."""
    def hold(self, job_id: int, worker: str, lease_until: datetime) -> bool:
        """Lock the job until this transaction ends and renew the lease; False when `worker` no
        longer holds it (another worker took it over)."""
    def set_status(self, job_id: int, status: JobStatus) -> None: ...
    def delete(self, job_id: int) -> None:
        """The job and its learners (a file that failed while it was read)."""
    def release(self, job_id: int, worker: str) -> None:
        """Give the job up (a worker stopping): any worker may claim it at once."""
    def pending(
        self, job_id: int, limit: int, after: tuple[str, int] | None = None, part: JobPart | None = None
    ) -> list[JobLearner]:
        """Up to `limit` learners without an outcome, in processing order (`processing_key`:
        date of birth as sent, then position), after the key `after`, within `part` if given."""
    def record(self, job_id: int, outcomes: dict[int, LearnerOutcome]) -> None:
        """Store the outcomes (by position) and add them to the job's counts."""
    def finish(self, job_id: int, status: JobStatus, now: datetime, failure: str | None = None) -> None: ...
    def learners(self, job_id: int, after: int = 0, limit: int = 1000) -> list[JobLearner]:
        """Learners in order, from position `after` + 1 (pages, so output streams)."""
    def recent(self, organisation_id: int | None, limit: int) -> list[BatchJob]:
        """The newest jobs, of one organisation or of all."""
    def purge(self, submitted_before: datetime) -> int:
        """Delete jobs submitted before the time, with their learners; how many."""
    # A big job runs in parts that several workers claim at once (each held by a lease, as a job).
    def split(self, job_id: int, part_size: int) -> int:
        """Cut the job's pending learners into parts (`domain.batch.part_ranges`); how many
        (one: the job stays whole; more: only `claim_part` gives it out from now on)."""
    def claim_part(self, worker: str, now: datetime, lease_until: datetime) -> JobPart | None:
        """A part of a running job held by no worker (or whose lease ran out), now `worker`'s."""
    def held_parts(self) -> list[tuple[JobPart, str]]:
        """Parts being run and the workers holding them."""
    def take_over_part(self, part: JobPart, holder: str, worker: str, lease_until: datetime) -> bool: ...
    def hold_part(self, part: JobPart, worker: str, lease_until: datetime) -> bool:
        """Lock the part and renew its lease; False when `worker` no longer holds it or the job
        no longer runs (another part failed it)."""
    def release_part(self, part: JobPart, worker: str) -> None: ...
    def finish_part(self, part: JobPart) -> bool:
        """The part done; whether it was the job's last."""


class WorkerState(str, enum.Enum):
    STARTING = "starting"  # started, not yet ready to run jobs
    RUNNING = "running"  # claims and runs jobs
    RESTARTING = "restarting"  # ended; started again after a pause
    FAILED = "failed"  # cannot start (several times running), or gone without a word
    OFF = "off"  # `serve --no-worker`: no batch worker beside the service


@dataclass(frozen=True)
class WorkerReport:
    name: str  # unique among the workers of a database (lrs_ws.worker.worker_name)
    host: str
    pid: int
    supervised: bool  # kept going by a supervisor (`lrs-ws serve`'s), else started by hand
    state: WorkerState
    detail: str  # why, in one line, when not running ("" when there is nothing to say)
    started_at: datetime  # aware UTC
    seen_at: datetime  # aware UTC


class BatchWorkerLog(Protocol):
    """What each batch worker (or supervisor) last said of itself (lrs_ws.services.batch_workers)."""

    def save(self, worker: WorkerReport) -> None:
        """Add or replace the report of `worker.name`."""
    def get(self, name: str) -> WorkerReport | None: ...
    def all(self) -> list[WorkerReport]:
        """Every report, in the order the workers started."""
    def remove(self, name: str) -> None: ...
    def forget_older(self, seen_before: datetime) -> None:
        """Delete the reports not renewed since `seen_before`."""


# --- sandbox mode (lrs_ws.services.sandbox) ---------------------------------------------------


class PlantedFaultKind(str, enum.Enum):
    DELAY = "delay"  # answer as usual, `seconds` later
    FAULT = "fault"  # a SOAP fault with `code` instead of the answer
    HTTP = "http"  # an HTTP `status` with an empty body
    DROP = "drop"  # close the connection without an answer


@dataclass(frozen=True)
class PlantedFault:
    """A fault planted for the calls of one operation (or "*"), of one organisation or all."""

    id: int | None
    operation: str  # a WSDL operation name, or "*"
    ukprn: str | None
    kind: PlantedFaultKind
    seconds: float | None = None
    code: str | None = None
    status: int | None = None
    times: int | None = None  # left to fire; None: until deleted
    probability: float = 1.0


@dataclass(frozen=True)
class JournalEntry:
    """One SOAP request as the sandbox journal keeps it (passwords already masked)."""

    id: int | None
    at: datetime  # aware UTC
    endpoint: str
    operation: str
    soap_action: str | None
    ukprn: str | None
    user: str | None
    outcome: str
    http_status: int
    duration_ms: float
    request: str
    response: str
    problem: str | None = None
    near_misses: tuple[dict[str, object], ...] = ()  # {"uln", "differences"}
    fault_id: int | None = None  # the planted fault that answered, if one did


@dataclass(frozen=True)
class JournalFilter:
    operation: str | None = None
    outcome: str | None = None
    ukprn: str | None = None
    user: str | None = None
    since_id: int | None = None
    limit: int = 100


class SandboxView(Protocol):
    """A process's view of what every SOAP call consults in sandbox mode, kept fresh within a
    moment of any change (lrs_ws.adapters.sandbox.SandboxState)."""

    def faults(self) -> list[PlantedFault]: ...
    def settled(self) -> None:
        """Return once every process's view shows what was committed before the call."""


class SandboxStore(Protocol):
    """What sandbox mode keeps in the database, so that every process sees the same."""

    def record_requests(self, entries: Iterable[JournalEntry], keep: int) -> None:
        """Add to the journal, then drop the oldest beyond `keep` entries."""
    def requests(self, where: JournalFilter) -> list[JournalEntry]:
        """Newest first (by the time of the call)."""
    def request(self, entry_id: int) -> JournalEntry | None: ...
    def forget_requests(self) -> None: ...
    def near_candidates(self, search: SearchKey, limit: int = 200) -> list[MatchCandidate]:
        """Learners sharing a name form, the date of birth (or its swap) or the postcode with `search`."""
    def add_fault(self, fault: PlantedFault) -> int: ...
    def faults(self) -> list[PlantedFault]: ...
    def remove_fault(self, fault_id: int) -> bool: ...
    def remove_faults(self) -> None: ...
    def take_fault(self, fault_id: int) -> bool:
        """One firing of a fault: False when it has none left (another process took the last)."""
    def setting(self, name: str) -> dict[str, object] | None: ...
    def put_setting(self, name: str, value: dict[str, object] | None) -> None:
        """Store (None: remove) a setting: the clock, when the baseline was marked."""
    def mark_baseline(self) -> int:
        """Remember every row of the register's tables as they are now; how many rows."""
    def restore_baseline(self) -> int:
        """Put the register's tables back to the baseline (the journal and faults emptied, the
        settings removed), in this transaction; how many rows."""


class UnitOfWork(Protocol):
    """One transaction: commit() makes every change of the use case durable, or none of them."""

    learners: LearnerRepository
    organisations: OrganisationRepository
    searches: SearchLog
    audit: AuditLog
    events: LearningEventRepository
    sign_ins: SignInLog
    jobs: BatchJobRepository
    batch_workers: BatchWorkerLog
    sandbox: SandboxStore
    clock: Clock  # what time it is for this unit's use case (lrs_ws.clock)

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...  # rolls back whatever was not committed
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def lock(self, key: str) -> None:
        """Hold an exclusive lock named `key` until the transaction ends (one writer per key);
        one this transaction holds already costs nothing."""
    def lock_all(self, keys: Iterable[str]) -> None:
        """lock() each of `keys`, in one go and in an order every holder of several follows (so
        none waits for another that waits for it)."""
    def ping(self) -> None:
        """One round trip to the database; DatabaseUnavailable when it cannot serve requests."""
