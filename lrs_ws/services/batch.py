"""Batch jobs: submit a job and read its output (web service and LRB files).

One job machinery for registration batches (`submitBatchRegistration`, LRB files) and
verification batches (`submitVerifyBatch`): jobs are stored here, run by
lrs_ws.services.job_runner, each learner decided by lrs_ws.services.batch_learner (registration)
or lrs_ws.services.verify (verification).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from lrs_ws.domain.batch import (
    BatchJob,
    BatchLearnerFields,
    JobLearner,
    JobSource,
    JobStatus,
    JobType,
    output_fields,
)
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.roles import Operation, may
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, UnitOfWork


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


def output_refusal(job: BatchJob) -> str | None:
    """Why a job has no LRB output file (yet), in a sentence; None when it has one: a completed
    registration job, from an LRB file or the web service alike (`lrs-ws batch output`, the console)."""
    if not job.job_type.registers:
        return f"job {job.id} is a verification job: its output is read with getVerifyBatchOutput"
    if job.status is JobStatus.FAILED:
        return f"job {job.id} failed: {job.failure}"
    if not job.finished:
        return f"job {job.id} is {job.status.value.lower()}: {job.processed_count:,} of {job.learner_count:,} learners done"
    return None
