"""Commands on the register's records: seed, plr import, org, user, uln, learner."""
from __future__ import annotations

import importlib.util
import random
import secrets
import sys

import click

from lrs_ws.cli.app import database_option, main, open_engine, unit_of_work_for

# --- seed -------------------------------------------------------------------------------------


@main.group()
def seed() -> None:
    """Load data: the demo organisation and scenarios, or synthetic learners."""


@seed.command("demo")
@database_option
def seed_demo_command(database_url) -> None:
    """Load fixtures/demo.json (organisation 10000001, its users and scenario learners)."""
    from lrs_ws.services.seed import SeedRefused, seed_demo

    try:
        with unit_of_work_for(database_url) as uow:
            summary = seed_demo(uow)
    except SeedRefused as refused:
        raise click.ClickException(str(refused)) from None
    if summary.created:
        click.echo(
            f"Loaded organisation {summary.organisation}: {summary.users} users, {summary.learners} learners, "
            f"{summary.events} learning events."
        )
    else:
        click.echo(f"Demo organisation {summary.organisation} is already there; nothing changed.")


@seed.command("synthetic")
@database_option
@click.option("--learners", "count", required=True, type=click.IntRange(1, 50_000_000), help="How many learners.")
@click.option(
    "--events-per-learner",
    "events_per_learner",
    default=0,
    show_default=True,
    type=click.IntRange(0, 100),
    help="Also add this many learning events (PLR) to each new learner.",
)
@click.option("--seed", "seed_value", default=1, show_default=True, help="Same seed and count, same learners.")
def seed_synthetic(database_url, count, events_per_learner, seed_value) -> None:
    """Add N deterministic synthetic learners (English names, dates, postcodes), never reusing a
    ULN already on the register, and optionally K learning events each."""
    if importlib.util.find_spec("faker") is None:
        raise click.ClickException("seed synthetic needs the name lists of Faker: pip install 'lrs-ws[synthetic]'")
    from tqdm import tqdm

    from lrs_ws.adapters.bulk import (
        existing_ulns,
        seed_synthetic_learners,
        seed_synthetic_learning_events,
    )
    from lrs_ws.clock import SYSTEM_CLOCK
    from lrs_ws.services.seed import demo_ulns

    engine = open_engine(database_url)
    before = existing_ulns(engine) if events_per_learner else set()
    with tqdm(total=count, unit="learner", unit_scale=True, file=sys.stderr) as bar:
        try:
            inserted = seed_synthetic_learners(
                engine, count, seed=seed_value, today=SYSTEM_CLOCK.now().date(), on_progress=bar.update, reserved=demo_ulns()
            )
        except Exception as error:
            raise click.ClickException(f"nothing more was added: {error}") from None
    click.echo(f"Added {inserted} synthetic learners.")
    if not events_per_learner:
        return
    with tqdm(total=inserted * events_per_learner, unit="event", unit_scale=True, file=sys.stderr) as bar:
        try:
            added = seed_synthetic_learning_events(
                engine, exclude=before, per_learner=events_per_learner, seed=seed_value, on_progress=bar.update
            )
        except Exception as error:
            raise click.ClickException(f"no more learning events were added: {error}") from None
        bar.total = bar.n  # young learners get fewer events than asked for
        bar.refresh()
    click.echo(f"Added {added} synthetic learning events.")


# --- PLR --------------------------------------------------------------------------------------


@main.group()
def plr() -> None:
    """Personal Learning Records: learning events."""


@plr.command("import")
@database_option
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
def plr_import(database_url, csv_file) -> None:
    """Import learning events from a CSV file: heading row `ULN` plus LearningEvent wire names
    (any subset, any order). Every row is checked first; a file with a bad row writes nothing
    and exits with status 1, listing each problem (row, field, reason)."""
    from tqdm import tqdm

    from lrs_ws.services.plr_import import ImportRejected, import_events

    try:
        with open(csv_file, newline="", encoding="utf-8-sig") as handle:
            rows = max(sum(1 for _ in handle) - 1, 0)
            handle.seek(0)
            with unit_of_work_for(database_url) as uow, tqdm(
                total=rows, unit="row", unit_scale=True, file=sys.stderr, disable=rows < 1000
            ) as bar:
                summary = import_events(uow, handle, uow.clock.now(), on_progress=bar.update)
    except ImportRejected as rejected:
        raise click.ClickException(str(rejected)) from None
    except UnicodeDecodeError as error:
        raise click.ClickException(f"nothing imported: {csv_file} is not UTF-8 text ({error.reason})") from None
    click.echo(f"Imported {summary.events} learning events for {summary.learners} learners.")



