"""Batch jobs on a real database (SQLite and PostgreSQL): submit, claim, run, resume, output.

Every learner goes through the real repositories; the return codes are our reading of
RC001-RC013 (docs/our-readings.md).
"""
from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from lrs_ws.adapters.orm import batch_job_learners, learners
from lrs_ws.domain.batch import Count, JobLearner, JobSource, JobStatus, JobType, ReturnCode
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS
from lrs_ws.services import batch, job_runner
from lrs_ws.services.batch_learner import BatchRules
from lrs_ws.services.ports import Caller
from tests.integration.batch_support import NOW, output, submit

AMELIA = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14",
          "Gender": "2", "LastKnownPostCode": "B15 2TT"}


def rules() -> BatchRules:
    return BatchRules(DEFAULT_PROHIBITED_WORDS, 10, random.Random(7))


def runner(factory, worker="w1", chunk=100) -> job_runner.JobRunner:
    return job_runner.JobRunner(factory, rules(), worker, chunk=chunk)


NEW = {"GivenName": "Zara", "FamilyName": "Quintrell", "DateOfBirth": "2008-06-01", "Gender": "2",
       "LastKnownPostCode": "LS1 4AP", "MISIdentifier": "MIS-1"}


def test_a_full_job_finds_registers_updates_and_reports_each_learner(factory, caller) -> None:
    sent = [
        AMELIA,  # RC001
        {k: v for k, v in AMELIA.items() if k != "ULN"},  # RC002
        NEW,  # RC003
        dict(NEW, MISIdentifier="MIS-2"),  # the same new learner again: now matched, RC002
        dict(AMELIA, LastKnownAddressTown="Solihull"),  # RC005
        {"GivenName": "Kai", "FamilyName": "Nobody", "DateOfBirth": "2008-01-01"},  # RC006
        {"ULN": "1000000004", "GivenName": "A", "FamilyName": "B"},  # RC009 (not a valid ULN)
        dict(AMELIA, GivenName="Bethany", FamilyName="Clarke"),  # RC010
        dict(NEW, GivenName="Test", FamilyName="Person", DateOfBirth="2008-06-02"),  # RC011
        dict(NEW, GivenName="Old", FamilyName="Person", DateOfBirth="1900-01-01"),  # RC013 -> RC011 on the wire
    ]
    job_id = submit(factory, caller, sent)
    assert output(factory, caller, job_id).code.value == "WSRC0008"
    assert runner(factory).run_next().id == job_id
    result = output(factory, caller, job_id)
    assert result.code.value == "WSRC0009" and result.job.status is JobStatus.COMPLETED
    codes = [learner.outcome.code for learner in result.learners]
    assert codes == [
        ReturnCode.ULN_CONFIRMED, ReturnCode.MATCHED, ReturnCode.CREATED, ReturnCode.MATCHED,
        ReturnCode.UPDATED, ReturnCode.INSUFFICIENT_DATA, ReturnCode.ULN_NOT_FOUND,
        ReturnCode.DETAILS_DISAGREE, ReturnCode.INVALID, ReturnCode.AGE_OUT_OF_RANGE,
    ]
    new_uln = result.learners[2].outcome.uln
    assert new_uln and result.learners[3].outcome.uln == new_uln
    assert result.job.counts[Count.NEW] == 1 and sum(result.job.counts.values()) == len(sent)
    with factory() as uow:
        assert uow.learners.get("9105106906").last_known_address_town == "Solihull"
        assert uow.learners.get(new_uln).given_name == "Zara"


def test_a_check_job_writes_nothing(factory, caller, engine: Engine) -> None:
    with engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(learners)).scalar()
    job_id = submit(factory, caller, [NEW, dict(AMELIA, LastKnownAddressTown="Solihull")], JobType.CHECK)
    runner(factory).run_next()
    codes = [learner.outcome.code for learner in output(factory, caller, job_id).learners]
    assert codes == [ReturnCode.NOT_FOUND, ReturnCode.ULN_CONFIRMED]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(learners)).scalar() == before
    with factory() as uow:
        assert uow.learners.get("9105106906").last_known_address_town == "Birmingham"


