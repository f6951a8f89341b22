"""SqlUnitOfWork and the organisation, search and audit repositories on a real database."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, Engine, Table, event, func, select, text
from sqlalchemy.exc import IntegrityError

from lrs_ws.adapters import engines
from lrs_ws.adapters.deferred_writes import DeferredWrites
from lrs_ws.adapters.engines import connection_factory, make_engine, normalise_url
from lrs_ws.adapters.migrate import upgrade
from lrs_ws.adapters.orm import audit_events, learners, organisations
from lrs_ws.adapters.unit_of_work import SqlUnitOfWork
from lrs_ws.adapters.write_control import WriteLimitExceeded
from lrs_ws.bootstrap import build_runtime
from lrs_ws.config import Settings
from lrs_ws.domain.roles import Role
from lrs_ws.services.ports import DatabaseUnavailable, Organisation, User

from .conftest import postgres_url
from .persistence_builders import simple_learner, valid_ulns

NOW = datetime(2026, 11, 23, 10, 0, 0)


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def an_organisation(ukprn: str = "10000001", ref: str | None = "ABC123") -> Organisation:
    return Organisation(id=None, name="Northfield College", ukprn=ukprn, organisation_ref=ref, password_hash="x$y")


def test_commit_keeps_every_change(engine: Engine, connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    with SqlUnitOfWork(connections) as uow:
        uow.learners.add(simple_learner(uln, date(2008, 1, 1)))
        uow.audit.record(at=NOW, organisation_id=None, username=None, operation="registerSingleLearner", uln=uln, outcome="WSRC0006")
        uow.commit()

    assert count(engine, learners) == 1
    assert count(engine, audit_events) == 1


def test_leaving_without_commit_keeps_nothing(engine: Engine, connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    with SqlUnitOfWork(connections) as uow:
        uow.learners.add(simple_learner(uln, date(2008, 1, 1)))
        uow.organisations.add(an_organisation())

    assert count(engine, learners) == 0
    assert count(engine, organisations) == 0


def test_an_exception_rolls_everything_back(engine: Engine, connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    with pytest.raises(RuntimeError, match="use case failed"), SqlUnitOfWork(connections) as uow:
        uow.learners.add(simple_learner(uln, date(2008, 1, 1)))
        uow.searches.record(1, "k" * 64, "WSRC0001", NOW)
        uow.audit.record(at=NOW, organisation_id=1, username="u", operation="op", uln=uln, outcome="x")
        raise RuntimeError("use case failed")

    assert count(engine, learners) == 0
    assert count(engine, audit_events) == 0
    with SqlUnitOfWork(connections) as uow:
        assert uow.searches.recent(1, "k" * 64, NOW - timedelta(days=1)) == []


def test_explicit_rollback_discards_and_the_unit_of_work_stays_usable(engine: Engine, connections: Callable[[], Connection]) -> None:
    first, second = valid_ulns(2)
    with SqlUnitOfWork(connections) as uow:
        uow.learners.add(simple_learner(first, date(2008, 1, 1)))
        uow.rollback()
        uow.learners.add(simple_learner(second, date(2008, 1, 1)))
        uow.commit()

    with SqlUnitOfWork(connections) as uow:
        assert not uow.learners.uln_exists(first)
        assert uow.learners.uln_exists(second)


def test_organisations_and_users_round_trip(connections: Callable[[], Connection]) -> None:
    with SqlUnitOfWork(connections) as uow:
        organisation = uow.organisations.add(an_organisation())
        assert organisation.id is not None
        user = uow.organisations.add_user(
            User(id=None, organisation_id=organisation.id, username="jsmith", roles=frozenset({Role.ONLINE_USER, Role.VIEW_ONLY}))
        )
        assert user.id is not None
        uow.commit()

    with SqlUnitOfWork(connections) as uow:
        assert uow.organisations.by_ukprn("10000001") == organisation
        assert uow.organisations.by_reference("ABC123") == organisation
        assert uow.organisations.by_ukprn("99999999") is None
        assert uow.organisations.by_reference("ZZZ999") is None
        assert uow.organisations.user(organisation.id, "jsmith") == user
        assert uow.organisations.user(organisation.id, "nobody") is None
        assert uow.organisations.user(organisation.id, "jsmith").roles == {Role.ONLINE_USER, Role.VIEW_ONLY}  # type: ignore[union-attr]  # added above


def test_organisation_without_ukprn_or_reference_and_duplicate_usernames(connections: Callable[[], Connection]) -> None:
    with SqlUnitOfWork(connections) as uow:
        first = uow.organisations.add(an_organisation(ukprn="10000001", ref=None))
        second = uow.organisations.add(an_organisation(ukprn="10000002", ref=None))  # NULLs are not duplicates
        uow.organisations.add_user(User(id=None, organisation_id=first.id, username="admin"))  # type: ignore[arg-type]  # stored: it has an id
        uow.organisations.add_user(User(id=None, organisation_id=second.id, username="admin"))  # type: ignore[arg-type]  # stored: it has an id
        uow.commit()
        assert uow.organisations.user(first.id, "admin").roles == frozenset()  # type: ignore[arg-type, union-attr]  # stored above

    with pytest.raises(IntegrityError), SqlUnitOfWork(connections) as uow:
        uow.organisations.add_user(User(id=None, organisation_id=first.id, username="admin"))  # type: ignore[arg-type]  # stored: it has an id


def test_search_log_recent_filters_by_organisation_key_and_time(connections: Callable[[], Connection]) -> None:
    key, other_key = "a" * 64, "b" * 64
    with SqlUnitOfWork(connections) as uow:
        uow.searches.record(1, key, "WSRC0001", NOW - timedelta(minutes=45))  # too old
        uow.searches.record(1, key, "WSRC0003", NOW - timedelta(minutes=20))
        uow.searches.record(1, key, "WSRC0004", NOW - timedelta(minutes=5))
        uow.searches.record(2, key, "WSRC0001", NOW - timedelta(minutes=5))  # another organisation
        uow.searches.record(1, other_key, "WSRC0001", NOW - timedelta(minutes=5))  # another search
        uow.commit()

    with SqlUnitOfWork(connections) as uow:
        assert uow.searches.recent(1, key, NOW - timedelta(minutes=30)) == ["WSRC0004", "WSRC0003"]
        assert uow.searches.recent(1, key, NOW - timedelta(minutes=20)) == ["WSRC0004", "WSRC0003"]  # inclusive
        assert uow.searches.recent(3, key, NOW - timedelta(days=1)) == []


def test_search_log_compares_aware_and_naive_times_as_utc(connections: Callable[[], Connection]) -> None:
    key = "c" * 64
    london_summer = timezone(timedelta(hours=1))
    with SqlUnitOfWork(connections) as uow:
        uow.searches.record(1, key, "WSRC0001", datetime(2026, 7, 1, 12, 0, tzinfo=london_summer))  # 11:00 UTC
        uow.commit()
    with SqlUnitOfWork(connections) as uow:
        assert uow.searches.recent(1, key, datetime(2026, 7, 1, 10, 59)) == ["WSRC0001"]
        assert uow.searches.recent(1, key, datetime(2026, 7, 1, 11, 1, tzinfo=UTC)) == []


def test_audit_record_stores_the_event(engine: Engine, connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    with SqlUnitOfWork(connections) as uow:
        uow.audit.record(at=NOW, organisation_id=7, username="jsmith", operation="learnerByULN", uln=uln, outcome="WSRC0004")
        uow.audit.record(at=NOW, organisation_id=None, username=None, operation="signIn", uln=None, outcome="WSEC0001")
        uow.commit()

    with engine.connect() as connection:
        rows = connection.execute(
            select(
                audit_events.c.at,
                audit_events.c.organisation_id,
                audit_events.c.username,
                audit_events.c.operation,
                audit_events.c.uln,
                audit_events.c.outcome,
            )
            .order_by(audit_events.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [
        (NOW, 7, "jsmith", "learnerByULN", uln, "WSRC0004"),
        (NOW, None, None, "signIn", None, "WSEC0001"),
    ]


def test_audit_entries_page_the_rows_of_these_ulns_newest_first_with_address_and_outcome(connections: Callable[[], Connection]) -> None:
    first, merged, other = valid_ulns(3)
    with SqlUnitOfWork(connections) as uow:
        organisation = uow.organisations.add(an_organisation())
        uow.audit.record(at=NOW, organisation_id=organisation.id, username="online", operation="GetLearnerLearningEvents",
                         uln=first, outcome="WSRC0004", address="192.0.2.10")
        uow.audit.record(at=NOW + timedelta(minutes=1), organisation_id=None, username="sandbox console",
                         operation="ConsoleLearnerPage", uln=merged, outcome="shown", address=None)
        uow.audit.record(at=NOW + timedelta(minutes=2), organisation_id=organisation.id, username="online",
                         operation="learnerByULN", uln=first, outcome="WSRC0004", address="192.0.2.11")
        uow.audit.record(at=NOW, organisation_id=None, username=None, operation="learnerByULN", uln=other, outcome="WSRC0001")
        uow.commit()
        total, every = uow.audit.entries([first, merged], None, 0, 10)
        assert total == 3
        assert [(e.operation, e.uln, e.organisation_name, e.organisation_id, e.username, e.address, e.outcome) for e in every] == [
            ("learnerByULN", first, "Northfield College", organisation.id, "online", "192.0.2.11", "WSRC0004"),
            ("ConsoleLearnerPage", merged, None, None, "sandbox console", None, "shown"),
            ("GetLearnerLearningEvents", first, "Northfield College", organisation.id, "online", "192.0.2.10", "WSRC0004"),
        ]
        assert every[0].at == (NOW + timedelta(minutes=2)).replace(tzinfo=UTC)
        total, reads = uow.audit.entries([first, merged], ["GetLearnerLearningEvents", "ConsoleLearnerPage"], 1, 10)
        assert (total, [e.operation for e in reads]) == (2, ["GetLearnerLearningEvents"])


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///lrs-ws.sqlite3", "sqlite:///lrs-ws.sqlite3"),
    ],
)
def test_postgresql_urls_use_psycopg_3(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def _kill_pooled_backends(engine: Engine, admin: Engine) -> None:
    """End the server side of every connection in `engine`'s pool, as a restarted server does."""
    with engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        connection.commit()