# --- organisations and users ----------------------------------------------------------------


@main.group()
def org() -> None:
    """Organisations (learner registration bodies)."""


@org.command("add")
@database_option
@click.option("--name", required=True, help="Organisation name.")
@click.option("--ukprn", default=None, help="UK provider reference number (8 characters).")
@click.option("--ref", "organisation_ref", default=None, help="LRS organisation reference (6 characters).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help="OrgPassword (16 characters).")
def org_add(database_url, name, ukprn, organisation_ref, password) -> None:
    """Add an organisation; its OrgPassword is stored as a salted hash."""
    from lrs_ws.services import admin

    try:
        with unit_of_work_for(database_url) as uow:
            admin.add_organisation(uow, name=name, ukprn=ukprn, organisation_ref=organisation_ref, password=password)
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added organisation {name} ({ukprn or organisation_ref}).")


@main.group()
def user() -> None:
    """Users of an organisation, with roles."""


@user.command("add")
@database_option
@click.option("--org", "organisation", required=True, help="The organisation's UKPRN or OrganisationRef.")
@click.option("--username", required=True, help="UserName as sent in requests (1-35 characters).")
@click.option(
    "--roles",
    required=True,
    help="Comma-separated: online_user, view_only, batch_user, super_user, learner_record.",
)
def user_add(database_url, organisation, username, roles) -> None:
    """Add a user with roles (roles combine)."""
    from lrs_ws.domain.roles import parse_roles
    from lrs_ws.services import admin

    try:
        parsed = parse_roles(roles)
        with unit_of_work_for(database_url) as uow:
            admin.add_user(uow, organisation=organisation, username=username, roles=parsed)
    except (ValueError, admin.AdminError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added user {username} to {organisation} with roles {', '.join(sorted(r.value for r in parsed))}.")


# --- ULNs and learners ---------------------------------------------------------------------------


@main.group()
def uln() -> None:
    """Unique Learner Numbers."""


@uln.command("check")
@click.argument("ulns", nargs=-1, required=True)
def uln_check(ulns) -> None:
    """Check ULNs' format and check digit; exit status 1 if any is invalid."""
    from lrs_ws.domain.uln import is_valid_uln

    bad = 0
    for value in ulns:
        ok = is_valid_uln(value)
        bad += not ok
        click.echo(f"{value}: {'valid' if ok else 'INVALID'}")
    sys.exit(1 if bad else 0)


@uln.command("new")
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--database-url", envvar="LRS_WS_DATABASE_URL", show_envvar=True, default=None, help="Avoid ULNs already in this database.")
def uln_new(count, database_url) -> None:
    """Print new valid random ULNs (not already issued when a database is given)."""
    from lrs_ws.domain.uln import new_uln

    rng: random.Random = secrets.SystemRandom()
    issued: set[str] = set()
    if database_url:
        with unit_of_work_for(database_url) as uow:
            for _ in range(count):
                issued.add(new_uln(rng, lambda u: u in issued or uow.learners.uln_exists(u)))
    else:
        for _ in range(count):
            issued.add(new_uln(rng, issued.__contains__))
    click.echo("\n".join(sorted(issued)))


@main.group()
def learner() -> None:
    """Learner records."""


@learner.command("merge")
@database_option
@click.option("--master", required=True, help="The ULN that stays.")
@click.option("--retired", required=True, help="The ULN retired into the master (never reissued).")
def learner_merge(database_url, master, retired) -> None:
    """Merge two ULNs: finding the retired ULN returns the master (WSRC0022)."""
    from lrs_ws.services import admin

    try:
        with unit_of_work_for(database_url) as uow:
            admin.merge_learners(uow, master_uln=master, retired_uln=retired)
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Merged {retired} into {master}.")
