"""The request journal: every SOAP call, kept off the request path.

:class:`JournalRecorder` is an after-hook of the front (lrs_ws.web.hooks): it queues what it sees
and a thread of the process writes the queue every `delay` seconds in one transaction, as the
find logs are written (lrs_ws.adapters.deferred_writes). Before anything is kept, passwords are
masked (lrs_ws.sandbox.masking); then each entry gets its problem in words: the fault's own
words for a refused call (the field and rule of a WSEC0001, the credential check that failed),
and for a learnerByDemographics that found nobody or only possible matches the near misses
(lrs_ws.domain.near_misses). Times are the sandbox clock's.
"""
from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from lrs_ws.background import BatchWriter
from lrs_ws.clock import SYSTEM_CLOCK, Clock
from lrs_ws.contract import request_parser
from lrs_ws.contract.namespaces import EXCEPTIONS, FINDMSG, QCF_FAULTS, SOAP_ENV
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.near_misses import near_misses, why_not_found_by_uln
from lrs_ws.domain.rules import calendar_date
from lrs_ws.sandbox.masking import masked
from lrs_ws.services.ports import JournalEntry, UnitOfWork
from lrs_ws.services.sandbox import JOURNAL_LOCK, ClockSetting, clock_setting, journal_cleared_at
from lrs_ws.web.hooks import SoapCall, SoapOutcome

log = logging.getLogger(__name__)
MAX_PENDING = 10_000  # entries queued while the database is away; beyond, the oldest are dropped
# What the journal says for a search that found nobody, or only possible matches.
_SEARCH_OUTCOMES = {"WSRC0001": "no learner matched all five key fields", "WSRC0003": "only possible matches, no exact one"}


@dataclass(frozen=True)
class _Seen:
    """A call as the hook saw it, until the writer keeps it."""

    real_at: datetime
    call: SoapCall
    outcome: SoapOutcome
    soap_action: str | None
    fault_id: int | None


class JournalRecorder:
    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        *,
        keep: int,
        delay: float = 0.2,
        real: Clock = SYSTEM_CLOCK,
        planted: Callable[[SoapCall], int | None] = lambda call: None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.keep = keep
        self.real = real
        self.planted = planted  # the planted fault that answered a call, if one did
        self.writer: BatchWriter[_Seen] = BatchWriter(self._write, delay, name="sandbox journal entries", max_pending=MAX_PENDING, log=log)

    def __call__(self, call: SoapCall, outcome: SoapOutcome) -> None:
        """The after-hook: queue the call; nothing is parsed or written here."""
        self.writer.add(_Seen(self.real.now(), call, outcome, call.soap_action, self.planted(call)))

    def flush(self) -> int:
        """Keep every queued call now, in one transaction; how many (0 when the database is away:
        they stay queued)."""
        return self.writer.flush()

    def _write(self, seen: list[_Seen]) -> None:
        with self.unit_of_work() as uow:
            uow.lock(JOURNAL_LOCK)  # an emptying of the journal is either all before this write or all after it
            setting, cleared = clock_setting(uow), journal_cleared_at(uow)
            kept = [one for one in seen if cleared is None or one.real_at >= cleared]
            entries = [self._entry(uow, one, _sandbox_time(one.real_at, setting)) for one in kept]
            uow.sandbox.record_requests(entries, self.keep)
            uow.commit()

    def _entry(self, uow: UnitOfWork, seen: _Seen, at: datetime) -> JournalEntry:
        call, outcome = seen.call, seen.outcome
        caller = call.caller
        problem, misses = _problem(uow, call, outcome, seen.fault_id)
        return JournalEntry(
            id=None, at=at, endpoint=call.endpoint, operation=call.operation or "(none)", soap_action=seen.soap_action,
            ukprn=caller.ukprn or caller.organisation_ref if caller else None, user=caller.username if caller else None,
            outcome=outcome.code or ("dropped" if outcome.status is None else str(outcome.status)),
            http_status=outcome.status or 0, duration_ms=round(outcome.duration * 1000, 3),
            request=masked(call.raw_request), response=outcome.raw_response.decode("utf-8", "replace"),
            problem=problem, near_misses=misses, fault_id=seen.fault_id,
        )


