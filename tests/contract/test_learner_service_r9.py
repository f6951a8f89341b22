"""Every outcome and fault of /LearnerServiceR9.svc GetLearnerLearningEvents, through a zeep
client built from our served WSDL, against the real PLR use case and the demo data.

Every response (and fault detail) is validated against our xsd/ by the `validator` plugin.
"""
from __future__ import annotations

import pytest
import zeep.exceptions
from lxml import etree

from lrs_ws.contract.namespaces import QCF_FAULTS, QCF_MODEL
from lrs_ws.soap.faults import domain_fault_text
from tests.conftest import DEMO
from tests.contract.conftest import invoking_organisation

AMELIA = {"uln": "9105106906", "givenName": "Amelia", "familyName": "Hughes"}
HARRY_MASTER, HARRY_RETIRED = "2083498614", "5558175256"
GRACE = {"uln": "6302822970", "givenName": "Grace", "familyName": "O'Neil"}
AMELIA_SENSITIVE_EVENT = 1011
EVENTS_BY_ULN: dict[str, set[int]] = {}
for _event in DEMO.get("learning_events", []):
    EVENTS_BY_ULN.setdefault(_event["ULN"], set()).add(int(_event["ID"]))


def get_events(r9, user="online", get_type="FULL", organisation=None, **learner):
    return r9.GetLearnerLearningEvents(
        invokingOrganisation=organisation or invoking_organisation(user),
        userType="LNR",
        vendorID=1,
        language="ENG",
        dateOfBirth=learner.pop("dateOfBirth", None),
        gender=learner.pop("gender", None),
        getType=get_type,
        **learner,
    )


def event_ids(result) -> list[int]:
    return [event.ID for event in (result.LearnerRecord.LearningEvent if result.LearnerRecord else [])]


def domain_fault(excinfo) -> tuple[str, str]:
    detail = excinfo.value.detail.find(f"{{{QCF_FAULTS}}}DomainFault")
    assert detail is not None, etree.tostring(excinfo.value.detail)
    return detail.findtext(f"{{{QCF_FAULTS}}}ErrorCode"), domain_fault_text(detail)


# --- outcomes ----------------------------------------------------------------------------------


def test_exact_match_returns_the_events_but_never_a_sensitive_one(r9, validator):
    result = get_events(r9, **AMELIA)
    assert result.ResponseCode == "WSRC0004"
    assert result.FoundULN == result.IncomingULN == "9105106906"
    ids = event_ids(result)
    assert ids and set(ids) == EVENTS_BY_ULN["9105106906"] - {AMELIA_SENSITIVE_EVENT}
    assert all(event.Restriction == "0" for event in result.LearnerRecord.LearningEvent)
    first = result.LearnerRecord.LearningEvent[0]
    assert first.Source and first.Subject and first.SubjectCode and first.DateLoaded
    assert len(validator.received) == 1  # and it validated against our xsd/


def test_date_of_birth_and_gender_when_sent_must_agree(r9):
    assert get_events(r9, **AMELIA, dateOfBirth="2007-03-14", gender="2").ResponseCode == "WSRC0004"
    wrong_dob = get_events(r9, **AMELIA, dateOfBirth="2007-03-15")
    assert wrong_dob.ResponseCode == "WSEC0208" and not wrong_dob.FoundULN
    assert get_events(r9, **AMELIA, gender="1").ResponseCode == "WSEC0208"


def test_retired_uln_gives_the_master_and_the_events_of_both(r9):
    result = get_events(r9, uln=HARRY_RETIRED, givenName="Harry", familyName="Patel")
    assert result.ResponseCode == "WSRC0022"
    assert (result.FoundULN, result.IncomingULN) == (HARRY_MASTER, HARRY_RETIRED)
    ids = set(event_ids(result))
    assert ids == EVENTS_BY_ULN[HARRY_MASTER] | EVENTS_BY_ULN[HARRY_RETIRED]
    assert ids & EVENTS_BY_ULN[HARRY_MASTER] and ids & EVENTS_BY_ULN[HARRY_RETIRED]


def test_master_uln_itself_is_an_exact_match_with_the_linked_events(r9):
    result = get_events(r9, uln=HARRY_MASTER, givenName="Harry", familyName="Patel")
    assert (result.ResponseCode, result.FoundULN, result.IncomingULN) == ("WSRC0004", HARRY_MASTER, HARRY_MASTER)
    assert set(event_ids(result)) >= EVENTS_BY_ULN[HARRY_MASTER]


def test_learner_who_does_not_share_gets_an_empty_record(r9):
    result = get_events(r9, **GRACE)
    assert result.ResponseCode == "WSEC0206"
    assert result.FoundULN == result.IncomingULN == GRACE["uln"]
    assert event_ids(result) == []


