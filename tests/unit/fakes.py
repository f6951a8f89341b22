"""An in-memory unit of work: the use cases' ports without a database."""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from datetime import date, datetime

from lrs_ws.clock import Clock
from lrs_ws.domain.learner import Learner, LearnerStatus
from lrs_ws.domain.learning_event import LearningEvent, event_order
from lrs_ws.domain.matching import MatchCandidate, NameCodes, may_match, name_codes
from lrs_ws.domain.sign_in import FailedSignIns
from lrs_ws.services.ports import AuditEntry, Organisation, User
from tests.conftest import TEST_NOW, SettableClock


class FakeLearnerRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Learner] = {}

    def _with_links(self, learner: Learner) -> Learner:
        copy = learner.copy()
        copy.linked_ulns = sorted(uln for uln, other in self.rows.items() if other.master_uln == learner.uln)
        return copy

    def get(self, uln: str) -> Learner | None:
        learner = self.rows.get(uln)
        return None if learner is None else self._with_links(learner)

    def get_many(self, ulns: Iterable[str]) -> list[Learner]:
        return [self._with_links(self.rows[uln]) for uln in ulns if uln in self.rows]

    def add(self, learner: Learner) -> None:
        self.rows[learner.uln] = learner.copy()

    def update(self, learner: Learner, expected_version: int) -> bool:
        stored = self.rows.get(learner.uln)
        if stored is None or stored.version_number != expected_version:
            return False
        learner.version_number = max(learner.version_number, expected_version + 1)
        self.rows[learner.uln] = learner.copy()
        return True

    def uln_exists(self, uln: str) -> bool:
        return uln in self.rows

    def known_ulns(self, ulns: Iterable[str]) -> set[str]:
        return {uln for uln in ulns if uln in self.rows}

    def candidates_born_on(
        self, dates: Iterable[date], *, names: NameCodes | None = None, fresh: bool = False
    ) -> list[MatchCandidate]:
        wanted = set(dates)
        return [
            MatchCandidate(row.uln, row.given_name, row.family_name, row.previous_family_name, row.date_of_birth,
                           row.gender, row.last_known_post_code, row.master_uln)
            for row in sorted(self.rows.values(), key=lambda row: row.uln)
            if row.date_of_birth in wanted and (names is None or may_match(names, name_codes(row.given_name, row.family_name)))
        ]

    def remember_candidates(self, searches: Iterable[tuple[Iterable[date], NameCodes]] = ()) -> None:
        pass  # every read is from memory here already

    def remembered_may_be_stale(self) -> bool:
        return False

    def merge(self, master_uln: str, retired_uln: str, today: date) -> None:
        retired = self.rows[retired_uln]
        retired.learner_status = LearnerStatus.RETIRED
        retired.master_uln = master_uln


class FakeOrganisationRepository:
    def __init__(self, sign_ins: FakeSignInLog | None = None) -> None:
        self.organisations: list[Organisation] = []
        self.users: list[User] = []
        self.sign_ins = sign_ins  # read by with_user, as the real query joins it

    def by_ukprn(self, ukprn: str) -> Organisation | None:
        return next((o for o in self.organisations if o.ukprn == ukprn), None)

    def by_reference(self, organisation_ref: str) -> Organisation | None:
        return next((o for o in self.organisations if o.organisation_ref == organisation_ref), None)

    def with_user(self, *, ukprn, organisation_ref, username, address=""):
        organisation = self.by_ukprn(ukprn) if ukprn else self.by_reference(organisation_ref)
        user = None if organisation is None else self.user(organisation.id, username)
        failed = None if organisation is None or self.sign_ins is None else self.sign_ins.get(organisation.id, address)
        return organisation, user, failed

    def user(self, organisation_id: int, username: str) -> User | None:
        return next((u for u in self.users if u.organisation_id == organisation_id and u.username == username), None)

    def add(self, organisation: Organisation) -> Organisation:
        stored = dataclasses.replace(organisation, id=len(self.organisations) + 1)
        self.organisations.append(stored)
        return stored

    def add_user(self, user: User) -> User:
        stored = dataclasses.replace(user, id=len(self.users) + 1)
        self.users.append(stored)
        return stored

    def by_id(self, organisation_id: int) -> Organisation | None:
        return next((o for o in self.organisations if o.id == organisation_id), None)

    def all(self) -> list[Organisation]:
        return sorted(self.organisations, key=lambda o: (o.name, o.id))

    def users_of(self, organisation_id: int) -> list[User]:
        return sorted((u for u in self.users if u.organisation_id == organisation_id), key=lambda u: u.username)

    def user_by_id(self, user_id: int) -> User | None:
        return next((u for u in self.users if u.id == user_id), None)


class FakeSearchLog:
    def __init__(self) -> None:
        self.rows: list[tuple[int, str, str, datetime]] = []

    def record(self, organisation_id: int, search_key: str, response_code: str, at: datetime, *, deferred: bool = False) -> None:
        self.rows.append((organisation_id, search_key, response_code, at))

    def recent(self, organisation_id: int, search_key: str, since: datetime) -> list[str]:
        return [code for org, key, code, at in reversed(self.rows) if org == organisation_id and key == search_key and at >= since]


