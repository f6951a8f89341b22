"""The `lrs-ws` command line. Every setting is also an LRS_WS_* environment variable (lrs_ws.config)."""
from __future__ import annotations

import importlib.util
import random
import secrets
import sys

import click

from lrs_ws.config import OPTIONS, SERVE_OPTIONS, Settings, options
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


def _engine(database_url: str):
    """An existing lrs-ws database at the latest schema, or a one-line error naming `db upgrade`."""
    from lrs_ws.bootstrap import DatabaseNotReady, open_database

    try:
        return open_database(database_url)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None


def _uow(database_url: str):
    from lrs_ws.bootstrap import unit_of_work_factory

    return unit_of_work_factory(_engine(database_url))()


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


# --- serve -----------------------------------------------------------------------------------


@main.command()
@options("database_url", *SERVE_OPTIONS)
def serve(**values) -> None:
    """Run the SOAP service. Before the workers start: create or upgrade the schema, load the
    demo data into a new database, then print the endpoints and the demo credentials."""
    from lrs_ws.adapters.engines import redacted
    from lrs_ws.bootstrap import DatabaseNotReady, prepare_for_serving
    from lrs_ws.server import ServerError, ServerOptions, configure_logging, listen, run
    from lrs_ws.services.seed import load_demo_file

    server = ServerOptions.from_options(values)
    try:
        server.check_tls()
        server.check_access_log()
        listener = listen(server.host, server.port)
    except ServerError as error:
        raise click.ClickException(str(error)) from None
    port = listener.getsockname()[1]
    host = f"[{server.host}]" if ":" in server.host else server.host
    public_url = values["public_url"] or f"{'https' if server.tls else 'http'}://{host}:{port}"
    if server.host in ("0.0.0.0", "::", "") and not values["public_url"]:
        click.echo(
            f"Warning: listening on every interface without --public-url: the WSDLs name {public_url}, "
            "which clients elsewhere cannot reach. Set --public-url to the address they use.",
            err=True,
        )
    settings = Settings.from_options({**values, "public_url": public_url})
    database_url = settings.database_url
    try:
        said, database_file = prepare_for_serving(database_url, demo=not values["no_demo"])
    except DatabaseNotReady as error:
        listener.close()
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(said))
    demo = load_demo_file()
    click.echo(f"lrs-ws on {redacted(database_url)}")
    click.echo(f"  Learner Register:  {settings.endpoint('/LearnerService.svc')}")
    click.echo(f"  WSDL:              {settings.endpoint('/LearnerService.svc')}?singlewsdl")
    click.echo(f"  PLR (R9):          {settings.endpoint('/LearnerServiceR9.svc')}")
    click.echo(f"  WSDL:              {settings.endpoint('/LearnerServiceR9.svc')}?singlewsdl")
    click.echo(f"  Health:            {settings.endpoint('/health')}")
    org = demo["organisation"]
    users = ", ".join(f"{u['username']} ({'+'.join(u['roles'])})" for u in demo["users"])
    click.echo(f"  Demo credentials:  UKPRN {org['ukprn']}, OrgPassword {org['password']}, UserName one of: {users}")
    sys.stdout.flush()  # before gunicorn takes over the process

    batch_worker = None
    if not values["no_worker"]:
        from lrs_ws.worker import ServedBatchWorker, worker_arguments

        batch_worker = ServedBatchWorker(worker_arguments(settings, server.log_level), settings.database_url)

    def app_factory():
        from lrs_ws.bootstrap import build_server_app

        return build_server_app(
            settings, server, database_file=database_file, batch_worker=None if batch_worker is None else batch_worker.served
        )

    if batch_worker is not None:
        configure_logging(server.log_level)  # what serve itself says of its batch worker
        batch_worker.start()
    try:
        run(app_factory, listener, server, batch_worker.check if batch_worker is not None else None)
    finally:
        if batch_worker is not None:
            batch_worker.stop()


# --- worker -----------------------------------------------------------------------------------