def test_another_organisations_job_is_unknown(factory, caller) -> None:
    job_id = submit(factory, caller, [AMELIA])
    stranger = Caller(caller.organisation_id + 1000, "Other", 1, "batch", caller.roles)
    assert output(factory, stranger, job_id).code.value == "WSRC0018"
    assert output(factory, caller, job_id + 1000).code.value == "WSRC0018"


def test_a_job_past_its_retention_is_unknown(factory, caller) -> None:
    job_id = submit(factory, caller, [AMELIA])
    with factory() as uow:
        late = batch.web_service_output(uow, caller, job_id, now=NOW + timedelta(days=46), retention=timedelta(days=45))
    assert late.code.value == "WSRC0018"


def test_a_dead_workers_job_resumes_without_doubles(factory, caller, clock, engine: Engine) -> None:
    """Worker 1 claims and does one chunk, then dies; worker 2 takes over after the lease."""
    names = ["Aisha", "Bruno", "Chidi", "Dmitri", "Elowen", "Farah", "Gideon"]  # no two alike
    sent = [dict(NEW, GivenName=name) for name in names]
    job_id = submit(factory, caller, sent)
    first = runner(factory, "w1", chunk=3)
    with factory() as uow:
        job = uow.jobs.claim("w1", clock.now(), clock.now() + first.lease)
        uow.commit()
    assert first._run_chunk(job, 3) is not None  # then it "dies"
    second = runner(factory, "w2", chunk=3)
    assert second.run_next() is None  # the lease still holds
    clock.at = NOW + timedelta(seconds=31)
    assert second.run_next().id == job_id
    with pytest.raises(job_runner.LostJob):
        first._run_chunk(job, 3)  # a worker that comes back finds it lost the job
    result = output(factory, caller, job_id)
    assert [learner.outcome.code for learner in result.learners] == [ReturnCode.CREATED] * 7
    ulns = [learner.outcome.uln for learner in result.learners]
    assert len(set(ulns)) == 7
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(learners).where(learners.c.family_name == "Quintrell")).scalar() == 7
        assert connection.execute(
            select(func.count()).select_from(batch_job_learners).where(batch_job_learners.c.return_code.is_(None))
        ).scalar() == 0


def test_a_learner_that_breaks_the_code_fails_the_job(factory, caller, monkeypatch) -> None:
    job_id = submit(factory, caller, [AMELIA, NEW])
    real = job_runner.process_learner

    def broken(uow, job_type, sent, **kwargs):
        if sent.get("MISIdentifier") == "MIS-1":
            raise RuntimeError("boom")
        return real(uow, job_type, sent, **kwargs)

    monkeypatch.setattr(job_runner, "process_learner", broken)
    runner(factory).run_next()
    result = output(factory, caller, job_id)
    assert result.code.value == "WSRC0010" and "boom" in result.job.failure
    assert result.job.processed_count == 1  # the first learner's outcome was kept


def test_file_rows_refused_when_read_are_counted_and_not_run(factory, caller) -> None:
    from lrs_ws.domain.batch import LearnerOutcome

    learners_sent = [JobLearner(1, AMELIA), JobLearner(2, {"GivenName": "X"}, LearnerOutcome(ReturnCode.INVALID))]
    with factory() as uow:
        job_id = batch.submit(uow, caller, JobType.FULL, learners_sent, 2, now=NOW, source=JobSource.FILE)
    with factory() as uow:
        job = uow.jobs.get(job_id)
    assert job.processed_count == 1 and job.counts[Count.REJECTED] == 1
    runner(factory).run_next()
    with factory() as uow:
        job = uow.jobs.get(job_id)
        assert job.status is JobStatus.COMPLETED and job.counts[Count.EXISTS_UPDATED] == 1
    assert output(factory, caller, job_id).code.value == "WSRC0018"  # file jobs are not web service jobs


