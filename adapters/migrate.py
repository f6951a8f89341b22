"""Run the Alembic migrations from code: users never need an alembic.ini."""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from lrs_ws.adapters.engines import make_engine, normalise_url

# Alembic resolves "package:directory" through importlib.resources; both name the same folder.
SCRIPT_LOCATION = "lrs_ws.adapters:migrations"
MIGRATIONS_PATH = Path(str(resources.files("lrs_ws.adapters") / "migrations"))


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if url is not None:
        # ConfigParser interpolation treats % specially (URL-encoded passwords).
        config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (the newest by default)."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def downgrade(url_or_engine: str | Engine, revision: str) -> None:
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_up_to_date(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its lrs-ws schema revision, and the other tables it holds."""

    revision: str | None  # None: never migrated by lrs-ws
    head: str | None
    other_tables: tuple[str, ...]  # tables besides ours when `revision` is None

    @property
    def current(self) -> bool:
        return self.revision is not None and self.revision == self.head


def schema_state(engine: Engine) -> SchemaState:
    with engine.connect() as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        tables = () if revision is not None else tuple(sorted(inspect(connection).get_table_names()))
    return SchemaState(revision=revision, head=head_revision(), other_tables=tables)
