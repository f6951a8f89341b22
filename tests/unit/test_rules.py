from dataclasses import replace
from datetime import date

import pytest

from lrs_ws.domain.errors import InvalidField
from lrs_ws.domain.learner import DETAIL_FIELDS, Learner, LearnerDetails
from lrs_ws.domain.matching import SearchKey
from lrs_ws.domain.rules import (
    DEFAULT_PROHIBITED_WORDS,
    ability_to_share_change_allowed,
    age_on,
    apply_update,
    register_duplicate_key,
    validate_details,
)

TODAY = date(2024, 6, 15)


def details(**changes) -> LearnerDetails:
    base = LearnerDetails(
        given_name="Mary",
        family_name="Smith",
        date_of_birth=date(2005, 1, 20),
        gender="2",
        last_known_post_code="SW1A 1AA",
    )
    return replace(base, **changes)


def learner(**changes) -> Learner:
    base = Learner(
        **details().details(),
        uln="1026893096",
        created_date=date(2020, 1, 1),
        last_updated_date=date(2020, 1, 1),
        version_number=3,
    )
    return replace(base, **changes)


def invalid_field(d: LearnerDetails, prohibited=DEFAULT_PROHIBITED_WORDS) -> str:
    with pytest.raises(InvalidField) as caught:
        validate_details(d, TODAY, prohibited)
    return caught.value.field


def test_valid_details_pass():
    validate_details(details(), TODAY)


def test_invalid_field_names_the_wire_field():
    error = InvalidField("DateOfBirth", "too young")
    assert str(error) == "Field 'DateOfBirth': too young"
    assert (error.field, error.reason) == ("DateOfBirth", "too young")


# --- age ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dob, ok",
    [
        (date(2011, 6, 15), True),  # 13 today
        (date(2011, 6, 16), False),  # 13 tomorrow
        (date(1914, 6, 15), True),  # 110 today
        (date(1913, 6, 16), True),  # 110, 111 tomorrow
        (date(1913, 6, 15), False),  # 111 today
        (date(2030, 1, 1), False),  # not born yet
    ],
)
def test_age_must_be_13_to_110(dob, ok):
    if ok:
        validate_details(details(date_of_birth=dob), TODAY)
    else:
        assert invalid_field(details(date_of_birth=dob)) == "DateOfBirth"


def test_leap_day_birthday_comes_on_first_of_march_in_common_years():
    born = date(2008, 2, 29)
    assert age_on(born, date(2021, 2, 28)) == 12
    assert age_on(born, date(2021, 3, 1)) == 13
    assert age_on(born, date(2024, 2, 29)) == 16
    with pytest.raises(InvalidField):
        validate_details(details(date_of_birth=born), date(2021, 2, 28))
    validate_details(details(date_of_birth=born), date(2021, 3, 1))


def test_leap_day_birthday_in_a_leap_year():
    born = date(2012, 2, 29)
    assert age_on(born, date(2025, 2, 28)) == 12
    validate_details(details(date_of_birth=born), date(2025, 3, 1))
    assert age_on(born, date(2028, 2, 29)) == 16


# --- codes and names ---------------------------------------------------------------------


def test_other_verification_needs_a_description():
    assert invalid_field(details(verification_type="999")) == "OtherVerificationDescription"
    blank = details(verification_type="999", other_verification_description="   ")
    assert invalid_field(blank) == "OtherVerificationDescription"
    validate_details(
        details(verification_type="999", other_verification_description="Armed forces ID"), TODAY
    )


@pytest.mark.parametrize("code", ["0", "1", "2", "3", "4", "5", "6", "7", "999"])
def test_known_verification_types(code):
    validate_details(details(verification_type=code, other_verification_description="x"), TODAY)


@pytest.mark.parametrize("code", ["8", "99", ""])
def test_unknown_verification_types(code):
    assert invalid_field(details(verification_type=code)) == "VerificationType"


@pytest.mark.parametrize(
    "gender, ok", [("0", True), ("1", True), ("2", True), ("9", True), ("3", False), ("M", False)]
)
def test_gender(gender, ok):
    if ok:
        validate_details(details(gender=gender), TODAY)
    else:
        assert invalid_field(details(gender=gender)) == "Gender"


@pytest.mark.parametrize(
    "value, ok", [("0", True), ("1", True), ("2", True), ("3", False), ("", False)]
)
def test_ability_to_share_values(value, ok):
    if ok:
        validate_details(details(ability_to_share=value), TODAY)
    else:
        assert invalid_field(details(ability_to_share=value)) == "AbilityToShare"


