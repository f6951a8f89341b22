"""A big batch job runs in parts that several workers claim at once (SQLite and PostgreSQL):
every learner once, the same outcomes as one worker gives, a part of a dead worker resumed
without doubles, a failing part failing the whole job."""
from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from lrs_ws.adapters.orm import batch_job_parts, learners
from lrs_ws.domain.batch import JobStatus, ReturnCode, part_ranges
from lrs_ws.domain.rules import DEFAULT_PROHIBITED_WORDS
from lrs_ws.services import job_runner
from lrs_ws.services.batch_learner import BatchRules
from tests.integration.batch_support import NOW, output, submit

GIVEN = ["Aisha", "Bruno", "Chidi", "Dmitri", "Elowen", "Farah", "Gideon", "Hana", "Idris", "Juno"]


def many_learners(count: int) -> list[dict]:
    """New learners born over 30 days, two rows for every tenth one (the second matches the first)."""
    sent = []
    for number in range(count):
        learner = {
            "GivenName": GIVEN[number % 10], "FamilyName": _unlike_any_other(number),
            "DateOfBirth": f"2008-06-{1 + number % 30:02d}", "Gender": "2", "LastKnownPostCode": "LS1 4AP",
            "MISIdentifier": f"MIS-{number}",
        }
        sent.append(learner)
        if number % 10 == 0:
            sent.append({**learner, "MISIdentifier": f"MIS-{number}-again"})
    return sent


def _unlike_any_other(number: int) -> str:
    """A family name no other learner's is close to (the matching forgives one typo, sounds...)."""
    letters = random.Random(number).choices("bcdfghjklmnpqrstvwxz", k=6)
    return "Parts" + "".join(letter + "aeiou"[number % 5] for letter in letters)


def parts_runner(factory, worker: str) -> job_runner.JobRunner:
    # each worker its own random ULNs, as each process has (two seeded alike would issue the same ones)
    own_rules = BatchRules(DEFAULT_PROHIBITED_WORDS, 10, random.Random(worker))
    return job_runner.JobRunner(factory, own_rules, worker, chunk=10, split_at=40, part_size=25)


def test_part_ranges_never_split_a_day_and_fold_a_short_tail():
    assert part_ranges([("a", 10), ("b", 10), ("c", 10), ("d", 2)], 15) == [("a", "b"), ("c", "d")]
    assert part_ranges([("a", 100)], 15) == [("a", "a")]
    assert part_ranges([("a", 5), ("b", 5)], 15) == [("a", "b")]
    assert part_ranges([], 15) == []


def test_two_workers_run_one_big_job_together(factory, caller, engine: Engine) -> None:
    sent = many_learners(90)
    job_id = submit(factory, caller, sent)
    ran_by: dict[str, list[int]] = {"w1": [], "w2": []}
    failures: list[BaseException] = []

    def work(name: str) -> None:
        runner = parts_runner(factory, name)
        try:
            while not finished():  # as a worker polls: a part may not be there yet (the split still uncommitted)
                job = runner.run_next()
                if job is None:
                    time.sleep(0.02)
                else:
                    ran_by[name].append(job.id)
        except BaseException as error:  # reported below: a thread's failure must fail the test
            failures.append(error)

    def finished() -> bool:
        with factory() as uow:
            return uow.jobs.get(job_id).finished

    threads = [threading.Thread(target=work, args=(name,)) for name in ran_by]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    with engine.connect() as connection:
        parts = connection.execute(select(batch_job_parts).where(batch_job_parts.c.job_id == job_id)).mappings().all()
        registered = connection.execute(
            select(func.count()).select_from(learners).where(learners.c.family_name.like("Parts%"))
        ).scalar()
    assert len(parts) >= 3 and all(part["done"] for part in parts)
    if engine.dialect.name == "postgresql":  # SQLite has one writer: one worker may well run every part
        assert ran_by["w1"] and ran_by["w2"], ran_by  # both workers ran parts of it
    result = output(factory, caller, job_id)
    assert result.job.status is JobStatus.COMPLETED and result.job.processed_count == len(sent)
    codes = [learner.outcome.code for learner in result.learners]
    assert registered == 90  # each new learner once: its second row matched the first
    assert codes.count(ReturnCode.CREATED) == 90 and codes.count(ReturnCode.MATCHED) == 9
    assert len({learner.outcome.uln for learner in result.learners}) == 90


def test_a_dead_workers_part_is_resumed_without_doubles(factory, caller, clock, engine: Engine) -> None:
    sent = many_learners(60)
    job_id = submit(factory, caller, sent)
    dying = parts_runner(factory, "w1")
    with factory() as uow:
        job = uow.jobs.claim("w1", clock.now(), clock.now() + dying.lease)
        assert uow.jobs.split(job.id, dying.part_size) > 1
        uow.jobs.release(job.id, "w1")
        part = uow.jobs.claim_part("w1", clock.now(), clock.now() + dying.lease)
        uow.commit()
    assert dying._run_chunk(job, 10, None, part) is not None  # one chunk of its part, then it "dies"
    other = parts_runner(factory, "w2")
    while other.run_next() is not None:  # every other part; the dead worker's part waits for its lease
        pass
    with factory() as uow:
        assert uow.jobs.get(job_id).status is JobStatus.RUNNING
    clock.at = NOW + timedelta(seconds=31)
    assert other.run_next().id == job_id
    with pytest.raises(job_runner.LostJob):
        dying._run_chunk(job, 10, None, part)
    result = output(factory, caller, job_id)
    assert result.job.status is JobStatus.COMPLETED and result.job.processed_count == len(sent)
    with engine.connect() as connection:
        registered = connection.execute(
            select(func.count()).select_from(learners).where(learners.c.family_name.like("Parts%"))
        ).scalar()
    assert registered == 60


def test_a_part_that_fails_fails_the_job_and_stops_the_others(factory, caller, monkeypatch) -> None:
    sent = many_learners(60)
    job_id = submit(factory, caller, sent)
    real = job_runner.process_learner

    def broken(uow, job_type, fields, **kwargs):
        if fields.get("MISIdentifier") == "MIS-35":
            raise RuntimeError("boom")
        return real(uow, job_type, fields, **kwargs)

    monkeypatch.setattr(job_runner, "process_learner", broken)
    runner = parts_runner(factory, "w1")
    while runner.run_next() is not None:
        pass
    result = output(factory, caller, job_id)
    assert result.job.status is JobStatus.FAILED and "boom" in result.job.failure
    with factory() as uow:
        assert uow.jobs.claim_part("w2", NOW, NOW + timedelta(seconds=30)) is None  # nothing more of it runs
