"""`lrs-ws batch`: LRB batch files (validate, submit, output) and the state of jobs and workers."""
from __future__ import annotations

import sys

import click

from lrs_ws.cli.app import database_option, main, unit_of_work_for

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
                with unit_of_work_for(database_url) as uow:
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

    from lrs_ws.adapters.lrb import writing
    from lrs_ws.services import batch as batches

    with unit_of_work_for(database_url) as uow:
        job = uow.jobs.get(job_id)
        if job is None:
            raise click.ClickException(f"there is no batch job {job_id} (jobs are deleted after their retention period)")
        refusal = batches.output_refusal(job)
        if refusal is not None:
            raise click.ClickException(refusal)
        organisation = uow.organisations.by_id(job.organisation_id)
        ukprn = organisation.ukprn if organisation is not None else None
        name = writing.job_output_name(job, ukprn)
        target = Path(out) if out else Path.cwd() / name
        if target.is_dir():
            target = target / name
        # Written beside the target, then renamed: never a half-written output file.
        partial = None
        try:
            handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".partial")
            os.close(handle)
            with _count_bar(job.learner_count, "output") as bar:
                rows = batches.file_output(uow, job.id)
                written = writing.write_job_output(partial, job, ukprn, _counted(rows, bar))
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

    with unit_of_work_for(database_url) as uow:
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