@pytest.mark.parametrize(
    "changes, field",
    [({"given_name": "   "}, "GivenName"), ({"family_name": ""}, "FamilyName")],
)
def test_names_need_a_non_space_character(changes, field):
    assert invalid_field(details(**changes)) == field


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"given_name": "TEST"}, "GivenName"),
        ({"family_name": "Dummy"}, "FamilyName"),
        ({"middle_other_name": "Anne Unknown"}, "MiddleOtherName"),
        ({"preferred_given_name": "xxx"}, "PreferredGivenName"),
        ({"previous_family_name": "Not  Known"}, "PreviousFamilyName"),
        ({"family_name_at_age16": "Prisoner"}, "FamilyNameAtAge16"),
        ({"title": "Anon"}, "Title"),
    ],
)
def test_prohibited_words_in_any_name_field(changes, field):
    assert invalid_field(details(**changes)) == field


@pytest.mark.parametrize("name", ["Testa", "Celeste", "Anona", "Dummyson", "Xxxena"])
def test_prohibited_words_only_as_whole_words(name):
    validate_details(details(family_name=name), TODAY)


def test_prohibited_words_are_configurable():
    validate_details(details(given_name="Test"), TODAY, prohibited=())
    assert invalid_field(details(family_name="Van Banned"), prohibited=["banned"]) == "FamilyName"
    assert invalid_field(details(family_name="O'Neil"), prohibited=["o'neil"]) == "FamilyName"


def test_prohibited_text_is_not_looked_for_outside_names():
    validate_details(details(notes="test learner", school_at_age16="Test Academy"), TODAY)


# --- AbilityToShare transitions ----------------------------------------------------------


@pytest.mark.parametrize(
    "old, new, allowed",
    [
        ("0", "0", True),
        ("0", "1", True),
        ("0", "2", True),
        ("1", "2", True),
        ("2", "1", True),
        ("1", "1", True),
        ("1", "0", False),
        ("2", "0", False),
    ],
)
def test_ability_to_share_transitions(old, new, allowed):
    assert ability_to_share_change_allowed(old, new) is allowed


# --- apply_update ------------------------------------------------------------------------


def test_update_changes_sent_fields_bumps_version_and_date():
    current = learner()
    updated, changed = apply_update(current, {"email_address": "m@example.org", "gender": "9"}, TODAY)
    assert changed == ["gender", "email_address"]  # DETAIL_FIELDS order
    assert (updated.email_address, updated.gender) == ("m@example.org", "9")
    assert updated.version_number == 4
    assert updated.last_updated_date == TODAY
    assert current.gender == "2" and current.version_number == 3  # the original is untouched


def test_update_with_nothing_new_changes_nothing():
    current = learner()
    updated, changed = apply_update(current, current.details(), TODAY)
    assert changed == []
    assert updated == current
    assert updated is not current


def test_update_with_nothing_sent():
    updated, changed = apply_update(learner(), {}, TODAY)
    assert changed == [] and updated.version_number == 3


def test_case_change_is_a_change():
    updated, changed = apply_update(learner(), {"given_name": "MARY"}, TODAY)
    assert changed == ["given_name"]
    assert updated.given_name == "MARY"


def test_family_name_change_moves_old_name_to_previous():
    updated, changed = apply_update(learner(previous_family_name="Brown"), {"family_name": "Jones"}, TODAY)
    assert (updated.family_name, updated.previous_family_name) == ("Jones", "Smith")
    assert changed == ["family_name", "previous_family_name"]


def test_family_name_change_with_whole_record_resent_still_moves_old_name():
    current = learner(previous_family_name="Brown")
    sent = current.details() | {"family_name": "Jones"}
    updated, _ = apply_update(current, sent, TODAY)
    assert updated.previous_family_name == "Smith"


def test_family_name_change_with_blank_previous_moves_old_name():
    sent = {"family_name": "Jones", "previous_family_name": ""}
    updated, _ = apply_update(learner(previous_family_name="Brown"), sent, TODAY)
    assert updated.previous_family_name == "Smith"


def test_family_name_change_keeps_a_different_previous_name_sent():
    sent = {"family_name": "Jones", "previous_family_name": "Taylor"}
    updated, changed = apply_update(learner(), sent, TODAY)
    assert (updated.family_name, updated.previous_family_name) == ("Jones", "Taylor")
    assert changed == ["family_name", "previous_family_name"]


