"""Learner rules: what a valid learner is, and how an update changes one.

Every rule breach raises InvalidField with the field's wire name, so the fault can name it.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from lrs_ws.domain.errors import AbilityToShareRefused, InvalidField
from lrs_ws.domain.learner import DETAIL_FIELDS, Learner, LearnerDetails, wire_name
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.normalise import format_post_code, name_key, tidy_text

MIN_AGE = 13
MAX_AGE = 110
GENDERS = frozenset({"0", "1", "2", "9"})  # not known, male, female, not specified
ABILITY_TO_SHARE = frozenset({"0", "1", "2"})  # notice not seen, may share, must not share
VERIFICATION_OTHER = "999"
VERIFICATION_TYPES = frozenset({"0", "1", "2", "3", "4", "5", "6", "7", VERIFICATION_OTHER})

# Placeholder words that show a name is not a real one ("prisoner" is the guide's example of
# prohibited text). Only a default: deployments pass their own list to validate_details.
DEFAULT_PROHIBITED_WORDS: tuple[str, ...] = (
    "test",
    "dummy",
    "unknown",
    "not known",
    "anon",
    "anonymous",
    "xxx",
    "tbc",
    "prisoner",
)

# Name fields checked for prohibited text, in wire order.
NAME_FIELDS: tuple[str, ...] = (
    "title",
    "given_name",
    "middle_other_name",
    "family_name",
    "preferred_given_name",
    "previous_family_name",
    "family_name_at_age16",
)

# Fields a learner cannot be without: sending them empty is an error, not "clear it".
MANDATORY_FIELDS: frozenset[str] = frozenset(
    {
        "given_name",
        "family_name",
        "date_of_birth",
        "gender",
        "last_known_post_code",
        "verification_type",
        "ability_to_share",
    }
)


def calendar_date(wire_name: str, text: str) -> date:
    """A YYYY-MM-DD date as sent. The schemas' patterns admit 1900-02-29 and the like; the
    calendar does not: InvalidField naming the element."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidField(wire_name, f"'{text}' is not a real calendar date") from None


def age_on(date_of_birth: date, today: date) -> int:
    """Whole years. A 29 February birthday comes round on 1 March in common years."""
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - before_birthday


@lru_cache(maxsize=32)
def _prohibited_pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    # Whole words only: "test" must not reject "Testa" or "Celeste".
    # Any run of whitespace matches the space in a phrase such as "not known".
    alternatives = [r"\s+".join(map(re.escape, w.split())) for w in words if w and w.strip()]
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_details(
    details: LearnerDetails,
    today: date,
    prohibited: Iterable[str] = DEFAULT_PROHIBITED_WORDS,
    changed: Collection[str] | None = None,
) -> None:
    """Raise InvalidField for the first rule the details break; return None when valid.

    `prohibited` is the configurable list of words not allowed as whole words (any case) in a
    name field; DEFAULT_PROHIBITED_WORDS is only a starting point. On an update, `changed` names
    the fields that change: the age and prohibited-text rules then apply to those only, so a
    learner who has passed 110, or a name that predates a new prohibited word, stays updatable.
    """

    def checked(field_name: str) -> bool:
        return changed is None or field_name in changed

    for field_name in ("given_name", "family_name"):
        if _blank(getattr(details, field_name)):
            raise InvalidField(wire_name(field_name), "must contain a non-space character")

    dob = details.date_of_birth
    if not isinstance(dob, date):
        raise InvalidField("DateOfBirth", "is required")
    age = age_on(dob, today)
    if checked("date_of_birth") and not MIN_AGE <= age <= MAX_AGE:
        raise InvalidField(
            "DateOfBirth", f"learner must be {MIN_AGE} to {MAX_AGE} years old (is {age})"
        )

    if details.gender not in GENDERS:
        raise InvalidField("Gender", "must be 0, 1, 2 or 9")
    if details.ability_to_share not in ABILITY_TO_SHARE:
        raise InvalidField("AbilityToShare", "must be 0, 1 or 2")
    if details.verification_type not in VERIFICATION_TYPES:
        raise InvalidField("VerificationType", "must be 0 to 7 or 999")
    if details.verification_type == VERIFICATION_OTHER and _blank(
        details.other_verification_description
    ):
        raise InvalidField(
            "OtherVerificationDescription", "is required when VerificationType is 999"
        )

    if isinstance(prohibited, str):  # a bare string would be read as single letters
        raise TypeError("prohibited must be a collection of words, not a string")
    pattern = _prohibited_pattern(tuple(prohibited))
    if pattern is not None:
        for field_name in filter(checked, NAME_FIELDS):
            value = getattr(details, field_name)
            if isinstance(value, str) and (found := pattern.search(value)):
                raise InvalidField(wire_name(field_name), f"contains prohibited text {found[0]!r}")


