"""verifyLearner's rules, without a database: each failure flag and each code."""
from __future__ import annotations

from datetime import date

import pytest

from lrs_ws.domain.learner import Learner
from lrs_ws.domain.verification import (
    DetailsToVerify,
    FailureFlag,
    Verification,
    VerificationCode,
    best,
    verify,
)

F = FailureFlag
ALL_NAME_CROSS_CHECKS = (F.GIVEN_VS_FAMILY, F.GIVEN_VS_PREVIOUS_FAMILY, F.FAMILY_VS_GIVEN, F.FAMILY_VS_PREVIOUS_FAMILY)
RECORD = Learner(
    given_name="Grace", family_name="O'Neil", previous_family_name="Walsh", date_of_birth=date(2004, 5, 9),
    gender="2", last_known_post_code="LS1 4AP", uln="6302822970", created_date=date(2020, 1, 6),
    last_updated_date=date(2020, 1, 6),
)


def check(given="Grace", family="O'Neil", born=date(2004, 5, 9), gender="2", record=RECORD, linked=False) -> Verification:
    return verify(DetailsToVerify(given, family, born, gender), record, linked=linked)


def test_every_detail_agreeing_is_a_match_without_flags() -> None:
    assert check() == Verification(VerificationCode.MATCH)
    assert check(" grace ", "o'neil") == Verification(VerificationCode.MATCH)  # after normalising
    assert check(born=None, gender=None) == Verification(VerificationCode.MATCH)  # not sent: not compared
    assert check(linked=True) == Verification(VerificationCode.LINKED_MATCH)


@pytest.mark.parametrize(
    "given, family, flags",
    [
        ("Grace", "Walsh", {F.FAMILY_VS_FAMILY}),  # the previous family name: similar
        ("Grayce", "O'Neil", {F.GIVEN_VS_GIVEN}),  # one typo: similar
        ("O'Neil", "Grace", {F.GIVEN_VS_GIVEN, F.FAMILY_VS_FAMILY}),  # swapped: similar
    ],
)
def test_close_names_are_similar_and_flag_what_failed(given, family, flags) -> None:
    result = check(given, family)
    assert result.code is VerificationCode.SIMILAR
    assert flags <= set(result.flags)
    assert check(given, family, linked=True).code is VerificationCode.SIMILAR_LINKED


def test_each_cross_check_is_flagged_only_when_it_fails() -> None:
    result = check("Grace", "Walsh")  # family sent = the previous family: VRF6 passes
    assert F.FAMILY_VS_PREVIOUS_FAMILY not in result.flags
    assert {F.GIVEN_VS_FAMILY, F.GIVEN_VS_PREVIOUS_FAMILY, F.FAMILY_VS_GIVEN} <= set(result.flags)
    swapped = check("O'Neil", "Grace")  # VRF2 and VRF4 pass
    assert F.GIVEN_VS_FAMILY not in swapped.flags and F.FAMILY_VS_GIVEN not in swapped.flags


def test_a_wrong_date_of_birth_or_gender_is_flagged_and_no_match() -> None:
    born = check(born=date(2004, 9, 5))
    assert born == Verification(VerificationCode.NO_MATCH, (*ALL_NAME_CROSS_CHECKS, F.DATE_OF_BIRTH))
    gender = check(gender="1")
    assert gender == Verification(VerificationCode.NO_MATCH, (*ALL_NAME_CROSS_CHECKS, F.GENDER))
    assert check("Grayce", born=date(2004, 9, 5)).code is VerificationCode.NO_MATCH  # close names, wrong date


def test_other_names_are_no_match_with_every_name_flag() -> None:
    result = check("Zara", "Okafor")
    assert result.code is VerificationCode.NO_MATCH
    assert set(result.flags) == {F.GIVEN_VS_GIVEN, F.FAMILY_VS_FAMILY, *ALL_NAME_CROSS_CHECKS}


def test_a_record_without_a_previous_family_name_fails_those_checks() -> None:
    record = Learner(given_name="Amelia", family_name="Hughes", date_of_birth=date(2007, 3, 14), gender="2",
                     last_known_post_code="B15 2TT", uln="9105106906", created_date=date(2020, 1, 6),
                     last_updated_date=date(2020, 1, 6))
    assert check("Amelia", "Hughs", date(2007, 3, 14), "2", record).flags == (
        F.GIVEN_VS_FAMILY, F.GIVEN_VS_PREVIOUS_FAMILY, F.FAMILY_VS_GIVEN, F.FAMILY_VS_FAMILY, F.FAMILY_VS_PREVIOUS_FAMILY,
    )


def test_best_prefers_a_match_then_similar() -> None:
    no = Verification(VerificationCode.NO_MATCH)
    similar = Verification(VerificationCode.SIMILAR)
    match = Verification(VerificationCode.MATCH)
    assert best(no, similar) is similar and best(similar, match, no) is match


def test_only_matches_disclose_details() -> None:
    assert {code for code in VerificationCode if code.discloses_details} == {
        VerificationCode.MATCH, VerificationCode.LINKED_MATCH, VerificationCode.SIMILAR, VerificationCode.SIMILAR_LINKED,
    }
