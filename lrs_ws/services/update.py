"""Update a learner: optimistic locking on VersionNumber, privacy and name rules."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.rules import ability_to_share_change_allowed, apply_update, validate_details
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


def _update(
    uow: UnitOfWork,
    uln: str,
    version_number: int,
    sent: dict[str, object],
    now: datetime,
    prohibited_words: Iterable[str],
) -> ResponseCode:
    current = uow.learners.get(uln)
    # Our reading: a retired (merged) ULN is no longer updatable; the MIS must update its master.
    if current is None or current.is_retired:
        return ResponseCode.ULN_NOT_FOUND
    if version_number != current.version_number:
        return ResponseCode.VERSION_STALE
    new_share = sent.get("ability_to_share")
    if new_share is not None and not ability_to_share_change_allowed(current.ability_to_share, str(new_share)):
        return ResponseCode.INVALID_ABILITY_TO_SHARE_CHANGE
    updated, changed = apply_update(current, sent, now.date())
    validate_details(updated, now.date(), prohibited_words, changed=changed)
    if not changed:
        return ResponseCode.NO_CHANGES
    # The conditional write catches a concurrent update between our read and this write.
    if not uow.learners.update(updated, expected_version=current.version_number):
        return ResponseCode.VERSION_STALE
    return ResponseCode.LEARNER_UPDATED
