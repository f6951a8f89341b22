"""Builders shared by the integration tests."""
from __future__ import annotations

import random
from datetime import date
from typing import Any

from lrs_ws.domain.learner import Learner, LearnerStatus
from lrs_ws.domain.uln import new_uln


def valid_ulns(count: int, seed: int = 7) -> list[str]:
    """Distinct valid ULNs, in the order issued."""
    rng = random.Random(seed)
    issued: list[str] = []
    seen: set[str] = set()
    for _ in range(count):
        uln = new_uln(rng, seen.__contains__)
        seen.add(uln)
        issued.append(uln)
    return issued


def full_learner(uln: str, **overrides: Any) -> Learner:
    """A learner with every field set, most at their longest, none at its default."""
    values: dict[str, Any] = dict(
        uln=uln,
        title="Ms",
        given_name="Siobhán",
        middle_other_name="Mary Ann",
        family_name="O'Neill-Smith",
        preferred_given_name="Shiv",
        previous_family_name="Jones",
        family_name_at_age16="Jones",
        school_at_age16="S" * 254,
        last_known_address_line1="A" * 50,
        last_known_address_line2="Flat 2",
        last_known_address_town="Leeds",
        last_known_address_county_or_city="West Yorkshire",
        last_known_post_code="ls6 2ab  ",  # stored as sent
        date_of_address_capture=date(2024, 2, 29),
        date_of_birth=date(2005, 12, 31),
        place_of_birth="Dublin",
        gender="2",
        email_address="s.oneill@example.org",
        nationality="IRL",
        scottish_candidate_number="123456789",
        verification_type="999",
        other_verification_description="Letter from the college",
        ability_to_share="1",
        notes="N" * 4000,
        created_date=date(2025, 9, 1),
        last_updated_date=date(2025, 10, 2),
        version_number=3,
        learner_status=LearnerStatus.CLOSED,
        tier_level="1",
        master_uln=None,
    )
    values.update(overrides)
    return Learner(**values)


def simple_learner(uln: str, born: date, **overrides: Any) -> Learner:
    values: dict[str, Any] = dict(
        uln=uln,
        given_name="Sam",
        family_name="Taylor",
        date_of_birth=born,
        gender="1",
        last_known_post_code="M1 1AE",
        created_date=date(2026, 1, 5),
        last_updated_date=date(2026, 1, 5),
    )
    values.update(overrides)
    return Learner(**values)
