"""Sandbox mode's use cases: reset to a baseline, isolated organisations, planted learners,
planted faults, the sandbox clock, the request journal and the scenario catalogue.

Everything is kept in the database (uow.sandbox), so every server and worker process of one
register sees the same. The rules are the service's own: a planted learner passes
registerSingleLearner's rules, an organisation's credentials are made as `lrs-ws org add` makes
them. Entry points (the JSON API, the command line) parse their input and call these.
"""
from __future__ import annotations

import random
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from lrs_ws.clock import UK, Clock
from lrs_ws.domain.codes import ErrorCode
from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.learner import DATE_FIELDS, DETAIL_FIELDS, FIELD_NAMES, Learner, LearnerStatus
from lrs_ws.domain.passwords import hash_password
from lrs_ws.domain.roles import Role
from lrs_ws.domain.rules import calendar_date, details_to_register, validate_details
from lrs_ws.domain.uln import is_valid_uln, new_uln
from lrs_ws.services.plr_import import event_from_values, event_values
from lrs_ws.services.ports import (
    JournalEntry,
    JournalFilter,
    Organisation,
    PlantedFault,
    PlantedFaultKind,
    UnitOfWork,
    User,
)

CLOCK = "clock"  # the setting that holds the sandbox clock
BASELINE = "baseline"  # the setting that says when the baseline was marked
# The host's time the journal was last emptied: a call from before it, still on its way to the
# journal (entries are written a moment later, by each process), is not kept.
JOURNAL_CLEARED = "journal_cleared"
# Held by whoever empties the journal and by each journal write, from the start of their
# transactions: a write that read the old "cleared" time cannot then land after the emptying.
JOURNAL_LOCK = "sandbox-journal"
JOURNAL_LIMIT = 1000  # at most this many journal entries in one answer
MAX_FAULT_TIMES = 1_000_000  # a fault for more calls than this is one "until deleted" (null)


