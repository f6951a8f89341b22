"""Verifying a learner's ULN and details (verifyLearner): response codes WSVRC001-006 and the
failure flags VRF1-8.

The codes and flags are DfE's (their learner verification client); how each comparison is made
is our reading (docs/our-readings.md): names compared after `name_key`, "similar" meaning one of
find by ULN's close-name rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum

from lrs_ws.domain.learner import Learner
from lrs_ws.domain.matching import MatchRule, match_names
from lrs_ws.domain.normalise import name_key


class VerificationCode(str, Enum):
    MATCH = "WSVRC001"  # every detail sent agrees with the learner's
    LINKED_MATCH = "WSVRC002"  # as MATCH, the ULN sent being a linked (merged) one
    SIMILAR = "WSVRC003"  # names close (find by ULN's rules), date of birth and gender agree when sent
    SIMILAR_LINKED = "WSVRC004"
    NO_MATCH = "WSVRC005"  # the ULN exists; the details neither agree nor come close
    ULN_NOT_FOUND = "WSVRC006"

    @property
    def discloses_details(self) -> bool:
        """Only a match or a similar match returns the learner's details."""
        return self in (self.MATCH, self.LINKED_MATCH, self.SIMILAR, self.SIMILAR_LINKED)


class FailureFlag(str, Enum):
    """A comparison that failed (the names of DfE's enum in the comments)."""

    GIVEN_VS_GIVEN = "VRF1"  # GivenDoesntMatchGiven
    GIVEN_VS_FAMILY = "VRF2"  # GivenDoesntMatchFamily
    GIVEN_VS_PREVIOUS_FAMILY = "VRF3"  # GivenDoesntMatchPreviousFamily
    FAMILY_VS_GIVEN = "VRF4"  # FamilyDoesntMatchGiven
    FAMILY_VS_FAMILY = "VRF5"  # FamilyDoesntMatchFamily
    FAMILY_VS_PREVIOUS_FAMILY = "VRF6"  # FamilyDoesntMatchPreviousFamily
    DATE_OF_BIRTH = "VRF7"  # DateOfBirthDoesntMatchDateOfBirth
    GENDER = "VRF8"  # GenderDoesntMatchGender


@dataclass(frozen=True)
class DetailsToVerify:
    given_name: str
    family_name: str
    date_of_birth: date | None = None  # not sent: not compared
    gender: str | None = None


@dataclass(frozen=True)
class Verification:
    code: VerificationCode
    flags: tuple[FailureFlag, ...] = ()


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and name_key(a) == name_key(b)


def failed_checks(sent: DetailsToVerify, record: Learner) -> tuple[FailureFlag, ...]:
    """The eight comparisons of the details sent with a learner record, those that fail, in flag order."""
    checks = {
        FailureFlag.GIVEN_VS_GIVEN: _same(sent.given_name, record.given_name),
        FailureFlag.GIVEN_VS_FAMILY: _same(sent.given_name, record.family_name),
        FailureFlag.GIVEN_VS_PREVIOUS_FAMILY: _same(sent.given_name, record.previous_family_name),
        FailureFlag.FAMILY_VS_GIVEN: _same(sent.family_name, record.given_name),
        FailureFlag.FAMILY_VS_FAMILY: _same(sent.family_name, record.family_name),
        FailureFlag.FAMILY_VS_PREVIOUS_FAMILY: _same(sent.family_name, record.previous_family_name),
        FailureFlag.DATE_OF_BIRTH: sent.date_of_birth is None or sent.date_of_birth == record.date_of_birth,
        FailureFlag.GENDER: not sent.gender or sent.gender == record.gender,
    }
    return tuple(flag for flag, passed in checks.items() if not passed)


_DECISIVE = {FailureFlag.GIVEN_VS_GIVEN, FailureFlag.FAMILY_VS_FAMILY, FailureFlag.DATE_OF_BIRTH, FailureFlag.GENDER}


def verify(sent: DetailsToVerify, record: Learner, *, linked: bool = False) -> Verification:
    """How the details sent agree with `record` (the learner of the ULN sent; for a linked ULN,
    whichever of it and its master agrees best is given by the caller)."""
    flags = failed_checks(sent, record)
    if not _DECISIVE & set(flags):
        return Verification(VerificationCode.LINKED_MATCH if linked else VerificationCode.MATCH)
    born_and_gender_agree = not {FailureFlag.DATE_OF_BIRTH, FailureFlag.GENDER} & set(flags)
    rule = match_names(sent.given_name, sent.family_name, record)
    if rule is not None and rule is not MatchRule.EXACT and born_and_gender_agree:
        return Verification(VerificationCode.SIMILAR_LINKED if linked else VerificationCode.SIMILAR, flags)
    return Verification(VerificationCode.NO_MATCH, flags)


_RANK = {
    VerificationCode.MATCH: 0, VerificationCode.LINKED_MATCH: 0,
    VerificationCode.SIMILAR: 1, VerificationCode.SIMILAR_LINKED: 1,
    VerificationCode.NO_MATCH: 2, VerificationCode.ULN_NOT_FOUND: 3,
}


def best(*verifications: Verification) -> Verification:
    """The best of several (a linked ULN is checked against its own record and its master's)."""
    return min(verifications, key=lambda verification: _RANK[verification.code])


def disclosed_details(record: Learner) -> dict[str, str]:
    """What a verification that may disclose a learner's details gives back (WSVRC001-004), by
    wire name: the single verifyLearner and a verification batch alike."""
    return {
        "FamilyName": record.family_name,
        "GivenName": record.given_name,
        "DateOfBirth": record.date_of_birth.isoformat(),
        "Gender": record.gender,
    }
