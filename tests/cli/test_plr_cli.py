"""`lrs-ws plr import` and `seed synthetic --events-per-learner`, through click's runner."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from lrs_ws.cli import main

AMELIA, HARRY_RETIRED, GRACE = "9105106906", "5558175256", "6302822970"
DEMO_EVENTS = 20


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def cli(db_path, monkeypatch):
    monkeypatch.setenv("LRS_WS_DATABASE_URL", f"sqlite:///{db_path}")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    assert run("db", "upgrade").exit_code == 0
    run("seed", "demo")
    return run


def query(db_path: Path, sql: str) -> list[tuple]:
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def write(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_seed_demo_loads_the_demo_learning_events(cli, db_path) -> None:
    assert query(db_path, "select count(*), sum(restriction = '1') from learning_events") == [(DEMO_EVENTS, 1)]
    assert {s for (s,) in query(db_path, "select distinct source from learning_events")} == {"ILR", "NPD", "AO"}


def test_a_good_file_is_imported_with_ids_dates_and_defaults(cli, db_path, tmp_path) -> None:
    path = write(tmp_path, "good.csv", (
        "\ufeffSubject,ULN,Grade,AchievementAwardDate,Credits,Source,ID\n"
        f"GCSE in Geography,{AMELIA},6,2023-08-24,0,NPD,\n"
        f'"Diploma in Plumbing, Level 2",{HARRY_RETIRED},Merit,2022-07-01,37,,\n'
        "\n"
        f"Award in Counselling Skills,{GRACE},Pass,,,AO,5000\n"
    ))
    result = cli("plr", "import", path)
    assert result.exit_code == 0, result.output
    assert "Imported 3 learning events for 3 learners." in result.output
    rows = query(db_path, "select id, uln, subject, source, restriction, credits, achievement_award_date, date_loaded "
                          "from learning_events where id > 1400 order by id")
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in rows] == [
        (5000, GRACE, "AO", "0", None),
        (5001, AMELIA, "NPD", "0", 0),
        (5002, HARRY_RETIRED, "ILR", "0", 37),  # Source defaults to ILR
    ]
    assert rows[2][2] == "Diploma in Plumbing, Level 2" and str(rows[1][6]) == "2023-08-24"
    assert all(r[7] is not None for r in rows)  # DateLoaded assigned


def test_a_bad_file_names_every_bad_row_and_writes_nothing(cli, db_path, tmp_path) -> None:
    path = write(tmp_path, "bad.csv", (
        "ULN,ID,AchievementAwardDate,DateLoaded,Credits,Restriction,Subject\n"
        f"{AMELIA},,2023-08-24,2023-10-12 09:14:31,0,0,Fine row\n"
        "9105106907,,2023-02-30,2023-10-12,-1,2,Bad row\n"
        f"1026893096,,,,,,Unknown learner\n"
        f"{AMELIA},1001,,,,,ID already stored\n"
        f"{AMELIA},77,,,,,first 77\n"
        f"{AMELIA},77,,,,,second 77\n"
        f"{AMELIA},,,,,\n"
        f",,,,,,no ULN\n"
        f"{AMELIA},,,,,,{'x' * 256}\n"
    ))
    result = cli("plr", "import", path)
    assert result.exit_code == 1
    out = result.output
    for expected in (
        "row 3, ULN: '9105106907' is not a valid ULN",
        "row 3, AchievementAwardDate: '2023-02-30' is not a real date YYYY-MM-DD",
        "row 3, DateLoaded: '2023-10-12' is not a real date and time YYYY-MM-DD HH:MM:SS",
        "row 3, Credits: '-1' is not a non-negative integer",
        "row 3, Restriction: '2' is not 0 (not sensitive) or 1 (sensitive)",
        "row 4, ULN: 1026893096 is not a ULN on the register",
        "row 5, ID: 1001 is already used by a stored learning event",
        "row 7, ID: 77 is also the ID of row 6",
        "row 8: 6 values; the heading has 7 columns",
        "row 9, ULN: missing",
        "row 10, Subject: 256 characters; at most 255",
    ):
        assert expected in out, expected
    assert "row 2" not in out and "Traceback" not in out
    assert query(db_path, "select count(*) from learning_events") == [(DEMO_EVENTS,)]


def test_unknown_columns_are_rejected_before_any_row(cli, db_path, tmp_path) -> None:
    path = write(tmp_path, "heading.csv", f"ULN,Subjekt,Grade,grade\n{AMELIA},x,1,2\n")
    result = cli("plr", "import", path)
    assert result.exit_code == 1
    assert "row 1, Subjekt: unknown column 2 'Subjekt'" in result.output
    assert "row 1, grade: column 'grade' appears twice" in result.output
    no_uln = cli("plr", "import", write(tmp_path, "no-uln.csv", "Subject\nMaths\n"))
    assert no_uln.exit_code == 1 and "the heading row has no ULN column" in no_uln.output
    empty = cli("plr", "import", write(tmp_path, "empty.csv", ""))
    assert empty.exit_code == 1 and "the file is empty" in empty.output
    assert query(db_path, "select count(*) from learning_events") == [(DEMO_EVENTS,)]


def test_a_large_file_shows_progress_on_stderr_and_is_imported(cli, db_path, tmp_path) -> None:
    lines = ["ULN,Subject,QualificationType"] + [f"{AMELIA},Unit {i},Award" for i in range(2500)]
    result = CliRunner().invoke(main, ["plr", "import", write(tmp_path, "big.csv", "\n".join(lines) + "\n")])
    assert result.exit_code == 0, result.output
    assert "2.50k/2.50k" in result.stderr and "Imported 2500 learning events for 1 learners." in result.stdout
    assert query(db_path, "select count(*) from learning_events") == [(DEMO_EVENTS + 2500,)]


def test_seed_synthetic_adds_events_and_a_second_run_does_not_collide(cli, db_path) -> None:
    first = cli("seed", "synthetic", "--learners", "30", "--events-per-learner", "5")
    assert first.exit_code == 0, first.output
    second = cli("seed", "synthetic", "--learners", "30", "--events-per-learner", "5")
    assert second.exit_code == 0, second.output
    assert "Added 30 synthetic learners." in second.output and "synthetic learning events" in second.output
    (learners, events, per_learner_max) = query(db_path, (
        "select (select count(*) from learners), (select count(*) from learning_events), "
        "(select max(n) from (select count(*) n from learning_events where id > 1301 group by uln))"
    ))[0]
    assert learners == 16 + 60 and events > DEMO_EVENTS + 60 and per_learner_max == 5
    plain = cli("seed", "synthetic", "--learners", "5")
    assert plain.exit_code == 0 and "learning events" not in plain.output


def test_help_lists_the_plr_commands(cli) -> None:
    assert "plr" in cli("--help").output
    help_text = cli("plr", "import", "--help").output
    assert "FILE.csv" in help_text and "ULN" in help_text
    assert "--events-per-learner" in cli("seed", "synthetic", "--help").output


def test_a_repeated_id_is_named_even_when_the_first_row_has_another_problem(tmp_path):
    from lrs_ws.services.plr_import import read_events

    lines = ["ULN,ID,AchievementAwardDate\n", "9105106906,7000,2023-02-30\n", "9105106906,7000,2023-02-28\n"]
    events, errors = read_events(lines, datetime(2026, 7, 1, 12, 0))
    assert {(e.row, e.field) for e in errors} == {(2, "AchievementAwardDate"), (3, "ID")}


def test_default_date_loaded_is_uk_wall_clock():
    from zoneinfo import ZoneInfo

    from lrs_ws.adapters.mapping import event_to_row
    from lrs_ws.domain.learning_event import LearningEvent

    summer = datetime(2026, 7, 1, 12, 30, tzinfo=ZoneInfo("Europe/London"))
    row = event_to_row(LearningEvent(uln="9105106906", source="ILR", date_loaded=summer))
    assert row["date_loaded"] == datetime(2026, 7, 1, 12, 30)


def test_assigned_ids_never_pass_the_32_bit_limit(cli, db_path, tmp_path) -> None:
    top = write(tmp_path, "top.csv", f"ULN,ID,Subject\n{AMELIA},2147483647,Top\n")
    assert cli("plr", "import", top).exit_code == 0
    more = write(tmp_path, "more.csv", f"ULN,Subject\n{AMELIA},Next\n")
    result = cli("plr", "import", more)
    assert result.exit_code == 1 and "row 2, ID: no IDs left" in result.output
    assert query(db_path, "select count(*) from learning_events where subject = 'Next'") == [(0,)]
