"""The web console's use cases: who may sign in, and what each viewer may see.

Two kinds of viewer (docs/console.md): in sandbox mode, whoever holds the sandbox token sees
everything the sandbox holds; outside it, a user with the super_user role of an organisation
signs in with the organisation's credentials (the same check, backoff and audit as a SOAP call)
and sees what their roles allow, for their own organisation. The pages are an entry point: they
ask these functions, which use the same rules and ports as the SOAP services.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime

from lrs_ws.domain.batch import BatchJob, Count, JobLearner, JobSource, JobStatus
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learner import Learner
from lrs_ws.domain.learning_event import LearningEvent
from lrs_ws.domain.matching import MatchRule, SearchKey
from lrs_ws.domain.normalise import name_key
from lrs_ws.domain.roles import ALLOWED_ROLES, Operation, Role, may
from lrs_ws.domain.sign_in import Backoff
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services import audit, find
from lrs_ws.services.auth import AccessDenied, Credentials, authenticate, record_refusal
from lrs_ws.services.batch import output_refusal
from lrs_ws.services.ports import AuditEntry, Caller, Organisation, UnitOfWork, User

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


# --- Learners: the search and a learner's page (docs/console.md, "Learners") ----------------

SEARCH = "ConsoleLearnerSearch"  # the audit's name for a console search (a find)
LEARNER_PAGE = "ConsoleLearnerPage"  # ... and for a view of a learner's page (a PLR read)
AUDIT_TRAIL_PAGE_SIZE = 25
LISTED_AT_MOST = 100  # learners a sandbox search lists; a date of birth shared by more is unusual
NAME_LENGTH = 100  # longer than any name the register holds (35)


class SearchProblem(ValueError):
    """A search that cannot run: `field` names the form's field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class LearnersNotAllowed(Exception):
    """The viewer's roles do not let them see learners (the message says which role would)."""


class LearnerNotFound(Exception):
    """No learner with that ULN on the register (or not a ULN at all)."""


@dataclass(frozen=True)
class LearnerSearch:
    """What the search form sent, trimmed; `date_of_birth` already read as a date."""

    uln: str = ""
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None


@dataclass(frozen=True)
class SearchHit:
    learner: Learner
    rule: MatchRule | None = None  # how the names agreed (a super user's search, as the SOAP finds)
    master_substituted: bool = False  # a retired ULN matched; this is its master


@dataclass(frozen=True)
class SearchResult:
    hits: tuple[SearchHit, ...]
    code: ResponseCode | None = None  # the SOAP find's answer (a super user's search); None in sandbox
    more: bool = False  # more learners matched than are listed (sandbox: LISTED_AT_MOST)


def require_learner_access(viewer: Viewer) -> None:
    """LearnersNotAllowed unless the viewer may find learners (the sandbox token always may)."""
    if not viewer.may(Operation.FIND):
        roles = " or ".join(sorted(role.value for role in ALLOWED_ROLES[Operation.FIND]))
        raise LearnersNotAllowed(f"Seeing learners needs the {roles} role (as a SOAP find does); your roles do not include one")


def search_learners(uow: UnitOfWork, viewer: Viewer, search: LearnerSearch, now: datetime, *, possible_match_limit: int) -> SearchResult:
    """The learners a search finds, audited as a find (one row per learner listed, or one with no
    ULN). The sandbox's viewer finds by ULN alone, or by any part of the names and the date of
    birth; a super user by the SOAP finds' rules: ULN and names as learnerByULN, names and date of
    birth as learnerByDemographics' matching. SearchProblem names a field the search cannot use."""
    require_learner_access(viewer)
    _check_search(search, needs_both_names=not viewer.sandbox)
    if viewer.sandbox:
        result = _sandbox_search(uow, search)
        outcome = f"{len(result.hits)} listed" + (" (more matched)" if result.more else "")
    else:
        result = _find_as_soap(uow, search, possible_match_limit)
        outcome = result.code.value if result.code else ""
    listed: list[str | None] = [hit.learner.uln for hit in result.hits]
    for uln in listed or [None]:
        _audit(uow, viewer, SEARCH, uln, outcome, now, find=True)
    uow.commit()
    return result