def test_family_name_case_change_does_not_move_it():
    updated, changed = apply_update(learner(previous_family_name="Brown"), {"family_name": "SMITH"}, TODAY)
    assert (updated.family_name, updated.previous_family_name) == ("SMITH", "Brown")
    assert changed == ["family_name"]


@pytest.mark.parametrize("cleared", [None, ""])
def test_optional_field_sent_empty_is_cleared(cleared):
    current = learner(email_address="m@example.org")
    updated, changed = apply_update(current, {"email_address": cleared}, TODAY)
    assert updated.email_address is None
    assert changed == ["email_address"]


def test_clearing_an_empty_optional_field_is_no_change():
    _, changed = apply_update(learner(email_address=None), {"email_address": ""}, TODAY)
    assert changed == []


@pytest.mark.parametrize(
    "field, wire",
    [("given_name", "GivenName"), ("date_of_birth", "DateOfBirth"), ("last_known_post_code", "LastKnownPostCode")],
)
def test_mandatory_field_cannot_be_cleared(field, wire):
    with pytest.raises(InvalidField) as caught:
        apply_update(learner(), {field: None}, TODAY)
    assert caught.value.field == wire


def test_unknown_fields_are_a_programming_error():
    with pytest.raises(ValueError):
        apply_update(learner(), {"uln": "1026893096"}, TODAY)


NEW_VALUES: dict[str, object] = {
    "date_of_birth": date(2004, 1, 1),
    "date_of_address_capture": date(2023, 1, 1),
    "gender": "1",
    "verification_type": "1",
    "ability_to_share": "1",
}


@pytest.mark.parametrize("name", DETAIL_FIELDS)
def test_every_detail_field_can_be_updated(name):
    value = NEW_VALUES.get(name, "New")
    updated, changed = apply_update(learner(), {name: value}, TODAY)
    assert getattr(updated, name) == value
    assert name in changed


def test_register_duplicate_key():
    d = details()
    assert register_duplicate_key(d) == SearchKey("Mary", "Smith", date(2005, 1, 20), "2", "SW1A 1AA")


def test_prohibited_words_as_a_bare_string_is_refused():
    with pytest.raises(TypeError):
        validate_details(details(), TODAY, prohibited="test")


def test_update_checks_age_and_prohibited_text_only_on_changed_fields():
    from datetime import date

    from lrs_ws.domain.errors import InvalidField
    from lrs_ws.domain.learner import LearnerDetails
    from lrs_ws.domain.rules import validate_details

    old = LearnerDetails(
        given_name="Test", family_name="Ward", date_of_birth=date(1910, 1, 1), gender="2", last_known_post_code="B1 1AA"
    )
    today = date(2026, 11, 23)
    validate_details(old, today, changed=["last_known_post_code"])  # 116 years old, named "Test"
    with pytest.raises(InvalidField) as age:
        validate_details(old, today, changed=["date_of_birth"])
    assert age.value.field == "DateOfBirth"
    with pytest.raises(InvalidField) as name:
        validate_details(old, today, changed=["given_name"])
    assert name.value.field == "GivenName"
    with pytest.raises(InvalidField):
        validate_details(old, today)  # a registration checks everything


@pytest.mark.parametrize(
    "field, sent, kept",
    [
        ("last_known_post_code", "b152tt", "B15 2TT"),
        ("last_known_post_code", "SW1A1AA", "SW1A 1AA"),
        ("last_known_post_code", " m1  1ae ", "M1 1AE"),
        ("last_known_post_code", "bfpo 123", "BFPO 123"),
        ("given_name", "  Mary   Jane ", "Mary Jane"),
        ("last_known_address_town", " Stoke  on Trent", "Stoke on Trent"),
        ("notes", "  as sent  ", "  as sent  "),
    ],
)
def test_details_are_kept_tidy(field, sent, kept):
    from lrs_ws.domain.rules import tidy

    assert tidy(field, sent) == kept


def test_a_value_sent_again_in_another_spacing_is_no_change():
    from datetime import date

    from lrs_ws.domain.learner import Learner
    from lrs_ws.domain.rules import apply_update

    learner = Learner(
        given_name="Ursula",
        family_name="Ward",
        date_of_birth=date(2005, 1, 2),
        gender="2",
        last_known_post_code="LS1 4AP",
        uln="9105106906",
    )
    _, changed = apply_update(learner, {"given_name": " Ursula ", "last_known_post_code": "ls14ap"}, date(2026, 11, 23))
    assert changed == []
