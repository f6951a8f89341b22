"""The web console's use cases: who may sign in, and what each viewer may see.

Two kinds of viewer (docs/console.md): in sandbox mode, whoever holds the sandbox token sees
everything the sandbox holds; outside it, a user with the super_user role of an organisation
signs in with the organisation's credentials (the same check, backoff and audit as a SOAP call)
and sees what their roles allow, for their own organisation. The pages are an entry point: they
ask these functions, which use the same rules and ports as the SOAP services.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lrs_ws.domain.batch import BatchJob, Count, JobLearner, JobSource, JobStatus
from lrs_ws.domain.roles import Operation, Role, may
from lrs_ws.domain.sign_in import Backoff
from lrs_ws.services.auth import AccessDenied, Credentials, authenticate, record_refusal
from lrs_ws.services.batch import output_refusal
from lrs_ws.services.ports import Caller, Organisation, UnitOfWork, User

SIGN_IN = "ConsoleSignIn"  # the audit's name for a console sign-in
SANDBOX_VIEWER = "sandbox console"  # the user name the audit records for the sandbox token's holder


@dataclass(frozen=True)
class Viewer:
    """Who is looking: `caller` None for the sandbox token's holder, who sees everything."""

    caller: Caller | None
    address: str = ""

    @property
    def sandbox(self) -> bool:
        return self.caller is None

    @property
    def name(self) -> str:
        if self.caller is None:
            return "sandbox token"
        return f"{self.caller.username} ({self.caller.organisation_name})"

    @property
    def organisation_id(self) -> int | None:
        """The organisation whose jobs and users the viewer sees; None: every one."""
        return None if self.caller is None else self.caller.organisation_id

    def may(self, operation: Operation) -> bool:
        """Whether the viewer may see what `operation` would show (the SOAP roles' rules)."""
        return self.caller is None or may(self.caller.roles, operation)

    @property
    def audit_username(self) -> str:
        return SANDBOX_VIEWER if self.caller is None else self.caller.username


def sign_in(uow: UnitOfWork, credentials: Credentials, now: datetime) -> Caller:
    """A super user's sign-in: AccessDenied as a SOAP call is refused (WSEC0003, 0005, 0006)."""
    caller = authenticate(uow, credentials, Operation.CONSOLE, now=now)
    uow.audit.record(
        at=now, organisation_id=caller.organisation_id, username=caller.username, operation=SIGN_IN, uln=None,
        outcome="signed in", address=credentials.address or None,
    )
    if caller.failed_sign_ins:
        uow.sign_ins.clear(caller.organisation_id, caller.address)
    uow.commit()
    return caller


def refused_sign_in(uow: UnitOfWork, credentials: Credentials, denied: AccessDenied, now: datetime, backoff: Backoff | None) -> None:
    """The refusal's audit row, and a wrong password counted towards the backoff (in a unit of
    work of its own, as for a refused SOAP call)."""
    record_refusal(
        uow, operation=SIGN_IN, credentials=credentials, organisation_id=denied.organisation_id, outcome=denied.outcome,
        now=now, wrong_password=denied.wrong_password, forget_failed_sign_ins=denied.forget_failed_sign_ins, backoff=backoff,
    )


def viewer_of(uow: UnitOfWork, user_id: int | None, address: str) -> Viewer | None:
    """The viewer of a session: the sandbox token's holder (`user_id` None), or the user as the
    register holds them now. None when the user is gone or no longer a super user: a role taken
    away ends their console sessions at once."""
    if user_id is None:
        return Viewer(None, address)
    user = uow.organisations.user_by_id(user_id)
    if user is None or not may(user.roles, Operation.CONSOLE):
        return None
    organisation = uow.organisations.by_id(user.organisation_id)
    if organisation is None or organisation.id is None or user.id is None:
        return None
    return Viewer(Caller(organisation.id, organisation.name, user.id, user.username, user.roles, address), address)


@dataclass(frozen=True)
class OrganisationView:
    organisation: Organisation
    users: tuple[User, ...]


