"""Batch jobs: submit a job, run it learner by learner, read its output.

One job machinery for registration batches (`submitBatchRegistration`, LRB files) and
verification batches (`submitVerifyBatch`). Each learner goes through the same code as the single
operations: find by ULN's and by demographics' lookups, the learner rules, registration's ULN
issue and lock, update's change rules, or verifyLearner's checks. Only the answer differs: a
per-learner code (lrs_ws.domain.batch) instead of a response.
"""
from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lrs_ws.domain.batch import (
    BATCH_DETAIL_FIELDS,
    BatchJob,
    BatchLearnerFields,
    JobLearner,
    JobSource,
    JobStatus,
    JobType,
    LearnerOutcome,
    ReturnCode,
    output_fields,
    processing_key,
)
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.learner import DATE_FIELDS, Learner, LearnerDetails
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.normalise import name_key, post_code_key
from lrs_ws.domain.roles import Operation, may
from lrs_ws.domain.rules import (
    MAX_AGE,
    MIN_AGE,
    ability_to_share_change_allowed,
    age_on,
    apply_update,
    tidy,
    tidy_details,
    validate_details,
)
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services import find
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, DatabaseUnavailable, UnitOfWork
from lrs_ws.services.register import issue_uln, lock_registration, registered_with
from lrs_ws.services.verify import verify_batch_learner

log = logging.getLogger(__name__)

# The five key fields: a learner found by ULN may have at most one of them changed by a batch
# (user guide, Appendix C: "one mandatory field can be updated per file").
KEY_FIELDS = ("given_name", "family_name", "date_of_birth", "gender", "last_known_post_code")
_UPDATE_ATTEMPTS = 3  # a concurrent single update between our read and write: read again


@dataclass(frozen=True)
class BatchRules:
    prohibited_words: tuple[str, ...]
    possible_match_limit: int
    rng: random.Random


# --------------------------------------------------------------------------- one learner


def process_learner(
    uow: UnitOfWork, job_type: JobType, sent: BatchLearnerFields, *, now: datetime, rules: BatchRules
) -> LearnerOutcome:
    """What a job does with one learner (our reading of RC001-RC013, docs/our-readings.md).

    Writes (FUL only) go into `uow` uncommitted: the caller commits them with the outcome.
    """
    try:
        details = _details(sent)
    except InvalidField:
        return LearnerOutcome(ReturnCode.INVALID)
    born = details.get("date_of_birth")
    if isinstance(born, date) and not MIN_AGE <= age_on(born, now.date()) <= MAX_AGE:
        return LearnerOutcome(ReturnCode.AGE_OUT_OF_RANGE)
    uln = (sent.get("ULN") or "").strip()
    if uln:
        return _with_uln(uow, job_type, uln, details, now, rules)
    return _without_uln(uow, job_type, details, now, rules)


def _details(sent: BatchLearnerFields) -> dict[str, object]:
    """The learner details sent (blank ones left out), tidied as they are stored; InvalidField
    for a date the calendar does not have."""
    details: dict[str, object] = {}
    for wire, field in BATCH_DETAIL_FIELDS.items():
        text = sent.get(wire)
        if text is None or not text.strip():
            continue
        if field in DATE_FIELDS:
            try:
                details[field] = date.fromisoformat(text.strip())
            except ValueError:
                raise InvalidField(wire, f"'{text}' is not a real calendar date") from None
        else:
            details[field] = tidy(field, text)
    return details


