"""Read a learner's Personal Learning Record (R9 GetLearnerLearningEvents).

Our reading of the rules (docs/our-readings.md, "Personal Learning Record"):

* A ULN failing the check digit: WSEC0136, no FoundULN, no events.
* The ULN must be issued and the names sent must agree EXACTLY (after normalisation: case-fold,
  trim, collapse spaces) with the record; close matches (swapped names, previous family name,
  punctuation, Mac/Mc, phonetic, one typo) do NOT verify. When sent, the date of birth and the
  gender must equal the record's too. Otherwise WSEC0208 with no FoundULN and no events.
* A retired ULN verifies against the retired record or its master and answers WSRC0022 with
  FoundULN = the master; the events are those of the master and of every ULN linked to it.
* The (master) learner's AbilityToShare must be 1; 0 or 2 answers WSEC0206 with FoundULN set and
  no events.
* Sensitive events (Restriction not 0) are never returned.
* BRIEF keeps `BRIEF_FIELDS` of each event and leaves every other field None (left out on the
  wire, or nil for the fields the live service always sends).
* Every call is audited in `audit_events` (operation `GetLearnerLearningEvents`) in the same
  transaction, and committed.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime

from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learner import Learner
from lrs_ws.domain.learning_event import EVENT_FIELDS, LearningEvent
from lrs_ws.domain.matching import MatchRule, match_names
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import AuditEntry, Caller, UnitOfWork

OPERATION = "GetLearnerLearningEvents"

# What getType BRIEF keeps of an event: what was achieved, when, at what level and grade, and
# who says so. Providers, participation dates, credits and load bookkeeping are left out.
BRIEF_FIELDS: tuple[str, ...] = (
    "achievement_award_date",
    "awarding_organisation_name",
    "grade",
    "id",
    "level",
    "qualification_type",
    "source",
    "subject",
    "subject_code",
)
_BRIEF_CLEARED = {name: None for name in EVENT_FIELDS if name not in BRIEF_FIELDS}


@dataclass(frozen=True)
class PlrQuery:
    uln: str
    given_name: str
    family_name: str
    date_of_birth: date | None = None
    gender: str | None = None
    brief: bool = False  # getType BRIEF


@dataclass(frozen=True)
class PlrResult:
    code: ResponseCode  # EXACT_MATCH, MASTER_SUBSTITUTED, INVALID_ULN, NOT_SHARED, LEARNER_NOT_VERIFIED
    incoming_uln: str
    found_uln: str | None = None  # None (empty on the wire) when not verified
    events: tuple[LearningEvent, ...] = field(default_factory=tuple)


def get_learning_events(uow: UnitOfWork, caller: Caller, query: PlrQuery, now: datetime) -> PlrResult:
    """The learner's shareable learning events, or the response code that says why not.

    The caller has passed `authenticate(..., Operation.READ_PLR)`. The read is audited and the
    unit of work committed here: the SOAP layer records nothing itself.
    """
    result = _read(uow, query)
    audit(uow, caller, OPERATION, _audited_uln(query, result), result.code.value, now)
    uow.commit()
    return result


def _verified(uow: UnitOfWork, query: PlrQuery) -> tuple[ResponseCode, Learner | None]:
    """The learner (the master of a retired ULN) whose record the query may reach, with the code
    to answer; None with WSEC0136 or WSEC0208 when the ULN and names do not verify."""
    if not is_valid_uln(query.uln):
        return ResponseCode.INVALID_ULN, None
    return _verify(uow, query, uow.learners.get(query.uln))


def _verify(uow: UnitOfWork, query: PlrQuery, learner: Learner | None) -> tuple[ResponseCode, Learner | None]:
    """_verified, with the learner of the query's (valid) ULN already read."""
    if learner is None:
        return ResponseCode.LEARNER_NOT_VERIFIED, None
    if learner.is_retired:
        master = uow.learners.get(learner.master_uln) if learner.master_uln else None
        if master is None or master.is_retired:
            return ResponseCode.LEARNER_NOT_VERIFIED, None
        records: tuple[Learner, ...] = (learner, master)
        code = ResponseCode.MASTER_SUBSTITUTED
    else:
        master, records, code = learner, (learner,), ResponseCode.EXACT_MATCH
    if not any(verifies(query, record) for record in records):
        return ResponseCode.LEARNER_NOT_VERIFIED, None
    return code, master


