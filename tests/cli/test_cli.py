"""The `lrs-ws` command line, through click's runner on a real database."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from lrs_ws.cli import main
from lrs_ws.domain.uln import is_valid_uln


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("LRS_WS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert "Created the lrs-ws schema" in run("db", "upgrade").output
    return run


def test_help_explains_every_command(cli):
    result = cli("--help")
    for command in ("serve", "db", "seed", "org", "user", "uln", "learner"):
        assert command in result.output
    assert "--public-url" in cli("serve", "--help").output


def test_uln_check_and_new(cli):
    result = cli("uln", "check", "1026893096", "1026893097")
    assert result.exit_code == 1
    assert "1026893096: valid" in result.output and "1026893097: INVALID" in result.output
    new = cli("uln", "new", "--count", "5").output.split()
    assert len(set(new)) == 5 and all(is_valid_uln(u) for u in new)


def test_db_upgrade_and_seed_demo_are_idempotent(cli):
    assert "nothing changed" in cli("db", "upgrade").output
    assert "Loaded organisation 10000001" in cli("seed", "demo").output
    assert "already there" in cli("seed", "demo").output


def test_org_and_user_add_with_clear_errors(cli):
    ok = cli("org", "add", "--name", "Northern College", "--ukprn", "10012345", "--password", "NorthernPass0001")
    assert ok.exit_code == 0, ok.output
    short = cli("org", "add", "--name", "X", "--ukprn", "10054321", "--password", "short")
    assert short.exit_code == 1 and "exactly 16 characters" in short.output
    dup = cli("org", "add", "--name", "Y", "--ukprn", "10012345", "--password", "NorthernPass0001")
    assert dup.exit_code == 1 and "already exists" in dup.output
    user = cli("user", "add", "--org", "10012345", "--username", "jo", "--roles", "online_user,learner_record")
    assert user.exit_code == 0, user.output
    bad_role = cli("user", "add", "--org", "10012345", "--username", "al", "--roles", "king")
    assert bad_role.exit_code == 1 and "unknown role 'king'" in bad_role.output
    no_org = cli("user", "add", "--org", "99999999", "--username", "al", "--roles", "view_only")
    assert no_org.exit_code == 1 and "no organisation" in no_org.output


def test_learner_merge(cli):
    cli("seed", "demo")
    result = cli("learner", "merge", "--master", "9105106906", "--retired", "8032816126")
    assert result.exit_code == 0, result.output
    again = cli("learner", "merge", "--master", "9105106906", "--retired", "8032816126")
    assert again.exit_code == 1
    invalid = cli("learner", "merge", "--master", "9105106906", "--retired", "1234567890")
    assert invalid.exit_code == 1 and "not a valid ULN" in invalid.output


def test_unreachable_database_is_a_message_not_a_traceback(cli):
    result = cli("db", "upgrade", "--database-url", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1
    assert "cannot open database" in result.output and "Traceback" not in result.output
