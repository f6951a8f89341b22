"""The one place where a SOAP method authenticates its caller and turns errors into faults.

Both services call :func:`call` with the credentials they read from their own request shape;
the fault kind (MIAPAPIException or DomainFault) is the endpoint's, set on the spyne
application by :class:`lrs_ws.web.spyne_service.SpyneService` (``ctx.app.fault_kind``).
"""
from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import TypeVar

from spyne import Fault

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.roles import Operation
from lrs_ws.runtime import Runtime
from lrs_ws.services.auth import (
    AccessDenied,
    Credentials,
    authenticate,
    forget_failed_sign_ins,
    record_refusal,
)
from lrs_ws.services.ports import Caller, DatabaseUnavailable, UnitOfWork
from lrs_ws.soap.faults import MIAP, FaultKind

log = logging.getLogger(__name__)
# How many statements each operation's use case writes itself, where that is known and small:
# finds change nothing (what they log goes to the deferred writes: services.audit.record(find=True));
# a PLR read (GetLearnerLearningEvents, ViewAudit) writes its audit row. See SqlUnitOfWork.
WRITE_LIMITS = {Operation.FIND: 0, Operation.LOOK_UP_ORGANISATION: 0, Operation.READ_PLR: 1}
T = TypeVar("T")


def fault_kind(ctx) -> FaultKind:
    return getattr(ctx.app, "fault_kind", MIAP)


def call(
    ctx,
    operation: Operation,
    credentials: Credentials,
    use_case: Callable[[UnitOfWork, Caller, Runtime], T],
    field_path: str = "",
) -> T:
    """Authenticate for `operation`, run `use_case` in one unit of work, map errors to faults.

    AccessDenied -> its WSEC code (0003, 0005, 0006); InvalidField -> WSEC0001 naming the field
    as the schema errors do (`Learner/DateOfBirth: ...`, with `field_path` the element holding
    the domain's fields); an outage -> WSEC0999; anything unexpected -> WSEC0999 without
    internals (logged here). Refusals are audited in a unit of work of their own, since the
    request's own rolls back; a wrong password also counts towards the sign-in backoff.
    """
    runtime: Runtime = ctx.app.runtime
    kind = fault_kind(ctx)
    credentials = dataclasses.replace(credentials, address=_client_address(ctx))
    now = None  # the request's time, read from its unit of work's clock
    caller: Caller | None = None
    try:
        with runtime.unit_of_work(write_limit=WRITE_LIMITS.get(operation)) as uow:
            now = uow.clock.now()
            caller = authenticate(uow, credentials, operation, now=now)
            return use_case(uow, caller, runtime)
    except AccessDenied as denied:
        assert now is not None  # only a unit of work that opened refuses
        _record_refusal(ctx, credentials, denied.organisation_id, denied.outcome, now, denied)
        raise kind.exception(denied.code, denied.detail, now) from None
    except InvalidField as invalid:
        assert now is not None
        detail = f"{field_path}{invalid.field}: {invalid.reason}"
        if caller is not None:
            _record_refusal(ctx, credentials, caller.organisation_id, f"{ErrorCode.INVALID_REQUEST.value} {detail}", now)
        raise kind.exception(ErrorCode.INVALID_REQUEST, detail, now) from None
    except Fault:
        raise
    except DatabaseUnavailable as unavailable:  # an outage, not a bug: one line, no traceback
        log.warning("%s refused: %s", operation.value, unavailable)
        message = "The service is unavailable; try again later."
        raise kind.exception(ErrorCode.UNEXPECTED_ERROR, message, now or runtime.clock.now()) from None
    except Exception:
        log.exception("unexpected error in %s", operation.value)
        message = "The request could not be completed."
        raise kind.exception(ErrorCode.UNEXPECTED_ERROR, message, now or runtime.clock.now()) from None
    finally:
        if caller is not None and caller.failed_sign_ins:
            _forget_failed_sign_ins(runtime, caller)


def _forget_failed_sign_ins(runtime: Runtime, caller: Caller) -> None:
    try:
        with runtime.unit_of_work() as uow:
            forget_failed_sign_ins(uow, caller)
    except Exception as error:  # the count stays; the next correct password clears it
        log.warning("could not clear the failed sign-ins of %s: %s", caller.address, error)


def _client_address(ctx) -> str:
    environ = getattr(getattr(ctx, "transport", None), "req_env", None) or {}
    return environ.get("REMOTE_ADDR", "")


def _record_refusal(
    ctx, credentials: Credentials, organisation_id: int | None, outcome: str, now, denied: AccessDenied | None = None
) -> None:
    runtime: Runtime = ctx.app.runtime
    try:
        with runtime.unit_of_work() as uow:
            record_refusal(
                uow,
                operation=ctx.descriptor.operation_name or ctx.descriptor.name,
                credentials=credentials,
                organisation_id=organisation_id,
                outcome=outcome,
                now=now,
                wrong_password=denied is not None and denied.wrong_password,
                forget_failed_sign_ins=denied is not None and denied.forget_failed_sign_ins,
                backoff=runtime.backoff,
            )
    except Exception as error:  # the refusal stands; only its record is lost (say so)
        log.warning("could not record a refused request (%s): %s", outcome, error)