def test_workers_claim_different_jobs_without_waiting_on_postgresql(factory, caller, clock, engine: Engine) -> None:
    """FOR UPDATE SKIP LOCKED: while one worker's claim is still uncommitted, another takes the
    next job at once. (SQLite has one writer at a time: the second claim waits instead.)"""
    if engine.dialect.name != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises claims with its write lock")
    first_job, second_job = submit(factory, caller, [AMELIA]), submit(factory, caller, [NEW])
    with factory() as one, factory() as two:
        claimed_one = one.jobs.claim("w1", clock.now(), clock.now() + timedelta(seconds=30))
        started = datetime.now()
        claimed_two = two.jobs.claim("w2", clock.now(), clock.now() + timedelta(seconds=30))
        assert (datetime.now() - started).total_seconds() < 2
        assert {claimed_one.id, claimed_two.id} == {first_job, second_job}
        one.commit()
        two.commit()
    with factory() as uow:
        assert uow.jobs.claim("w3", clock.now(), clock.now() + timedelta(seconds=30)) is None  # both held


def test_a_stopping_worker_releases_its_job_for_the_next(factory, caller) -> None:
    job_id = submit(factory, caller, [dict(NEW, GivenName=name) for name in ("Aisha", "Bruno", "Chidi")])
    stopping = runner(factory, worker="w1", chunk=1)
    chunks = iter([False, True])  # one chunk, then a SIGTERM
    stopping.should_stop = lambda: next(chunks, True)
    stopping.run_next()
    with factory() as uow:
        job = uow.jobs.get(job_id)
        assert job.status is JobStatus.RUNNING and job.processed_count == 1
    assert runner(factory, worker="w2").run_next().id == job_id  # at once, no lease to wait for
    assert output(factory, caller, job_id).code.value == "WSRC0009"


def test_purged_jobs_go_and_their_job_ids_are_never_given_again(factory, caller) -> None:
    running = submit(factory, caller, [AMELIA])
    waiting = submit(factory, caller, [NEW])
    with factory() as uow:
        assert uow.jobs.claim("w1", NOW, NOW + timedelta(seconds=30)).id == running
        uow.commit()
    with factory() as uow:
        assert uow.jobs.purge(NOW + timedelta(days=1)) == 1  # not the running one
        uow.commit()
    with factory() as uow:
        assert uow.jobs.get(waiting) is None and uow.jobs.get(running) is not None
    assert submit(factory, caller, [AMELIA]) > waiting  # increasing, never reused


def test_a_file_goes_in_over_several_transactions_unclaimable_until_whole(factory, caller) -> None:
    seen_while_loading = []

    def learners():
        for position in range(1, 8):
            if position == 5:  # the first steps are committed by now: is the job claimable?
                with factory() as other:
                    seen_while_loading.append(other.jobs.claim("w9", NOW, NOW + timedelta(seconds=30)))
                    other.commit()
            yield JobLearner(position, dict(NEW, MISIdentifier=f"M{position}"))

    with factory() as uow:
        job_id = batch.submit(uow, caller, JobType.FULL, learners(), 7, now=NOW, source=JobSource.FILE, per_transaction=2)
    assert seen_while_loading == [None]
    with factory() as uow:
        job = uow.jobs.get(job_id)
        assert job.status is JobStatus.SUBMITTED and len(uow.jobs.learners(job_id)) == 7


def test_a_file_that_fails_while_it_is_read_leaves_no_job(factory, caller) -> None:
    def learners():
        yield from (JobLearner(position, NEW) for position in range(1, 6))
        raise ValueError("the file broke a rule at its end")

    with factory() as uow, pytest.raises(ValueError):
        batch.submit(uow, caller, JobType.FULL, learners(), 5, now=NOW, source=JobSource.FILE, per_transaction=2)
    with factory() as uow:
        assert uow.jobs.recent(None, 10) == []