@main.command()
@options("database_url", "possible_match_limit", "prohibited_words", "batch_retention_days", "batch_chunk", "log_level")
@click.option("--until-idle", is_flag=True, help="Exit once no job is waiting (scripts, tests).")
@click.option("--supervise", is_flag=True, help="Keep a worker running: start it again whenever it ends (what serve does).")
def worker(until_idle: bool, supervise: bool, **values) -> None:
    """Run batch jobs (submitBatchRegistration, LRB files) until stopped (SIGTERM or Ctrl-C: after
    the current chunk of learners). Several may run at once on PostgreSQL."""
    import os
    import threading

    from lrs_ws.bootstrap import DatabaseNotReady, build_runtime, open_database
    from lrs_ws.server import configure_logging
    from lrs_ws.startup import READY_FD_ENV, cannot_start, tell_supervisor
    from lrs_ws.worker import (
        WORKER_NAME_ENV,
        StatusBoard,
        stop_on_signals,
        worker_arguments,
        worker_name,
    )
    from lrs_ws.worker import run as run_worker

    settings = Settings.from_options(values)
    if supervise:  # its workers check the database; it only starts them and says how they are
        from lrs_ws.worker import supervise as keep_running

        configure_logging(values["log_level"])
        name = os.environ.pop(WORKER_NAME_ENV, None) or worker_name()
        board = StatusBoard(build_runtime(settings).unit_of_work, name, supervised=True)
        arguments = worker_arguments(settings, values["log_level"]) + (["--until-idle"] if until_idle else [])
        keep_running(arguments, board, settings.database_url)
        return
    supervised = READY_FD_ENV in os.environ  # started by a supervisor, which reports for it
    try:
        open_database(settings.database_url).dispose()  # the schema must be there and current
    except DatabaseNotReady as error:
        if supervised:
            cannot_start(str(error))
        raise click.ClickException(str(error)) from None
    configure_logging(values["log_level"])
    runtime = build_runtime(settings)
    stop = threading.Event()
    stop_on_signals(stop)
    tell_supervisor("ready")
    own_report = None if supervised else StatusBoard(runtime.unit_of_work, worker_name(), supervised=False)
    run_worker(runtime, stop=stop, until_idle=until_idle, board=own_report)


# --- db ---------------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@database_option
def db_upgrade(database_url) -> None:
    """Create the schema in a new database, or migrate it to the latest version; says which."""
    from lrs_ws.bootstrap import DatabaseNotReady, prepare_database

    try:
        prepared = prepare_database(database_url)
    except DatabaseNotReady as error:
        raise click.ClickException(str(error)) from None
    prepared.engine.dispose()
    click.echo(prepared.said)


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
        with _uow(database_url) as uow:
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

    engine = _engine(database_url)
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
            with _uow(database_url) as uow, tqdm(
                total=rows, unit="row", unit_scale=True, file=sys.stderr, disable=rows < 1000
            ) as bar:
                summary = import_events(uow, handle, uow.clock.now(), on_progress=bar.update)
    except ImportRejected as rejected:
        raise click.ClickException(str(rejected)) from None
    except UnicodeDecodeError as error:
        raise click.ClickException(f"nothing imported: {csv_file} is not UTF-8 text ({error.reason})") from None
    click.echo(f"Imported {summary.events} learning events for {summary.learners} learners.")


# --- LRB batch files ----------------------------------------------------------------------------


@main.group()
def batch() -> None:
    """LRB batch files: the portal's CSV and XML learner uploads."""


@batch.command("validate")
@click.argument("file", metavar="FILE")
@click.option("--ukprn", default=None, help="Your organisation's UKPRN: the file's name and header must carry it.")
def batch_validate(file, ukprn) -> None:
    """Check an LRB file (LRB_<UKPRN>_<DDMMYYYYHHMM>.CSV or .XML) as the portal does: its name,
    headings, header values and every learner field. Prints one line per problem (row, column,
    reason), then a summary; exit status 1 if there is any problem."""
    from tqdm import tqdm

    from lrs_ws.adapters.lrb.validation import validate
    from lrs_ws.domain.organisation import is_ukprn

    if ukprn is not None and not is_ukprn(ukprn):
        raise click.BadParameter(f"{ukprn!r} is not a UKPRN (8 letters or digits)", param_hint="'--ukprn'")
    try:
        validation = validate(file, ukprn=ukprn)
        show_progress = sys.stderr.isatty() and validation.size >= 1 << 20
        with validation, tqdm(
            total=validation.size, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False, disable=not show_progress
        ) as bar:
            if show_progress:
                validation.progress = lambda done: bar.update(done - bar.n)
            for problem in validation:
                if show_progress:
                    bar.write(str(problem), file=sys.stdout)
                else:
                    click.echo(str(problem))
    except OSError as error:
        raise click.ClickException(f"cannot read {file}: {error.strerror or error}") from None
    click.echo(validation.summary())
    sys.exit(0 if validation.ok else 1)


def _bytes_bar(total: int, description: str):
    """A progress bar on standard error, for files of a megabyte or more, on a terminal only."""
    from tqdm import tqdm

    shown = sys.stderr.isatty() and total >= 1 << 20
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr, leave=False,
                desc=description, disable=not shown)


