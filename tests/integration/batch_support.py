"""Fixtures and helpers of the batch job tests (on the engine of tests/integration/conftest.py,
which makes the fixtures available to every test module here)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from lrs_ws.bootstrap import unit_of_work_factory
from lrs_ws.domain.batch import JobLearner, JobType
from lrs_ws.services import batch
from lrs_ws.services.ports import Caller
from lrs_ws.services.seed import seed_demo
from tests.conftest import DEMO, SettableClock

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(NOW)


@pytest.fixture
def factory(engine: Engine, clock: SettableClock):
    factory = unit_of_work_factory(engine, clock=clock)
    with factory() as uow:
        seed_demo(uow, DEMO)
    return factory


@pytest.fixture
def caller(factory) -> Caller:
    with factory() as uow:
        organisation = uow.organisations.by_ukprn(DEMO["organisation"]["ukprn"])
        user = uow.organisations.user(organisation.id, "batch")
    return Caller(organisation.id, organisation.name, user.id, user.username, user.roles)



def submit(factory, caller, sent: list[dict], job_type=JobType.FULL) -> int:
    with factory() as uow:
        return batch.submit(
            uow, caller, job_type, [JobLearner(i, fields) for i, fields in enumerate(sent, 1)], len(sent), now=NOW
        )


def output(factory, caller, job_id):
    with factory() as uow:
        return batch.web_service_output(uow, caller, job_id, now=NOW, retention=timedelta(days=45))