@pytest.mark.postgres
def test_a_connection_idle_in_the_pool_is_pinged_and_replaced_when_dead(
    postgres_admin_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgres_url(), pool_size=1, max_overflow=0)
    try:
        _kill_pooled_backends(engine, postgres_admin_engine)
        monkeypatch.setattr(engines, "IDLE_BEFORE_PING_S", 0.0)  # every connection counts as idle
        with engine.connect() as connection:  # pinged, found dead, replaced: no error
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "first_statement",
    [
        pytest.param(lambda uow: uow.connection.execute(text("SELECT 1")), id="execute"),
        # The caller's organisation is read by a FixedSelect, on the DBAPI cursor.
        pytest.param(lambda uow: uow.organisations.with_user(ukprn="10000001", organisation_ref=None, username="u"), id="fixed-select"),
    ],
)
def test_a_connection_used_a_moment_ago_is_not_pinged_and_one_failure_renews_the_pool(
    postgres_admin_engine: Engine, monkeypatch: pytest.MonkeyPatch, first_statement
) -> None:
    """The cost of pinging only idle connections: a server that went away within the last second
    fails the next statement, by execute or by a FixedSelect alike (DatabaseUnavailable, so
    WSEC0999), and then the pool is new."""
    engine = make_engine(postgres_url(), pool_size=1, max_overflow=0)
    try:
        _kill_pooled_backends(engine, postgres_admin_engine)
        monkeypatch.setattr(engines, "IDLE_BEFORE_PING_S", 3600.0)
        uow = SqlUnitOfWork(connection_factory(engine))
        with pytest.raises(DatabaseUnavailable), uow:
            first_statement(uow)
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("threads", [1, 4, 32])
def test_a_server_process_pools_a_connection_per_request_thread_and_one_for_the_find_log(tmp_path, threads: int) -> None:
    url = f"sqlite:///{tmp_path / 'pool.sqlite3'}"
    upgrade(url)
    runtime = build_runtime(Settings(database_url=url), threads=threads)
    with runtime.unit_of_work() as uow:
        pool = uow.connection.engine.pool
    assert pool.size() == threads + 1
    pool.dispose()