def _check_search(search: LearnerSearch, *, needs_both_names: bool) -> None:
    for name in ("given_name", "family_name"):
        if len(getattr(search, name)) > NAME_LENGTH:
            raise SearchProblem(name, f"at most {NAME_LENGTH} characters")
    if search.uln:
        if len(search.uln) != 10 or not search.uln.isascii() or not search.uln.isdigit():
            raise SearchProblem("uln", "a ULN is 10 digits")
        if not is_valid_uln(search.uln):
            raise SearchProblem("uln", f"{search.uln} is not a ULN: its check digit is wrong")
    named = search.given_name and search.family_name if needs_both_names else search.given_name or search.family_name
    if search.uln:
        if needs_both_names and not named:
            missing = "given_name" if not search.given_name else "family_name"
            raise SearchProblem(missing, "a search by ULN needs the given and family names too (as learnerByULN)")
        return
    if search.date_of_birth is None:
        if search.given_name or search.family_name:
            raise SearchProblem("date_of_birth", "a search by name needs the date of birth too")
        raise SearchProblem("uln", "enter a ULN, or names and a date of birth")
    if not named:
        which = "the given and family names" if needs_both_names else "a given or family name (or part of one)"
        raise SearchProblem("given_name" if not search.given_name else "family_name", f"a search by date of birth needs {which}")


def _sandbox_search(uow: UnitOfWork, search: LearnerSearch) -> SearchResult:
    if search.uln:
        found = uow.learners.get(search.uln)
        learners = [] if found is None else [found]
    else:
        assert search.date_of_birth is not None  # _check_search saw to it
        born = uow.learners.candidates_born_on([search.date_of_birth])
        learners = uow.learners.get_many(sorted({candidate.uln for candidate in born}))
    agreeing = [learner for learner in learners if _agrees(learner, search)]
    agreeing.sort(key=lambda learner: (name_key(learner.family_name), name_key(learner.given_name), learner.uln))
    return SearchResult(tuple(SearchHit(learner) for learner in agreeing[:LISTED_AT_MOST]), more=len(agreeing) > LISTED_AT_MOST)


def _agrees(learner: Learner, search: LearnerSearch) -> bool:
    """Each name sent is part of the learner's (the family name: or of the previous one), compared
    in the domain's normal form; a date sent is the learner's."""
    given, family = name_key(search.given_name), name_key(search.family_name)
    if given and given not in name_key(learner.given_name):
        return False
    if family and not any(family in name_key(name) for name in (learner.family_name, learner.previous_family_name) if name):
        return False
    return search.date_of_birth is None or search.date_of_birth == learner.date_of_birth


def _find_as_soap(uow: UnitOfWork, search: LearnerSearch, possible_match_limit: int) -> SearchResult:
    if search.uln:
        found = find.lookup_by_uln(uow, search.uln, search.family_name, search.given_name)
        if search.date_of_birth is not None:  # a date sent with the ULN narrows the answer
            kept = tuple(f for f in found.learners if f.learner.date_of_birth == search.date_of_birth)
            found = find.FindResult(found.code if kept else ResponseCode.NO_MATCH, kept)
    else:
        assert search.date_of_birth is not None  # _check_search saw to it
        key = SearchKey(search.given_name, search.family_name, search.date_of_birth, gender="", post_code="")
        found = find.lookup_by_demographics(uow, key, possible_match_limit)
    hits = tuple(SearchHit(f.learner, f.rule, f.master_substituted) for f in found.learners)
    return SearchResult(hits, found.code)


