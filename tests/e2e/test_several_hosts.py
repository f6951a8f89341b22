"""lrs-ws as several hosts run it on one PostgreSQL database: two `lrs-ws serve --no-worker`
(behind a load balancer, here the clients spreading their calls) and two `lrs-ws worker`, under
mixed traffic: finds on both, registers of the same new learners sent to both at once, batch
jobs; a worker and then a server killed midway. Nothing is lost or doubled: one ULN per learner,
every job completed with every learner's outcome, every call answered (a call the killed server
dropped is sent again to the other, as a load balancer does)."""
from __future__ import annotations

import contextlib
import itertools
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from lrs_ws.adapters.engines import normalise_url
from lrs_ws.adapters.orm import learners
from tests.conftest import DEFAULT_POSTGRES_URL, _postgres_database
from tests.e2e.serving import (
    answer_of,
    batch_output,
    command,
    eventually,
    find_by_demographics,
    find_by_uln,
    postgres_base_url,
    register,
    start,
    stop,
    submit_batch,
)

NEW_LEARNERS = 12
BATCH_JOBS = 4
BATCH_SIZE = 150


@pytest.fixture
def database(tmp_path):
    url, drop = _postgres_database(postgres_base_url() or DEFAULT_POSTGRES_URL)
    yield url
    drop()


