"""`lrs-ws sandbox`: the sandbox's control API from a terminal, over HTTP (--url, --token).

Each command is one call of the API (lrs_ws.sandbox.api) and prints its answer in lines a
person reads; `requests --follow` polls the journal for what is new.
"""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import click

from lrs_ws.cli.app import main
from lrs_ws.sandbox.client import SandboxClient, SandboxError

url_option = click.option(
    "--url", envvar="LRS_WS_URL", show_envvar=True, default="http://127.0.0.1:8000", show_default=True,
    help="Where lrs-ws serves in sandbox mode.",
)
token_option = click.option(
    "--token", envvar="LRS_WS_SANDBOX_TOKEN", show_envvar=True, required=True,
    help="The sandbox token (the banner of `lrs-ws serve --sandbox` shows a random one).",
)


def call(url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None, **query: Any) -> Any:
    """One request to the API; its JSON answer, or a one-line ClickException."""
    try:
        return SandboxClient(url, token).call(method, path, body, **query)
    except SandboxError as error:
        raise click.ClickException(str(error)) from None


@main.group()
def sandbox() -> None:
    """Sandbox mode's controls, over its HTTP API (`lrs-ws serve --sandbox`)."""


# --- the journal


def _line(entry: dict[str, Any]) -> str:
    problem = f"  {entry['problem']}" if entry.get("problem") else ""
    return (
        f"{entry['id']:>6}  {entry['time'][:19].replace('T', ' ')}  {entry['operation']:<26} {entry.get('user') or '-':<10} "
        f"{entry['outcome']:<9} {entry['duration_ms']:>8.1f} ms{problem}"
    )


@sandbox.command("requests")
@url_option
@token_option
@click.option("--operation", default=None, help="Only this operation (learnerByULN, ...).")
@click.option("--outcome", default=None, help="Only this outcome code (WSRC0001, WSEC0005, ...).")
@click.option("--ukprn", default=None, help="Only requests naming this UKPRN.")
@click.option("--user", default=None, help="Only requests naming this UserName.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--follow", is_flag=True, help="Then print new requests as they come (Ctrl-C to stop).")
@click.option("--xml", is_flag=True, help="Show each request's and response's XML (passwords masked).")
@click.option("--save", "save_to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write each request and response as a file in this folder (ID-OPERATION-request.xml, "
                   "-answer.xml), for `lrs-ws check`.")
def requests_command(url, token, operation, outcome, ukprn, user, limit, follow, xml, save_to) -> None:
    """The newest requests: time, operation, user, outcome, time taken, and the problem in words."""
    if save_to is not None:
        try:
            save_to.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise click.ClickException(f"cannot make {save_to}: {error.strerror or error}") from None
    filters = {"operation": operation, "outcome": outcome, "ukprn": ukprn, "user": user}
    entries = call(url, token, "GET", "/requests", limit=limit, **filters)["requests"]
    newest = 0
    for entry in reversed(entries):
        _show(entry, xml, save_to)
        newest = max(newest, entry["id"])
    while follow:
        time.sleep(1)
        new = call(url, token, "GET", "/requests", limit=1000, since_id=newest, **filters)["requests"]
        for entry in reversed(new):
            _show(entry, xml, save_to)
            newest = max(newest, entry["id"])


def _show(entry: dict[str, Any], xml: bool, save_to: Path | None) -> None:
    click.echo(_line(entry))
    for miss in entry.get("near_misses") or []:
        click.echo(f"        near miss {miss['uln']}: {'; '.join(miss['differences']) or 'all five agree'}")
    if xml:
        click.echo(f"    request:  {entry['request']}\n    response: {entry['response']}")
    if save_to is not None:
        stem = save_to / f"{entry['id']:06d}-{re.sub(r'[^A-Za-z0-9]+', '_', entry['operation'])}"
        try:
            Path(f"{stem}-request.xml").write_text(entry["request"], encoding="utf-8")
            if entry["response"]:  # none when a fault dropped the call or answered a bare status
                Path(f"{stem}-answer.xml").write_text(entry["response"], encoding="utf-8")
        except OSError as error:
            raise click.ClickException(f"cannot write to {save_to}: {error.strerror or error}") from None


@sandbox.command("reset")
@url_option
@token_option
def reset(url, token) -> None:
    """Put the register back to its baseline (the journal, faults and clock too)."""
    rows = call(url, token, "POST", "/reset", {})["rows"]
    click.echo(f"Reset: the register is back to its baseline ({rows:,} rows).")


@sandbox.command("baseline")
@url_option
@token_option
def baseline(url, token) -> None:
    """Make the register as it is now what `reset` puts back."""
    rows = call(url, token, "POST", "/baseline", {})["rows"]
    click.echo(f"Baseline marked: {rows:,} rows.")