def _with_uln(
    uow: UnitOfWork, job_type: JobType, uln: str, details: dict[str, object], now: datetime, rules: BatchRules
) -> LearnerOutcome:
    if not is_valid_uln(uln) or not uow.learners.uln_exists(uln):
        return LearnerOutcome(ReturnCode.ULN_NOT_FOUND)
    for _ in range(_UPDATE_ATTEMPTS):
        found = find.lookup_by_uln(uow, uln, str(details.get("family_name", "")), str(details.get("given_name", "")))
        if found.code is ResponseCode.NO_MATCH:
            return LearnerOutcome(ReturnCode.DETAILS_DISAGREE)
        current = found.learners[0].learner
        if found.code is ResponseCode.MASTER_SUBSTITUTED:
            return LearnerOutcome(ReturnCode.MASTER_RETURNED, current.uln)
        try:
            updated, changed = apply_update(current, _differing(current, details), now.date())
        except InvalidField:
            return LearnerOutcome(ReturnCode.INVALID)
        if sum(field in KEY_FIELDS for field in changed) > 1:
            return LearnerOutcome(ReturnCode.DETAILS_DISAGREE)
        if not changed:
            return LearnerOutcome(ReturnCode.ULN_CONFIRMED, current.uln)
        share = details.get("ability_to_share")
        if share is not None and not ability_to_share_change_allowed(current.ability_to_share, str(share)):
            return LearnerOutcome(ReturnCode.INVALID)
        try:
            validate_details(updated, now.date(), rules.prohibited_words, changed=changed)
        except InvalidField:
            return LearnerOutcome(ReturnCode.INVALID)
        if job_type is JobType.CHECK:  # what a FUL job would have updated, reported only
            return LearnerOutcome(ReturnCode.ULN_CONFIRMED, current.uln)
        if uow.learners.update(updated, expected_version=current.version_number):
            return LearnerOutcome(ReturnCode.UPDATED, current.uln)
    raise RuntimeError(f"ULN {uln} kept changing under the batch update")


def _differing(current: Learner, details: dict[str, object]) -> dict[str, object]:
    """The details sent, less names and postcode that differ from the record only in case or
    spacing: MIS exports are often in capitals, and that is no reason to change a record (or to
    count a key field as changed)."""
    same = {
        field
        for field in ("given_name", "family_name", "previous_family_name", "last_known_post_code")
        if field in details and _same_form(field, details[field], getattr(current, field))
    }
    return {field: value for field, value in details.items() if field not in same}


def _same_form(field: str, sent: object, stored: object) -> bool:
    if field == "last_known_post_code":
        return post_code_key(str(sent)) == post_code_key(str(stored or ""))
    return name_key(str(sent)) == name_key(str(stored or ""))


def _without_uln(
    uow: UnitOfWork, job_type: JobType, details: dict[str, object], now: datetime, rules: BatchRules
) -> LearnerOutcome:
    born = details.get("date_of_birth")
    if not isinstance(born, date) or not details.get("given_name") or not details.get("family_name"):
        return LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)  # no search is possible without them
    search = SearchKey(
        given_name=str(details["given_name"]),
        family_name=str(details["family_name"]),
        date_of_birth=born,
        gender=str(details.get("gender") or ""),
        post_code=str(details.get("last_known_post_code") or ""),
    )
    complete = all(details.get(field) for field in KEY_FIELDS)
    if complete and job_type is JobType.FULL:
        lock_registration(uow, search)  # the same lock as registerSingleLearner's
    found = find.lookup_by_demographics(uow, search, rules.possible_match_limit)
    if (
        found.code is ResponseCode.NO_MATCH
        and complete
        and job_type is JobType.FULL
        and uow.learners.remembered_may_be_stale()
        and registered_with(uow, search, fresh=True)
    ):  # registered by another writer since the candidates were read (we hold its lock now)
        found = find.lookup_by_demographics(uow, search, rules.possible_match_limit, fresh=True)
    if found.code is ResponseCode.EXACT_MATCH:
        return LearnerOutcome(ReturnCode.MATCHED, found.learners[0].learner.uln)
    if found.code is ResponseCode.MASTER_SUBSTITUTED:
        return LearnerOutcome(ReturnCode.MASTER_RETURNED, found.learners[0].learner.uln)
    if found.code is ResponseCode.POSSIBLE_MATCHES:
        return LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)
    if found.code is ResponseCode.TOO_MANY_MATCHES:
        return LearnerOutcome(ReturnCode.TOO_MANY_MATCHES)
    if not complete:
        return LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)
    # Each value is of its field's type (_details parses dates); a dict by name cannot say so.
    learner = LearnerDetails(**{"verification_type": "0", "ability_to_share": "0", **details})  # type: ignore[arg-type]
    learner = tidy_details(learner)
    try:
        validate_details(learner, now.date(), rules.prohibited_words)
    except InvalidField:
        return LearnerOutcome(ReturnCode.INVALID)
    if job_type is JobType.CHECK:  # what a FUL job would have registered, reported only
        return LearnerOutcome(ReturnCode.NOT_FOUND)
    return LearnerOutcome(ReturnCode.CREATED, issue_uln(uow, learner, now, rules.rng).uln)


