"""The learner record, as the Learner Register keeps it.

Field names are the snake_case of the wire names of the MIAP `LearnerToRegister` type, in the
same order, so that one table (the fields of ``LearnerDetails``) drives the SOAP mapping, the
database columns and the rules.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, get_args, get_type_hints


class LearnerStatus(str, Enum):
    """Our reading of `LearnerStatus` (0|1|2): the public material does not define the values."""

    CLOSED = "0"
    ACTIVE = "1"
    RETIRED = "2"  # merged into a master ULN; kept forever, found through the master


@dataclass(kw_only=True)
class LearnerDetails:
    """What a registration body tells us about a learner: the details of MIAP
    `LearnerToRegister`, in its order. The one table of the learner's fields: DETAIL_FIELDS,
    WIRE_NAMES and DATE_FIELDS are read from it, the database has a column per field (in this
    order), and tests/contract/test_learner_fields.py holds it to xsd/learner.xsd."""

    title: str | None = None
    given_name: str
    middle_other_name: str | None = None
    family_name: str
    preferred_given_name: str | None = None
    previous_family_name: str | None = None
    family_name_at_age16: str | None = None
    school_at_age16: str | None = None
    last_known_address_line1: str | None = None
    last_known_address_line2: str | None = None
    last_known_address_town: str | None = None
    last_known_address_county_or_city: str | None = None
    last_known_post_code: str
    date_of_address_capture: date | None = None
    date_of_birth: date
    place_of_birth: str | None = None
    gender: str  # 0 not known, 1 male, 2 female, 9 not specified
    email_address: str | None = None
    nationality: str | None = None
    scottish_candidate_number: str | None = None
    verification_type: str = "0"
    other_verification_description: str | None = None
    ability_to_share: str = "0"
    notes: str | None = None

    def details(self) -> dict[str, Any]:  # the fields' values, of their several types
        return {name: getattr(self, name) for name in DETAIL_FIELDS}


# The details an MIS supplies on register and update, in wire order.
DETAIL_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(LearnerDetails))

# Details kept as dates; on the wire and in fixtures they are YYYY-MM-DD.
DATE_FIELDS: frozenset[str] = frozenset(
    name for name, kind in get_type_hints(LearnerDetails).items() if date in (kind, *get_args(kind))
)

_ACRONYMS = {"uln": "ULN", "id": "ID"}


def wire_name(field: str) -> str:
    """The LRS name of a field: `last_known_post_code` -> `LastKnownPostCode`, `uln` -> `ULN`."""
    return _ACRONYMS.get(field) or "".join(part.capitalize() for part in field.split("_"))


WIRE_NAMES: dict[str, str] = {field: wire_name(field) for field in DETAIL_FIELDS}
FIELD_NAMES: dict[str, str] = {wire: field for field, wire in WIRE_NAMES.items()}


@dataclass(kw_only=True)
class Learner(LearnerDetails):
    """A learner on the register: the details plus what the LRS itself keeps (its record dates
    given by whoever makes it: the domain reads no clock)."""

    uln: str = ""
    created_date: date
    last_updated_date: date
    version_number: int = 1
    learner_status: LearnerStatus = LearnerStatus.ACTIVE
    tier_level: str = "0"
    master_uln: str | None = None  # set when this ULN was retired by a merge
    linked_ulns: list[str] = field(default_factory=list)  # retired ULNs merged into this master
    telephone_number: str | None = None  # set by R9 UpdateLearnerSubsetFields only; no MIAP field

    @property
    def is_retired(self) -> bool:
        return self.learner_status is LearnerStatus.RETIRED

    def copy(self) -> Learner:
        return dataclasses.replace(self, linked_ulns=list(self.linked_ulns))
