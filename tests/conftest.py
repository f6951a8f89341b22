"""Shared fixtures: a migrated database with the demo data, the WSGI app, zeep clients.

The database is SQLite in a temporary folder, or the server named by LRS_WS_TEST_DATABASE_URL
(CI runs the suite once on each).
"""
from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from lrs_ws.adapters.engines import normalise_url
from lrs_ws.adapters.orm import Base
from lrs_ws.bootstrap import prepare_database, unit_of_work_factory
from lrs_ws.clock import UK
from lrs_ws.config import Settings
from lrs_ws.runtime import Runtime
from lrs_ws.services.seed import load_demo_file, seed_demo

ROOT = Path(__file__).resolve().parents[1]
DEMO = load_demo_file()
PUBLIC_URL = "http://lrs.test"
DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"  # the machine's test server
BINDING = "{http://tempuri.org/}BasicHttpBinding_LearnerPortType"
LEARNER_SERVICE = f"{PUBLIC_URL}/LearnerService.svc"
BINDING_R9 = "{http://tempuri.org/}BasicHttpBinding_ILearnerServiceR9"
LEARNER_SERVICE_R9 = f"{PUBLIC_URL}/LearnerServiceR9.svc"


def in_ci() -> bool:
    """CI must not pass without PostgreSQL: there, an unreachable server fails instead of skipping."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _postgres_database(base_url: str) -> tuple[str, callable]:
    """A fresh database on the PostgreSQL server of `base_url`, and how to drop it."""
    name = f"lrs_ws_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        if in_ci():
            raise
        pytest.skip(f"PostgreSQL at {base_url} is not reachable ({error.__class__.__name__}); set CI=true to fail instead")
    url = base_url.rsplit("/", 1)[0] + "/" + name

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    base = os.environ.get("LRS_WS_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'lrs-ws-test.sqlite3'}"
        return
    url, drop = _postgres_database(base)
    yield url
    drop()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = prepare_database(database_url).engine
    yield engine
    engine.dispose()


class SettableClock:
    """A clock (lrs_ws.clock.Clock) that stands still at `at` until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


TEST_NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UK)


@pytest.fixture
def clock() -> SettableClock:
    """A settable clock: tests move time on (e.g. past the find-before-register window)."""
    return SettableClock(TEST_NOW)


@pytest.fixture
def runtime(engine, clock):
    """A runtime on a database holding exactly the demo data."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    factory = unit_of_work_factory(engine, clock=clock)
    with factory() as uow:
        seed_demo(uow, DEMO)
    settings = Settings(database_url=str(engine.url), public_url=PUBLIC_URL)
    return Runtime(settings=settings, unit_of_work=factory, clock=clock)


@pytest.fixture
def wsgi_app(runtime):
    from lrs_ws.bootstrap import web_app

    return web_app(runtime)


@pytest.fixture
def http(wsgi_app):
    """A requests session that talks to the WSGI app in-process, without sockets."""
    from wsgiadapter import WSGIAdapter

    session = requests.Session()
    session.mount(PUBLIC_URL, WSGIAdapter(wsgi_app))
    return session
