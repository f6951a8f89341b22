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
from lrs_ws.services.ports import Caller, UnitOfWork

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


def _read(uow: UnitOfWork, query: PlrQuery) -> PlrResult:
    incoming = query.uln
    if not is_valid_uln(incoming):
        return PlrResult(ResponseCode.INVALID_ULN, incoming)
    learner = uow.learners.get(incoming)
    not_verified = PlrResult(ResponseCode.LEARNER_NOT_VERIFIED, incoming)
    if learner is None:
        return not_verified
    if learner.is_retired:
        master = uow.learners.get(learner.master_uln) if learner.master_uln else None
        if master is None or master.is_retired:
            return not_verified
        records: tuple[Learner, ...] = (learner, master)
        code = ResponseCode.MASTER_SUBSTITUTED
    else:
        master, records, code = learner, (learner,), ResponseCode.EXACT_MATCH
    if not any(verifies(query, record) for record in records):
        return not_verified
    if (master.ability_to_share or "").strip() != "1":
        return PlrResult(ResponseCode.NOT_SHARED, incoming, master.uln)
    ulns = [master.uln, *master.linked_ulns]
    events = [event for event in uow.events.for_learners(ulns) if not event.is_sensitive]
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
    return dataclasses.replace(event, **_BRIEF_CLEARED)


def _audited_uln(query: PlrQuery, result: PlrResult) -> str | None:
    """The record that was looked at: the (master) ULN found, else the ULN asked for when it is
    well-formed enough to store (10 characters)."""
    if result.found_uln:
        return result.found_uln
    uln = (query.uln or "").strip()
    return uln if len(uln) == 10 else None