# --------------------------------------------------------------------------- submit and read


def submit(
    uow: UnitOfWork,
    caller: Caller,
    job_type: JobType,
    learners: Iterable[JobLearner],
    learner_count: int,
    *,
    now: datetime,
    source: JobSource = JobSource.WEB_SERVICE,
    file_name: str | None = None,
    file_reference: str | None = None,
    per_transaction: int | None = None,
    contact_email: str | None = None,
) -> int:
    """Store a job and its learners; the new JobID. Learners that already carry an outcome
    (rows refused when an LRB file was read) are not processed again.

    In one transaction, or (`per_transaction`, for files of any size) `Loading` while its
    learners go in that many per transaction, so other writers are not held up for the whole
    file; no worker claims it until it is whole. If reading the learners fails, the partial job
    is deleted and the error raised again."""
    job = BatchJob(
        id=0,
        organisation_id=caller.organisation_id,
        username=caller.username,
        job_type=job_type,
        source=source,
        status=JobStatus.SUBMITTED if per_transaction is None else JobStatus.LOADING,
        learner_count=learner_count,
        processed_count=0,
        counts={},
        submitted_at=now,
        file_name=file_name,
        file_reference=file_reference,
        contact_email=contact_email,
    )
    job_id = uow.jobs.add(job)
    submitted = f"{ResponseCode.BATCH_SUBMITTED.value} job {job_id}"
    if per_transaction is None:
        uow.jobs.add_learners(job_id, learners)
        audit(uow, caller, _operation(job_type, "submit"), None, submitted, now)
        uow.commit()
        return job_id
    uow.commit()
    try:
        batch: list[JobLearner] = []
        for learner in learners:
            batch.append(learner)
            if len(batch) >= per_transaction:
                uow.jobs.add_learners(job_id, batch)
                uow.commit()
                batch = []
        uow.jobs.add_learners(job_id, batch)
        uow.jobs.set_status(job_id, JobStatus.SUBMITTED)
        audit(uow, caller, _operation(job_type, "submit"), None, submitted, now)
        uow.commit()
    except BaseException:
        uow.rollback()
        uow.jobs.delete(job_id)
        uow.commit()
        raise
    return job_id


def submit_from_web_service(
    uow: UnitOfWork,
    caller: Caller,
    job_type: str,
    learner_count: int,
    learners: list[BatchLearnerFields],
    *,
    now: datetime,
    contact_email: str | None = None,
) -> tuple[ResponseCode, int]:
    """submitBatchRegistration (FUL, CHK) and submitVerifyBatch (VLD): WSRC0007 and the new
    JobID, or WSRC0017 and 0 when the count differs from the learners sent (nothing stored)."""
    kind = JobType(job_type)
    if learner_count != len(learners):
        audit(uow, caller, _operation(kind, "submit"), None, ResponseCode.RECORD_COUNT_MISMATCH.value, now)
        uow.commit()
        return ResponseCode.RECORD_COUNT_MISMATCH, 0
    job_learners = (JobLearner(position, fields) for position, fields in enumerate(learners, 1))
    job_id = submit(uow, caller, kind, job_learners, learner_count, now=now, contact_email=contact_email)
    return ResponseCode.BATCH_SUBMITTED, job_id


def _operation(kind: JobType, action: str) -> str:
    """The operation name of the audit rows of a kind of job."""
    names = {
        ("submit", True): "submitBatchRegistration", ("output", True): "getBatchRegistrationOutput",
        ("submit", False): "submitVerifyBatch", ("output", False): "getVerifyBatchOutput",
    }
    return names[action, kind.registers]


def job_of(
    uow: UnitOfWork,
    caller: Caller,
    job_id: int,
    *,
    now: datetime,
    retention: timedelta,
    source: JobSource,
    registers: bool = True,
) -> BatchJob | None:
    """The caller's organisation's job of this kind (registration or verification), if it is
    still kept; None for any other (WSRC0018: never say that another organisation's job exists)."""
    job = uow.jobs.get(job_id)
    if (
        job is None
        or job.organisation_id != caller.organisation_id
        or job.source is not source
        or job.job_type.registers is not registers
        or job.submitted_at < now - retention
    ):
        return None
    return job


