"""Register a learner for a new ULN, after a find (user guide: always search before you register)."""
from __future__ import annotations

import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lrs_ws.domain.codes import EXACT_FIND_CODES, ResponseCode
from lrs_ws.domain.learner import Learner, LearnerDetails, LearnerStatus
from lrs_ws.domain.matching import MatchRule, SearchKey, match, name_codes, search_key_hash
from lrs_ws.domain.rules import register_duplicate_key, tidy_details, validate_details
from lrs_ws.domain.uln import new_uln
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, UnitOfWork


@dataclass(frozen=True)
class RegisterResult:
    code: ResponseCode
    uln: str | None = None
    reason: str = ""  # why WSRC0021, for the audit and the logs


def register(
    uow: UnitOfWork,
    caller: Caller,
    details: LearnerDetails,
    *,
    now: datetime,
    find_window: timedelta,
    prohibited_words: Iterable[str],
    rng: random.Random,
    search_patience: float = 0,
) -> RegisterResult:
    """WSRC0005 with a new ULN, or WSRC0021. Invalid details raise InvalidField (nothing written).

    `search_patience`: seconds to wait for a search row still on its way (the search logs of
    finds are written a moment later, off the request: lrs_ws.adapters.deferred_writes)."""
    details = tidy_details(details)
    validate_details(details, now.date(), prohibited_words)
    key = register_duplicate_key(details)
    _wait_for_search(uow, caller, key, now, find_window, search_patience)
    lock_registration(uow, key)
    result = _check_register(uow, caller, key, now, find_window)
    if result is None:
        learner = issue_uln(uow, details, now, rng)
        result = RegisterResult(ResponseCode.LEARNER_REGISTERED, learner.uln)
    audit(uow, caller, "registerSingleLearner", result.uln, result.code.value, now)
    uow.commit()
    return result


def lock_registration(uow: UnitOfWork, key: SearchKey) -> None:
    """Two registrations of one learner at once (single or batch): the second waits here until
    the first commits, then sees it."""
    uow.lock(registration_lock(key))


def registration_lock(key: SearchKey) -> str:
    """The name of the lock a registration of these five key fields holds."""
    return f"register:{search_key_hash(key)}"


def issue_uln(uow: UnitOfWork, details: LearnerDetails, now: datetime, rng: random.Random) -> Learner:
    """Add the learner (tidied and validated details) to the register under a new ULN."""
    learner = Learner(
        **details.details(),
        uln=new_uln(rng, uow.learners.uln_exists),
        created_date=now.date(),
        last_updated_date=now.date(),
        version_number=1,
        learner_status=LearnerStatus.ACTIVE,
    )
    uow.learners.add(learner)
    return learner


def _searched(uow: UnitOfWork, caller: Caller, key: SearchKey, now: datetime, find_window: timedelta) -> bool:
    """Whether this organisation made a FUL search of these details, not answered exactly, in the window."""
    # In UTC: aware arithmetic in a local zone is wall-clock arithmetic, wrong across BST changes.
    since = now.astimezone(UTC) - find_window
    searches = uow.searches.recent(caller.organisation_id, search_key_hash(key), since)
    return any(code not in EXACT_FIND_CODES for code in searches)


def _wait_for_search(
    uow: UnitOfWork, caller: Caller, key: SearchKey, now: datetime, find_window: timedelta, patience: float
) -> None:
    """A register right after its search may arrive before the search's row (another server
    process writes it within its find log delay): look again for up to `patience` seconds,
    before this unit of work writes anything, so that the writer of that row is not kept out."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline and not _searched(uow, caller, key, now, find_window):
        uow.rollback()  # the next look reads what was committed since (SQLite WAL keeps a snapshot)
        time.sleep(_SEARCH_POLL_S)


_SEARCH_POLL_S = 0.02


def _check_register(
    uow: UnitOfWork, caller: Caller, key: SearchKey, now: datetime, find_window: timedelta
) -> RegisterResult | None:
    if not _searched(uow, caller, key, now, find_window):
        return RegisterResult(
            ResponseCode.REGISTRATION_REFUSED,
            reason="no FUL demographic search of these details by this organisation in the window",
        )
    exact = registered_with(uow, key)
    if exact:
        return RegisterResult(ResponseCode.REGISTRATION_REFUSED, reason=f"same key details as ULN {exact}")
    return None


def registered_with(uow: UnitOfWork, key: SearchKey, *, fresh: bool = False) -> str | None:
    """The ULN of a learner on the register with these five key fields, if any (the duplicate a
    registration must not make); `fresh`: whatever another writer committed meanwhile too."""
    names = name_codes(key.given_name, key.family_name)
    candidates = uow.learners.candidates_born_on({key.date_of_birth}, names=names, fresh=fresh)
    exact = [m for m in match(key, candidates, limit=len(candidates) + 1).matches if m.rule is MatchRule.EXACT]
    return exact[0].uln if exact else None
