"""Update a learner: optimistic locking on VersionNumber, privacy and name rules."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.errors import AbilityToShareRefused
from lrs_ws.domain.rules import decide_update
from lrs_ws.services.audit import record as audit
from lrs_ws.services.ports import Caller, UnitOfWork


def update(
    uow: UnitOfWork,
    caller: Caller,
    uln: str,
    version_number: int,
    sent: dict[str, object],
    *,
    now: datetime,
    prohibited_words: Iterable[str],
) -> ResponseCode:
    """`sent` holds the detail fields the MIS sent (absent = unchanged; None = cleared).

    WSRC0006 updated, WSRC0019 unknown ULN, WSRC0013 stale version, WSRC0014 AbilityToShare back
    to 0, WSRC0020 nothing changed. Invalid details raise InvalidField; nothing is written then.
    """
    code = _update(uow, uln, version_number, sent, now, prohibited_words)
    audit(uow, caller, "updateSingleLearner", uln, code.value, now)
    uow.commit()
    return code


def update_subset(
    uow: UnitOfWork,
    caller: Caller,
    uln: str,
    version_number: int,
    sent: dict[str, object],
    *,
    telephone_number: str | None = None,
    now: datetime,
    prohibited_words: Iterable[str],
) -> ResponseCode:
    """R9 UpdateLearnerSubsetFields: the same rules and version check as updateSingleLearner,
    for the few fields it carries (`sent`) and the telephone number (None: unchanged; '': cleared)."""
    code = _update(uow, uln, version_number, sent, now, prohibited_words, telephone_number=telephone_number)
    audit(uow, caller, "UpdateLearnerSubsetFields", uln, code.value, now)
    uow.commit()
    return code


def _update(
    uow: UnitOfWork,
    uln: str,
    version_number: int,
    sent: dict[str, object],
    now: datetime,
    prohibited_words: Iterable[str],
    *,
    telephone_number: str | None = None,
) -> ResponseCode:
    current = uow.learners.get(uln)
    # Our reading: a retired (merged) ULN is no longer updatable; the MIS must update its master.
    if current is None or current.is_retired:
        return ResponseCode.ULN_NOT_FOUND
    if version_number != current.version_number:
        return ResponseCode.VERSION_STALE
    update = decide_update(current, sent, now.date(), prohibited_words)
    if isinstance(update.refusal, AbilityToShareRefused):
        return ResponseCode.INVALID_ABILITY_TO_SHARE_CHANGE
    if update.refusal is not None:
        raise update.refusal
    updated, changed = update.learner, list(update.changed)
    telephone = None if telephone_number is None else (telephone_number.strip() or None)
    if telephone_number is not None and telephone != current.telephone_number:
        updated.telephone_number = telephone
        if not changed:  # the one change: it moves the version on like any other
            updated.version_number, updated.last_updated_date = current.version_number + 1, now.date()
        changed = [*changed, "telephone_number"]
    if not changed:
        return ResponseCode.NO_CHANGES
    # The conditional write catches a concurrent update between our read and this write.
    if not uow.learners.update(updated, expected_version=current.version_number):
        return ResponseCode.VERSION_STALE
    return ResponseCode.LEARNER_UPDATED