@batch.command("submit")
@database_option
@click.argument("file", metavar="FILE")
@click.option("--user", "username", required=True, help="A user of the file's organisation with the batch_user role.")
def batch_submit(database_url, file, username) -> None:
    """Check an LRB file, then queue it as one FUL job of the organisation its UKPRN names, and
    print the JobID. A problem with the file itself (name, headings, header, record count)
    refuses it whole and queues nothing; a learner row with a bad field is queued and gets RC011."""
    from lrs_ws.adapters.lrb.reading import open_lrb
    from lrs_ws.domain.batch import JobSource, JobType
    from lrs_ws.services import batch as batches

    try:
        reader = open_lrb(file)
    except OSError as error:
        raise click.ClickException(f"cannot read {file}: {error.strerror or error}") from None
    with reader, _bytes_bar(reader.size, "submit") as bar:
        refused = _refuse_file(reader)
        if refused is None:
            header = reader.header
            # A file without a header, or whose count is not a number, is refused above.
            assert header is not None and header.learner_record_count is not None
            flagged_rows: list[int] = []
            learners = _job_learners(reader, flagged_rows, lambda: bar.update(reader.bytes_read - bar.n))
            try:
                with _uow(database_url) as uow:
                    caller = batches.file_submitter(uow, header.ukprn, username)
                    job_id = batches.submit(
                        uow, caller, JobType.FULL, learners, header.learner_record_count,
                        now=uow.clock.now(), source=JobSource.FILE, file_name=reader.name,
                        file_reference=header.file_name, per_transaction=SUBMIT_PER_TRANSACTION,
                    )
            except batches.BatchError as error:
                raise click.ClickException(str(error)) from None
            except _FileRefused:
                refused = _refuse_file(reader)
    if refused is not None:
        click.echo(refused, err=True)
        sys.exit(1)
    flagged = (
        f"; {len(flagged_rows):,} with field problems will be returned RC011 (see lrs-ws batch validate)"
        if flagged_rows else ""
    )
    click.echo(f"Queued job {job_id}: {reader.learner_rows:,} learners from {reader.name}{flagged}.")


SUBMIT_PER_TRANSACTION = 5000  # learners of a file per transaction: other writers wait a moment only


class _FileRefused(Exception):
    """The file broke a file-level rule only found once it was read to its end."""


def _refuse_file(reader) -> str | None:
    """The file-level problems that refuse a whole file, as lines to print; None when there is none."""
    if not reader.file_problems and not reader.fatal:
        return None
    lines = [str(problem) for problem in reader.file_problems]
    return "\n".join([*lines, f"Error: {reader.name} was not queued: the file itself is not a valid LRB file "
                               f"(`lrs-ws batch validate {reader.name}` lists every problem)."])


def _job_learners(reader, flagged_rows: list[int], progress):
    """The file's learners as job learners, in order; a row with a problem is already RC011. Raises
    _FileRefused at the end when the file broke a file-level rule (the submit then rolls back)."""
    from lrs_ws.domain.batch import JobLearner, LearnerOutcome, ReturnCode

    for position, row in enumerate(reader.rows(), 1):
        outcome = None
        if row.problems:
            flagged_rows.append(row.row)
            outcome = LearnerOutcome(ReturnCode.INVALID)
        yield JobLearner(position, row.fields, outcome)
        if position % 1000 == 0:
            progress()
    progress()
    if reader.file_problems or reader.fatal:
        raise _FileRefused()


@batch.command("output")
@database_option
@click.argument("job_id", metavar="JOBID", type=click.IntRange(1))
@click.option("--out", type=click.Path(dir_okay=True, writable=True), default=None,
              help="File or directory to write to (default: the output file's name in the current directory).")
def batch_output(database_url, job_id, out) -> None:
    """Write a finished job's output file: the learners as sent, the ULN found or issued, and each
    learner's ReturnCode, named LRB_<UKPRN>_<DDMMYYYYHHMM>_OUTPUT.CSV (or .XML, as the input)."""
    import os
    import tempfile
    from pathlib import Path

    from lrs_ws.adapters.lrb import layout, names, writing
    from lrs_ws.clock import UK
    from lrs_ws.domain.batch import JobStatus
    from lrs_ws.services import batch as batches

    with _uow(database_url) as uow:
        job = uow.jobs.get(job_id)
        if job is None:
            raise click.ClickException(f"there is no batch job {job_id} (jobs are deleted after their retention period)")
        if not job.job_type.registers:
            raise click.ClickException(f"job {job_id} is a verification job: its output is read with getVerifyBatchOutput")
        if job.status is JobStatus.FAILED:
            raise click.ClickException(f"job {job_id} failed: {job.failure}")
        if not job.finished:
            raise click.ClickException(
                f"job {job_id} is {job.status.value.lower()}: {job.processed_count:,} of {job.learner_count:,} learners done"
            )
        organisation = uow.organisations.by_id(job.organisation_id)
        submitted = job.submitted_at.astimezone(UK)
        input_name = job.file_name or names.file_name_for(organisation.ukprn or "00000000", submitted, "CSV")
        name = names.output_file_name(input_name)
        target = Path(out) if out else Path.cwd() / name
        if target.is_dir():
            target = target / name
        fmt = "XML" if input_name.upper().endswith(".XML") else "CSV"
        header = layout.Header("2A", job.file_reference or f"job {job.id}", organisation.ukprn or "", job.learner_count)
        # Written beside the target, then renamed: never a half-written output file.
        partial = None
        try:
            handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
            os.close(handle)
            with _count_bar(job.learner_count, "output") as bar:
                rows = batches.file_output(uow, job.id)
                written = writing.write_output(partial, fmt, header, _counted(rows, bar))
            if written != job.learner_count:  # the job was deleted while it was read
                raise click.ClickException(f"job {job_id} changed while its output was written; nothing was written")
            os.replace(partial, target)
        except OSError as error:
            raise click.ClickException(f"cannot write {target}: {error.strerror or error}") from None
        finally:
            if partial is not None and os.path.exists(partial):
                os.unlink(partial)
    click.echo(f"Wrote {written:,} learners of job {job_id} to {target}.")


