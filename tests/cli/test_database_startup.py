"""Who may create and migrate the schema, and what the others say: through click's runner."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from lrs_ws.adapters.migrate import head_revision, upgrade
from lrs_ws.cli import main
from lrs_ws.services.seed import demo_ulns, load_demo_file


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "command",
    [
        ("org", "add", "--name", "X", "--ukprn", "10012345", "--password", "NorthernPass0001"),
        ("user", "add", "--org", "10012345", "--username", "jo", "--roles", "view_only"),
        ("learner", "merge", "--master", "9105106906", "--retired", "8032816126"),
        ("seed", "demo"),
        ("seed", "synthetic", "--learners", "3"),
        ("uln", "new", "--count", "2"),
    ],
)
def test_admin_commands_never_create_a_database(run, tmp_path, command) -> None:
    typo = tmp_path / "lrs-sw.sqlite3"
    result = run(*command, "--database-url", url(typo))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: there is no database file") and "lrs-ws db upgrade" in lines[0]
    assert not typo.exists()


def test_admin_commands_refuse_an_old_or_foreign_schema(run, tmp_path) -> None:
    old = tmp_path / "old.sqlite3"
    upgrade(url(old), "0002")
    result = run("seed", "demo", "--database-url", url(old))
    assert result.exit_code == 1 and f"has schema revision 0002, not {head_revision()}: run `lrs-ws db upgrade" in result.output
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    assert "holds tables (invoices) but no lrs-ws schema" in run("seed", "demo", "--database-url", url(foreign)).output


def test_db_upgrade_says_what_it_did(run, tmp_path) -> None:
    path = tmp_path / "lrs.sqlite3"
    assert run("db", "upgrade", "--database-url", url(path)).output.startswith(
        f"Created the lrs-ws schema (revision {head_revision()}) in a new database file {path}"
    )
    assert (
        f"is at the latest schema revision {head_revision()}; nothing changed"
        in run("db", "upgrade", "--database-url", url(path)).output
    )
    old = tmp_path / "old.sqlite3"
    upgrade(url(old), "0002")
    assert (
        f"Upgraded sqlite:///{old} from schema revision 0002 to {head_revision()}."
        in run("db", "upgrade", "--database-url", url(old)).output
    )


def test_db_upgrade_refuses_a_database_of_something_else(run, tmp_path) -> None:
    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(foreign) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    result = run("db", "upgrade", "--database-url", url(foreign))
    assert result.exit_code == 1 and "holds tables (invoices) but no lrs-ws schema" in result.output
    with sqlite3.connect(foreign) as connection:
        assert [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")] == ["invoices"]


def test_demo_data_loads_after_synthetic_learners_and_events(run, tmp_path) -> None:
    database = url(tmp_path / "lrs.sqlite3")
    run("db", "upgrade", "--database-url", database)
    synthetic = run("seed", "synthetic", "--learners", "1000", "--events-per-learner", "3", "--database-url", database)
    assert synthetic.exit_code == 0, synthetic.output
    demo = run("seed", "demo", "--database-url", database)
    assert demo.exit_code == 0 and "Loaded organisation 10000001" in demo.output, demo.output
    demo = ",".join(f"'{uln}'" for uln in demo_ulns())
    with sqlite3.connect(tmp_path / "lrs.sqlite3") as connection:
        demo_ids = [row[0] for row in connection.execute(f"SELECT id FROM learning_events WHERE uln IN ({demo})")]
        synthetic_top = connection.execute(f"SELECT max(id) FROM learning_events WHERE uln NOT IN ({demo})").fetchone()[0]
    # The demo events are all there, numbered above the synthetic ones (whose IDs they would have hit).
    assert len(demo_ids) == len(load_demo_file()["learning_events"]) and synthetic_top > 1020
    assert min(demo_ids) > synthetic_top


def test_demo_data_is_refused_when_its_ulns_are_taken(run, tmp_path) -> None:
    path = tmp_path / "lrs.sqlite3"
    run("db", "upgrade", "--database-url", url(path))
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO learners (uln, given_name, family_name, last_known_post_code, date_of_birth, gender, "
            "verification_type, ability_to_share, created_date, last_updated_date, version_number, learner_status, tier_level) "
            "VALUES ('9105106906', 'Someone', 'Else', 'B1 1AA', '2000-01-01', '1', '0', '1', '2026-01-01', '2026-01-01', 1, '1', '0')"
        )
    result = run("seed", "demo", "--database-url", url(path))
    assert result.exit_code == 1
    assert result.output.strip() == "Error: cannot load the demo data: other learners already have the demo ULNs 9105106906"
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM organisations").fetchone() == (0,)
