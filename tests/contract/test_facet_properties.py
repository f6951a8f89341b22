"""Property-based tests of the date and postcode rules, as our xsd/ and the domain enforce them."""
from __future__ import annotations

import calendar
import re
from datetime import date

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lrs_ws import contract
from lrs_ws.domain.normalise import post_code_key
from lrs_ws.domain.rules import calendar_date
from tests.contract.test_contract_files import body_child

# A find request whose DateOfBirth and LastKnownPostCode the tests vary.
_FIND = (
    "<find:FindLearnerByDemographics><FindType>FUL</FindType><UKPRN>10000001</UKPRN>"
    "<OrgPassword>DemoPassword0001</OrgPassword><UserName>online</UserName>"
    "<FamilyName>Hughes</FamilyName><GivenName>Amelia</GivenName>"
    "<DateOfBirth>{dob}</DateOfBirth><Gender>2</Gender>"
    "<LastKnownPostCode>{postcode}</LastKnownPostCode></find:FindLearnerByDemographics>"
)


def accepted(dob: str = "2007-03-14", postcode: str = "B15 2TT") -> bool:
    try:
        contract.validate_body_element(body_child(_FIND.format(dob=dob, postcode=postcode)))
    except contract.ContractViolation:
        return False
    return True


def _gregorian_and_pattern_leap(year: int) -> bool:
    """The MIAP date pattern treats every year divisible by 4 as leap (1900 too)."""
    return year % 4 == 0


@settings(max_examples=150, deadline=None)
@given(st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)))
def test_every_real_date_in_range_is_accepted_and_parsed(day):
    text = day.isoformat()
    assert accepted(dob=text)
    assert calendar_date("DateOfBirth", text) == day


@settings(max_examples=150, deadline=None)
@given(st.integers(1800, 2099), st.integers(1, 12), st.integers(29, 31))
def test_month_ends_follow_the_calendar(year, month, day):
    last = calendar.monthrange(year, month)[1]
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if month == 2 and day == 29:
        # The pattern's leap rule is every fourth year; the domain refuses 1900-02-29 and co.
        assert accepted(dob=text) == _gregorian_and_pattern_leap(year)
        return
    assert accepted(dob=text) == (day <= last)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(0, 1799), st.integers(2100, 9999)), st.integers(1, 12), st.integers(1, 28))
def test_years_outside_1800_to_2099_are_refused(year, month, day):
    assert not accepted(dob=f"{year:04d}-{month:02d}-{day:02d}")


_OUTWARD = st.from_regex(r"\A[A-Z]{1,2}[0-9R][0-9A-Z]?\Z")
_INWARD = st.from_regex(r"\A[0-9][ABDEFGHJLNPQRSTUWXYZ]{2}\Z")


@settings(max_examples=150, deadline=None)
@given(_OUTWARD, _INWARD, st.sampled_from(["", " "]), st.booleans())
def test_uk_postcodes_are_accepted_with_or_without_the_space_in_any_case(outward, inward, space, lower):
    postcode = f"{outward}{space}{inward}"
    postcode = postcode.lower() if lower else postcode
    assert accepted(postcode=postcode)
    assert post_code_key(postcode) == f"{outward}{inward}"


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 9999))
def test_bfpo_numbers_are_accepted(number):
    assert accepted(postcode=f"BFPO {number}")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -", min_size=0, max_size=12))
def test_anything_else_is_refused(text):
    uk = re.fullmatch(r"[A-Za-z]{1,2}[0-9Rr][0-9A-Za-z]? ?[0-9][ABDEFGHJLNPQRSTUWXYZabdefghjlnpqrstuwxyz]{2} {0,4}", text)
    bfpo = re.fullmatch(r"[Bb][Ff][Pp][Oo] ?[0-9]{1,4} {0,4}", text)
    assume(not uk and not bfpo)
    assert not accepted(postcode=text)


def test_the_unknown_postcode_is_accepted():
    assert accepted(postcode="ZZ99 9ZZ")