def response_code(job: BatchJob | None) -> ResponseCode:
    if job is None:
        return ResponseCode.UNKNOWN_JOB
    if job.status is JobStatus.COMPLETED:
        return ResponseCode.BATCH_FINISHED
    if job.status is JobStatus.FAILED:
        return ResponseCode.BATCH_FAILED
    return ResponseCode.BATCH_RUNNING


@dataclass(frozen=True)
class JobOutput:
    code: ResponseCode
    job: BatchJob | None = None
    learners: tuple[JobLearner, ...] = ()  # only when finished (WSRC0009)


def web_service_output(
    uow: UnitOfWork, caller: Caller, job_id: int, *, now: datetime, retention: timedelta, registers: bool = True
) -> JobOutput:
    """getBatchRegistrationOutput (or, not `registers`, getVerifyBatchOutput): the state, and
    once finished every learner in order."""
    job = job_of(uow, caller, job_id, now=now, retention=retention, source=JobSource.WEB_SERVICE, registers=registers)
    code = response_code(job)
    learners: tuple[JobLearner, ...] = ()
    if job is not None and code is ResponseCode.BATCH_FINISHED:
        learners = tuple(uow.jobs.learners(job.id, 0, job.learner_count))
    operation = _operation(JobType.FULL if registers else JobType.VERIFY, "output")
    audit(uow, caller, operation, None, f"{code.value} job {job_id}", now)
    uow.commit()
    return JobOutput(code, job, learners)


# --------------------------------------------------------------------------- LRB files


class BatchError(Exception):
    """A clear message for the operator (command line); nothing was written."""


def file_submitter(uow: UnitOfWork, ukprn: str, username: str) -> Caller:
    """The user submitting an LRB file for the organisation the file names: a Batch User."""
    organisation = uow.organisations.by_ukprn(ukprn)
    if organisation is None or organisation.id is None:
        raise BatchError(f"no organisation has UKPRN {ukprn} (the file's UKPRN)")
    user = uow.organisations.user(organisation.id, username)
    if user is None or user.id is None:
        raise BatchError(f"{username!r} is not a user of organisation {ukprn}")
    if not may(user.roles, Operation.BATCH):
        raise BatchError(f"user {username!r} of {ukprn} has no batch_user role")
    return Caller(organisation.id, organisation.name, user.id, user.username, user.roles, address="lrs-ws batch submit")


def file_output(uow: UnitOfWork, job_id: int, page: int = 1000) -> Iterator[tuple[BatchLearnerFields, str]]:
    """A finished job's learners as its output file gives them, in order: (fields, ReturnCode),
    RC013 included. Read a page at a time, so the job is never held in memory whole."""
    after = 0
    while True:
        learners = uow.jobs.learners(job_id, after, page)
        if not learners:
            return
        for learner in learners:
            # output_fields (called first) raised if the learner had no outcome
            yield output_fields(learner), learner.outcome.code.value  # type: ignore[union-attr]
        after = learners[-1].position


# --------------------------------------------------------------------------- running jobs


class LostJob(Exception):
    """Another worker took the job over (this one was presumed dead): stop working on it."""


