"""Demo data: the organisation, users, scenario learners and their learning events of `fixtures/demo.json`."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from lrs_ws.domain.learner import DATE_FIELDS, DETAIL_FIELDS, FIELD_NAMES, Learner, LearnerStatus
from lrs_ws.domain.passwords import hash_password
from lrs_ws.domain.roles import Role
from lrs_ws.services.plr_import import event_from_wire
from lrs_ws.services.ports import Organisation, UnitOfWork, User

DEMO_FILE = resources.files("lrs_ws.fixtures") / "demo.json"
DEMO_LOADED_AT = datetime(2026, 1, 5, 9, 0, 0)  # DateLoaded of demo events that give none


def load_demo_file(path: Path | Traversable = DEMO_FILE) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


class SeedRefused(Exception):
    """The demo data cannot be loaded into this database; the message says why."""


@dataclass(frozen=True)
class SeedSummary:
    created: bool
    organisation: str
    users: int
    learners: int
    events: int = 0


def learner_from_fixture(row: dict[str, str]) -> Learner:
    values: dict[str, Any] = {}  # by field: a date or a string
    for wire, text in row.items():
        field = FIELD_NAMES.get(wire)
        if field in DETAIL_FIELDS:
            values[field] = date.fromisoformat(text) if field in DATE_FIELDS else text
    created = date.fromisoformat(row["CreatedDate"])
    merged_into = row.get("MergedInto")
    return Learner(
        **values,
        uln=row["ULN"],
        created_date=created,
        last_updated_date=date.fromisoformat(row.get("LastUpdatedDate", row["CreatedDate"])),
        learner_status=LearnerStatus.RETIRED if merged_into else LearnerStatus.ACTIVE,
        master_uln=merged_into,
    )


def demo_ulns(data: dict[str, Any] | None = None) -> frozenset[str]:
    """The ULNs the demo learners carry: synthetic learners never take them."""
    return frozenset(row["ULN"] for row in (data or load_demo_file())["learners"])


def seed_demo(uow: UnitOfWork, data: dict[str, Any] | None = None) -> SeedSummary:
    """Load the demo data once; a second call changes nothing (the organisation exists).

    The demo learners keep their ULNs (the scenarios name them): if other learners already have
    any of them, nothing is loaded (SeedRefused). The demo learning events keep their IDs when
    they are free, and all get new ones above the stored IDs otherwise (synthetic or imported
    events came first).
    """
    data = data or load_demo_file()
    org = data["organisation"]
    if uow.organisations.by_ukprn(org["ukprn"]) is not None:
        return SeedSummary(False, org["ukprn"], 0, 0)
    taken = sorted(uow.learners.known_ulns(demo_ulns(data)))
    if taken:
        raise SeedRefused(f"cannot load the demo data: other learners already have the demo ULNs {', '.join(taken)}")
    organisation = uow.organisations.add(
        Organisation(
            id=None,
            name=org["name"],
            ukprn=org["ukprn"],
            organisation_ref=org.get("organisation_ref"),
            password_hash=hash_password(org["password"]),
        )
    )
    assert organisation.id is not None
    for user in data["users"]:
        uow.organisations.add_user(
            User(
                id=None,
                organisation_id=organisation.id,
                username=user["username"],
                roles=frozenset(Role(r) for r in user["roles"]),
            )
        )
    # Masters before the ULNs merged into them.
    learners = sorted(data["learners"], key=lambda row: "MergedInto" in row)
    for row in learners:
        uow.learners.add(learner_from_fixture(row))
    events = [event_from_wire(row, DEMO_LOADED_AT) for row in data.get("learning_events", [])]
    if uow.events.existing_ids(event.id for event in events if event.id is not None):
        for event in events:
            event.id = None  # add_many numbers them above every stored ID
    uow.events.add_many(events)
    uow.commit()
    return SeedSummary(True, org["ukprn"], len(data["users"]), len(learners), len(events))