# --- organisations


@sandbox.group("org")
def org() -> None:
    """Organisations of their own, for test suites run side by side."""


@org.command("new")
@url_option
@token_option
@click.option("--name", default=None, help="Its name (default: made from its UKPRN).")
def org_new(url, token, name) -> None:
    """A new organisation with the demo's users: UKPRN, OrganisationRef and password."""
    made = call(url, token, "POST", "/organisations", {} if name is None else {"name": name})
    click.echo(f"UKPRN {made['ukprn']}  OrganisationRef {made['org_ref']}  OrgPassword {made['password']}")
    for user in made["users"]:
        click.echo(f"  user {user['name']}: {', '.join(user['roles'])}")


# --- faults


@sandbox.group("fault")
def fault() -> None:
    """Planted faults on real operations."""


@fault.command("add")
@url_option
@token_option
@click.option("--operation", required=True, help="An operation name (learnerByULN, ...) or * for every one.")
@click.option("--kind", required=True, type=click.Choice(["delay", "fault", "http", "drop"]))
@click.option("--ukprn", default=None, help="Only for this organisation's calls.")
@click.option("--seconds", type=float, default=None, help="delay: how long.")
@click.option("--code", default=None, help="fault: the fault's ErrorCode (default WSEC0999).")
@click.option("--status", type=int, default=None, help="http: the status (e.g. 503).")
@click.option("--times", type=click.IntRange(1), default=1, show_default=True, help="How many calls it answers.")
@click.option("--forever", is_flag=True, help="Until removed (instead of --times).")
@click.option("--probability", type=click.FloatRange(0, 1), default=1.0, show_default=True)
def fault_add(url, token, operation, kind, ukprn, seconds, code, status, times, forever, probability) -> None:
    """Plant a fault: the next calls of OPERATION (of UKPRN) are delayed, faulted, answered a bare
    HTTP status, or dropped."""
    body = {"operation": operation, "kind": kind, "times": None if forever else times, "probability": probability}
    for name, value in (("ukprn", ukprn), ("seconds", seconds), ("code", code), ("status", status)):
        if value is not None:
            body[name] = value
    click.echo(f"Planted fault {call(url, token, 'POST', '/faults', body)['id']}.")


@fault.command("list")
@url_option
@token_option
def fault_list(url, token) -> None:
    """The planted faults and the firings they have left."""
    faults = call(url, token, "GET", "/faults")["faults"]
    if not faults:
        click.echo("No planted faults.")
    for one in faults:
        what = {"delay": f"{one['seconds']} s", "fault": one["code"], "http": one["status"], "drop": ""}[one["kind"]]
        left = "until removed" if one["times"] is None else f"{one['times']} left"
        click.echo(f"{one['id']:>4}  {one['operation']:<26} {one['ukprn'] or 'any':<8}  {one['kind']} {what}  {left}"
                   f"  p={one['probability']:g}")


@fault.command("clear")
@url_option
@token_option
@click.argument("fault_id", required=False, type=click.IntRange(1))
def fault_clear(url, token, fault_id) -> None:
    """Remove one planted fault (FAULT_ID), or all of them."""
    call(url, token, "DELETE", "/faults" if fault_id is None else f"/faults/{fault_id}")
    click.echo("Removed every planted fault." if fault_id is None else f"Removed fault {fault_id}.")


# --- the clock


@sandbox.group("clock")
def clock() -> None:
    """The sandbox's clock, which every process tells."""


@clock.command("set")
@url_option
@token_option
@click.argument("now")
@click.option("--frozen", is_flag=True, help="Time stands still (else it runs on from NOW).")
def clock_set(url, token, now, frozen) -> None:
    """Set the time to NOW (ISO 8601: 2027-09-01T09:00, UK time unless it says its zone)."""
    said = call(url, token, "PUT", "/clock", {"now": now, "frozen": frozen})
    click.echo(f"The sandbox's time is {said['now']}{' (frozen)' if said['frozen'] else ''}.")


@clock.command("clear")
@url_option
@token_option
def clock_clear(url, token) -> None:
    """Back to the host's time."""
    said = call(url, token, "DELETE", "/clock")
    click.echo(f"The sandbox's time is the host's again: {said['now']}.")


# --- jobs


@sandbox.group("jobs")
def jobs() -> None:
    """Batch jobs."""


@jobs.command("run")
@url_option
@token_option
def jobs_run(url, token) -> None:
    """Run every queued batch job now, and say how each ended."""
    ran = call(url, token, "POST", "/jobs/run", {})["jobs"]
    click.echo("\n".join(f"job {job['job_id']}: {job['status']}" for job in ran) or "No job was waiting.")