@dataclass
class JobRunner:
    """Claims jobs and runs them, a chunk of learners per transaction.

    Each chunk's writes and its learners' outcomes commit together, so a worker killed at any
    moment loses at most an uncommitted chunk and doubles nothing: the next claim of the job
    (after `lease`) resumes at its first learner without an outcome.
    """

    unit_of_work: Callable[[], UnitOfWork]  # each tells the time by its clock
    rules: BatchRules
    worker: str
    chunk: int = 200
    lease: timedelta = timedelta(seconds=30)
    on_progress: Callable[[BatchJob, int], None] | None = None
    should_stop: Callable[[], bool] = lambda: False  # checked between chunks
    is_dead: Callable[[str], bool] = lambda worker: False  # a worker known to be gone (same host)
    # A database with one writer at a time (SQLite): a chunk also ends after this many seconds,
    # and the runner then pauses, so that other writers wait a short chunk at most.
    chunk_seconds: float | None = None
    pause_between_chunks: float = 0.0

    def run_next(self) -> BatchJob | None:
        """Claim the next waiting job and run it to its end; the job, or None when none waits."""
        with self.unit_of_work() as uow:
            now = uow.clock.now()
            job = uow.jobs.claim(self.worker, now, now + self.lease) or self._take_over(uow, now)
            uow.commit()
        if job is None:
            return None
        log.info("job %s: %s learners, %s done before; worker %s", job.id, job.learner_count, job.processed_count, self.worker)
        try:
            self._run(job)
        except LostJob:
            log.warning("job %s was taken over by another worker", job.id)
        return job

    def _take_over(self, uow: UnitOfWork, now: datetime) -> BatchJob | None:
        """A job whose worker is known to be dead need not wait for its lease to run out."""
        for job_id, holder in uow.jobs.held():
            if (
                holder != self.worker
                and self.is_dead(holder)
                and uow.jobs.take_over(job_id, holder, self.worker, now + self.lease)
            ):
                log.warning("job %s: worker %s is gone; %s takes over", job_id, holder, self.worker)
                return uow.jobs.get(job_id)
        return None

    def _run(self, job: BatchJob) -> None:
        after: tuple[str, int] | None = None  # the processing key of the last learner done
        one_by_one = 0  # after a chunk failed: its learners one per transaction, to find the culprit
        while True:
            if self.should_stop():  # let the next worker take the job over at once
                self._release(job)
                return
            try:
                after = self._run_chunk(job, 1 if one_by_one else self.chunk, after)
                if after is None:
                    return
                one_by_one = max(0, one_by_one - 1)
            except (LostJob, DatabaseUnavailable):
                raise
            except Exception as error:
                if not one_by_one:
                    one_by_one = self.chunk
                    continue
                log.exception("job %s failed", job.id)
                self._finish(job, JobStatus.FAILED, f"{type(error).__name__}: {error}")
                return

    def _run_chunk(self, job: BatchJob, size: int, after: tuple[str, int] | None = None) -> tuple[str, int] | None:
        """One transaction: hold the job, process up to `size` learners after the key `after`,
        store their outcomes; the key of the last one, or None once no learner is left (the job
        is then marked completed)."""
        with self.unit_of_work() as uow:
            now = uow.clock.now()
            if not uow.jobs.hold(job.id, self.worker, now + self.lease):
                raise LostJob(job.id)
            uow.learners.remember_candidates()
            pending = uow.jobs.pending(job.id, size, after)
            if not pending:
                uow.jobs.finish(job.id, JobStatus.COMPLETED, now)
                uow.commit()
                log.info("job %s completed", job.id)
                return None
            deadline = None if self.chunk_seconds is None else time.monotonic() + self.chunk_seconds
            outcomes: dict[int, LearnerOutcome] = {}
            for learner in pending:
                outcomes[learner.position] = (
                    process_learner(uow, job.job_type, learner.fields, now=now, rules=self.rules)
                    if job.job_type.registers
                    else verify_batch_learner(uow, learner.fields)
                )
                if deadline is not None and time.monotonic() > deadline:
                    break
            pending = pending[: len(outcomes)]
            uow.jobs.record(job.id, outcomes)
            uow.commit()
        job.processed_count += len(outcomes)
        if self.pause_between_chunks:
            time.sleep(self.pause_between_chunks)
        if self.on_progress is not None:
            self.on_progress(job, len(outcomes))
        return processing_key(pending[-1])

    def _release(self, job: BatchJob) -> None:
        with self.unit_of_work() as uow:
            uow.jobs.release(job.id, self.worker)
            uow.commit()
        log.info("job %s released at %s of %s learners", job.id, job.processed_count, job.learner_count)

    def _finish(self, job: BatchJob, status: JobStatus, failure: str | None = None) -> None:
        with self.unit_of_work() as uow:
            now = uow.clock.now()
            if not uow.jobs.hold(job.id, self.worker, now + self.lease):
                raise LostJob(job.id)  # another worker has it now: not ours to finish
            uow.jobs.finish(job.id, status, now, failure)
            uow.commit()

    def purge(self, retention: timedelta) -> int:
        """Delete the jobs older than the retention period; how many."""
        with self.unit_of_work() as uow:
            purged = uow.jobs.purge(uow.clock.now() - retention)
            uow.commit()
        return purged
