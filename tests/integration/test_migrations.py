"""The schema comes from the migrations; the ORM tables must describe exactly that schema."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, column, inspect, select, table

from lrs_ws.adapters.bulk import complete_learner_row
from lrs_ws.adapters.engines import make_engine
from lrs_ws.adapters.migrate import current_revision, downgrade, head_revision, upgrade
from lrs_ws.adapters.orm import NAME_CODE_COLUMNS, Base, learners
from lrs_ws.adapters.synthetic import generate_learners
from lrs_ws.domain.matching import name_codes


def test_migrated_schema_matches_the_orm_metadata(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_tables_columns_and_indexes_are_all_there(engine: Engine) -> None:
    inspector = inspect(engine)
    assert set(inspector.get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}
    for defined in Base.metadata.sorted_tables:
        assert [c["name"] for c in inspector.get_columns(defined.name)] == [c.name for c in defined.columns]
        # PostgreSQL also lists the index behind each unique constraint; those are not indexes here.
        indexes = {i["name"] for i in inspector.get_indexes(defined.name) if not i.get("duplicates_constraint")}
        assert indexes == {i.name for i in defined.indexes}
        unique = {u["name"] for u in inspector.get_unique_constraints(defined.name)}
        assert unique == {c.name for c in defined.constraints if c.__class__.__name__ == "UniqueConstraint"}
    candidates = next(i for i in inspector.get_indexes("learners") if i["name"] == "ix_learners_candidates")
    assert candidates["column_names"] == [
        "date_of_birth", "code_given", "code_family", "code_given_mac", "code_given_metaphone", "code_given_nysiis",
        "uln", "given_name", "family_name", "previous_family_name", "gender", "last_known_post_code", "master_uln",
    ]


def test_database_is_at_head_and_upgrading_again_changes_nothing(engine: Engine) -> None:
    assert current_revision(engine) == head_revision() == "0010"
    upgrade(engine)
    assert current_revision(engine) == "0010"


def test_upgrade_from_a_url_then_downgrade_to_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        assert current_revision(engine) == "0010"
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert inspect(engine).get_table_names() == ["alembic_version"]
    finally:
        engine.dispose()


def test_a_new_database_has_no_revision(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    try:
        assert current_revision(engine) is None
    finally:
        engine.dispose()


def test_0002_adds_learning_events_and_downgrades_to_0001(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.sqlite3'}")
    try:
        upgrade(engine, "0001")
        assert "learning_events" not in inspect(engine).get_table_names()
        upgrade(engine, "0002")
        assert "learning_events" in inspect(engine).get_table_names()
        assert [i["name"] for i in inspect(engine).get_indexes("learning_events")] == ["ix_learning_events_uln"]
        downgrade(engine, "0001")
        assert current_revision(engine) == "0001"
        assert "learning_events" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_0003_adds_the_sign_in_backoff_and_the_audit_address(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.sqlite3'}")
    try:
        upgrade(engine, "0002")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO audit_events (at, operation, outcome) VALUES ('2026-01-01 00:00:00', 'learnerByULN', 'WSRC0004')"
            )
        upgrade(engine)
        assert "sign_in_failures" in inspect(engine).get_table_names()
        with engine.connect() as connection:  # the rows before 0003 are kept, with no address
            assert connection.exec_driver_sql("SELECT operation, address FROM audit_events").all() == [("learnerByULN", None)]
        downgrade(engine, "0002")
        assert "sign_in_failures" not in inspect(engine).get_table_names()
        assert "address" not in {c["name"] for c in inspect(engine).get_columns("audit_events")}
    finally:
        engine.dispose()


def test_0007_gives_existing_learners_their_name_codes_and_downgrades_to_0006(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'steps.sqlite3'}")
    try:
        upgrade(engine, "0006")
        rows = [
            {k: v for k, v in complete_learner_row(row, date(2026, 1, 1)).items() if not k.startswith("code_")}
            for row in generate_learners(50, seed=7)
        ]
        rows[0]["given_name"] = "'"  # no letters: no phonetic codes
        with engine.begin() as connection:
            connection.execute(table("learners", *(column(name) for name in rows[0])).insert(), rows)
        upgrade(engine)
        with engine.connect() as connection:
            stored = connection.execute(
                select(learners.c.uln, learners.c.given_name, learners.c.family_name, *(learners.c[n] for n in NAME_CODE_COLUMNS))
            ).all()
        assert len(stored) == 50
        for uln, given, family, *codes in stored:
            assert tuple(codes) == name_codes(given, family), uln
        assert stored[[r.uln for r in stored].index(rows[0]["uln"])][-2:] == (None, None)
        downgrade(engine, "0006")
        assert not {c["name"] for c in inspect(engine).get_columns("learners")} & set(NAME_CODE_COLUMNS)
        index = next(i for i in inspect(engine).get_indexes("learners") if i["name"] == "ix_learners_candidates")
        assert index["column_names"][:2] == ["date_of_birth", "uln"]
    finally:
        engine.dispose()
