"""Every transaction is attributed to its organisation and user and recorded (user guide, roles)."""
from __future__ import annotations

from datetime import datetime

from lrs_ws.services.ports import Caller, UnitOfWork


def record(
    uow: UnitOfWork, caller: Caller, operation: str, uln: str | None, outcome: str, now: datetime, *, find: bool = False
) -> None:
    """The audit row of a request. A `find` (it changes nothing) may be written a moment later,
    off the request (our reading: docs/our-readings.md, "Audit")."""
    uow.audit.record(
        deferred=find,
        at=now,
        organisation_id=caller.organisation_id,
        username=caller.username,
        operation=operation,
        uln=uln,
        outcome=outcome,
        address=caller.address or None,
    )