def _start_worker(url: str, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(command("worker", "--database-url", url), stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _learner(number: int, prefix: str) -> dict:
    """A new learner no other is near (the matching forgives a typo and names that sound alike)."""
    draw = random.Random(f"{prefix}-{number}")
    syllables = "".join(draw.choice("bdfgklmnprstvz") + draw.choice("aeiou") for _ in range(5))
    return {"GivenName": f"Ho{syllables[:4]}", "FamilyName": f"{prefix}{syllables}",
            "DateOfBirth": f"2007-{1 + number % 12:02d}-{1 + number % 28:02d}", "Gender": "1", "LastKnownPostCode": "M1 1AE"}


class Balancer:
    """What a load balancer does for these clients: each call to the next live server; a call
    the server dropped (killed mid-call) goes to another."""

    def __init__(self, servers: list) -> None:
        self.servers = servers
        self.turn = itertools.count()
        self.dead: set[int] = set()

    def post(self, path: str, envelope: str) -> str:
        for _ in range(6):
            index = next(self.turn) % len(self.servers)
            if index in self.dead:
                continue
            try:
                answered = requests.post(self.servers[index].url(path), data=envelope.encode("utf-8"),
                                         headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=30)
            except requests.ConnectionError:
                continue  # the balancer tries the next server
            return answer_of(answered.content, f"HTTP {answered.status_code}")
        raise AssertionError("no server answered")


def test_two_servers_and_two_workers_on_one_database_lose_and_double_nothing(tmp_path, database):
    servers = [start(tmp_path / "serve-a.log", database, "--no-worker", "--workers", "2")]
    servers.append(start(tmp_path / "serve-b.log", database, "--no-worker", "--workers", "2", "--no-demo"))
    workers = [_start_worker(database, tmp_path / f"worker-{n}.log") for n in range(2)]
    balancer = Balancer(servers)
    outcomes: dict[str, list[str]] = {"find": [], "register": []}
    errors: list[BaseException] = []
    job_ids: list[int] = []
    stopping = threading.Event()
    try:
        def finds() -> None:
            while not stopping.is_set():
                outcomes["find"].append(balancer.post("/LearnerService.svc", find_by_uln()))

        def registers(prefix: str) -> None:
            # each new learner registered through both servers at once, after the search the rule asks for
            for number in range(NEW_LEARNERS):
                learner = _learner(number, prefix)
                for index, server in enumerate(servers):
                    if index not in balancer.dead:
                        with contextlib.suppress(requests.ConnectionError):
                            requests.post(server.url("/LearnerService.svc"), data=find_by_demographics(learner),
                                          headers={"Content-Type": "text/xml"}, timeout=30)
                both = [threading.Thread(target=send_register, args=(register(learner),)) for _ in servers]
                for thread in both:
                    thread.start()
                for thread in both:
                    thread.join()

        def send_register(envelope: str) -> None:
            outcomes["register"].append(balancer.post("/LearnerService.svc", envelope))

        def batches() -> None:
            for job in range(BATCH_JOBS):
                sent = [_learner(number, f"Batchjob{'abcd'[job]}") for number in range(BATCH_SIZE)]
                envelope = submit_batch([{**learner, "MISIdentifier": f"J{job}-{n}"} for n, learner in enumerate(sent)])
                answered = requests.post(servers[0].url("/LearnerService.svc"), data=envelope,  # the server that stays
                                         headers={"Content-Type": "text/xml"}, timeout=30)
                assert answer_of(answered.content) == "WSRC0007", answered.text[:500]  # queued
                job_ids.append(int(answered.text.split("<JobID>")[1].split("<")[0]))

        def guarded(target, *args):
            def run() -> None:
                try:
                    target(*args)
                except BaseException as error:  # reported below
                    errors.append(error)
            return threading.Thread(target=run)

        threads = [guarded(finds), guarded(finds), guarded(registers, "Regone"), guarded(registers, "Regtwo"), guarded(batches)]
        for thread in threads:
            thread.start()
        engine = create_engine(normalise_url(database))
        try:
            def holding_a_job() -> bool:
                with engine.connect() as connection:
                    holders = connection.execute(text("SELECT claimed_by FROM batch_jobs WHERE status = 'Running'")).scalars()
                    return any(f":{workers[0].pid}:" in (holder or "") for holder in holders)

            eventually(holding_a_job, timeout=60, interval=0.01, what="the first worker holding a job")
        finally:
            engine.dispose()
        workers[0].send_signal(signal.SIGKILL)  # a worker dies mid-job: the other takes its job over
        time.sleep(1.0)
        servers[1].process.send_signal(signal.SIGKILL)  # a host goes: its calls go to the other
        with contextlib.suppress(ProcessLookupError):
            for pid in Path(f"/proc/{servers[1].process.pid}/task").glob("*/children"):
                for child in pid.read_text().split():
                    os.kill(int(child), signal.SIGKILL)
        balancer.dead.add(1)
        for thread in threads[2:]:
            thread.join(timeout=120)
        stopping.set()
        for thread in threads[:2]:
            thread.join(timeout=30)
        assert not errors, errors

        # every job completes (the surviving worker took the dead one's job over), every learner once
        def all_done() -> bool:
            return all(balancer.post("/LearnerService.svc", batch_output(job_id)) == "WSRC0009" for job_id in job_ids)

        eventually(all_done, timeout=90, interval=0.5, what="every batch job completed")
    finally:
        stopping.set()
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        for server in servers:
            stop(server.process)

    assert len(job_ids) == BATCH_JOBS
    assert "takes over" in (tmp_path / "worker-1.log").read_text()  # the dead worker's job was taken over
    assert outcomes["find"] and set(outcomes["find"]) == {"WSRC0004"}, set(outcomes["find"])
    assert len(outcomes["register"]) == 2 * 2 * NEW_LEARNERS
    engine = create_engine(normalise_url(database))
    try:
        with engine.connect() as connection:
            for prefix in ("Regone", "Regtwo", "Batchjoba", "Batchjobb", "Batchjobc", "Batchjobd"):
                per_learner = connection.execute(
                    select(learners.c.family_name, learners.c.given_name, learners.c.date_of_birth, func.count())
                    .where(learners.c.family_name.like(f"{prefix}%"))
                    .group_by(learners.c.family_name, learners.c.given_name, learners.c.date_of_birth)
                ).all()
                expected = NEW_LEARNERS if prefix.startswith("Reg") else BATCH_SIZE
                assert len(per_learner) == expected, prefix  # each learner registered...
                assert all(count == 1 for *_, count in per_learner), per_learner  # ...exactly once
            unfinished = connection.execute(
                text("SELECT count(*) FROM batch_job_learners WHERE return_code IS NULL")
            ).scalar()
            assert unfinished == 0
    finally:
        engine.dispose()
    # each learner was sent twice at once: one registered it, the other was refused as a duplicate
    # (a call lost with the killed server and sent again is refused too: the learner was there)
    assert set(outcomes["register"]) <= {"WSRC0005", "WSRC0021"}, outcomes["register"]
    assert 2 * NEW_LEARNERS - 2 <= outcomes["register"].count("WSRC0005") <= 2 * NEW_LEARNERS
