"""SqlLearnerRepository against a real, migrated database (SQLite and PostgreSQL)."""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, Engine, event, select, text

from lrs_ws.adapters.bulk import bulk_insert_learners
from lrs_ws.adapters.orm import NAME_CODE_COLUMNS, learners
from lrs_ws.adapters.repository import SqlLearnerRepository
from lrs_ws.adapters.synthetic import generate_learners
from lrs_ws.domain.learner import DETAIL_FIELDS, Learner, LearnerStatus
from lrs_ws.domain.matching import (
    MatchCandidate,
    NameCodes,
    SearchKey,
    candidate_birth_dates,
    match,
    name_codes,
)

from .persistence_builders import full_learner, simple_learner, valid_ulns

BORN = date(2008, 3, 14)


def add_all(connections: Callable[[], Connection], *items: Learner) -> None:
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        for learner in items:
            repository.add(learner)
        conn.commit()


def test_learner_columns_are_the_detail_fields_the_kept_fields_and_the_name_codes() -> None:
    kept = ["created_date", "last_updated_date", "version_number", "learner_status", "tier_level", "master_uln", "telephone_number"]
    codes = ["code_given", "code_family", "code_given_mac", "code_given_metaphone", "code_given_nysiis"]
    assert [c.name for c in learners.columns] == ["uln", *DETAIL_FIELDS, *kept, *codes]
    assert list(NameCodes._fields) == [name.removeprefix("code_") for name in codes]


