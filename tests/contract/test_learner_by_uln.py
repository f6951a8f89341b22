"""R9 LearnerByUln through a zeep client from our R9 WSDL: learnerByULN's outcomes, the learner in
the MIAPModel data contract (87 alphabetical members, nil as WCF sends it)."""
from __future__ import annotations

from datetime import datetime

import pytest
import zeep.exceptions
from lxml import etree
from sqlalchemy import select

from lrs_ws.adapters.orm import audit_events
from lrs_ws.contract.namespaces import MIAP_MODEL, MS_ARRAYS, QCF_MODEL, TEMPURI, XSI
from tests.conftest import DEMO, ROOT
from tests.contract.conftest import credentials
from tests.contract.test_get_organisation import domain_fault, invoking
from tests.contract.test_update_subset_fields import update

XS = "http://www.w3.org/2001/XMLSchema"
NEVER_DISCLOSED = (
    "SecurityAnswer", "SecretQuestionId", "NationalInsuranceNumber", "NormalisedFamilyName", "NormalisedGivenName",
    "NormalisedOtherNames", "NormalisedPerferredGivenName", "NormalisedPreviousFamilyName", "LastUpdatedSearchKey",
    "PotentialDuplicateSearchKey", "EtlLoadId",
)


def find(r9, uln="9105106906", given="Amelia", family="Hughes", find_type="FUL", user="online"):
    return r9.LearnerByUln(invokingOrganisation=invoking(user), userType="ORG", vendorId=0, language="ENG",
                           uln=uln, givenName=given, familyName=family, findType=find_type)


def received_learner(validator) -> etree._Element | None:
    """The Learner element of the last response as it came over the wire."""
    return validator.received[-1].find(f"{{{TEMPURI}}}LearnerByUlnResult/{{{QCF_MODEL}}}Learner")


def schema_members() -> list[tuple[str, bool]]:
    """The Learner's members as our xsd declares them: (name, nillable), in order."""
    schema = etree.parse(str(ROOT / "xsd" / "plr-learner.xsd"))
    return [(e.get("name"), e.get("nillable") == "true") for e in schema.iter(f"{{{XS}}}element")]


@pytest.mark.parametrize("scenario", DEMO["learner_by_uln_scenarios"], ids=lambda s: s["name"])
def test_demo_scenarios_give_their_documented_outcome(r9, validator, scenario):
    request = scenario["request"]
    result = find(r9, request["uln"], request["givenName"], request["familyName"], request["findType"])
    assert result.ResponseCode == scenario["ResponseCode"]
    assert (result.Uln, result.GivenName, result.FamilyName) == (request["uln"], request["givenName"], request["familyName"])
    if scenario["LearnerUln"] is None:
        assert result.Learner is None
        assert received_learner(validator) is None  # left out, not nil (EmitDefaultValue=false)
    else:
        assert (result.Learner.Uln, result.Learner.MasterUln) == (scenario["LearnerUln"], scenario["MasterUln"])


def test_the_schema_has_the_87_members_in_alphabetical_order():
    names = [name for name, _ in schema_members()]
    assert len(names) == 87 and names == sorted(names)
    assert {"CountryOfDomicle", "FirstEstablismentId", "LastKnownAddressQualififer", "NormalisedPerferredGivenName"} <= set(names)


def test_the_learner_carries_what_the_register_holds(r9, validator):
    learner = find(r9).Learner
    amelia = next(row for row in DEMO["learners"] if row["ULN"] == "9105106906")
    assert (learner.Uln, learner.GivenName, learner.FamilyName, learner.Title) == ("9105106906", "Amelia", "Hughes", "Miss")
    assert learner.DateOfBirth == datetime(2007, 3, 14) and learner.CreatedDate == datetime(2023, 9, 4)
    assert (learner.Gender, learner.AbilityToShare, learner.VerificationType) == (2, 1, 1)
    assert (learner.LastKnownPostCode, learner.LastKnownAddressLine1, learner.LastKnownAddressTown) == (
        amelia["LastKnownPostCode"], amelia["LastKnownAddressLine1"], amelia["LastKnownAddressTown"])
    assert (learner.SchoolAtAge16, learner.EmailAddress) == (amelia["SchoolAtAge16"], amelia["EmailAddress"])
    assert (learner.VersionNumber, learner.RecordStatus, learner.TierLevel, learner.MasterUln) == (1, 1, 0, None)
    linked = received_learner(validator).find(f"{{{MIAP_MODEL}}}LinkedUlns")
    assert len(linked) == 0 and linked.get(f"{{{XSI}}}nil") is None  # an empty list, not nil (zeep reads None)


