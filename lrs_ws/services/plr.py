"""Read a learner's Personal Learning Record (R9 GetLearnerLearningEvents). Interface fixed here;
the rules are filled in by the PLR work."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from lrs_ws.domain.codes import ResponseCode
from lrs_ws.domain.learning_event import LearningEvent
from lrs_ws.services.ports import Caller, UnitOfWork


@dataclass(frozen=True)
class PlrQuery:
    uln: str
    given_name: str
    family_name: str
    date_of_birth: date | None = None
    gender: str | None = None
    brief: bool = False  # getType BRIEF


@dataclass(frozen=True)
class PlrResult:
    code: ResponseCode  # EXACT_MATCH, MASTER_SUBSTITUTED, INVALID_ULN, NOT_SHARED, LEARNER_NOT_VERIFIED
    incoming_uln: str
    found_uln: str | None = None  # None (empty on the wire) when not verified
    events: tuple[LearningEvent, ...] = field(default_factory=tuple)


def get_learning_events(uow: UnitOfWork, caller: Caller, query: PlrQuery, now: datetime) -> PlrResult:
    raise NotImplementedError
