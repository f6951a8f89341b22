"""A learning event of the Personal Learning Record (PLR): a qualification or a participation.

Field names are the snake_case of the R9 `LearningEvent` wire names (alphabetical on the wire),
so `lrs_ws.domain.learner.wire_name` maps them (`id` -> `ID`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# Wire order of the R9 LearningEvent (alphabetical, as WCF's DataContract serialiser emits it).
EVENT_FIELDS: tuple[str, ...] = (
    "achievement_award_date",
    "achievement_provider_name",
    "achievement_provider_ukprn",
    "awarding_organisation_name",
    "awarding_organisation_ukprn",
    "collection_type",
    "credits",
    "date_loaded",
    "grade",
    "id",
    "language_for_assessment",
    "level",
    "participation_end_date",
    "participation_start_date",
    "qualification_type",
    "restriction",
    "return_number",
    "source",
    "status",
    "subject",
    "subject_code",
    "under_data_challenge",
)



@dataclass
class LearningEvent:
    uln: str
    source: str
    id: int | None = None  # assigned on import when absent
    achievement_award_date: date | None = None
    achievement_provider_name: str | None = None
    achievement_provider_ukprn: str | None = None
    awarding_organisation_name: str | None = None
    awarding_organisation_ukprn: str | None = None
    collection_type: str | None = None
    credits: int | None = None
    date_loaded: datetime | None = None  # assigned on import when absent
    grade: str | None = None
    language_for_assessment: str | None = None
    level: str | None = None
    participation_end_date: date | None = None
    participation_start_date: date | None = None
    qualification_type: str | None = None
    restriction: str = "0"  # not "0": sensitive, never returned
    return_number: str | None = None
    status: str | None = None
    subject: str | None = None
    subject_code: str | None = None
    under_data_challenge: str | None = None

    @property
    def is_sensitive(self) -> bool:
        return self.restriction not in ("0", "", None)


# The kinds of value each field holds; every other field is text.
DATE_FIELDS: tuple[str, ...] = ("achievement_award_date", "participation_end_date", "participation_start_date")
DATE_TIME_FIELDS: tuple[str, ...] = ("date_loaded",)
INTEGER_FIELDS: tuple[str, ...] = ("credits", "id")
MAX_INTEGER = 2**31 - 1  # ID is xs:int on the wire; Credits is stored as a 32-bit integer too

# Our lengths for the text fields (the R9 WSDL relaxes every field to xs:string): generous for
# names and titles, tight for codes.
TEXT_LENGTHS: dict[str, int] = {
    "achievement_provider_name": 255,
    "achievement_provider_ukprn": 20,
    "awarding_organisation_name": 255,
    "awarding_organisation_ukprn": 20,
    "collection_type": 10,
    "grade": 50,
    "language_for_assessment": 50,
    "level": 50,
    "qualification_type": 255,
    "restriction": 1,
    "return_number": 10,
    "source": 50,
    "status": 10,
    "subject": 255,
    "subject_code": 50,
    "under_data_challenge": 10,
}


def event_date(event: LearningEvent) -> date | None:
    """The date a PLR is ordered by: the award date, else the participation start or end date."""
    return event.achievement_award_date or event.participation_start_date or event.participation_end_date


def event_order(event: LearningEvent) -> tuple[date, int]:
    """Oldest first; undated events last; ties by ID."""
    return (event_date(event) or date.max, event.id if event.id is not None else MAX_INTEGER + 1)
