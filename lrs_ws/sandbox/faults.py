"""Planted faults on real operations: a before-hook of the front (lrs_ws.web.hooks).

Each SOAP call looks at the planted faults as its process sees them (a moment old at most:
lrs_ws.adapters.sandbox.SandboxState); one that may answer it (its operation or "*", its
organisation or any, its draw) is taken in the database, so a fault planted through one process
fires in every process, exactly as many times as asked. Then: `delay` sleeps and lets the
service answer; `fault` answers the operation's own SOAP fault; `http` a bare status with an
empty body; `drop` closes the connection without any answer.
"""
from __future__ import annotations

import logging
import random
import secrets
import time
from collections.abc import Callable

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.services import sandbox
from lrs_ws.services.ports import PlantedFault, PlantedFaultKind, UnitOfWork
from lrs_ws.web.hooks import DROP, Drop, EarlyAnswer, SoapCall

log = logging.getLogger(__name__)


class FaultPlanter:
    def __init__(
        self, unit_of_work: Callable[[], UnitOfWork], planted: Callable[[], list[PlantedFault]], rng: random.Random | None = None
    ) -> None:
        self.unit_of_work = unit_of_work
        self.planted_faults = planted  # as this process sees them (a moment old at most)
        self.rng = rng or secrets.SystemRandom()
        self.fired: dict[int, int] = {}  # id(call) -> the fault that answered it, for the journal

    def __call__(self, call: SoapCall) -> EarlyAnswer | Drop | None:
        """The before-hook: no query unless a planted fault may answer the call."""
        if call.operation is None:
            return None  # refused by the screening: no operation to fault
        planted = self.planted_faults()
        if not planted:
            return None  # the usual case: nothing to look at, not even the caller
        caller = call.caller
        ukprn = caller.ukprn if caller else None
        candidates = sandbox.matching_faults(planted, call.operation, ukprn)
        if not candidates:
            return None
        with self.unit_of_work() as uow:
            fault = sandbox.fault_for(uow, call.operation, ukprn, self.rng, planted=candidates)
        if fault is None or fault.id is None:
            return None
        self.fired[id(call)] = fault.id
        if fault.kind is PlantedFaultKind.DELAY:
            time.sleep(fault.seconds or 0)
            return None
        if fault.kind is PlantedFaultKind.FAULT:
            return call.fault(ErrorCode(fault.code or ErrorCode.UNEXPECTED_ERROR.value), f"planted fault {fault.id}")
        if fault.kind is PlantedFaultKind.HTTP:
            return EarlyAnswer(fault.status or 503, (), b"", code=str(fault.status))
        return DROP

    def planted(self, call: SoapCall) -> int | None:
        """The fault that answered (or delayed) `call`, once; for the journal's after-hook."""
        return self.fired.pop(id(call), None)
