"""SQLAlchemy implementation of the batch job port: jobs, their learners, claims and leases.

Claiming is the one place where the two databases differ. PostgreSQL: `FOR UPDATE SKIP LOCKED`
picks a job no other worker is holding, without waiting; a worker holds its job's row locked for
each chunk of learners (`hold`), so a claimer never takes a job over mid-chunk. SQLite has one
writer at a time: a no-op write first takes the database lock, so the read that follows cannot
be overtaken by another worker's claim.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    tuple_,
    update,
)

from lrs_ws.adapters import mapping
from lrs_ws.adapters.orm import NO_OP_WRITE, batch_job_learners, batch_job_parts, batch_jobs
from lrs_ws.domain.batch import BatchJob, JobLearner, JobPart, JobStatus, LearnerOutcome, ReturnCode, part_ranges

_INSERT_CHUNK = 1000
_WAITING = (JobStatus.SUBMITTED.value, JobStatus.RUNNING.value)


def _count_column(outcome: LearnerOutcome) -> str:
    """The batch_jobs counter a processed learner adds to; a verification counts as processed only."""
    code = outcome.code
    return mapping.COUNT_COLUMNS[code.count] if isinstance(code, ReturnCode) else "processed_count"


class SqlBatchJobRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @property
    def _postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def add(self, job: BatchJob) -> int:
        result = self.connection.execute(insert(batch_jobs).values(**mapping.job_to_row(job)).returning(batch_jobs.c.id))
        return int(result.scalar_one())

    def add_learners(self, job_id: int, learners: Iterable[JobLearner]) -> None:
        rows: list[dict] = []
        processed: dict[str, int] = {}
        for learner in learners:
            rows.append(mapping.job_learner_to_row(job_id, learner))
            if learner.outcome is not None:
                column = _count_column(learner.outcome)
                processed[column] = processed.get(column, 0) + 1
            if len(rows) >= _INSERT_CHUNK:
                self.connection.execute(insert(batch_job_learners), rows)
                rows = []
        if rows:
            self.connection.execute(insert(batch_job_learners), rows)
        if processed:
            self._add_counts(job_id, processed)

    def _add_counts(self, job_id: int, by_column: dict[str, int]) -> None:
        values = {column: batch_jobs.c[column] + n for column, n in by_column.items() if column != "processed_count"}
        values["processed_count"] = batch_jobs.c.processed_count + sum(by_column.values())
        self.connection.execute(update(batch_jobs).where(batch_jobs.c.id == job_id).values(**values))

    def get(self, job_id: int) -> BatchJob | None:
        row = self.connection.execute(select(batch_jobs).where(batch_jobs.c.id == job_id)).mappings().first()
        return None if row is None else mapping.row_to_job(row)

    def claim(self, worker: str, now: datetime, lease_until: datetime) -> BatchJob | None:
        now_utc = mapping.to_naive_utc(now)
        query = (
            select(batch_jobs.c.id)
            .where(
                batch_jobs.c.status.in_(_WAITING),
                ~exists().where(batch_job_parts.c.job_id == batch_jobs.c.id),  # run in parts: claim_part
                or_(
                    batch_jobs.c.lease_until.is_(None),
                    batch_jobs.c.lease_until < now_utc,
                    batch_jobs.c.claimed_by == worker,  # its own, after an outage
                ),
            )
            .order_by(batch_jobs.c.id)
            .limit(1)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        else:
            self.connection.execute(NO_OP_WRITE)
        job_id = self.connection.execute(query).scalar()
        if job_id is None:
            return None
        self.connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id)
            .values(
                status=JobStatus.RUNNING.value,
                claimed_by=worker,
                lease_until=mapping.to_naive_utc(lease_until),
                started_at=func.coalesce(batch_jobs.c.started_at, now_utc),
            )
        )
        return self.get(job_id)

    def held(self) -> list[tuple[int, str]]:
        query = select(batch_jobs.c.id, batch_jobs.c.claimed_by).where(
            batch_jobs.c.status == JobStatus.RUNNING.value, batch_jobs.c.claimed_by.is_not(None)
        )
        return [(job_id, holder) for job_id, holder in self.connection.execute(query.order_by(batch_jobs.c.id))]

    def take_over(self, job_id: int, holder: str, worker: str, lease_until: datetime) -> bool:
        statement = (
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id, batch_jobs.c.claimed_by == holder)
            .values(claimed_by=worker, lease_until=mapping.to_naive_utc(lease_until))
        )
        return self.connection.execute(statement).rowcount == 1

    def hold(self, job_id: int, worker: str, lease_until: datetime) -> bool:
        query = select(batch_jobs.c.claimed_by).where(batch_jobs.c.id == job_id)
        if self._postgres:
            query = query.with_for_update()
        else:
            self.connection.execute(NO_OP_WRITE)
        if self.connection.execute(query).scalar() != worker:
            return False
        self.connection.execute(
            update(batch_jobs).where(batch_jobs.c.id == job_id).values(lease_until=mapping.to_naive_utc(lease_until))
        )
        return True

    def set_status(self, job_id: int, status: JobStatus) -> None:
        self.connection.execute(update(batch_jobs).where(batch_jobs.c.id == job_id).values(status=status.value))

    def delete(self, job_id: int) -> None:
        self.connection.execute(delete(batch_job_parts).where(batch_job_parts.c.job_id == job_id))
        self.connection.execute(delete(batch_job_learners).where(batch_job_learners.c.job_id == job_id))
        self.connection.execute(delete(batch_jobs).where(batch_jobs.c.id == job_id))

    def release(self, job_id: int, worker: str) -> None:
        self.connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id, batch_jobs.c.claimed_by == worker)
            .values(claimed_by=None, lease_until=None)
        )

    def pending(
        self, job_id: int, limit: int, after: tuple[str, int] | None = None, part: JobPart | None = None
    ) -> list[JobLearner]:
        key = tuple_(batch_job_learners.c.sort_key, batch_job_learners.c.position)
        query = (
            select(batch_job_learners)
            .where(batch_job_learners.c.job_id == job_id, batch_job_learners.c.return_code.is_(None))
            .order_by(batch_job_learners.c.sort_key, batch_job_learners.c.position)
            .limit(limit)
        )
        if part is not None:
            query = query.where(batch_job_learners.c.sort_key.between(part.first_key, part.last_key))
        if after is not None:  # by key, so the learners done are never read again
            query = query.where(key > tuple_(literal(after[0]), literal(after[1])))
        return [mapping.row_to_job_learner(row) for row in self.connection.execute(query)]

    def record(self, job_id: int, outcomes: dict[int, LearnerOutcome]) -> None:
        if not outcomes:
            return
        statement = (
            update(batch_job_learners)
            .where(
                batch_job_learners.c.job_id == bindparam("b_job_id"),
                batch_job_learners.c.position == bindparam("b_position"),
            )
            .values(return_code=bindparam("b_code"), uln=bindparam("b_uln"), outcome=bindparam("b_outcome"))
        )
        rows = []
        for position, outcome in outcomes.items():
            row = mapping.job_learner_to_row(job_id, JobLearner(position, {}, outcome))
            rows.append({"b_job_id": job_id, "b_position": position, "b_code": row["return_code"],
                         "b_uln": row["uln"], "b_outcome": row["outcome"]})
        self.connection.execute(statement, rows)
        by_column: dict[str, int] = {}
        for outcome in outcomes.values():
            column = _count_column(outcome)
            by_column[column] = by_column.get(column, 0) + 1
        self._add_counts(job_id, by_column)

    def finish(self, job_id: int, status: JobStatus, now: datetime, failure: str | None = None) -> None:
        self.connection.execute(
            update(batch_jobs)
            .where(batch_jobs.c.id == job_id)
            .values(
                status=status.value,
                finished_at=mapping.to_naive_utc(now),
                claimed_by=None,
                lease_until=None,
                failure=None if failure is None else failure[:255],
            )
        )

    def learners(self, job_id: int, after: int = 0, limit: int = 1000) -> list[JobLearner]:
        query = (
            select(batch_job_learners)
            .where(batch_job_learners.c.job_id == job_id, batch_job_learners.c.position > after)
            .order_by(batch_job_learners.c.position)
            .limit(limit)
        )
        return [mapping.row_to_job_learner(row) for row in self.connection.execute(query)]

    def recent(self, organisation_id: int | None, limit: int) -> list[BatchJob]:
        query = select(batch_jobs).order_by(batch_jobs.c.id.desc()).limit(limit)
        if organisation_id is not None:
            query = query.where(batch_jobs.c.organisation_id == organisation_id)
        return [mapping.row_to_job(row) for row in self.connection.execute(query).mappings()]

    def purge(self, submitted_before: datetime) -> int:
        old = select(batch_jobs.c.id).where(
            batch_jobs.c.submitted_at < mapping.to_naive_utc(submitted_before),
            batch_jobs.c.status != JobStatus.RUNNING.value,  # a worker may be on it: next time
        )
        # Learners first: SQLite enforces the cascade only with foreign keys on (they are), but
        # deleting them explicitly keeps the two databases alike.
        self.connection.execute(delete(batch_job_parts).where(batch_job_parts.c.job_id.in_(old)))
        self.connection.execute(delete(batch_job_learners).where(batch_job_learners.c.job_id.in_(old)))
        return self.connection.execute(delete(batch_jobs).where(and_(batch_jobs.c.id.in_(old)))).rowcount

    # --- parts of big jobs, run by several workers at once

    def split(self, job_id: int, part_size: int) -> int:
        """Cut the job's pending learners into parts of about `part_size` (never splitting a day);
        how many parts (a job of one part is left whole)."""
        per_key = self.connection.execute(
            select(batch_job_learners.c.sort_key, func.count())
            .where(batch_job_learners.c.job_id == job_id, batch_job_learners.c.return_code.is_(None))
            .group_by(batch_job_learners.c.sort_key)
            .order_by(batch_job_learners.c.sort_key)
        ).all()
        ranges = part_ranges([(key, count) for key, count in per_key], part_size)
        if len(ranges) > 1:
            self.connection.execute(insert(batch_job_parts), [
                {"job_id": job_id, "part": number, "first_key": first, "last_key": last, "done": False}
                for number, (first, last) in enumerate(ranges, start=1)
            ])
        return len(ranges)

    def claim_part(self, worker: str, now: datetime, lease_until: datetime) -> JobPart | None:
        """A part of a running job that no worker holds (or whose worker's lease ran out), now held by `worker`."""
        now_utc = mapping.to_naive_utc(now)
        parts = batch_job_parts.c
        query = (
            select(batch_job_parts)
            .where(
                parts.done.is_(False),
                exists().where(batch_jobs.c.id == parts.job_id, batch_jobs.c.status == JobStatus.RUNNING.value),
                or_(parts.lease_until.is_(None), parts.lease_until < now_utc, parts.claimed_by == worker),
            )
            .order_by(parts.job_id, parts.part)
            .limit(1)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        else:
            self.connection.execute(NO_OP_WRITE)
        row = self.connection.execute(query).mappings().first()
        if row is None:
            return None
        self.connection.execute(
            update(batch_job_parts)
            .where(parts.job_id == row["job_id"], parts.part == row["part"])
            .values(claimed_by=worker, lease_until=mapping.to_naive_utc(lease_until))
        )
        return JobPart(row["job_id"], row["part"], row["first_key"], row["last_key"])

    def held_parts(self) -> list[tuple[JobPart, str]]:
        parts = batch_job_parts.c
        rows = self.connection.execute(
            select(batch_job_parts).where(parts.done.is_(False), parts.claimed_by.is_not(None)).order_by(parts.job_id, parts.part)
        ).mappings()
        return [(JobPart(row["job_id"], row["part"], row["first_key"], row["last_key"]), row["claimed_by"]) for row in rows]

    def take_over_part(self, part: JobPart, holder: str, worker: str, lease_until: datetime) -> bool:
        parts = batch_job_parts.c
        statement = (
            update(batch_job_parts)
            .where(parts.job_id == part.job_id, parts.part == part.part, parts.claimed_by == holder, parts.done.is_(False))
            .values(claimed_by=worker, lease_until=mapping.to_naive_utc(lease_until))
        )
        return self.connection.execute(statement).rowcount == 1

    def hold_part(self, part: JobPart, worker: str, lease_until: datetime) -> bool:
        """Whether `worker` still holds the part of a job still running (its lease renewed)."""
        parts = batch_job_parts.c
        query = (
            select(parts.claimed_by, batch_jobs.c.status)
            .join(batch_jobs, batch_jobs.c.id == parts.job_id)
            .where(parts.job_id == part.job_id, parts.part == part.part)
        )
        if self._postgres:
            query = query.with_for_update(of=batch_job_parts)
        else:
            self.connection.execute(NO_OP_WRITE)
        found = self.connection.execute(query).first()
        if found is None or found[0] != worker or found[1] != JobStatus.RUNNING.value:
            return False
        self.connection.execute(
            update(batch_job_parts)
            .where(parts.job_id == part.job_id, parts.part == part.part)
            .values(lease_until=mapping.to_naive_utc(lease_until))
        )
        return True

    def release_part(self, part: JobPart, worker: str) -> None:
        parts = batch_job_parts.c
        self.connection.execute(
            update(batch_job_parts)
            .where(parts.job_id == part.job_id, parts.part == part.part, parts.claimed_by == worker)
            .values(claimed_by=None, lease_until=None)
        )

    def finish_part(self, part: JobPart) -> bool:
        """Mark the part done; whether it was the job's last (then the caller finishes the job,
        in this transaction). The job's row is locked first, so two last parts finishing at once
        cannot both miss that they are the last."""
        lock = select(batch_jobs.c.id).where(batch_jobs.c.id == part.job_id)
        self.connection.execute(lock.with_for_update() if self._postgres else NO_OP_WRITE)
        parts = batch_job_parts.c
        self.connection.execute(
            update(batch_job_parts)
            .where(parts.job_id == part.job_id, parts.part == part.part)
            .values(done=True, claimed_by=None, lease_until=None)
        )
        left = self.connection.execute(
            select(func.count()).where(parts.job_id == part.job_id, parts.done.is_(False))
        ).scalar_one()
        return left == 0
