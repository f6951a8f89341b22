"""One learner of a registration batch: what a job does with it, and its ReturnCode.

Each learner goes through what the single operations use: find by ULN's and by demographics'
lookups, the learner rules, registration's ULN issue and lock, and update's decision
(`decide_update`). Only the answer differs: a per-learner code (RC001-RC013, our reading in
docs/our-readings.md) instead of a response. tests/unit/test_batch_and_single.py holds the two
paths to each other.
"""
from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from lrs_ws.domain.batch import BATCH_DETAIL_FIELDS, BatchLearnerFields, JobType, LearnerOutcome, ReturnCode
from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.learner import DATE_FIELDS, Learner
from lrs_ws.domain.matching import SearchKey, candidate_birth_dates, name_codes
from lrs_ws.domain.normalise import name_key, post_code_key
from lrs_ws.domain.rules import (
    MAX_AGE,
    MIN_AGE,
    age_on,
    calendar_date,
    decide_update,
    details_to_register,
    tidy,
    validate_details,
)
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services import find
from lrs_ws.services.ports import UnitOfWork
from lrs_ws.services.register import issue_uln, lock_registration, registered_with, registration_lock

# The five key fields: a learner found by ULN may have at most one of them changed by a batch
# (user guide, Appendix C: "one mandatory field can be updated per file").
KEY_FIELDS = ("given_name", "family_name", "date_of_birth", "gender", "last_known_post_code")
_UPDATE_ATTEMPTS = 3  # a concurrent single update between our read and write: read again


@dataclass(frozen=True)
class BatchRules:
    prohibited_words: tuple[str, ...]
    possible_match_limit: int
    rng: random.Random


def process_learner(
    uow: UnitOfWork, job_type: JobType, sent: BatchLearnerFields, *, now: datetime, rules: BatchRules,
    ahead: ReadAhead | None = None,
) -> LearnerOutcome:
    """What a job does with one learner (our reading of RC001-RC013, docs/our-readings.md).

    Writes (FUL only) go into `uow` uncommitted: the caller commits them with the outcome.
    """
    try:
        details = _details(sent)
    except InvalidField:
        return LearnerOutcome(ReturnCode.INVALID)
    born = details.get("date_of_birth")
    if isinstance(born, date) and not MIN_AGE <= age_on(born, now.date()) <= MAX_AGE:
        return LearnerOutcome(ReturnCode.AGE_OUT_OF_RANGE)
    uln = (sent.get("ULN") or "").strip()
    if uln:
        return _with_uln(uow, job_type, uln, details, now, rules)
    return _without_uln(uow, job_type, details, now, rules, ahead or ReadAhead())


def _details(sent: BatchLearnerFields) -> dict[str, object]:
    """The learner details sent (blank ones left out: in a batch, empty means "not supplied"),
    tidied as they are stored; InvalidField for a date the calendar does not have."""
    details: dict[str, object] = {}
    for wire, field in BATCH_DETAIL_FIELDS.items():
        text = sent.get(wire)
        if text is None or not text.strip():
            continue
        details[field] = calendar_date(wire, text) if field in DATE_FIELDS else tidy(field, text)
    return details


def _with_uln(
    uow: UnitOfWork, job_type: JobType, uln: str, details: dict[str, object], now: datetime, rules: BatchRules
) -> LearnerOutcome:
    if not is_valid_uln(uln) or not uow.learners.uln_exists(uln):
        return LearnerOutcome(ReturnCode.ULN_NOT_FOUND)
    for _ in range(_UPDATE_ATTEMPTS):
        found = find.lookup_by_uln(uow, uln, str(details.get("family_name", "")), str(details.get("given_name", "")))
        if found.code is ResponseCode.NO_MATCH:
            return LearnerOutcome(ReturnCode.DETAILS_DISAGREE)
        current = found.learners[0].learner
        if found.code is ResponseCode.MASTER_SUBSTITUTED:
            return LearnerOutcome(ReturnCode.MASTER_RETURNED, current.uln)
        # updateSingleLearner's decision; a batch first allows one key field to change at most.
        update = decide_update(current, _differing(current, details), now.date(), rules.prohibited_words)
        if sum(field in KEY_FIELDS for field in update.changed) > 1:
            return LearnerOutcome(ReturnCode.DETAILS_DISAGREE)
        if not update.changed:
            return LearnerOutcome(ReturnCode.ULN_CONFIRMED, current.uln)
        if update.refusal is not None:
            return LearnerOutcome(ReturnCode.INVALID)
        if job_type is JobType.CHECK:  # what a FUL job would have updated, reported only
            return LearnerOutcome(ReturnCode.ULN_CONFIRMED, current.uln)
        if uow.learners.update(update.learner, expected_version=current.version_number):
            return LearnerOutcome(ReturnCode.UPDATED, current.uln)
    raise RuntimeError(f"ULN {uln} kept changing under the batch update")


