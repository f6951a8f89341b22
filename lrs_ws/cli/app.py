"""The `lrs-ws` command group and what its commands share: one-line errors, opening a database."""
from __future__ import annotations

import sys

import click

from lrs_ws.config import OPTIONS, options
from lrs_ws.services.ports import DatabaseUnavailable

database_option = options("database_url")


class _Commands(click.Group):
    """Errors are one line on standard error (`Error: ...`), never a usage dump or a traceback."""

    def main(self, *args, **kwargs):
        kwargs.setdefault("prog_name", "lrs-ws")
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
            click.echo(f"Error: {error.format_message()}{hint}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"Error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        except DatabaseUnavailable as error:  # down, locked past the busy timeout, file gone
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)


def open_engine(database_url: str):
    """An existing lrs-ws database at the latest schema, or a one-line error naming `db upgrade`."""
    from lrs_ws.bootstrap import DatabaseNotReady, open_database

    try:
        return open_database(database_url)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None


def unit_of_work_for(database_url: str):
    from lrs_ws.bootstrap import unit_of_work_factory

    return unit_of_work_factory(open_engine(database_url))()


ENVIRONMENT_HELP = (
    "Every setting is also an environment variable: "
    + ", ".join(option.envvar for option in OPTIONS.values())
    + ". 'lrs-ws serve --help' explains each; the command line wins over the environment."
)


@click.group(
    cls=_Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog=ENVIRONMENT_HELP,
)
@click.version_option(package_name="lrs-ws")
def main() -> None:
    """lrs-ws: a self-hosted, wire-compatible LRS Learner web service (SOAP)."""
