"""`lrs-ws check`: messages and LRB files, as the server holds them (lrs_ws.check)."""
from __future__ import annotations

import sys
from datetime import date

import click

from lrs_ws.cli.app import main


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True), metavar="PATH...")
@click.option("--junit", "junit_file", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write a JUnit XML report here (a test case a file, a failure a problem).")
@click.option("--format", "output", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="The date the age rules count from (default: today, UK time).")
def check(paths, junit_file, output, today) -> None:
    """Check SOAP messages (*.xml: an envelope or a bare message, a request or an answer, of
    either service) and LRB files as the server does: the same schemas, and a request's values
    held to the rules the server applies before it looks at the register. One line a problem
    (FILE:LINE: Path/To/Field: reason), then a summary; exit status 1 when any file fails."""
    from lrs_ws.check import check_paths, reports
    from lrs_ws.clock import SYSTEM_CLOCK

    day: date = today.date() if today is not None else SYSTEM_CLOCK.now().date()
    if junit_file:  # a report that cannot be written is a usage error, found before the work
        try:
            with open(junit_file, "ab"):
                pass
        except OSError as error:
            raise click.UsageError(f"cannot write the report {junit_file}: {error.strerror or error}") from None
    results = check_paths(paths, day)
    if not results:
        raise click.UsageError("no *.xml or LRB files in the paths given")
    click.echo(reports.as_json(results) if output == "json" else reports.text(results))
    if junit_file:
        report_bytes = reports.junit(results)
        try:
            with open(junit_file, "wb") as report:
                report.write(report_bytes)
        except OSError as error:
            raise click.ClickException(f"cannot write {junit_file}: {error.strerror or error}") from None
    sys.exit(0 if all(result.passed for result in results) else 1)