class FakeSignInLog:
    def __init__(self) -> None:
        self.rows: dict[tuple[int, str], FailedSignIns] = {}

    def get(self, organisation_id: int, address: str) -> FailedSignIns | None:
        return self.rows.get((organisation_id, address))

    def save(self, organisation_id: int, address: str, state: FailedSignIns) -> None:
        self.rows[(organisation_id, address)] = state

    def clear(self, organisation_id: int, address: str) -> None:
        self.rows.pop((organisation_id, address), None)


class FakeAuditLog:
    def __init__(self, organisations: FakeOrganisationRepository | None = None) -> None:
        self.rows: list[dict[str, object]] = []
        self.organisations = organisations  # names the rows' organisations, as the real query joins them

    def record(self, **values: object) -> None:
        self.rows.append(values)

    def entries(self, ulns, operations, offset, limit) -> tuple[int, list[AuditEntry]]:
        wanted = set(ulns)
        rows = [r for r in self.rows if r.get("uln") in wanted and (operations is None or r.get("operation") in set(operations))]
        newest_first = sorted(reversed(rows), key=lambda r: r["at"], reverse=True)  # stable: later rows first on a tie
        return len(rows), [self._entry(r) for r in newest_first[offset : offset + limit]]

    def _entry(self, row: dict) -> AuditEntry:
        organisation_id = row["organisation_id"]
        organisation = None if organisation_id is None or self.organisations is None else self.organisations.by_id(organisation_id)
        return AuditEntry(
            row["at"], row["operation"], organisation.name if organisation else None, row["username"], row["uln"],
            row.get("address"), row["outcome"], row["organisation_id"],
        )


class FakeLearningEventRepository:
    def __init__(self, learners: FakeLearnerRepository | None = None) -> None:
        self.rows: dict[int, LearningEvent] = {}
        self.learners = learners or FakeLearnerRepository()

    def with_learner(self, uln: str) -> tuple[Learner | None, list[LearningEvent]]:
        learner = self.learners.get(uln)
        return (None, []) if learner is None else (learner, self.for_learners([uln]))

    def for_learners(self, ulns: Iterable[str]) -> list[LearningEvent]:
        wanted = set(ulns)
        return sorted((dataclasses.replace(e) for e in self.rows.values() if e.uln in wanted), key=event_order)

    def next_ids(self, count: int) -> list[int]:
        top = max(self.rows, default=0)
        return list(range(top + 1, top + 1 + count))

    def existing_ids(self, ids: Iterable[int]) -> set[int]:
        return {i for i in ids if i in self.rows}

    def add_many(self, events: Iterable[LearningEvent]) -> list[int]:
        batch = list(events)
        top = max([*self.rows, *(e.id for e in batch if e.id is not None)], default=0)
        for event in batch:
            if event.id is None:
                top += 1
                event.id = top
            if event.id in self.rows:
                raise ValueError(f"duplicate learning event ID {event.id}")
            self.rows[event.id] = dataclasses.replace(event)
        return [e.id for e in batch]  # type: ignore[misc]  # every event has its id now (above)


class FakeUnitOfWork:
    """Changes are visible at once (like one open transaction); `commits` counts commit() calls."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SettableClock(TEST_NOW)
        self.learners = FakeLearnerRepository()
        self.sign_ins = FakeSignInLog()
        self.organisations = FakeOrganisationRepository(self.sign_ins)
        self.searches = FakeSearchLog()
        self.audit = FakeAuditLog(self.organisations)
        self.events = FakeLearningEventRepository(self.learners)
        self.batch_workers = FakeBatchWorkerLog()
        self.commits = 0

    def lock(self, key: str) -> None:
        """One thread, one fake transaction: nothing to wait for."""

    def lock_all(self, keys: Iterable[str]) -> None:
        for key in sorted(set(keys)):
            self.lock(key)

    def ping(self) -> None:
        """Always there."""

    def __enter__(self) -> FakeUnitOfWork:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def commit(self) -> None:
        self.commits += 1

    def rollback(self) -> None:
        pass


class FakeBatchWorkerLog:
    def __init__(self) -> None:
        self.rows: dict = {}

    def save(self, worker) -> None:
        self.rows[worker.name] = worker

    def get(self, name: str):
        return self.rows.get(name)

    def all(self) -> list:
        return sorted(self.rows.values(), key=lambda worker: (worker.started_at, worker.name))

    def remove(self, name: str) -> None:
        self.rows.pop(name, None)

    def forget_older(self, seen_before) -> None:
        self.rows = {name: worker for name, worker in self.rows.items() if worker.seen_at >= seen_before}


_DEMO_REGISTER: FakeUnitOfWork | None = None


def demo_register() -> FakeUnitOfWork:
    """A fresh in-memory unit of work holding the demo data (fixtures/demo.json): a copy of one
    seeded once, since seeding hashes the demo organisation's password."""
    global _DEMO_REGISTER
    if _DEMO_REGISTER is None:
        from lrs_ws.services.seed import seed_demo

        _DEMO_REGISTER = FakeUnitOfWork()
        seed_demo(_DEMO_REGISTER)
    return copy.deepcopy(_DEMO_REGISTER)
