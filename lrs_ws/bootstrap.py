"""The composition root: wires settings, the SQLAlchemy adapters and the SOAP application."""
from __future__ import annotations

from functools import partial

from sqlalchemy.engine import Engine

from lrs_ws.adapters import migrate
from lrs_ws.adapters.unit_of_work import SqlUnitOfWork, make_engine, session_factory
from lrs_ws.config import Settings
from lrs_ws.runtime import Runtime


def open_database(database_url: str, *, upgrade: bool = True) -> Engine:
    """An engine on an up-to-date schema (migrations run first when `upgrade`)."""
    engine = make_engine(database_url)
    if upgrade:
        migrate.upgrade(engine)
    return engine


def unit_of_work_factory(engine: Engine):
    return partial(SqlUnitOfWork, session_factory(engine))


def build_runtime(settings: Settings, engine: Engine | None = None) -> Runtime:
    engine = engine or open_database(settings.database_url)
    return Runtime(settings=settings, unit_of_work=unit_of_work_factory(engine))


def build_app(settings: Settings, engine: Engine | None = None):
    from lrs_ws.soap.app import make_app  # spyne is imported only where SOAP is served

    return make_app(build_runtime(settings, engine))