def test_add_then_get_returns_every_field(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    stored = full_learner(uln)
    add_all(connections, stored)

    with connections() as conn:
        loaded = SqlLearnerRepository(conn).get(uln)

    assert loaded == stored
    assert loaded is not None and loaded.learner_status is LearnerStatus.CLOSED
    for name in DETAIL_FIELDS:
        assert getattr(loaded, name) == getattr(stored, name), name


def test_get_of_an_unknown_uln_is_none(connections: Callable[[], Connection]) -> None:
    with connections() as conn:
        assert SqlLearnerRepository(conn).get("1026893096") is None


def test_get_many_keeps_the_order_asked_for_and_skips_unknown(connections: Callable[[], Connection]) -> None:
    ulns = valid_ulns(5)
    add_all(connections, *(simple_learner(uln, BORN, given_name=f"N{i}") for i, uln in enumerate(ulns[:4])))
    asked = [ulns[3], ulns[4], ulns[0], ulns[2], ulns[0]]

    with connections() as conn:
        found = SqlLearnerRepository(conn).get_many(asked)

    assert [learner.uln for learner in found] == [ulns[3], ulns[0], ulns[2], ulns[0]]


def test_update_with_the_current_version_writes_and_moves_the_version_on(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    add_all(connections, full_learner(uln, version_number=1))
    changed = full_learner(
        uln,
        version_number=2,
        family_name="Brown",
        previous_family_name="O'Neill-Smith",
        last_updated_date=date(2026, 2, 1),
        created_date=date(1999, 1, 1),  # never rewritten by an update
    )

    with connections() as conn:
        assert SqlLearnerRepository(conn).update(changed, expected_version=1) is True
        conn.commit()
    with connections() as conn:
        loaded = SqlLearnerRepository(conn).get(uln)

    assert loaded is not None
    assert (loaded.family_name, loaded.previous_family_name) == ("Brown", "O'Neill-Smith")
    assert loaded.version_number == 2
    assert loaded.last_updated_date == date(2026, 2, 1)
    assert loaded.created_date == date(2025, 9, 1)


def test_update_moves_the_version_on_even_when_the_caller_did_not(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    add_all(connections, simple_learner(uln, BORN, version_number=4))
    changed = simple_learner(uln, BORN, version_number=4, given_name="Samuel")

    with connections() as conn:
        assert SqlLearnerRepository(conn).update(changed, expected_version=4)
        conn.commit()

    assert changed.version_number == 5
    with connections() as conn:
        assert SqlLearnerRepository(conn).get(uln).version_number == 5  # type: ignore[union-attr]  # stored above


def test_update_with_a_stale_version_returns_false_and_writes_nothing(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    original = full_learner(uln, version_number=3)
    add_all(connections, original)
    stale = full_learner(uln, version_number=3, family_name="Brown")

    with connections() as conn:
        assert SqlLearnerRepository(conn).update(stale, expected_version=2) is False
        conn.commit()
    with connections() as conn:
        assert SqlLearnerRepository(conn).get(uln) == original


def test_two_writers_from_one_version_only_one_wins(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    add_all(connections, simple_learner(uln, BORN))
    first = simple_learner(uln, BORN, given_name="First", version_number=2)
    second = simple_learner(uln, BORN, given_name="Second", version_number=2)

    with connections() as conn:
        assert SqlLearnerRepository(conn).update(first, expected_version=1)
        conn.commit()
    with connections() as conn:
        assert not SqlLearnerRepository(conn).update(second, expected_version=1)
        conn.commit()
    with connections() as conn:
        assert SqlLearnerRepository(conn).get(uln).given_name == "First"  # type: ignore[union-attr]  # stored above


def test_uln_exists_for_active_and_retired_learners_only(connections: Callable[[], Connection]) -> None:
    master, retired, never_issued = valid_ulns(3)
    add_all(connections, simple_learner(master, BORN), simple_learner(retired, BORN))
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        repository.merge(master, retired, date(2026, 3, 1))
        conn.commit()

    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        assert repository.uln_exists(master)
        assert repository.uln_exists(retired)
        assert not repository.uln_exists(never_issued)


def test_candidates_born_on_returns_the_light_rows_of_those_dates(connections: Callable[[], Connection]) -> None:
    a, b, c, d = valid_ulns(4)
    other_day = BORN + timedelta(days=1)
    add_all(
        connections,
        full_learner(a, date_of_birth=BORN),
        simple_learner(b, other_day, previous_family_name="Jones"),
        simple_learner(c, date(1990, 1, 1)),
        simple_learner(d, BORN, learner_status=LearnerStatus.RETIRED, master_uln=a),
    )

    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        found = repository.candidates_born_on([BORN, other_day, BORN])
        assert repository.candidates_born_on([]) == []

    expected = {
        MatchCandidate(a, "Siobhán", "O'Neill-Smith", "Jones", BORN, "2", "ls6 2ab  ", None),
        MatchCandidate(b, "Sam", "Taylor", "Jones", other_day, "1", "M1 1AE", None),
        MatchCandidate(d, "Sam", "Taylor", None, BORN, "1", "M1 1AE", a),
    }
    assert set(found) == expected
    assert [candidate.uln for candidate in found] == sorted(candidate.uln for candidate in expected)


def test_candidates_born_on_with_names_reads_those_whose_names_may_match(connections: Callable[[], Connection], engine: Engine) -> None:
    ulns = valid_ulns(8)
    named = [
        ("Olivia", "Smith"),  # the same names
        ("Olivia", "Brown"),  # the same given name
        ("Zara", "Smith"),  # the same family name
        ("Smith", "Olivia"),  # the other way round
        ("Olyvia", "Jones"),  # a given name that sounds the same
        ("Amelia", "Jones"),  # nothing in common: never read
    ]
    add_all(connections, *(simple_learner(uln, BORN, given_name=g, family_name=f) for uln, (g, f) in zip(ulns, named, strict=False)))
    add_all(connections, simple_learner(ulns[6], BORN + timedelta(days=1), given_name="Olivia", family_name="Smith"))
    with engine.begin() as connection:  # written by other means, without codes: always read
        connection.execute(learners.update().where(learners.c.uln == ulns[5]).values(code_given=None))
    with connections() as conn:
        found = SqlLearnerRepository(conn).candidates_born_on([BORN], names=name_codes("olivia", "SMITH"))
    assert [c.uln for c in found] == sorted(ulns[:6])
    with connections() as conn:
        found = SqlLearnerRepository(conn).candidates_born_on([BORN], names=name_codes("Olivia", "Smith"))
    assert ulns[5] in {c.uln for c in found}
    with engine.begin() as connection:
        connection.execute(learners.update().where(learners.c.uln == ulns[5]).values(
            dict(zip(NAME_CODE_COLUMNS, name_codes("Amelia", "Jones"), strict=True))
        ))
    with connections() as conn:
        found = SqlLearnerRepository(conn).candidates_born_on([BORN], names=name_codes("Olivia", "Smith"))
    assert [c.uln for c in found] == sorted(ulns[:5])


def test_an_update_that_renames_a_learner_moves_its_name_codes(connections: Callable[[], Connection]) -> None:
    (uln,) = valid_ulns(1)
    add_all(connections, simple_learner(uln, BORN, given_name="Olivia", family_name="Smith"))
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        learner = repository.get(uln)
        assert repository.update(dataclasses.replace(learner, given_name="Amelia", family_name="Jones"), learner.version_number)
        conn.commit()
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        assert [c.uln for c in repository.candidates_born_on([BORN], names=name_codes("Amelia", "Jones"))] == [uln]
        assert repository.candidates_born_on([BORN], names=name_codes("Olivia", "Smith")) == []


def _variants(given: str, family: str, rng: random.Random) -> list[tuple[str, str]]:
    """What an MIS might send for a learner: the names as held, and as mistyped or misremembered."""
    typo = given[:-1] + rng.choice("aeiouy") if len(given) > 2 else given + "e"
    return [
        (given, family), (family, given), (typo, family), (given.upper(), family.lower()),
        (given, "Mac" + family), (given + "-Ann", family), (given, family[1:] + family[0]), ("Ann", family),
    ]


def test_searching_with_names_finds_what_searching_every_learner_of_the_date_finds(
    engine: Engine, connections: Callable[[], Connection]
) -> None:
    """The name codes narrow what is read, never what matches: on 3,000 learners crowded onto four
    dates, each search (names as held, swapped, mistyped, Mac-prefixed...) has the same outcome
    from the few learners read with its names as from every learner of its dates."""
    days = [date(2009, 3, 4), date(2009, 4, 3), date(2010, 7, 7), date(2011, 12, 1)]
    rng = random.Random(11)
    rows = [dict(row, date_of_birth=rng.choice(days)) for row in generate_learners(3000, seed=5)]
    crowd = rows[12]  # and a dozen more with the same names and date: too many to list
    for row in rows[:12]:
        row.update(given_name=crowd["given_name"], family_name=crowd["family_name"], date_of_birth=crowd["date_of_birth"])
    bulk_insert_learners(engine, rows, today=date(2026, 1, 5))
    outcomes: set[str] = set()
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        for row in [crowd, *rng.sample(rows[13:], 60)]:
            for given, family in _variants(row["given_name"], row["family_name"], rng):
                search = SearchKey(given, family, row["date_of_birth"], row["gender"], row["last_known_post_code"])
                dates = candidate_birth_dates(search.date_of_birth)
                narrow = repository.candidates_born_on(dates, names=name_codes(given, family))
                every = repository.candidates_born_on(dates)
                assert len(narrow) <= len(every) // 10
                assert match(search, narrow) == match(search, every), (given, family)
                outcomes.add(match(search, every).outcome.value)
    assert outcomes == {"exact", "possible", "none", "too_many"}


def _captured_candidate_query(
    engine: Engine, connections: Callable[[], Connection], dates: list[date], names: NameCodes | None = None
) -> tuple[str, object]:
    """The exact SQL and parameters candidates_born_on sends to the driver."""
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]  # SQLAlchemy's event signature
        if "date_of_birth IN" in statement:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with connections() as conn:
            SqlLearnerRepository(conn).candidates_born_on(dates, names=names)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(captured) == 1
    return captured[0]


@pytest.mark.parametrize("named", [False, True], ids=["every learner of the dates", "names that may match"])
def test_candidates_born_on_reads_the_candidate_index_alone(
    engine: Engine, connections: Callable[[], Connection], named: bool
) -> None:
    bulk_insert_learners(engine, generate_learners(2000, seed=3), today=date(2026, 1, 5))
    with engine.begin() as connection:
        connection.execute(text("ANALYZE learners" if engine.dialect.name == "postgresql" else "ANALYZE"))
    with engine.connect() as connection:
        some_dates = list(connection.execute(select(learners.c.date_of_birth).limit(3)).scalars())
    names = name_codes("Olivia", "Smith") if named else None
    statement, parameters = _captured_candidate_query(engine, connections, some_dates, names)
    assert ("code_given" in statement) is named

    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        plan = "\n".join(str(row[-1]) for row in connection.exec_driver_sql(explain + statement, parameters))  # type: ignore[arg-type]  # as the driver was given them

    print(f"{engine.dialect.name} plan:\n{plan}")
    if engine.dialect.name == "sqlite":
        assert "USING COVERING INDEX ix_learners_candidates" in plan  # never the table
    else:
        assert "ix_learners_candidates" in plan
        assert "Index Scan" in plan or "Bitmap Index Scan" in plan or "Index Only Scan" in plan
        assert "Seq Scan" not in plan


def test_get_fills_linked_ulns_for_a_master_and_master_uln_for_a_retired(connections: Callable[[], Connection]) -> None:
    master, retired_one, retired_two = valid_ulns(3)
    add_all(connections, *(simple_learner(uln, BORN) for uln in (master, retired_one, retired_two)))
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        repository.merge(master, retired_two, date(2026, 3, 1))
        repository.merge(master, retired_one, date(2026, 3, 1))
        conn.commit()

    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        loaded_master = repository.get(master)
        loaded_retired = repository.get(retired_one)
        many = repository.get_many([master])

    assert loaded_master is not None and loaded_retired is not None
    assert loaded_master.linked_ulns == sorted([retired_one, retired_two])
    assert many[0].linked_ulns == loaded_master.linked_ulns
    assert loaded_master.version_number == 3  # one bump per merge
    assert loaded_master.last_updated_date == date(2026, 3, 1)
    assert loaded_retired.is_retired and loaded_retired.master_uln == master
    assert loaded_retired.version_number == 2
    assert loaded_retired.linked_ulns == []


def test_merge_repoints_learners_retired_into_the_retired_one(connections: Callable[[], Connection]) -> None:
    old_master, new_master, earlier_retired = valid_ulns(3)
    add_all(connections, *(simple_learner(uln, BORN) for uln in (old_master, new_master, earlier_retired)))
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        repository.merge(old_master, earlier_retired, date(2026, 3, 1))
        repository.merge(new_master, old_master, date(2026, 4, 1))
        conn.commit()

    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        assert repository.get(new_master).linked_ulns == sorted([old_master, earlier_retired])  # type: ignore[union-attr]  # stored above
        assert repository.get(old_master).linked_ulns == []  # type: ignore[union-attr]  # stored above
        assert repository.get(earlier_retired).master_uln == new_master  # type: ignore[union-attr]  # stored above
        assert repository.get(earlier_retired).last_updated_date == date(2026, 4, 1)  # type: ignore[union-attr]  # stored above


@pytest.mark.parametrize(
    "case, message",
    [
        ("same", "into itself"),
        ("unknown master", "unknown ULN"),
        ("unknown retired", "unknown ULN"),
        ("retired master", "is itself retired"),
        ("already retired", "already retired"),
    ],
)
def test_merge_refuses_what_makes_no_sense(connections: Callable[[], Connection], case: str, message: str) -> None:
    a, b, c, unknown = valid_ulns(4)
    add_all(connections, *(simple_learner(uln, BORN) for uln in (a, b, c)))
    with connections() as conn:
        SqlLearnerRepository(conn).merge(a, b, date(2026, 3, 1))  # b is now retired into a
        conn.commit()
    master, retired = {
        "same": (c, c),
        "unknown master": (unknown, c),
        "unknown retired": (c, unknown),
        "retired master": (b, c),
        "already retired": (c, b),
    }[case]

    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        before = [repository.get(uln) for uln in (a, b, c)]
        with pytest.raises(ValueError, match=message):
            repository.merge(master, retired, date(2026, 4, 1))
        conn.rollback()
        assert [repository.get(uln) for uln in (a, b, c)] == before


def test_learner_copy_round_trips_through_the_repository(connections: Callable[[], Connection]) -> None:
    """Dataclass equality covers every field, linked_ulns included."""
    (uln,) = valid_ulns(1)
    learner = full_learner(uln)
    add_all(connections, learner.copy())
    with connections() as conn:
        assert dataclasses.asdict(SqlLearnerRepository(conn).get(uln)) == dataclasses.asdict(learner)  # type: ignore[arg-type]  # stored above


def test_remembered_candidates_follow_this_repositorys_own_writes(connections: Callable[[], Connection]) -> None:
    """A batch job reads each date's candidates once; what it adds or changes is seen at once."""
    first, second, third = valid_ulns(3)
    other_day = BORN + timedelta(days=3)
    add_all(connections, simple_learner(first, BORN, given_name="Ann"))
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        repository.remember_candidates()
        assert [c.uln for c in repository.candidates_born_on([BORN])] == [first]
        repository.add(simple_learner(second, BORN, given_name="Bea"))
        assert sorted(c.uln for c in repository.candidates_born_on([BORN])) == sorted([first, second])
        moved = repository.get(first)
        moved.date_of_birth = other_day
        assert repository.update(moved, expected_version=moved.version_number)
        assert [c.uln for c in repository.candidates_born_on([BORN])] == [second]
        assert [c.uln for c in repository.candidates_born_on([other_day])] == [first]
        renamed = repository.get(second)
        renamed.given_name = "Beatrice"
        assert repository.update(renamed, expected_version=renamed.version_number)
        assert [c.given_name for c in repository.candidates_born_on([BORN])] == ["Beatrice"]
        if repository.remembered_may_be_stale():
            # PostgreSQL: another writer commits meanwhile; memory misses it, `fresh` sees it.
            with connections() as other:
                SqlLearnerRepository(other).add(simple_learner(third, BORN, given_name="Cai"))
                other.commit()
            assert third not in {c.uln for c in repository.candidates_born_on([BORN])}
            assert third in {c.uln for c in repository.candidates_born_on([BORN], fresh=True)}
        # SQLite: remembering took the write lock, so no other writer can commit meanwhile.
        conn.rollback()


def test_searches_read_at_once_are_what_each_search_reads_and_follow_own_writes(
    engine: Engine, connections: Callable[[], Connection]
) -> None:
    """A batch job reads its chunk's searches in one statement: each then gives the learners its
    own named read gives (days and their swaps, names as held, swapped, mistyped), and what this
    repository adds or renames afterwards is seen as that read would see it."""
    days = [date(2009, 3, 4), date(2009, 4, 3), date(2010, 7, 7)]
    rng = random.Random(3)
    rows = [dict(row, date_of_birth=rng.choice(days)) for row in generate_learners(600, seed=8)]
    bulk_insert_learners(engine, rows, today=date(2026, 1, 5))
    searches = []
    searches_of = rng.sample(rows, 40)
    for row in searches_of:
        for given, family in _variants(row["given_name"], row["family_name"], rng)[:4]:
            searches.append((candidate_birth_dates(row["date_of_birth"]), name_codes(given, family)))
    with connections() as conn:
        plain = SqlLearnerRepository(conn)
        expected = [plain.candidates_born_on(dates, names=names) for dates, names in searches]
    with connections() as conn:
        repository = SqlLearnerRepository(conn)
        repository.remember_candidates(searches)
        statements: list[str] = []
        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        assert [repository.candidates_born_on(dates, names=names) for dates, names in searches] == expected
        assert statements == []  # all from memory
        (first,) = valid_ulns(1)
        held = searches_of[0]  # the first search is of a learner's names as held
        dates, names = searches[0]
        repository.add(simple_learner(first, min(dates), given_name=held["given_name"], family_name=held["family_name"]))
        assert first in {c.uln for c in repository.candidates_born_on(dates, names=names)}
        read = repository._read_candidates(sorted(dates), names)  # what the SQL reads now, this transaction's add included
        assert repository.candidates_born_on(dates, names=names) == sorted(read, key=lambda candidate: candidate.uln)
        renamed = repository.get(first)
        renamed.given_name, renamed.family_name = "Quentin", "Xylophone"
        assert repository.update(renamed, expected_version=renamed.version_number)
        assert first not in {c.uln for c in repository.candidates_born_on(dates, names=names)}
        assert [c.uln for c in repository.candidates_born_on(dates, names=name_codes("Quentin", "Xylophone"))] == [first]
        conn.rollback()
