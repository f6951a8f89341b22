"""Batch jobs: every job the viewer sees, newest first, with its progress (refreshing while any
waits or runs); one job's counts, failure, learners (paged) and its output as an LRB file; in
sandbox mode, a button that runs the queued jobs now (as POST /sandbox/jobs/run does)."""
from __future__ import annotations

import os
import secrets
import tempfile
from typing import TYPE_CHECKING

from lrs_ws.adapters.lrb import writing
from lrs_ws.console.fields import is_number
from lrs_ws.services import batch, console
from lrs_ws.services.batch_learner import BatchRules
from lrs_ws.services.job_runner import run_waiting_jobs
from lrs_ws.web.answers import answer

if TYPE_CHECKING:
    from lrs_ws.console.app import ConsoleApp, Page, RouteTable
    from lrs_ws.services.console import JobView
    from lrs_ws.web.answers import Answer


def routes(console_app: ConsoleApp) -> RouteTable:
    table: RouteTable = {"/jobs": {"GET": jobs_page}}
    if console_app.sandbox:  # before /jobs/{id}, which would take "run" as an id
        table["/jobs/run"] = {"POST": run_jobs}
    table["/jobs/{id}"] = {"GET": job_page}
    table["/jobs/{id}/output"] = {"GET": job_output}
    return table


def jobs_page(page: Page) -> Answer:
    ran = page.number("ran", high=10_000)
    with page.runtime.unit_of_work() as uow:
        shown = console.jobs(uow, page.viewer)
    return page.render("jobs.html", jobs=shown, live=console.any_waiting_or_running(shown), ran=ran, limit=console.JOBS_SHOWN)


def run_jobs(page: Page) -> Answer:
    runtime = page.runtime
    rules = BatchRules(runtime.prohibited_words, runtime.settings.possible_match_limit, runtime.rng)
    ran = run_waiting_jobs(runtime.unit_of_work, rules, f"console:{secrets.token_hex(4)}", chunk=runtime.settings.batch_chunk)
    return page.redirect("/jobs", ran=str(len(ran)))


def job_page(page: Page) -> Answer:
    from lrs_ws.console.app import PageError

    shown = _job(page)
    learners, pages, number = [], console.job_learner_pages(shown), 1
    allowed = console.may_see_job_learners(page.viewer)
    if allowed:
        number = page.number("page", low=1, high=pages) or 1
        with page.runtime.unit_of_work() as uow:
            learners = console.job_learners(uow, page.viewer, shown, number)
    elif page.query.get("page"):
        raise PageError(403, "page: a job's learners need the batch_user role")
    return page.render(
        "job.html", shown=shown, learners=learners, page_number=number, pages=pages, allowed=allowed,
        output_name=_output_name(shown) if shown.output_refusal is None else None, live=shown.waiting_or_running,
    )


def job_output(page: Page) -> Answer:
    """The same file `lrs-ws batch output` writes, as an attachment."""
    from lrs_ws.console.app import PageError

    shown = _job(page)
    if not console.may_see_job_learners(page.viewer):
        raise PageError(403, "A job's output holds its learners: it needs the batch_user role")
    if shown.output_refusal is not None:
        raise PageError(409, f"No output file yet: {shown.output_refusal}")
    name = _output_name(shown)
    with tempfile.TemporaryDirectory(prefix="lrs-ws-console-") as directory:
        path = os.path.join(directory, name)
        with page.runtime.unit_of_work() as uow:
            written = writing.write_job_output(path, shown.job, shown.ukprn or None, batch.file_output(uow, shown.job.id))
        if written != shown.job.learner_count:  # deleted (retention) while it was read
            raise PageError(409, f"Job {shown.job.id} changed while its output was written; try again")
        with open(path, "rb") as handle:
            body = handle.read()
    kind = "application/xml" if name.upper().endswith(".XML") else "text/csv; charset=utf-8"
    return answer(200, kind, body, [("Content-Disposition", f'attachment; filename="{name}"'), ("X-Content-Type-Options", "nosniff")])


def _job(page: Page) -> JobView:
    from lrs_ws.console.app import PageError

    text = page.params["id"]
    if not is_number(text):
        raise PageError(404, f"No batch job {text!r}: a job's id is a number")
    with page.runtime.unit_of_work() as uow:
        shown = console.job(uow, page.viewer, int(text))
    if shown is None:
        raise PageError(404, f"No batch job {text} (jobs are deleted after their retention period)")
    return shown


def _output_name(shown: JobView) -> str:
    return writing.job_output_name(shown.job, shown.ukprn or None)