def test_a_reads_only_unit_of_work_reads_refuses_writes_and_leaves_the_pool_transactional(engine: Engine) -> None:
    """A find's unit of work (write_limit 0, its logs deferred): on PostgreSQL in autocommit (no
    BEGIN/COMMIT round trips); any write refused; the connection, back in the pool, runs the
    next unit of work in a transaction again."""
    engine.pool.dispose()
    connect = connection_factory(engine)
    deferred = DeferredWrites(engine, delay=60)
    (uln,) = valid_ulns(1)
    with SqlUnitOfWork(connect, None, deferred, write_limit=0) as uow:
        assert uow.learners.get(uln) is None
        if engine.dialect.name == "postgresql":
            assert uow.connection.connection.dbapi_connection.autocommit is True
        with pytest.raises(WriteLimitExceeded):
            uow.learners.add(simple_learner(uln, date(2008, 3, 14)))
    with SqlUnitOfWork(connect, None, deferred) as uow:  # the same pooled connection
        uow.learners.add(simple_learner(uln, date(2008, 3, 14)))
        # left without commit: nothing is kept
    assert count(engine, learners) == 0
    with SqlUnitOfWork(connect, None, write_limit=0) as uow:  # nothing deferred: an ordinary unit
        uow.learners.add(simple_learner(uln, date(2008, 3, 14)))
        uow.commit()
    assert count(engine, learners) == 1


