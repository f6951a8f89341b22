"""Hooks around every SOAP call on either service.

A before-hook sees the call (:class:`SoapCall`) once the screening has read it, and may answer
instead of the service (:class:`EarlyAnswer`, e.g. ``call.fault(...)``) or have the connection
dropped without any answer (:data:`DROP`); the first hook that does so wins. An after-hook sees
the call and its outcome (:class:`SoapOutcome`) and observes only. Screening refusals are calls
too (their operation is None when the screening did not get as far as the request element).

Hooks run in the request's thread, in the order they were added. One that raises is logged and
passed over: it never changes the answer. With none added the endpoints take their fast path
(no call object, no clock read).

Passwords: ``caller`` holds none; only ``raw_request`` (the bytes as sent) does, and no repr()
shows those bytes, so that logging a call or an outcome logs no password.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from lxml import etree

from lrs_ws.domain.codes import ErrorCode
from lrs_ws.web.answers import Answer, status_line

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CallerAsSent:
    """Who the request says it comes from, unchecked (no password)."""

    ukprn: str | None
    organisation_ref: str | None
    username: str | None


class SoapCall:
    """One SOAP call, as the hooks see it."""

    def __init__(
        self,
        *,
        endpoint: str,
        operation: str | None,
        raw_request: bytes,
        client_address: str,
        request: etree._Element | None,
        soap_action: str | None = None,
        read_caller: Callable[[etree._Element], CallerAsSent],
        fault: Callable[[ErrorCode, str], Answer],
    ) -> None:
        self.endpoint = endpoint  # the service's path: /LearnerService.svc, /LearnerServiceR9.svc
        self.operation = operation  # learnerByULN, GetLearnerLearningEvents...; None: not found
        self.raw_request = raw_request  # as sent, password included: mask it before keeping it
        self.client_address = client_address
        self.soap_action = soap_action  # the SOAPAction header as sent (dispatch ignores it)
        self._request = request
        self._read_caller = read_caller
        self._fault = fault

    @cached_property
    def caller(self) -> CallerAsSent | None:
        """The caller as the request names it; None when the request could not be read."""
        return None if self._request is None else self._read_caller(self._request)

    def fault(self, code: ErrorCode, detail: str) -> EarlyAnswer:
        """A fault of this service's kind (MIAPAPIException or DomainFault), to answer early."""
        status, headers, body = self._fault(code, detail)
        return EarlyAnswer(int(status.partition(" ")[0]), headers, body, code=code.value, fault=True)

    def __repr__(self) -> str:
        return f"SoapCall({self.endpoint} {self.operation} from {self.client_address}, {len(self.raw_request)} bytes)"


@dataclass(frozen=True)
class EarlyAnswer:
    """What a before-hook answers instead of the service: any status, headers and body (an empty
    body for a bare HTTP status); `code` and `fault` are what the after-hooks see of it."""

    status: int
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = field(default=b"", repr=False)
    code: str | None = None
    fault: bool = False

    def answer(self) -> Answer:
        if any(name.lower() == "content-length" for name, _ in self.headers):
            return Answer(status_line(self.status), list(self.headers), self.body)
        return Answer(status_line(self.status), [*self.headers, ("Content-Length", str(len(self.body)))], self.body)


class Drop:
    """A before-hook's answer: close the connection without answering anything."""

    def __repr__(self) -> str:
        return "DROP"


DROP = Drop()


@dataclass(frozen=True)
class SoapOutcome:
    """How a call ended, as the after-hooks see it."""

    status: int | None  # the HTTP status; None: the connection was dropped unanswered
    code: str | None  # the answer's ResponseCode or the fault's ErrorCode, where one is known
    fault: bool
    answered_by: str  # "service", "screening" (refused before the service) or "hook"
    duration: float  # seconds, from the request reaching its endpoint to its answer
    raw_response: bytes = field(repr=False)


BeforeHook = Callable[[SoapCall], EarlyAnswer | Drop | None]
AfterHook = Callable[[SoapCall, SoapOutcome], object]


class SoapHooks:
    """The hooks of both services. Adding and removing is safe while requests are served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Tuples, replaced whole: a request iterates the hooks of one moment without a lock.
        self._before: tuple[BeforeHook, ...] = ()
        self._after: tuple[AfterHook, ...] = ()

    def __bool__(self) -> bool:
        return bool(self._before or self._after)

    def before(self, hook: BeforeHook) -> BeforeHook:
        """Add a before-hook (usable as a decorator)."""
        with self._lock:
            self._before = (*self._before, hook)
        return hook

    def after(self, hook: AfterHook) -> AfterHook:
        """Add an after-hook (usable as a decorator)."""
        with self._lock:
            self._after = (*self._after, hook)
        return hook

    def remove(self, hook: BeforeHook | AfterHook) -> None:
        with self._lock:
            self._before = tuple(h for h in self._before if h is not hook)
            self._after = tuple(h for h in self._after if h is not hook)

    def run_before(self, call: SoapCall) -> EarlyAnswer | Drop | None:
        for hook in self._before:
            try:
                early = hook(call)
            except Exception:
                log.exception("a before-hook failed on %r; the call goes on", call)
                continue
            if early is not None:
                return early
        return None

    def run_after(self, call: SoapCall, outcome: SoapOutcome) -> None:
        for hook in self._after:
            try:
                hook(call, outcome)
            except Exception:
                log.exception("an after-hook failed on %r", call)