@pytest.mark.parametrize("given, family", [("Amelia", "Hughs"), ("Hughes", "Amelia"), ("Zara", "Okafor")])
def test_names_that_do_not_agree_are_not_verified(r9, given, family):
    result = get_events(r9, uln=AMELIA["uln"], givenName=given, familyName=family)
    assert result.ResponseCode == "WSEC0208"
    assert not result.FoundULN  # empty on the wire (see the raw-envelope tests); zeep reads None
    assert result.IncomingULN == AMELIA["uln"]
    assert event_ids(result) == []


def test_unissued_uln_is_not_verified(r9):
    result = get_events(r9, uln="1026893096", givenName="Amelia", familyName="Hughes")
    assert result.ResponseCode == "WSEC0208" and not result.FoundULN


@pytest.mark.parametrize("uln", ["9105106907", "0105106906", "12345", "ABCDEFGHIJ", ""])
def test_invalid_uln_is_wsec0136(r9, uln):
    result = get_events(r9, uln=uln, givenName="Amelia", familyName="Hughes")
    assert result.ResponseCode == "WSEC0136"
    assert result.IncomingULN in (uln, None)  # zeep reads an empty element as None or ""
    assert not result.FoundULN and event_ids(result) == []


def test_brief_returns_the_same_events_with_fewer_fields(r9):
    full = get_events(r9, **AMELIA)
    brief = get_events(r9, **AMELIA, get_type="BRIEF")
    assert brief.ResponseCode == "WSRC0004"
    assert event_ids(brief) == event_ids(full)

    def filled(result) -> int:
        return sum(value is not None for event in result.LearnerRecord.LearningEvent for value in event.__values__.values())

    assert filled(brief) < filled(full)
    for event in brief.LearnerRecord.LearningEvent:
        assert event.ID and event.Subject and event.Source


@pytest.mark.parametrize("scenario", DEMO.get("plr_scenarios", []), ids=lambda s: s["name"])
def test_demo_scenarios(r9, scenario):
    request = scenario["request"]
    learner = {"uln": request["ULN"], "givenName": request["GivenName"], "familyName": request["FamilyName"]}
    if "DateOfBirth" in request:
        learner["dateOfBirth"] = request["DateOfBirth"]
    if "Gender" in request:
        learner["gender"] = request["Gender"]
    result = get_events(r9, **learner)
    assert result.ResponseCode == scenario["ResponseCode"]
    assert (result.FoundULN or None) == scenario["FoundULN"]
    assert event_ids(result) == scenario["EventIDs"]


def test_organisation_named_by_reference_instead_of_ukprn(r9):
    organisation = invoking_organisation(Ukprn=None, OrganisationRef=DEMO["organisation"]["organisation_ref"])
    assert get_events(r9, organisation=organisation, **AMELIA).ResponseCode == "WSRC0004"


# --- DomainFaults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "organisation, code, words",
    [
        (invoking_organisation(Ukprn="99999999"), "WSEC0003", "99999999"),
        (invoking_organisation(Ukprn=None), "WSEC0003", "Neither"),
        (invoking_organisation(Password="WrongPassword001"), "WSEC0005", "incorrect"),
        (invoking_organisation(Password="short"), "WSEC0005", "incorrect"),
        (invoking_organisation("viewonly"), "WSEC0006", "viewonly"),
        (invoking_organisation("nobody"), "WSEC0006", "nobody"),
    ],
)
def test_credential_and_access_errors_are_domain_faults(r9, organisation, code, words):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        get_events(r9, organisation=organisation, **AMELIA)
    assert excinfo.value.code.endswith("Client")
    assert domain_fault(excinfo)[0] == code
    assert words.lower() in domain_fault(excinfo)[1].lower()


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"get_type": "EVERYTHING"}, "getType"),
        ({"dateOfBirth": "2007-02-30"}, "dateOfBirth"),  # the pattern passes, the calendar does not
        ({"dateOfBirth": "14/03/2007"}, "dateOfBirth"),
        ({"gender": "F"}, "gender"),
        ({"givenName": ""}, "givenName"),
        ({"familyName": "x" * 36}, "familyName"),
    ],
)
def test_malformed_requests_are_wsec0001_domain_faults_naming_the_field(r9, overrides, field):
    learner = dict(AMELIA)
    get_type = overrides.pop("get_type", "FULL")
    learner.update(overrides)
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        get_events(r9, get_type=get_type, **learner)
    code, text = domain_fault(excinfo)
    assert code == "WSEC0001"
    assert field in text


def test_a_fault_does_not_leak_internals(r9):
    with pytest.raises(zeep.exceptions.Fault) as excinfo:
        get_events(r9, organisation=invoking_organisation(Password="WrongPassword001"), **AMELIA)
    text = etree.tostring(excinfo.value.detail).decode()
    assert "Traceback" not in text and "lrs_ws" not in text and QCF_MODEL not in text