def test_a_unit_of_work_of_one_write_keeps_it_and_refuses_a_second(engine: Engine) -> None:
    """A PLR read's unit of work (write_limit 1): its audit row is kept (on PostgreSQL in
    autocommit, a transaction by itself); a second write is refused and written nowhere."""
    engine.pool.dispose()
    with SqlUnitOfWork(connection_factory(engine), write_limit=1) as uow:
        if engine.dialect.name == "postgresql":
            assert uow.connection.connection.dbapi_connection.autocommit is True
        uow.audit.record(at=NOW, organisation_id=1, username="online", operation="GetLearnerLearningEvents",
                         uln="9105106906", outcome="WSRC0004")
        with pytest.raises(WriteLimitExceeded):
            uow.audit.record(at=NOW, organisation_id=1, username="online", operation="ViewAudit",
                             uln="9105106906", outcome="WSRC0004")
        uow.commit()
    with engine.connect() as connection:
        assert connection.execute(select(audit_events.c.operation)).scalars().all() == ["GetLearnerLearningEvents"]


@pytest.mark.parametrize("url", ["postgresql://postgres@127.0.0.1:1/test", "sqlite:///{tmp}/missing.sqlite3"], ids=["no server", "no file"])
def test_a_database_that_cannot_be_reached_is_unavailable_when_the_unit_of_work_opens(tmp_path, url: str) -> None:
    """The connection is made as the unit of work opens: failing there is DatabaseUnavailable
    (WSEC0999 and one log line), as failing at a statement is, not an unexpected error."""
    engine = make_engine(url.format(tmp=tmp_path), create=False)
    try:
        with pytest.raises(DatabaseUnavailable) as raised, SqlUnitOfWork(connection_factory(engine)):
            pass
        assert raised.value.reason == "the database does not answer"
    finally:
        engine.dispose()


def test_lock_all_holds_every_lock_until_the_transaction_ends_and_a_held_lock_costs_nothing(
    engine: Engine, connections: Callable[[], Connection]
) -> None:
    """A batch chunk takes its learners' registration locks in one go; each learner's own
    lock() then sends nothing. PostgreSQL: another session cannot take any of them meanwhile."""
    keys = [f"register:{n}" for n in range(5)]
    with SqlUnitOfWork(connections) as uow:
        uow.lock_all(keys)
        statements: list[str] = []
        assert uow.connection is not None
        event.listen(uow.connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
        for key in keys:
            uow.lock(key)
        assert statements == []
        if engine.dialect.name == "postgresql":
            with engine.connect() as other:
                taken = [other.execute(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key}).scalar()
                         for key in (*keys, "register:other")]
                other.rollback()
            assert taken == [False] * 5 + [True]
        uow.rollback()
        if engine.dialect.name == "postgresql":
            with engine.connect() as other:
                assert other.execute(text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": keys[0]}).scalar()
                other.rollback()
