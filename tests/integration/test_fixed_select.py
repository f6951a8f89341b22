"""FixedSelect gives what Connection.execute gives, and fails as it fails, on SQLite and PostgreSQL."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
from sqlalchemy import Connection, bindparam, column, exc, select, table

from lrs_ws.adapters.fixed_select import FixedSelect
from lrs_ws.adapters.orm import learners, learning_events, sign_in_failures
from lrs_ws.adapters.unit_of_work import SqlUnitOfWork
from lrs_ws.domain.learning_event import LearningEvent
from lrs_ws.domain.sign_in import FailedSignIns

from .persistence_builders import full_learner, valid_ulns


def test_rows_are_those_of_execute(connections: Callable[[], Connection]) -> None:
    master, retired, other = valid_ulns(3)
    with SqlUnitOfWork(connections) as uow:
        uow.learners.add(full_learner(master))
        uow.learners.add(full_learner(retired, given_name="Other"))
        uow.learners.add(full_learner(other))
        uow.learners.merge(master, retired, date(2025, 1, 2))
        uow.events.add_many([
            LearningEvent(uln=master, source="ILR", achievement_award_date=date(2024, 8, 22), date_loaded=datetime(2024, 10, 1, 16, 47, 4)),
            LearningEvent(uln=master, source="NPD"),
        ])
        uow.sign_ins.save(1, "10.0.0.1", FailedSignIns(count=2, last_at=datetime(2026, 1, 1, 9, 0), blocked_until=None))
        uow.commit()
    linked = learners.alias("linked")
    statements = [
        (
            select(learners, linked.c.uln.label("linked_uln"))
            .outerjoin(linked, linked.c.master_uln == learners.c.uln)
            .where(learners.c.uln == bindparam("uln")),
            [{"uln": master}, {"uln": retired}, {"uln": "0000000000"}],
        ),
        (select(learning_events).where(learning_events.c.uln == bindparam("uln")), [{"uln": master}, {"uln": other}]),
        (
            select(sign_in_failures).where(sign_in_failures.c.address == bindparam("address")),
            [{"address": "10.0.0.1"}],
        ),
        (select(learners.c.uln).where(learners.c.date_of_birth == bindparam("born")), [{"born": full_learner(other).date_of_birth}]),
    ]
    with connections() as connection:
        for statement, cases in statements:
            fixed = FixedSelect(statement)
            for values in cases:
                expected = [dict(row) for row in connection.execute(statement, values).mappings()]
                assert fixed.mappings(connection, values) == expected
                assert fixed.rows(connection, values) == [tuple(row.values()) for row in expected]
        assert FixedSelect(statements[0][0]).mappings(connection, {"uln": master})[0]["date_of_birth"] == full_learner(master).date_of_birth


def test_an_expanding_parameter_is_refused(connections: Callable[[], Connection]) -> None:
    fixed = FixedSelect(select(learners.c.uln).where(learners.c.uln.in_(bindparam("ulns", expanding=True))))
    with connections() as connection, pytest.raises(ValueError, match="expanding"):
        fixed.rows(connection, {"ulns": ["1"]})


def test_errors_are_sqlalchemys(connections: Callable[[], Connection]) -> None:
    """A failing statement raises what Connection.execute raises; after a rollback the
    connection goes on as after a failed execute."""
    missing = table("no_such_table", column("uln"))
    failing = FixedSelect(select(missing.c.uln).where(missing.c.uln == bindparam("uln")))
    fixed = FixedSelect(select(learners.c.uln).where(learners.c.uln == bindparam("uln")))
    with connections() as connection:
        with pytest.raises(exc.DBAPIError) as raised:
            connection.execute(failing.statement, {"uln": "1"})
        with pytest.raises(type(raised.value)):
            connection.rollback()
            failing.rows(connection, {"uln": "1"})
        connection.rollback()
        assert fixed.rows(connection, {"uln": "1"}) == []