def _sandbox_time(real_at: datetime, setting: ClockSetting | None) -> datetime:
    """When a call came, by the sandbox's clock: a call from before the clock was set keeps the
    host's time."""
    return real_at if setting is None or real_at < setting.set_at else setting.now(real_at)


NearMisses = tuple[dict[str, object], ...]  # {"uln", "differences"} each


def _problem(uow: UnitOfWork, call: SoapCall, outcome: SoapOutcome, fault_id: int | None) -> tuple[str | None, NearMisses]:
    """The reason in words, and the near misses of a search that found nobody exactly."""
    if fault_id is not None:
        what = "dropped the connection" if outcome.status is None else f"answered {outcome.code or outcome.status}"
        return f"planted fault {fault_id} {what}", ()
    if outcome.fault:
        return _fault_words(outcome.raw_response) or outcome.code, ()
    if call.operation == "learnerByDemographics" and outcome.code in _SEARCH_OUTCOMES:
        search = _search_sent(call.raw_request)
        if search is None:
            return _SEARCH_OUTCOMES[outcome.code], ()
        misses = near_misses(search, uow.sandbox.near_candidates(search))
        shown: NearMisses = tuple({"uln": miss.uln, "differences": list(miss.differences)} for miss in misses)
        nearest = "; ".join(f"{miss.uln}: {', '.join(miss.differences) or 'all five agree'}" for miss in misses)
        return f"{_SEARCH_OUTCOMES[outcome.code]}; nearest: {nearest or 'nobody on the register is near'}", shown
    if call.operation == "learnerByULN" and outcome.code in _SEARCH_OUTCOMES:
        sent = _uln_find_sent(call.raw_request)
        if sent is None:
            return _SEARCH_OUTCOMES[outcome.code], ()
        held = uow.learners.get(sent[0])
        return why_not_found_by_uln(*sent, None if held is None else (held.given_name, held.family_name)), ()
    return None, ()


def _in_body(message: bytes, tag: str) -> etree._Element | None:
    """The element `tag` in the SOAP Body of a request or answer as kept, if it is there."""
    try:
        body = etree.fromstring(message, request_parser()).find(f"{{{SOAP_ENV}}}Body")
    except etree.XMLSyntaxError:
        return None
    return body.find(tag) if body is not None else None


def _fault_words(response: bytes) -> str | None:
    """The code and further details of a fault, either kind."""
    fault = _in_body(response, f"{{{SOAP_ENV}}}Fault")
    if fault is None:
        return None
    miap = fault.find(f"detail/{{{EXCEPTIONS}}}MIAPAPIException")
    if miap is not None:
        return f"{miap.findtext('ErrorCode')}: {miap.findtext('FurtherDetails') or miap.findtext('Description')}"
    domain = fault.find(f"detail/{{{QCF_FAULTS}}}DomainFault")
    if domain is not None:
        detail = base64.b64decode(domain.findtext(f"{{{QCF_FAULTS}}}ErrorDetail") or "").decode("utf-8", "replace")
        return f"{domain.findtext(f'{{{QCF_FAULTS}}}ErrorCode')}: {detail}"
    return fault.findtext("faultstring")


def _uln_find_sent(request: bytes) -> tuple[str, str, str] | None:
    """(ULN, GivenName, FamilyName) of a FindLearnerByULN."""
    find = _in_body(request, f"{{{FINDMSG}}}FindLearnerByULN")
    if find is None:
        return None
    return (find.findtext("ULN") or "").strip(), find.findtext("GivenName") or "", find.findtext("FamilyName") or ""


def _search_sent(request: bytes) -> SearchKey | None:
    search = _in_body(request, f"{{{FINDMSG}}}FindLearnerByDemographics")
    if search is None:
        return None
    try:
        return SearchKey(
            search.findtext("GivenName") or "", search.findtext("FamilyName") or "",
            calendar_date("DateOfBirth", search.findtext("DateOfBirth") or ""),
            search.findtext("Gender") or "", search.findtext("LastKnownPostCode") or "",
        )
    except InvalidField:  # a date the service refused anyway: no near misses to give
        return None