def test_nil_and_left_out_members_as_wcf(r9, validator):
    find(r9)
    wire = received_learner(validator)
    sent = {etree.QName(child).localname: child for child in wire}
    assert all(etree.QName(child).namespace == MIAP_MODEL for child in wire)
    nillable = dict(schema_members())
    for name, is_nillable in nillable.items():
        if is_nillable:
            assert name in sent, f"{name}: a nillable member is always sent"
        elif name not in sent:
            assert name not in {"AbilityToShare", "DateOfBirth", "Gender", "VersionNumber", "RecordStatus"}
    for name in NEVER_DISCLOSED:
        assert sent[name].get(f"{{{XSI}}}nil") == "true" and not sent[name].text, name
    assert "SequentialVersionNumber" not in sent and "Deceased" not in sent  # non-nillable, not held: left out
    assert sent["DateOfBirth"].text == "2007-03-14T00:00:00"


def test_a_linked_uln_answers_the_master_with_its_linked_ulns(r9, validator):
    result = find(r9, "5558175256", "Harry", "Patel")
    assert (result.ResponseCode, result.Uln) == ("WSRC0022", "5558175256")
    assert (result.Learner.Uln, result.Learner.MasterUln, result.Learner.LinkedUlns.string) == (
        "2083498614", "2083498614", ["5558175256"])
    (linked,) = received_learner(validator).iterfind(f"{{{MIAP_MODEL}}}LinkedUlns/{{{MS_ARRAYS}}}string")
    assert linked.text == "5558175256"


def test_every_detail_registered_comes_back(r9, lrs):
    details = {
        "Title": "Mr", "GivenName": "Tomasz", "MiddleOtherName": "Jan", "FamilyName": "Kowalczyk",
        "PreferredGivenName": "Tom", "PreviousFamilyName": "Nowak", "FamilyNameAtAge16": "Nowak",
        "SchoolAtAge16": "Fulwood Academy", "LastKnownAddressLine1": "3 Deepdale Road",
        "LastKnownAddressLine2": "Fulwood", "LastKnownAddressTown": "Preston", "LastKnownAddressCountyOrCity": "Lancashire",
        "LastKnownPostCode": "PR1 6PA", "DateOfAddressCapture": "2024-09-01", "DateOfBirth": "2006-04-30",
        "PlaceOfBirth": "Krakow", "Gender": "1", "EmailAddress": "tomasz.k@example.org", "Nationality": "POL",
        "ScottishCandidateNumber": "123456789", "VerificationType": "7", "OtherVerificationDescription": "Birth certificate",
        "AbilityToShare": "1", "Notes": "Joined in year 12",
    }
    search = {k: details[k] for k in ("GivenName", "FamilyName", "DateOfBirth", "Gender", "LastKnownPostCode")}
    assert lrs.learnerByDemographics(FindType="FUL", **credentials(), **search).ResponseCode == "WSRC0001"
    registered = lrs.registerSingleLearner(**credentials(), Learner=details)
    assert registered.ResponseCode == "WSRC0005"
    assert update(r9, uln=registered.ULN, telephoneNumber="01772 000000") == "WSRC0006"
    learner = find(r9, registered.ULN, "Tomasz", "Kowalczyk").Learner
    for name, value in details.items():
        got = getattr(learner, "FamilyNameAt16" if name == "FamilyNameAtAge16" else name)
        if isinstance(got, datetime):
            got = got.date().isoformat()
        assert str(got) == value, name
    assert (learner.TelephoneNumber, learner.VersionNumber) == ("01772 000000", 2)


def test_lookups_are_audited_as_learner_by_uln(r9, engine):
    find(r9, "5558175256", "Harry", "Patel", user="viewonly")
    with engine.connect() as connection:
        row = connection.execute(select(audit_events).order_by(audit_events.c.id.desc()).limit(1)).mappings().one()
    assert (row["operation"], row["uln"], row["outcome"], row["username"]) == ("LearnerByUln", "5558175256", "WSRC0022", "viewonly")


@pytest.mark.parametrize("user", ["online", "viewonly"])
def test_online_and_view_only_users_may_look_up(r9, user):
    assert find(r9, user=user).ResponseCode == "WSRC0004"


@pytest.mark.parametrize("user", ["batch", "super"])
def test_other_roles_are_refused_with_wsec0006(r9, user):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        find(r9, user=user)
    assert domain_fault(excinfo) == "WSEC0006"


def test_a_wrong_password_is_a_wsec0005_fault(r9):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        r9.LearnerByUln(invokingOrganisation=invoking(Password="WrongPassword001"), userType="ORG", vendorId=0,
                        language="ENG", uln="9105106906", givenName="Amelia", familyName="Hughes", findType="FUL")
    assert domain_fault(excinfo) == "WSEC0005"


@pytest.mark.parametrize("find_type, given", [("ALL", "Amelia"), ("FUL", ""), ("FUL", "A" * 36)])
def test_a_malformed_request_is_a_wsec0001_fault(r9, find_type, given):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        find(r9, given=given, find_type=find_type)
    assert domain_fault(excinfo) == "WSEC0001"
