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

SOURCES = ("ILR", "NPD")  # or an awarding organisation feed, named by the organisation (e.g. "AO:Pearson")


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