class SandboxRefused(Exception):
    """Input that breaks a rule: `field` names it as the caller sent it (learners[2].DateOfBirth)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --------------------------------------------------------------------------- reset and baseline


def mark_baseline(uow: UnitOfWork, now: datetime) -> int:
    """What a reset will put back from now on: the register as it is; how many rows."""
    rows = uow.sandbox.mark_baseline()
    uow.sandbox.put_setting(BASELINE, {"at": now.isoformat(), "rows": rows})
    uow.commit()
    return rows


def reset(uow: UnitOfWork, real: Clock) -> int:
    """The register as at the baseline; the journal, faults and clock emptied. How many rows."""
    uow.lock(JOURNAL_LOCK)
    try:
        rows = uow.sandbox.restore_baseline()
    except LookupError as none:
        raise SandboxRefused("baseline", str(none)) from None
    _journal_cleared(uow, real)
    uow.commit()
    return rows


# --------------------------------------------------------------------------- organisations


@dataclass(frozen=True)
class NewOrganisation:
    ukprn: str
    organisation_ref: str
    password: str
    users: tuple[tuple[str, frozenset[Role]], ...]  # (name, roles), as the demo organisation's


def new_organisation(uow: UnitOfWork, name: str | None, users: list[Mapping[str, Any]], rng: random.Random) -> NewOrganisation:
    """An organisation of its own, for a test suite: a fresh UKPRN and OrganisationRef, a new
    password, and the users given (the demo's: online, viewonly, batch, super)."""
    ukprn = _fresh(rng, lambda: "1" + "".join(rng.choices(string.digits, k=7)), uow.organisations.by_ukprn)
    reference = _fresh(rng, lambda: "".join(rng.choices(string.ascii_uppercase + string.digits, k=6)), uow.organisations.by_reference)
    password = "".join(rng.choices(string.ascii_letters + string.digits, k=16))
    organisation = uow.organisations.add(
        Organisation(id=None, name=name or f"Sandbox organisation {ukprn}", ukprn=ukprn, organisation_ref=reference,
                     password_hash=hash_password(password))
    )
    assert organisation.id is not None
    made = []
    for user in users:
        roles = frozenset(Role(role) for role in user["roles"])
        uow.organisations.add_user(User(id=None, organisation_id=organisation.id, username=user["username"], roles=roles))
        made.append((str(user["username"]), roles))
    uow.commit()
    return NewOrganisation(ukprn, reference, password, tuple(made))


def _fresh(rng: random.Random, draw: Any, taken: Any) -> str:
    for _ in range(1000):
        value = draw()
        if taken(value) is None:
            return str(value)
    raise RuntimeError("no free organisation identifier found in 1,000 draws")


# --------------------------------------------------------------------------- planted learners


def plant_learners(
    uow: UnitOfWork, learners: list[Mapping[str, Any]], *, prohibited_words: tuple[str, ...], rng: random.Random
) -> list[str]:
    """Put learners on the register as registerSingleLearner would (its rules, no search first):
    each given as LearnerToRegister's wire names, optionally with `ULN` (valid and unused, else one
    is issued), `linked_to` (a master ULN: this one is retired into it) and `events` (learning
    events as the PLR import takes them). All or nothing; the ULNs in order."""
    now = uow.clock.now()
    planted: list[str] = []
    for index, sent in enumerate(learners):
        where = f"learners[{index}]"
        learner = _planted_learner(uow, sent, where, now, prohibited_words, rng, taken=set(planted))
        uow.learners.add(learner)
        planted.append(learner.uln)
        events = sent.get("events") or []
        if not isinstance(events, list):
            raise SandboxRefused(f"{where}.events", "must be a list of learning events")
        _plant_events(uow, learner.uln, events, where, now)
    uow.commit()
    return planted


_PLANT_KEYS = {"ULN", "linked_to", "events"}


def _planted_learner(
    uow: UnitOfWork, sent: Mapping[str, Any], where: str, now: datetime, prohibited: tuple[str, ...], rng: random.Random,
    taken: set[str],
) -> Learner:
    unknown = sorted(set(sent) - set(FIELD_NAMES) - _PLANT_KEYS)
    if unknown:
        raise SandboxRefused(f"{where}.{unknown[0]}", "is not a field of LearnerToRegister (nor ULN, linked_to, events)")
    values: dict[str, object] = {}
    for wire, text in sent.items():
        field = FIELD_NAMES.get(wire)
        if field not in DETAIL_FIELDS or text is None:
            continue
        if not isinstance(text, str):
            raise SandboxRefused(f"{where}.{wire}", "must be a string")
        try:
            values[field] = calendar_date(wire, text) if field in DATE_FIELDS and text.strip() else text
        except InvalidField as invalid:
            raise SandboxRefused(f"{where}.{invalid.field}", invalid.reason) from None
    details = details_to_register(values)
    try:
        validate_details(details, now.date(), prohibited)
    except InvalidField as invalid:
        raise SandboxRefused(f"{where}.{invalid.field}", invalid.reason) from None
    uln = sent.get("ULN")
    if uln is None:
        uln = new_uln(rng, lambda candidate: candidate in taken or uow.learners.uln_exists(candidate))
    elif not isinstance(uln, str) or not is_valid_uln(uln):
        raise SandboxRefused(f"{where}.ULN", f"{uln!r} is not a valid ULN (ten digits with its check digit)")
    elif uln in taken or uow.learners.uln_exists(uln):
        raise SandboxRefused(f"{where}.ULN", f"{uln} is already issued")
    learner = Learner(
        **details.details(), uln=uln, created_date=now.date(), last_updated_date=now.date(),
        version_number=1, learner_status=LearnerStatus.ACTIVE,
    )
    master = sent.get("linked_to")
    if master is not None:
        held = uow.learners.get(master) if isinstance(master, str) else None
        if held is None or held.is_retired:
            raise SandboxRefused(f"{where}.linked_to", f"{master!r} is not a ULN of an active learner on the register")
        learner = replace(learner, learner_status=LearnerStatus.RETIRED, master_uln=master)
    return learner


def _plant_events(uow: UnitOfWork, uln: str, events: list[Any], where: str, now: datetime) -> None:
    planted = []
    for number, row in enumerate(events):
        at = f"{where}.events[{number}]"
        if not isinstance(row, dict):
            raise SandboxRefused(at, "must be an object of LearningEvent fields")
        try:
            values = event_values({**row, "ULN": uln})
        except ValueError as unknown:
            raise SandboxRefused(at, str(unknown)) from None
        event, problems = event_from_values(number, values, now)
        if event is None:
            raise SandboxRefused(f"{at}.{problems[0].field}", problems[0].reason)
        planted.append(event)
    if planted:
        uow.events.add_many(planted)


# --------------------------------------------------------------------------- planted faults


FAULT_CODES = frozenset(code.value for code in ErrorCode)


def plant_fault(uow: UnitOfWork, fault: PlantedFault) -> int:
    """Check a fault's fields against its kind and keep it; its id."""
    kind = fault.kind
    if kind is PlantedFaultKind.DELAY and (fault.seconds is None or not 0 < fault.seconds <= 300):
        raise SandboxRefused("seconds", "a delay needs seconds, more than 0 and at most 300")
    if kind is PlantedFaultKind.FAULT:
        fault = replace(fault, code=fault.code or ErrorCode.UNEXPECTED_ERROR.value)
        if fault.code not in FAULT_CODES:
            raise SandboxRefused("code", f"{fault.code!r} is not a fault code ({', '.join(sorted(FAULT_CODES))})")
    if kind is PlantedFaultKind.HTTP and (fault.status is None or not 400 <= fault.status <= 599):
        raise SandboxRefused("status", "an http fault needs a status from 400 to 599")
    if fault.times is not None and not 1 <= fault.times <= MAX_FAULT_TIMES:
        raise SandboxRefused("times", f"must be from 1 to {MAX_FAULT_TIMES:,}, or null (until deleted)")
    if not 0 <= fault.probability <= 1:
        raise SandboxRefused("probability", "must be from 0 to 1")
    fault_id = uow.sandbox.add_fault(fault)
    uow.commit()
    return fault_id


def matching_faults(faults: list[PlantedFault], operation: str, ukprn: str | None) -> list[PlantedFault]:
    """The planted faults that may answer a call of `operation` naming `ukprn`, in the order planted."""
    return [
        fault for fault in faults
        if fault.operation in ("*", operation) and (fault.ukprn is None or fault.ukprn == ukprn)
    ]


def fault_for(
    uow: UnitOfWork, operation: str, ukprn: str | None, rng: random.Random, planted: list[PlantedFault] | None = None
) -> PlantedFault | None:
    """The planted fault that answers this call, if one does (its firing taken): the first that
    matches (`matching_faults`) and wins its draw. `planted`: the faults as the process sees them
    (else read now)."""
    for fault in matching_faults(uow.sandbox.faults() if planted is None else planted, operation, ukprn):
        if fault.probability < 1 and rng.random() >= fault.probability:
            continue
        if uow.sandbox.take_fault(fault.id or 0):
            uow.commit()
            return fault
    return None


# --------------------------------------------------------------------------- the clock


@dataclass(frozen=True)
class ClockSetting:
    at: datetime  # aware: the sandbox time when it was set
    frozen: bool
    set_at: datetime  # aware: the host's time when it was set

    def now(self, real_now: datetime) -> datetime:
        return self.at if self.frozen else self.at + (real_now - self.set_at)

    def as_setting(self) -> dict[str, object]:
        return {"at": self.at.isoformat(), "frozen": self.frozen, "set_at": self.set_at.isoformat()}

    @classmethod
    def from_setting(cls, value: Mapping[str, object]) -> ClockSetting:
        return cls(datetime.fromisoformat(str(value["at"])), bool(value["frozen"]), datetime.fromisoformat(str(value["set_at"])))


def set_clock(uow: UnitOfWork, at: datetime, frozen: bool, real: Clock) -> ClockSetting:
    """From now on every process tells this time (frozen: it stands still; else it runs on).
    A time without a zone is UK time."""
    setting = ClockSetting(at if at.tzinfo is not None else at.replace(tzinfo=UK), frozen, real.now())
    uow.sandbox.put_setting(CLOCK, setting.as_setting())
    uow.commit()
    return setting


def clear_clock(uow: UnitOfWork) -> None:
    uow.sandbox.put_setting(CLOCK, None)
    uow.commit()


def clock_setting(uow: UnitOfWork) -> ClockSetting | None:
    found = uow.sandbox.setting(CLOCK)
    return None if found is None else ClockSetting.from_setting(found)


def register_time(uow: UnitOfWork, real: Clock) -> tuple[datetime, ClockSetting | None]:
    """The time the register tells now, by the clock setting as stored (a process's own view may
    be a moment old), and that setting (None: the host's time)."""
    setting = clock_setting(uow)
    real_now = real.now()
    return (real_now if setting is None else setting.now(real_now)), setting


# --------------------------------------------------------------------------- the journal


def journal(uow: UnitOfWork, where: JournalFilter) -> list[JournalEntry]:
    return uow.sandbox.requests(replace(where, limit=max(1, min(where.limit, JOURNAL_LIMIT))))


def journal_entry(uow: UnitOfWork, entry_id: int) -> JournalEntry | None:
    return uow.sandbox.request(entry_id)


def forget_journal(uow: UnitOfWork, real: Clock) -> None:
    uow.lock(JOURNAL_LOCK)
    uow.sandbox.forget_requests()
    _journal_cleared(uow, real)
    uow.commit()


def _journal_cleared(uow: UnitOfWork, real: Clock) -> None:
    uow.sandbox.put_setting(JOURNAL_CLEARED, {"at": real.now().isoformat()})


def journal_cleared_at(uow: UnitOfWork) -> datetime | None:
    """The host's time the journal was last emptied (aware), if it was. A writer of entries reads
    it holding JOURNAL_LOCK."""
    found = uow.sandbox.setting(JOURNAL_CLEARED)
    return None if found is None else datetime.fromisoformat(str(found["at"]))



# --------------------------------------------------------------------------- the scenarios

_SCENARIO_LISTS = (  # (list in fixtures/demo.json, the operation when the list does not name one)
    ("scenarios", None),
    ("verification_scenarios", "verifyLearner"),
    ("retrieve_uln_scenarios", "retrieveULNs"),
    ("learner_by_uln_scenarios", "LearnerByUln"),
    ("plr_scenarios", "GetLearnerLearningEvents"),
)


def scenario_catalogue(demo: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every demo scenario: its name, operation, request (wire fields), the code it answers and
    what it shows, as the README's tables list them."""
    catalogue = []
    for key, operation in _SCENARIO_LISTS:
        for scenario in demo.get(key, []):
            answers = scenario.get("answers")
            expect = answers[0]["ResponseCode"] if answers else scenario["ResponseCode"]
            entry = {
                "name": scenario["name"],
                "operation": scenario.get("operation") or operation,
                "request": scenario["request"],
                "expect": expect,
                "description": _described(scenario, expect),
            }
            if answers:
                entry["expect_each"] = [answer["ResponseCode"] for answer in answers]
            catalogue.append(entry)
    return catalogue


def _described(scenario: Mapping[str, Any], expect: str) -> str:
    found = [
        f"{label} {scenario[name] if not isinstance(scenario[name], list) else ', '.join(map(str, scenario[name]))}"
        for name, label in (("ULNs", "ULN"), ("ULN", "ULN"), ("FoundULN", "ULN"), ("LearnerUln", "ULN"), ("MasterUln", "master"))
        if scenario.get(name)
    ]
    return f"{scenario['name']}: {expect}" + (f" ({'; '.join(found)})" if found else "")