def _read(uow: UnitOfWork, query: PlrQuery) -> PlrResult:
    incoming = query.uln
    if not is_valid_uln(query.uln):
        return PlrResult(ResponseCode.INVALID_ULN, incoming)
    # The learner and its own events in one read: most often the record, and all of it.
    learner, own_events = uow.events.with_learner(query.uln)
    code, master = _verify(uow, query, learner)
    if master is None:
        return PlrResult(code, incoming)
    if (master.ability_to_share or "").strip() != "1":
        return PlrResult(ResponseCode.NOT_SHARED, incoming, master.uln)
    # A master reached from a retired ULN, or with ULNs linked to it: their events are read too.
    reached_all = master is learner and not master.linked_ulns
    every_event = own_events if reached_all else uow.events.for_learners([master.uln, *master.linked_ulns])
    events = [event for event in every_event if not event.is_sensitive]
    if query.brief:
        events = [brief(event) for event in events]
    return PlrResult(code, incoming, master.uln, tuple(events))


def verifies(query: PlrQuery, learner: Learner) -> bool:
    """The names agree exactly; the date of birth and gender, when sent, are the record's."""
    if match_names(query.given_name or "", query.family_name or "", learner) is not MatchRule.EXACT:
        return False
    if query.date_of_birth is not None and query.date_of_birth != learner.date_of_birth:
        return False
    gender = (query.gender or "").strip()
    return not gender or gender == (learner.gender or "").strip()


def brief(event: LearningEvent) -> LearningEvent:
    """The event with only `BRIEF_FIELDS` (and its ULN) kept."""
    return dataclasses.replace(event, **_BRIEF_CLEARED)  # type: ignore[arg-type]  # None: left out of a brief event


def _audited_uln(query: PlrQuery, result: PlrResult) -> str | None:
    """The record that was looked at: the (master) ULN found, else the ULN asked for when it is
    well-formed enough to store (10 characters)."""
    if result.found_uln:
        return result.found_uln
    uln = (query.uln or "").strip()
    return uln if len(uln) == 10 else None


# What a learner's access log (R9 ViewAudit) lists: reads of the record and changes to it; a view of
# the learner's page in the web console (services.console.LEARNER_PAGE) is a read too.
ACCESS_LOG_OPERATIONS = (
    OPERATION, "ViewAudit", "registerSingleLearner", "updateSingleLearner", "UpdateLearnerSubsetFields", "mergeLearners",
    "ConsoleLearnerPage",
)
AUDIT_PAGE_SIZE = 10


@dataclass(frozen=True)
class AuditPage:
    total: int
    page: int  # 1-based, the page returned
    entries: tuple[AuditEntry, ...] = ()

    @property
    def page_count(self) -> int:
        return -(-self.total // AUDIT_PAGE_SIZE)


def view_audit(uow: UnitOfWork, caller: Caller, query: PlrQuery, page: int, now: datetime) -> AuditPage:
    """The learner's access log, newest first, a page of 10 (page 1-based; 0 or less is 1). A ULN
    and names that do not verify (as for a PLR read) give an empty list. The read is audited."""
    page = max(1, page)
    code, master = _verified(uow, query)
    result = AuditPage(0, page)
    if master is not None:
        ulns = [master.uln, *master.linked_ulns]
        total, entries = uow.audit.entries(ulns, ACCESS_LOG_OPERATIONS, (page - 1) * AUDIT_PAGE_SIZE, AUDIT_PAGE_SIZE)
        result = AuditPage(total, page, tuple(entries))
    audit(uow, caller, "ViewAudit", master.uln if master else None, f"{code.value} page {page}", now)
    uow.commit()
    return result
