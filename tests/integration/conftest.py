"""A freshly migrated database per test, on SQLite (a temporary file) and on PostgreSQL.

PostgreSQL comes from LRS_WS_TEST_POSTGRES_URL (default: the local test server); each test gets
its own schema, dropped afterwards. When the server is unreachable the PostgreSQL cases are
skipped, except under CI=true where they fail: CI must not pass without PostgreSQL.
"""
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

# The checkout on sys.path first (if pytest has not put it there), so the imports from it follow (E402).
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from lrs_ws.adapters.engines import connection_factory, make_engine  # noqa: E402
from lrs_ws.adapters.migrate import upgrade  # noqa: E402
from tests.conftest import DEFAULT_POSTGRES_URL, in_ci  # noqa: E402
from tests.integration.batch_support import caller, clock, factory  # noqa: E402, F401 - fixtures of the batch tests


def postgres_url() -> str:
    return os.environ.get("LRS_WS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _postgres_unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"PostgreSQL is required under CI=true: {reason}")
    pytest.skip(f"PostgreSQL not reachable ({reason}); set LRS_WS_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[Engine]:
    engine = make_engine(postgres_url())
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver or network error means "not there"
        engine.dispose()
        _postgres_unavailable(f"{postgres_url()}: {error.__class__.__name__}: {error}".splitlines()[0])
    yield engine
    engine.dispose()


def _sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'lrs-ws-test.sqlite3'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _postgres_engine(admin: Engine) -> Iterator[Engine]:
    schema = f"lrs_ws_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # search_path puts every table, and alembic_version, in the test's own schema.
    engine = make_engine(postgres_url(), connect_args={"options": f"-csearch_path={schema}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield from _sqlite_engine(tmp_path)
    else:
        yield from _postgres_engine(request.getfixturevalue("postgres_admin_engine"))


@pytest.fixture
def connections(engine: Engine) -> Callable[[], Connection]:
    return connection_factory(engine)