def _differing(current: Learner, details: dict[str, object]) -> dict[str, object]:
    """The details sent, less names and postcode that differ from the record only in case or
    spacing: MIS exports are often in capitals, and that is no reason to change a record (or to
    count a key field as changed)."""
    same = {
        field
        for field in ("given_name", "family_name", "previous_family_name", "last_known_post_code")
        if field in details and _same_form(field, details[field], getattr(current, field))
    }
    return {field: value for field, value in details.items() if field not in same}


def _same_form(field: str, sent: object, stored: object) -> bool:
    if field == "last_known_post_code":
        return post_code_key(str(sent)) == post_code_key(str(stored or ""))
    return name_key(str(sent)) == name_key(str(stored or ""))


@dataclass(frozen=True)
class ReadAhead:
    """What a job did before a chunk's learners (read_ahead): the registration locks it took
    before reading the candidates, so those candidates cannot miss a registration of theirs."""

    locked: frozenset[str] = frozenset()


def read_ahead(uow: UnitOfWork, job_type: JobType, learners: Iterable[BatchLearnerFields]) -> ReadAhead:
    """Before a chunk: take the registration locks its learners will take (as process_learner
    takes them, but all in one go), then read the candidates of the demographic searches they
    will make (as find.lookup_by_demographics makes them) in one go too."""
    searches, locks = [], set()
    for sent in learners:
        if (sent.get("ULN") or "").strip():
            continue
        try:
            details = _details(sent)
        except InvalidField:
            continue
        search = _search(details)
        if search is None:
            continue
        searches.append((candidate_birth_dates(search.date_of_birth), name_codes(search.given_name, search.family_name)))
        if _registers(job_type, details):
            locks.add(registration_lock(search))
    uow.lock_all(locks)
    uow.learners.remember_candidates(searches)
    return ReadAhead(frozenset(locks))


def _registers(job_type: JobType, details: dict[str, object]) -> bool:
    """Whether a learner without a ULN is registered when nothing matches (takes the lock)."""
    return job_type is JobType.FULL and all(details.get(field) for field in KEY_FIELDS)


def _search(details: dict[str, object]) -> SearchKey | None:
    """The search a learner without a ULN makes; None when none is possible."""
    born = details.get("date_of_birth")
    if not isinstance(born, date) or not details.get("given_name") or not details.get("family_name"):
        return None
    return SearchKey(
        given_name=str(details["given_name"]),
        family_name=str(details["family_name"]),
        date_of_birth=born,
        gender=str(details.get("gender") or ""),
        post_code=str(details.get("last_known_post_code") or ""),
    )


def _without_uln(
    uow: UnitOfWork, job_type: JobType, details: dict[str, object], now: datetime, rules: BatchRules, ahead: ReadAhead
) -> LearnerOutcome:
    search = _search(details)
    if search is None:
        return LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)  # no search is possible without them
    complete = all(details.get(field) for field in KEY_FIELDS)
    if _registers(job_type, details):
        lock_registration(uow, search)  # the same lock as registerSingleLearner's
    found = find.lookup_by_demographics(uow, search, rules.possible_match_limit)
    if (
        found.code is ResponseCode.NO_MATCH
        and _registers(job_type, details)
        and uow.learners.remembered_may_be_stale()
        and registration_lock(search) not in ahead.locked  # else the candidates were read under the lock
        and registered_with(uow, search, fresh=True)
    ):  # registered by another writer since the candidates were read (we hold its lock now)
        found = find.lookup_by_demographics(uow, search, rules.possible_match_limit, fresh=True)
    if found.code is ResponseCode.EXACT_MATCH:
        return LearnerOutcome(ReturnCode.MATCHED, found.learners[0].learner.uln)
    if found.code is ResponseCode.MASTER_SUBSTITUTED:
        return LearnerOutcome(ReturnCode.MASTER_RETURNED, found.learners[0].learner.uln)
    if found.code is ResponseCode.POSSIBLE_MATCHES:
        return LearnerOutcome(ReturnCode.POSSIBLE_MATCHES)
    if found.code is ResponseCode.TOO_MANY_MATCHES:
        return LearnerOutcome(ReturnCode.TOO_MANY_MATCHES)
    if not complete:
        return LearnerOutcome(ReturnCode.INSUFFICIENT_DATA)
    # Each value is of its field's type (_details parses dates); a dict by name cannot say so.
    learner = details_to_register(details)
    try:
        validate_details(learner, now.date(), rules.prohibited_words)
    except InvalidField:
        return LearnerOutcome(ReturnCode.INVALID)
    if job_type is JobType.CHECK:  # what a FUL job would have registered, reported only
        return LearnerOutcome(ReturnCode.NOT_FOUND)
    return LearnerOutcome(ReturnCode.CREATED, issue_uln(uow, learner, now, rules.rng).uln)