@dataclass(frozen=True)
class LearnerView:
    """A learner's page: the record, the learning events the viewer may see (or why none), and a
    page of the audit trail of the record (its ULN, its master's and every ULN merged in)."""

    learner: Learner
    master: Learner | None  # the master of a retired ULN
    record_ulns: tuple[str, ...]
    events: tuple[LearningEvent, ...]
    events_withheld: str | None  # why no events are shown; None when they are
    audit_total: int
    audit_page: int
    audit: tuple[AuditEntry, ...]

    @property
    def audit_page_count(self) -> int:
        return max(1, -(-self.audit_total // AUDIT_TRAIL_PAGE_SIZE))


def learner_view(uow: UnitOfWork, viewer: Viewer, uln: str, audit_page: int, now: datetime) -> LearnerView:
    """A learner's page, audited (committed) as a PLR read is: every view writes its row, after
    the trail shown is read. LearnersNotAllowed, LearnerNotFound: nothing to show (audited too)."""
    known = len(uln) == 10 and uln.isascii() and uln.isdigit()
    try:
        require_learner_access(viewer)
    except LearnersNotAllowed:
        _audit(uow, viewer, LEARNER_PAGE, uln if known else None, "refused: no find role", now)
        uow.commit()
        raise
    learner = uow.learners.get(uln) if known else None
    if learner is None:
        _audit(uow, viewer, LEARNER_PAGE, uln if known else None, "not on the register", now)
        uow.commit()
        raise LearnerNotFound(f"No learner with ULN {uln} on the register" if known else f"{uln!r} is not a ULN (10 digits)")
    master = uow.learners.get(learner.master_uln) if learner.is_retired and learner.master_uln else None
    holder = master or learner
    record_ulns = tuple(dict.fromkeys([holder.uln, *holder.linked_ulns, learner.uln]))
    events, withheld = _events_shown(uow, viewer, holder, record_ulns)
    total, entries = uow.audit.entries(record_ulns, None, (audit_page - 1) * AUDIT_TRAIL_PAGE_SIZE, AUDIT_TRAIL_PAGE_SIZE)
    _audit(uow, viewer, LEARNER_PAGE, learner.uln, "shown" + (f"; events withheld: {withheld}" if withheld else ""), now)
    uow.commit()
    return LearnerView(learner, master, record_ulns, events, withheld, total, audit_page,
                       tuple(_as_seen_by(viewer, entry) for entry in entries))


def _events_shown(uow: UnitOfWork, viewer: Viewer, holder: Learner, ulns: tuple[str, ...]) -> tuple[tuple[LearningEvent, ...], str | None]:
    """Every event to the sandbox's viewer (sensitive ones too); to a super user what a PLR read
    would give them: nothing without the learner_record role or AbilityToShare 1, never a
    sensitive event."""
    if viewer.sandbox:
        return tuple(uow.events.for_learners(ulns)), None
    if not viewer.may(Operation.READ_PLR):
        return (), "reading learning events needs the learner_record role (as a PLR read does)"
    share = (holder.ability_to_share or "").strip()
    if share != "1":
        why = "the learner has not been told how their record is shared" if share == "0" else "the learner asked not to share it"
        return (), f"the learner's AbilityToShare is {share or 'not set'}: {why}"
    return tuple(event for event in uow.events.for_learners(ulns) if not event.is_sensitive), None


def _as_seen_by(viewer: Viewer, entry: AuditEntry) -> AuditEntry:
    """A super user sees the addresses of their own organisation's requests only: where another
    organisation's users connect from is theirs to know."""
    if viewer.sandbox or entry.organisation_id == viewer.organisation_id:
        return entry
    return dataclasses.replace(entry, address=None)


def _audit(uow: UnitOfWork, viewer: Viewer, operation: str, uln: str | None, outcome: str, now: datetime, *, find: bool = False) -> None:
    if viewer.caller is not None:
        audit.record(uow, viewer.caller, operation, uln, outcome, now, find=find)
        return
    uow.audit.record(
        deferred=find, at=now, organisation_id=None, username=SANDBOX_VIEWER, operation=operation, uln=uln,
        outcome=outcome, address=viewer.address or None,
    )
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
