"""Find a learner by ULN and by demographics."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lrs_ws.domain.codes import EXACT_FIND_CODES, ResponseCode
from lrs_ws.domain.learner import Learner
from lrs_ws.domain.matching import (
    Match,
    MatchCandidate,
    MatchRule,
    Outcome,
    SearchKey,
    candidate_birth_dates,
    match,
    match_names,
    name_codes,
    search_key_hash,
)
from lrs_ws.domain.uln import is_valid_uln
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, UnitOfWork


@dataclass(frozen=True)
class FoundLearner:
    learner: Learner
    rule: MatchRule
    master_substituted: bool = False  # the ULN found was retired; this is its master


@dataclass(frozen=True)
class FindResult:
    code: ResponseCode
    learners: tuple[FoundLearner, ...] = ()


def find_by_uln(
    uow: UnitOfWork,
    caller: Caller,
    uln: str,
    family_name: str,
    given_name: str,
    now: datetime,
    operation: str = "learnerByULN",
) -> FindResult:
    """The learner with this ULN when the names agree (exactly: WSRC0004, closely: WSRC0003).

    `operation` names the caller's operation in the audit (learnerByULN, or R9 LearnerByUln)."""
    result = lookup_by_uln(uow, uln, family_name, given_name)
    audit(uow, caller, operation, uln, result.code.value, now, find=True)
    uow.commit()
    return result


def lookup_by_uln(uow: UnitOfWork, uln: str, family_name: str, given_name: str) -> FindResult:
    """Find by ULN's answer, without the audit: the batch jobs use it too."""
    learner = uow.learners.get(uln) if is_valid_uln(uln) else None
    if learner is None:
        return FindResult(ResponseCode.NO_MATCH)
    if not learner.is_retired:
        rule = match_names(given_name, family_name, learner)
        if rule is None:
            return FindResult(ResponseCode.NO_MATCH)
        code = ResponseCode.EXACT_MATCH if rule is MatchRule.EXACT else ResponseCode.POSSIBLE_MATCHES
        return FindResult(code, (FoundLearner(learner, rule),))
    master = uow.learners.get(learner.master_uln) if learner.master_uln else None
    if master is None:
        return FindResult(ResponseCode.NO_MATCH)
    # The names may be those kept on the retired record or those of its master.
    rule = match_names(given_name, family_name, learner) or match_names(
        given_name, family_name, master
    )
    if rule is None:
        return FindResult(ResponseCode.NO_MATCH)
    return FindResult(ResponseCode.MASTER_SUBSTITUTED, (FoundLearner(master, rule, master_substituted=True),))


def find_by_demographics(
    uow: UnitOfWork,
    caller: Caller,
    search: SearchKey,
    *,
    full: bool,
    possible_match_limit: int,
    now: datetime,
) -> FindResult:
    """Exact (WSRC0004), possible (WSRC0003), too many (WSRC0002) or none (WSRC0001).

    A retired ULN that matches is replaced by its master (MasterSubstituted); an exact match on a
    retired ULN answers WSRC0022. FUL searches are logged for the find-before-register rule.
    """
    result = lookup_by_demographics(uow, search, possible_match_limit)
    if full:
        uow.searches.record(caller.organisation_id, search_key_hash(search), result.code.value, now, deferred=True)
    found = result.learners[0].learner.uln if result.code in EXACT_FIND_CODES else None
    audit(uow, caller, "learnerByDemographics", found, result.code.value, now, find=True)
    uow.commit()
    return result


def lookup_by_demographics(
    uow: UnitOfWork, search: SearchKey, possible_match_limit: int, *, fresh: bool = False
) -> FindResult:
    """Find by demographics' answer, without the search log and the audit (batch jobs use it too)."""
    candidates = uow.learners.candidates_born_on(
        candidate_birth_dates(search.date_of_birth), names=name_codes(search.given_name, search.family_name), fresh=fresh
    )
    outcome = match(search, candidates, possible_match_limit)
    return _resolve(uow, outcome.outcome, outcome.matches, {c.uln: c for c in candidates})


def _resolve(
    uow: UnitOfWork,
    outcome: Outcome,
    matches: tuple[Match, ...],
    candidates: dict[str, MatchCandidate],
) -> FindResult:
    if outcome is Outcome.NONE:
        return FindResult(ResponseCode.NO_MATCH)
    if outcome is Outcome.TOO_MANY:
        return FindResult(ResponseCode.TOO_MANY_MATCHES)
    # Retired ULNs resolve to their masters; a master found twice is listed once.
    resolved: dict[str, tuple[MatchRule, bool]] = {}
    for m in matches:
        master = candidates[m.uln].master_uln
        uln, substituted = (master, True) if master else (m.uln, False)
        resolved.setdefault(uln, (m.rule, substituted))
    learners = {learner.uln: learner for learner in uow.learners.get_many(resolved)}
    found = tuple(
        FoundLearner(learners[uln], rule, substituted)
        for uln, (rule, substituted) in resolved.items()
        if uln in learners
    )
    if not found:
        return FindResult(ResponseCode.NO_MATCH)
    if outcome is Outcome.EXACT:
        code = ResponseCode.MASTER_SUBSTITUTED if found[0].master_substituted else ResponseCode.EXACT_MATCH
        return FindResult(code, found[:1])
    return FindResult(ResponseCode.POSSIBLE_MATCHES, found)



@dataclass(frozen=True)
class RetrievedUln:
    """What the register says of one ULN an MIS holds: current (WSRC0004, the learner), merged
    (WSRC0022, its master) or unknown (WSRC0001)."""

    uln: str
    code: ResponseCode
    learner: Learner | None = None  # the learner, or the master of a merged ULN


def retrieve_ulns(uow: UnitOfWork, caller: Caller, ulns: list[str], now: datetime) -> list[RetrievedUln]:
    """retrieveULNs: one answer per ULN sent, in the order sent (duplicates answered twice)."""
    known = {learner.uln: learner for learner in uow.learners.get_many(uln for uln in ulns if is_valid_uln(uln))}
    masters = {m.uln: m for m in uow.learners.get_many({found.master_uln for found in known.values() if found.master_uln})}
    answers = []
    for uln in ulns:
        learner = known.get(uln)
        if learner is None:
            answers.append(RetrievedUln(uln, ResponseCode.NO_MATCH))
        elif learner.is_retired:
            master = masters.get(learner.master_uln or "")
            code = ResponseCode.NO_MATCH if master is None else ResponseCode.MASTER_SUBSTITUTED
            answers.append(RetrievedUln(uln, code, master))
        else:
            answers.append(RetrievedUln(uln, ResponseCode.EXACT_MATCH, learner))
    counts = {code: sum(a.code is code for a in answers) for code in {a.code for a in answers}}
    outcome = ", ".join(f"{code.value} x{n}" for code, n in sorted(counts.items(), key=lambda item: item[0].value))
    audit(uow, caller, "retrieveULNs", ulns[0] if len(ulns) == 1 else None, outcome, now, find=True)
    uow.commit()
    return answers