# Free-text details kept trimmed with single inner spaces (names, addresses, school, place).
_TIDIED_FIELDS = frozenset(NAME_FIELDS) | {
    "school_at_age16",
    "last_known_address_line1",
    "last_known_address_line2",
    "last_known_address_town",
    "last_known_address_county_or_city",
    "place_of_birth",
}


def tidy(field_name: str, value: object) -> object:
    """The form a detail is stored in: stray spaces dropped, postcodes upper case and spaced,
    so that a value sent again in another spacing is not a change (WSRC0020)."""
    if not isinstance(value, str):
        return value
    if field_name == "last_known_post_code":
        return format_post_code(value)
    return tidy_text(value) if field_name in _TIDIED_FIELDS else value


def tidy_details(details: LearnerDetails) -> LearnerDetails:
    tidied: dict[str, Any] = {name: tidy(name, value) for name, value in details.details().items()}
    return dataclasses.replace(details, **tidied)


def ability_to_share_change_allowed(old: str, new: str) -> bool:
    """Once the privacy notice was seen (1 or 2) the learner can never be back at 0."""
    return not (old in ("1", "2") and new == "0")


def apply_update(
    current: Learner, sent: dict[str, object], today: date
) -> tuple[Learner, list[str]]:
    """The learner after an update, and the DETAIL_FIELDS that changed (empty: no change).

    `sent` holds only the elements the MIS sent: a missing key leaves the field alone, None
    or '' clears an optional field. Changes are exact comparisons of stored values. When the
    family name really changes (not just its case or spacing) and no other, non-blank previous
    family name was sent, the old family name becomes the previous family name.

    The caller checks `ability_to_share_change_allowed` first (WSRC0014) and runs
    `validate_details` on the result; `current` is never modified.
    """
    unknown = set(sent) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"not learner detail fields: {sorted(unknown)}")

    new_values: dict[str, object] = {}
    for field_name, value in sent.items():
        value = tidy(field_name, value)
        if _blank(value):
            if field_name in MANDATORY_FIELDS:
                raise InvalidField(wire_name(field_name), "is required and cannot be cleared")
            value = None
        new_values[field_name] = value

    new_family = new_values.get("family_name", current.family_name)
    if name_key(str(new_family)) != name_key(current.family_name):
        sent_previous = new_values.get("previous_family_name")
        if sent_previous is None or sent_previous == current.previous_family_name:
            new_values["previous_family_name"] = current.family_name

    changed = [
        name
        for name in DETAIL_FIELDS
        if name in new_values and new_values[name] != getattr(current, name)
    ]
    updated = current.copy()
    if changed:
        for name in changed:
            setattr(updated, name, new_values[name])
        updated.version_number = current.version_number + 1
        updated.last_updated_date = today
    return updated, changed


@dataclass(frozen=True)
class Update:
    """What an update would do to a learner, decided once for updateSingleLearner, R9
    UpdateLearnerSubsetFields and batch jobs alike. `refusal` is the first rule it breaks, in the
    order they are checked (AbilityToShare back to 0, a mandatory field cleared, then the
    learner rules on the changed fields); each caller answers it in its own terms, after checks
    of its own that come first (a batch's one-key-field rule, say)."""

    learner: Learner  # as it would be stored
    changed: tuple[str, ...]  # DETAIL_FIELDS that change; empty: nothing does
    refusal: AbilityToShareRefused | InvalidField | None = None


def decide_update(current: Learner, sent: dict[str, object], today: date, prohibited: Iterable[str]) -> Update:
    """The update of `current` by the details `sent` (see `apply_update`), and the first rule it breaks."""
    share = sent.get("ability_to_share")
    share_refused = share is not None and not ability_to_share_change_allowed(current.ability_to_share, str(share))
    try:
        updated, changed = apply_update(current, sent, today)
    except InvalidField as cleared:
        return Update(current, (), AbilityToShareRefused() if share_refused else cleared)
    if share_refused:
        return Update(updated, tuple(changed), AbilityToShareRefused())
    try:
        validate_details(updated, today, prohibited, changed=changed)
    except InvalidField as broken:
        return Update(updated, tuple(changed), broken)
    return Update(updated, tuple(changed))


def details_to_register(values: dict[str, object]) -> LearnerDetails:
    """A registration's details from the fields sent (by field name; absent or None: not sent),
    tidied as they are stored; what is not sent takes its default (VerificationType and
    AbilityToShare 0). The caller validates them (`validate_details`)."""
    details = {name: values.get(name) for name in DETAIL_FIELDS}
    for default in dataclasses.fields(LearnerDetails):
        if details[default.name] is None and default.default is not dataclasses.MISSING:
            details[default.name] = default.default
    return tidy_details(LearnerDetails(**details))  # type: ignore[arg-type]  # validate_details refuses what is missing


def register_duplicate_key(details: LearnerDetails) -> SearchKey:
    """The five key fields of a registration, as the search that must precede it."""
    return SearchKey(
        given_name=details.given_name,
        family_name=details.family_name,
        date_of_birth=details.date_of_birth,
        gender=details.gender,
        post_code=details.last_known_post_code,
    )
