"""Every operation, response code and fault of /LearnerService.svc, through a zeep client."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import zeep.exceptions

from lrs_ws.contract.namespaces import EXCEPTIONS
from lrs_ws.domain.uln import is_valid_uln
from tests.conftest import DEMO
from tests.contract.conftest import credentials

AMELIA = {"ULN": "9105106906", "GivenName": "Amelia", "FamilyName": "Hughes"}
HARRY_MASTER, HARRY_RETIRED = "2083498614", "5558175256"
NEW_LEARNER = {
    "GivenName": "Priya",
    "FamilyName": "Chowdhury",
    "DateOfBirth": "2008-02-29",
    "Gender": "2",
    "LastKnownPostCode": "NE1 7RU",
}


def miap(excinfo) -> tuple[str, str]:
    detail = excinfo.value.detail.find(f"{{{EXCEPTIONS}}}MIAPAPIException")
    return detail.findtext("ErrorCode"), detail.findtext("FurtherDetails")


def find_demographics(lrs, user="online", find_type="FUL", **search):
    return lrs.learnerByDemographics(FindType=find_type, **credentials(user), **search)


def register(lrs, learner: dict, user="online"):
    return lrs.registerSingleLearner(**credentials(user), Learner=learner)


# --- find by ULN -----------------------------------------------------------------------------


def test_find_by_uln_exact_returns_the_whole_learner(lrs):
    response = lrs.learnerByULN(FindType="FUL", **credentials(), **AMELIA)
    assert response.ResponseCode == "WSRC0004"
    (learner,) = response.Learner
    assert (learner.ULN, learner.GivenName, learner.FamilyName) == ("9105106906", "Amelia", "Hughes")
    assert learner.DateOfBirth == "2007-03-14" and learner.LastKnownPostCode == "B15 2TT"
    assert learner.VersionNumber == 1 and learner.AbilityToShare == "1" and learner.LearnerStatus == "1"
    assert learner.MasterSubstituted is None
    assert response.ULN == "9105106906" and response.GivenName == "Amelia"  # echoed search


def test_find_by_uln_check_answers_the_code_only(lrs):
    response = lrs.learnerByULN(FindType="CHK", **credentials(), **AMELIA)
    assert response.ResponseCode == "WSRC0004"
    assert not response.Learner


def test_find_by_uln_close_names_is_a_possible_match(lrs):
    response = lrs.learnerByULN(FindType="FUL", **credentials(), ULN="8032816126", GivenName="Oliver", FamilyName="Smith Jones")
    assert response.ResponseCode == "WSRC0003"
    assert [learner.ULN for learner in response.Learner] == ["8032816126"]


@pytest.mark.parametrize(
    "uln, given, family",
    [
        ("9105106906", "Zara", "Okafor"),  # names do not agree
        ("1026893096", "Amelia", "Hughes"),  # valid but never issued
        ("1026893097", "Amelia", "Hughes"),  # check digit wrong
    ],
)
def test_find_by_uln_no_match(lrs, uln, given, family):
    response = lrs.learnerByULN(FindType="FUL", **credentials(), ULN=uln, GivenName=given, FamilyName=family)
    assert response.ResponseCode == "WSRC0001"
    assert not response.Learner


def test_find_by_retired_uln_substitutes_the_master(lrs):
    response = lrs.learnerByULN(FindType="FUL", **credentials("viewonly"), ULN=HARRY_RETIRED, GivenName="Harry", FamilyName="Patel")
    assert response.ResponseCode == "WSRC0022"
    (learner,) = response.Learner
    assert learner.ULN == HARRY_MASTER and learner.MasterSubstituted == "Y"
    assert learner.LinkedULNs.ULN == [HARRY_RETIRED]


# --- find by demographics --------------------------------------------------------------------


@pytest.mark.parametrize("scenario", DEMO["scenarios"], ids=lambda s: s["name"])
def test_demo_scenarios_give_their_documented_outcome(lrs, scenario):
    request = scenario["request"]
    if scenario["operation"] == "learnerByULN":
        response = lrs.learnerByULN(FindType="FUL", **credentials(), **request)
    else:
        response = find_demographics(lrs, **request)
    assert response.ResponseCode == scenario["ResponseCode"]
    assert [learner.ULN for learner in response.Learner] == scenario["ULNs"]


def test_possible_matches_name_the_same_learner_once_and_echo_the_search(lrs):
    response = find_demographics(
        lrs, GivenName="Harry", FamilyName="Patel", DateOfBirth="2003-08-21", Gender="1", LastKnownPostCode="LE1 1AA"
    )
    # The master and its retired ULN both match; the retired one resolves to the master.
    assert response.ResponseCode == "WSRC0003"
    assert [learner.ULN for learner in response.Learner] == [HARRY_MASTER]
    assert response.LastKnownPostCode == "LE1 1AA" and response.DateOfBirth == "2003-08-21"


def test_one_namesake_agreeing_on_all_five_is_exact_and_chk_hides_learners(lrs):
    namesake = find_demographics(
        lrs, GivenName="Jack", FamilyName="Taylor", DateOfBirth="2005-06-01", Gender="1", LastKnownPostCode="CV4 7AL"
    )
    assert namesake.ResponseCode == "WSRC0004"  # eleven Jack Taylors; one agrees on all five
    checked = find_demographics(
        lrs, find_type="CHK", GivenName="Amelia", FamilyName="Hughes", DateOfBirth="2007-03-14", Gender="2", LastKnownPostCode="B152TT"
    )
    assert checked.ResponseCode == "WSRC0004" and not checked.Learner


# --- register --------------------------------------------------------------------------------


def test_register_after_a_search_issues_a_valid_new_uln(lrs):
    assert find_demographics(lrs, **NEW_LEARNER).ResponseCode == "WSRC0001"
    response = register(lrs, {**NEW_LEARNER, "AbilityToShare": "1", "VerificationType": "2"})
    assert response.ResponseCode == "WSRC0005"
    assert is_valid_uln(response.ULN)
    found = lrs.learnerByULN(FindType="FUL", **credentials(), ULN=response.ULN, GivenName="Priya", FamilyName="Chowdhury")
    assert found.ResponseCode == "WSRC0004"
    assert found.Learner[0].DateOfBirth == "2008-02-29" and found.Learner[0].VersionNumber == 1


def test_register_without_a_preceding_search_is_refused(lrs):
    assert register(lrs, {**NEW_LEARNER, "AbilityToShare": "1"}).ResponseCode == "WSRC0021"


def test_register_after_the_search_window_is_refused(lrs, clock):
    find_demographics(lrs, **NEW_LEARNER)
    clock.at += timedelta(minutes=31)
    assert register(lrs, {**NEW_LEARNER, "AbilityToShare": "1"}).ResponseCode == "WSRC0021"


def test_the_search_window_is_real_time_across_the_spring_clock_change(lrs, clock):
    london = ZoneInfo("Europe/London")
    clock.at = datetime(2027, 3, 28, 0, 50, tzinfo=london)  # GMT
    find_demographics(lrs, **NEW_LEARNER)
    clock.at = datetime(2027, 3, 28, 2, 5, tzinfo=london)  # BST: 15 real minutes later
    assert register(lrs, {**NEW_LEARNER, "AbilityToShare": "1"}).ResponseCode == "WSRC0005"


def test_register_of_a_learner_already_present_is_refused(lrs):
    amelia = {"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "Gender": "2", "LastKnownPostCode": "B15 2TT"}
    find_demographics(lrs, find_type="FUL", **{**amelia, "LastKnownPostCode": "B152TT"})
    assert register(lrs, {**amelia, "AbilityToShare": "1"}).ResponseCode == "WSRC0021"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"DateOfBirth": "2020-01-01"}, "DateOfBirth"),  # 6 years old
        ({"VerificationType": "999"}, "OtherVerificationDescription"),
        ({"GivenName": "Test"}, "GivenName"),  # prohibited text
    ],
)
def test_register_rule_breaks_are_wsec0001_naming_the_field(lrs, change, field):
    learner = {**NEW_LEARNER, **change}
    find_demographics(lrs, **{k: learner[k] for k in NEW_LEARNER})
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        register(lrs, {**learner, "AbilityToShare": "1"})
    code, details = miap(excinfo)
    assert code == "WSEC0001" and field in details


# --- update ----------------------------------------------------------------------------------


def _amelia_for_update(lrs) -> dict:
    learner = lrs.learnerByULN(FindType="FUL", **credentials(), **AMELIA).Learner[0]
    return {
        "GivenName": learner.GivenName,
        "FamilyName": learner.FamilyName,
        "LastKnownPostCode": learner.LastKnownPostCode,
        "DateOfBirth": learner.DateOfBirth,
        "Gender": learner.Gender,
        "AbilityToShare": learner.AbilityToShare,
        "ULN": learner.ULN,
        "VersionNumber": learner.VersionNumber,
    }


def update(lrs, learner: dict, user="online") -> str:
    # UpdateLearnerResponse has one child, so zeep returns the ResponseCode itself.
    return lrs.updateSingleLearner(**credentials(user), Learner=learner)


def test_update_changes_the_learner_and_keeps_the_old_family_name(lrs):
    learner = _amelia_for_update(lrs)
    assert update(lrs, {**learner, "FamilyName": "Hughes-Baker"}) == "WSRC0006"
    found = lrs.learnerByULN(FindType="FUL", **credentials(), ULN=learner["ULN"], GivenName="Amelia", FamilyName="Hughes-Baker")
    assert found.ResponseCode == "WSRC0004"
    assert found.Learner[0].PreviousFamilyName == "Hughes"
    assert found.Learner[0].VersionNumber == 2
    assert found.Learner[0].LastKnownAddressLine1 == "12 Edgbaston Park Road"  # not sent: kept


def test_update_with_a_stale_version_is_refused(lrs):
    learner = _amelia_for_update(lrs)
    assert update(lrs, {**learner, "LastKnownPostCode": "B16 8QG"}) == "WSRC0006"
    assert update(lrs, {**learner, "LastKnownPostCode": "B17 0AA"}) == "WSRC0013"


def test_update_cannot_take_ability_to_share_back_to_0(lrs):
    assert update(lrs, {**_amelia_for_update(lrs), "AbilityToShare": "0"}) == "WSRC0014"


def test_update_of_an_unknown_uln(lrs):
    assert update(lrs, {**_amelia_for_update(lrs), "ULN": "1026893096"}) == "WSRC0019"


def test_update_with_nothing_changed(lrs):
    assert update(lrs, _amelia_for_update(lrs)) == "WSRC0020"


# --- credentials and roles -------------------------------------------------------------------


@pytest.mark.parametrize(
    "creds, code",
    [
        (credentials(UKPRN="10009999"), "WSEC0003"),
        (credentials(UKPRN=None, OrganisationRef="NOORG1"), "WSEC0003"),
        (credentials(OrgPassword="WrongPassword001"), "WSEC0005"),
        (credentials("super"), "WSEC0006"),
        (credentials("batch"), "WSEC0006"),
        (credentials("nobody"), "WSEC0006"),
    ],
)
def test_find_refuses_bad_credentials(lrs, creds, code):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        lrs.learnerByULN(FindType="FUL", **creds, **{k: v for k, v in AMELIA.items()})
    assert miap(excinfo)[0] == code


def test_organisation_ref_identifies_the_organisation_too(lrs):
    response = lrs.learnerByULN(FindType="FUL", **credentials(UKPRN=None, OrganisationRef="DEMO01"), **AMELIA)
    assert response.ResponseCode == "WSRC0004"


def test_view_only_user_may_find_but_not_register_or_update(lrs):
    assert lrs.learnerByULN(FindType="FUL", **credentials("viewonly"), **AMELIA).ResponseCode == "WSRC0004"
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        register(lrs, {**NEW_LEARNER, "AbilityToShare": "1"}, user="viewonly")
    assert miap(excinfo)[0] == "WSEC0006"
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        update(lrs, _amelia_for_update(lrs), user="viewonly")
    assert miap(excinfo)[0] == "WSEC0006"


@pytest.mark.parametrize(
    "field, value",
    [
        ("DateOfBirth", "2001-02-30"),
        ("DateOfBirth", "1900-02-29"),  # the pattern allows it; the calendar does not
        ("LastKnownPostCode", "XYZ"),
        ("Gender", "3"),
    ],
)
def test_invalid_search_fields_are_wsec0001_naming_the_field(lrs, field, value):
    search = {"GivenName": "Amelia", "FamilyName": "Hughes", "DateOfBirth": "2007-03-14", "Gender": "2", "LastKnownPostCode": "B15 2TT"}
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        find_demographics(lrs, **{**search, field: value})
    code, details = miap(excinfo)
    assert code == "WSEC0001"
    assert field in details