def organisations(uow: UnitOfWork, viewer: Viewer) -> list[OrganisationView]:
    """The organisations the viewer sees (the sandbox: all; a super user: their own) with their
    users. No password hash leaves this function."""
    if viewer.organisation_id is None:
        shown = uow.organisations.all()
    else:
        own = uow.organisations.by_id(viewer.organisation_id)
        shown = [] if own is None else [own]
    return [
        OrganisationView(
            Organisation(o.id, o.name, o.ukprn, o.organisation_ref, password_hash=""),
            tuple(uow.organisations.users_of(o.id)) if o.id is not None else (),
        )
        for o in shown
    ]


def role_names(roles: frozenset[Role]) -> list[str]:
    return sorted(role.value for role in roles)


# --- batch jobs

JOBS_SHOWN = 200  # the newest jobs the list shows
JOB_LEARNERS_PAGE = 100  # learners of a job on one page
COUNT_LABELS = {  # the five output counts (Count), as the job's page names them
    Count.NEW: "New learners", Count.EXISTS_UPDATED: "Found (and updated)", Count.POSSIBLE_MATCH: "Possible matches",
    Count.NOT_FOUND: "Not found", Count.REJECTED: "Rejected",
}


@dataclass(frozen=True)
class JobView:
    """A job as the console shows it: with its organisation's name and UKPRN."""

    job: BatchJob
    organisation: str
    ukprn: str

    @property
    def source(self) -> str:
        return (self.job.file_name or "LRB file") if self.job.source is JobSource.FILE else "web service"

    @property
    def waiting_or_running(self) -> bool:
        return not self.job.finished

    @property
    def counts(self) -> list[tuple[str, str, int]]:
        """(label, wire name, how many) of the five counts; a verification job keeps none."""
        return [(label, count.value, self.job.counts.get(count, 0)) for count, label in COUNT_LABELS.items()]

    @property
    def output_refusal(self) -> str | None:
        return output_refusal(self.job)


def may_see_job_learners(viewer: Viewer) -> bool:
    """A job's learners and output hold learners' details: the batch_user role's to see, as over SOAP."""
    return viewer.may(Operation.BATCH)


def jobs(uow: UnitOfWork, viewer: Viewer, limit: int = JOBS_SHOWN) -> list[JobView]:
    """The newest jobs the viewer sees (the sandbox: every organisation's; a super user: their own's)."""
    return _job_views(uow, uow.jobs.recent(viewer.organisation_id, limit))


def job(uow: UnitOfWork, viewer: Viewer, job_id: int) -> JobView | None:
    """One job, if the viewer sees it: another organisation's is None, as if it did not exist."""
    found = uow.jobs.get(job_id)
    if found is None or (viewer.organisation_id is not None and found.organisation_id != viewer.organisation_id):
        return None
    return _job_views(uow, [found])[0]


def job_learners(uow: UnitOfWork, viewer: Viewer, shown: JobView, page: int) -> list[JobLearner]:
    """A page (1-based) of the job's learners in the order sent; PermissionError without the batch_user role."""
    if not may_see_job_learners(viewer):
        raise PermissionError("a job's learners need the batch_user role")
    return uow.jobs.learners(shown.job.id, (page - 1) * JOB_LEARNERS_PAGE, JOB_LEARNERS_PAGE)


def job_learner_pages(shown: JobView) -> int:
    """How many pages the job's learners fill (positions run 1 to learner_count)."""
    return max(1, -(-shown.job.learner_count // JOB_LEARNERS_PAGE))


def any_waiting_or_running(shown: list[JobView]) -> bool:
    return any(view.job.status in (JobStatus.LOADING, JobStatus.SUBMITTED, JobStatus.RUNNING) for view in shown)


def _job_views(uow: UnitOfWork, found: list[BatchJob]) -> list[JobView]:
    organisations: dict[int, Organisation | None] = {}
    views = []
    for one in found:
        if one.organisation_id not in organisations:
            organisations[one.organisation_id] = uow.organisations.by_id(one.organisation_id)
        organisation = organisations[one.organisation_id]
        views.append(JobView(one, organisation.name if organisation else "(gone)", (organisation.ukprn or "") if organisation else ""))
    return views
