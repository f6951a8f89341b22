"""Running batch jobs: claim one, run its learners a chunk per transaction, resume after a crash.

A big job (SPLIT_AT pending learners or more) is cut into parts when it is first claimed, and
from then on every worker claims parts of it, so several workers (on PostgreSQL, several hosts)
run one big file together; a part is held and resumed exactly as a whole job is.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from lrs_ws.domain.batch import BatchJob, JobPart, JobStatus, LearnerOutcome, processing_key
from lrs_ws.services.batch_learner import BatchRules, ReadAhead, process_learner, read_ahead
from lrs_ws.services.ports import DatabaseUnavailable, UnitOfWork
from lrs_ws.services.verify import verify_batch_learner

log = logging.getLogger(__name__)

SPLIT_AT = 10_000  # pending learners from which a job runs in parts
PART_SIZE = 5_000  # learners of a part, about (parts end between days of birth)


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
    split_at: int = SPLIT_AT
    part_size: int = PART_SIZE

    def run_next(self) -> BatchJob | None:
        """Claim the next part of a big job, or else the next waiting job, and run it to its end;
        the job, or None when nothing waits."""
        with self.unit_of_work() as uow:
            now = uow.clock.now()
            lease_until = now + self.lease
            part = uow.jobs.claim_part(self.worker, now, lease_until) or self._take_over_part(uow, now)
            job = None if part is None else uow.jobs.get(part.job_id)
            if part is None:
                job = uow.jobs.claim(self.worker, now, lease_until) or self._take_over(uow, now)
                if job is not None and job.learner_count - job.processed_count >= self.split_at:
                    parts = uow.jobs.split(job.id, self.part_size)
                    if parts > 1:
                        uow.jobs.release(job.id, self.worker)  # the job is its parts' from now on
                        part = uow.jobs.claim_part(self.worker, now, lease_until)
                        log.info("job %s: %s learners in %s parts", job.id, job.learner_count, parts)
            uow.commit()
        if job is None:
            return None
        where = f" part {part.part} ({part.first_key} to {part.last_key})" if part is not None else ""
        log.info("job %s%s: %s learners, %s done before; worker %s", job.id, where, job.learner_count, job.processed_count,
                 self.worker)
        try:
            self._run(job, part)
        except LostJob:
            log.warning("job %s%s was taken over by another worker", job.id, where)
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

    def _take_over_part(self, uow: UnitOfWork, now: datetime) -> JobPart | None:
        """As _take_over, for a part."""
        for part, holder in uow.jobs.held_parts():
            if holder != self.worker and self.is_dead(holder) and uow.jobs.take_over_part(part, holder, self.worker, now + self.lease):
                log.warning("job %s part %s: worker %s is gone; %s takes over", part.job_id, part.part, holder, self.worker)
                return part
        return None

    def _run(self, job: BatchJob, part: JobPart | None = None) -> None:
        after: tuple[str, int] | None = None  # the processing key of the last learner done
        one_by_one = 0  # after a chunk failed: its learners one per transaction, to find the culprit
        while True:
            if self.should_stop():  # let the next worker take the job over at once
                self._release(job, part)
                return
            try:
                after = self._run_chunk(job, 1 if one_by_one else self.chunk, after, part)
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
                self._finish(job, JobStatus.FAILED, f"{type(error).__name__}: {error}", part)
                return

    def _run_chunk(
        self, job: BatchJob, size: int, after: tuple[str, int] | None = None, part: JobPart | None = None
    ) -> tuple[str, int] | None:
        """One transaction: hold the job (or part), process up to `size` of its learners after the
        key `after`, store their outcomes; the key of the last one, or None once no learner is
        left (the part is then done, and the job completed when nothing of it is left)."""
        with self.unit_of_work() as uow:
            now = uow.clock.now()
            if not self._hold(uow, job, part, now):
                raise LostJob(job.id)
            pending = uow.jobs.pending(job.id, size, after, part)
            # Their registration locks and their searches' candidates, in one go rather than learner by learner.
            ahead = ReadAhead()
            if job.job_type.registers:
                ahead = read_ahead(uow, job.job_type, (learner.fields for learner in pending))
            else:
                uow.learners.remember_candidates()
            if not pending:
                if part is None or uow.jobs.finish_part(part):
                    uow.jobs.finish(job.id, JobStatus.COMPLETED, now)
                    log.info("job %s completed", job.id)
                uow.commit()
                return None
            deadline = None if self.chunk_seconds is None else time.monotonic() + self.chunk_seconds
            outcomes: dict[int, LearnerOutcome] = {}
            for learner in pending:
                outcomes[learner.position] = (
                    process_learner(uow, job.job_type, learner.fields, now=now, rules=self.rules, ahead=ahead)
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

    def _hold(self, uow: UnitOfWork, job: BatchJob, part: JobPart | None, now: datetime) -> bool:
        if part is None:
            return uow.jobs.hold(job.id, self.worker, now + self.lease)
        return uow.jobs.hold_part(part, self.worker, now + self.lease)

    def _release(self, job: BatchJob, part: JobPart | None = None) -> None:
        with self.unit_of_work() as uow:
            if part is None:
                uow.jobs.release(job.id, self.worker)
            else:
                uow.jobs.release_part(part, self.worker)
            uow.commit()
        log.info("job %s released at %s of %s learners", job.id, job.processed_count, job.learner_count)

    def _finish(self, job: BatchJob, status: JobStatus, failure: str | None = None, part: JobPart | None = None) -> None:
        with self.unit_of_work() as uow:
            now = uow.clock.now()
            if not self._hold(uow, job, part, now):
                raise LostJob(job.id)  # another worker has it now: not ours to finish
            uow.jobs.finish(job.id, status, now, failure)  # a failed part fails the job: the other parts stop
            uow.commit()

    def purge(self, retention: timedelta) -> int:
        """Delete the jobs older than the retention period; how many."""
        with self.unit_of_work() as uow:
            purged = uow.jobs.purge(uow.clock.now() - retention)
            uow.commit()
        return purged


def run_waiting_jobs(unit_of_work: Callable[[], UnitOfWork], rules: BatchRules, worker: str, *, chunk: int) -> list[BatchJob]:
    """Run every waiting job to its end, here and now, as `worker`; the jobs as they ended.
    Sandbox mode's "run the queue" (POST /sandbox/jobs/run, the console's button): a test need
    not wait for the batch worker."""
    runner = JobRunner(unit_of_work, rules, worker, chunk=chunk)
    ran = []
    while (job := runner.run_next()) is not None:
        if job.id not in ran:  # a big job comes back once per part
            ran.append(job.id)
    with unit_of_work() as uow:
        ended = [uow.jobs.get(job_id) for job_id in ran]
    return [job for job in ended if job is not None]