def _count_bar(total: int, description: str):
    from tqdm import tqdm

    return tqdm(total=total, unit="learner", file=sys.stderr, leave=False, desc=description,
                disable=not sys.stderr.isatty() or total < 10_000)


def _counted(rows, bar):
    for row in rows:
        yield row
        bar.update(1)


@batch.command("status")
@database_option
@click.argument("job_id", metavar="[JOBID]", type=click.IntRange(1), required=False)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True, help="How many of the newest jobs to list.")
def batch_status(database_url, job_id, limit) -> None:
    """The batch workers and how they are, then the newest batch jobs (web service and LRB
    files) and their progress; or one job."""
    from lrs_ws.clock import SYSTEM_CLOCK
    from lrs_ws.domain.batch import Count
    from lrs_ws.services.batch_workers import every_worker
    from lrs_ws.worker import report_gone

    with _uow(database_url) as uow:
        jobs = [uow.jobs.get(job_id)] if job_id else uow.jobs.recent(None, limit)
        if job_id and jobs[0] is None:
            raise click.ClickException(f"there is no batch job {job_id}")
        ukprns = {job.organisation_id: (uow.organisations.by_id(job.organisation_id).ukprn or "-") for job in jobs}
        # Workers report the host's real time (lrs_ws.services.batch_workers), so they are judged by it.
        workers = None if job_id else every_worker(uow, SYSTEM_CLOCK.now(), report_gone)
    if workers is not None:
        _show_workers(workers, SYSTEM_CLOCK.now())
    if not jobs:
        click.echo("No batch jobs.")
        return
    click.echo(f"{'JobID':>7}  {'UKPRN':8}  {'from':4}  type  {'status':9}  {'done':>17}  "
               f"{'new':>6} {'exists':>6} {'possible':>8} {'notfound':>8} {'rejected':>8}  submitted (UK)       finished (UK)")
    for job in jobs:
        done = f"{job.processed_count:,}/{job.learner_count:,}"
        percent = f"{100 * job.processed_count // max(job.learner_count, 1)}%"
        counts = [job.counts.get(count, 0) for count in Count]
        click.echo(
            f"{job.id:>7}  {ukprns[job.organisation_id]:8}  {job.source.value:4}  {job.job_type.value:4}  "
            f"{job.status.value:9}  {done:>12} {percent:>4}  {counts[0]:>6} {counts[1]:>6} {counts[2]:>8} "
            f"{counts[3]:>8} {counts[4]:>8}  {_uk_time(job.submitted_at)}  {_uk_time(job.finished_at)}"
        )
        if job_id and job.file_name:
            click.echo(f"  file: {job.file_name} ({job.file_reference}), submitted by {job.username}")
        if job_id and job.failure:
            click.echo(f"  failed: {job.failure}")


def _show_workers(workers, now) -> None:
    """One line a batch worker: its name, state (as /health says it), since when, and why."""
    if not workers:
        click.echo("Batch workers: none has reported (`lrs-ws serve` runs one; `lrs-ws worker` runs more).")
        return
    click.echo("Batch workers:")
    for worker in workers:
        kind = "serve's, supervised" if worker.supervised else "by hand"
        seen = max(int((now - worker.seen_at).total_seconds()), 0)
        why = f": {worker.detail}" if worker.detail else ""
        click.echo(f"  {worker.name} ({kind}): {worker.state.value}{why} (since {_uk_time(worker.started_at)}; seen {seen} s ago)")
    click.echo("")


def _uk_time(moment) -> str:
    from lrs_ws.clock import uk_date_time

    return "-" if moment is None else uk_date_time(moment)


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
        with _uow(database_url) as uow:
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
        with _uow(database_url) as uow:
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
        with _uow(database_url) as uow:
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
        with _uow(database_url) as uow:
            admin.merge_learners(uow, master_uln=master, retired_uln=retired)
    except admin.AdminError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Merged {retired} into {master}.")


if __name__ == "__main__":
    main()
