"""The published contract of the Learner Register: our XSD files, our WSDL and their loader.

Everything here runs offline against the project's own wsdl/ and xsd/ folders.
"""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import zeep
from lxml import etree
from zeep.transports import Transport

import lrs_ws.wsdl
import lrs_ws.xsd
from lrs_ws import contract
from lrs_ws.contract.namespaces import (
    BATCHMSG,
    EXCEPTIONS,
    FINDMSG,
    LEARNER,
    REGMSG,
    REPORTMSG,
    VLDMSG,
)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP_BINDING = "http://schemas.xmlsoap.org/wsdl/soap/"
BINDING = "{http://tempuri.org/}BasicHttpBinding_LearnerPortType"
OPERATIONS = {
    "learnerByULN": ("FindLearnerByULN", "FindLearnerResponse"),
    "learnerByDemographics": ("FindLearnerByDemographics", "FindLearnerResponse"),
    "registerSingleLearner": ("RegisterLearner", "RegisterLearnerResponse"),
    "updateSingleLearner": ("UpdateLearner", "UpdateLearnerResponse"),
    "submitBatchRegistration": ("SubmitBatch", "SubmitBatchResponse"),
    "getBatchRegistrationOutput": ("GetSubmitBatchOutput", "GetSubmitBatchOutputResponse"),
    "retrieveULNs": ("RetrieveULNs", "RetrieveULNsResponse"),
    "verifyLearner": ("VerifyLearner", "VerifyLearnerResponse"),
    "submitVerifyBatch": ("SubmitVerifyBatch", "SubmitVerifyBatchResponse"),
    "getVerifyBatchOutput": ("GetVerifyBatchOutput", "GetVerifyBatchOutputResponse"),
}
# Every operation's SOAPAction is empty but verifyLearner's, as in the live WSDL (dispatch ignores it).
SOAP_ACTIONS = {"verifyLearner": "http://tempuri.org/LearnerPortType/verifyLearner"}
PASSWORD = "Tr0ub4dor.3xampl"  # 16 characters


class OfflineTransport(Transport):
    """A zeep transport that only reads local files: any network access fails the test."""

    def load(self, url: str) -> bytes:
        if url.startswith(("http:", "https:")):
            raise AssertionError(f"zeep tried to fetch {url}")
        return super().load(url)


def envelope(body: str) -> etree._Element:
    """A SOAP envelope around ``body``; the namespace prefixes are declared on the Envelope only."""
    text = (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}"'
        ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        ' xmlns:find="http://api.lrs.miap.gov.uk/findmsg"'
        ' xmlns:reg="http://api.lrs.miap.gov.uk/regmsg"'
        ' xmlns:ex="http://api.lrs.miap.gov.uk/exceptions">'
        f"<soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    )
    return etree.fromstring(text.encode(), contract.parser())


def body_child(body: str) -> etree._Element:
    return envelope(body).find(f"{{{SOAP_ENV}}}Body")[0]


# --------------------------------------------------------------------------- example messages

FIND_BY_ULN = f"""
<find:FindLearnerByULN>
  <FindType>FUL</FindType>
  <OrganisationRef xsi:nil="true"/>
  <UKPRN>10001234</UKPRN>
  <OrgPassword>{PASSWORD}</OrgPassword>
  <UserName>mis.registrar</UserName>
  <ULN>9990000013</ULN>
  <FamilyName>Okafor</FamilyName>
  <GivenName>Amelia</GivenName>
</find:FindLearnerByULN>"""

FIND_BY_DEMOGRAPHICS = f"""
<find:FindLearnerByDemographics>
  <FindType>CHK</FindType>
  <OrganisationRef>ABC123</OrganisationRef>
  <UKPRN xsi:nil="true"/>
  <OrgPassword>{PASSWORD}</OrgPassword>
  <UserName>mis.registrar</UserName>
  <FamilyName>Okafor</FamilyName>
  <GivenName>Amelia</GivenName>
  <DateOfBirth>2008-02-29</DateOfBirth>
  <Gender>2</Gender>
  <LastKnownPostCode>LS1 4DY</LastKnownPostCode>
  <PreviousFamilyName xsi:nil="true"/>
  <SchoolAtAge16></SchoolAtAge16>
  <PlaceOfBirth xsi:nil="true"/>
  <EmailAddress xsi:nil="true"/>
</find:FindLearnerByDemographics>"""

# No VerificationType: a client generated from the public WSDL may leave it out.
REGISTER = f"""
<reg:RegisterLearner>
  <UKPRN>10001234</UKPRN>
  <OrgPassword>{PASSWORD}</OrgPassword>
  <UserName>mis.registrar</UserName>
  <Learner>
    <Title>Ms</Title>
    <GivenName>Amelia</GivenName>
    <MiddleOtherName></MiddleOtherName>
    <FamilyName>Okafor</FamilyName>
    <LastKnownAddressLine1>12 Park Row</LastKnownAddressLine1>
    <LastKnownAddressTown>Leeds</LastKnownAddressTown>
    <LastKnownPostCode>LS1 4DY</LastKnownPostCode>
    <DateOfAddressCapture></DateOfAddressCapture>
    <DateOfBirth>2008-02-29</DateOfBirth>
    <Gender>2</Gender>
    <EmailAddress></EmailAddress>
    <ScottishCandidateNumber></ScottishCandidateNumber>
    <AbilityToShare>1</AbilityToShare>
    <Notes></Notes>
  </Learner>
</reg:RegisterLearner>"""

UPDATE = f"""
<reg:UpdateLearner>
  <OrganisationRef>ABC123</OrganisationRef>
  <OrgPassword>{PASSWORD}</OrgPassword>
  <UserName>mis.registrar</UserName>
  <Learner>
    <GivenName>Amelia</GivenName>
    <FamilyName>Okafor-Reid</FamilyName>
    <PreviousFamilyName>Okafor</PreviousFamilyName>
    <LastKnownPostCode>BFPO 801</LastKnownPostCode>
    <DateOfBirth>2008-02-29</DateOfBirth>
    <Gender>2</Gender>
    <VerificationType>999</VerificationType>
    <OtherVerificationDescription>College enrolment interview</OtherVerificationDescription>
    <AbilityToShare>2</AbilityToShare>
    <ULN>9990000013</ULN>
    <VersionNumber>3</VersionNumber>
  </Learner>
</reg:UpdateLearner>"""

FIND_RESPONSE = """
<find:FindLearnerResponse>
  <ResponseCode>WSRC0022</ResponseCode>
  <FamilyName>Okafor</FamilyName>
  <GivenName>Amelia</GivenName>
  <DateOfBirth>2008-02-29</DateOfBirth>
  <Gender>2</Gender>
  <LastKnownPostCode>LS14DY</LastKnownPostCode>
  <Learner>
    <CreatedDate>2023-09-04</CreatedDate>
    <LastUpdatedDate>2024-01-15</LastUpdatedDate>
    <ULN>9990000013</ULN>
    <MasterSubstituted>Y</MasterSubstituted>
    <Title>Ms</Title>
    <GivenName>Amelia</GivenName>
    <FamilyName>Okafor</FamilyName>
    <SchoolAtAge16>Park Lane Academy </SchoolAtAge16>
    <LastKnownPostCode>LS1 4DY</LastKnownPostCode>
    <DateOfAddressCapture>2023-09-04</DateOfAddressCapture>
    <DateOfBirth>2008-02-29</DateOfBirth>
    <Gender>2</Gender>
    <EmailAddress>amelia.okafor@example.ac.uk</EmailAddress>
    <VerificationType>1</VerificationType>
    <TierLevel>1</TierLevel>
    <AbilityToShare>1</AbilityToShare>
    <LearnerStatus>1</LearnerStatus>
    <LinkedULNs xmlns="http://api.lrs.miap.gov.uk/learner">
      <ULN xmlns="">9990000021</ULN>
      <ULN xmlns="">9990000039</ULN>
    </LinkedULNs>
    <Notes/>
    <VersionNumber>3</VersionNumber>
  </Learner>
</find:FindLearnerResponse>"""

REGISTER_RESPONSE = "<reg:RegisterLearnerResponse><ResponseCode>WSRC0005</ResponseCode><ULN>9990000013</ULN></reg:RegisterLearnerResponse>"
UPDATE_RESPONSE = "<reg:UpdateLearnerResponse><ResponseCode>WSRC0006</ResponseCode></reg:UpdateLearnerResponse>"
FAULT_DETAIL = """
<ex:MIAPAPIException>
  <ErrorCode>WSEC0001</ErrorCode>
  <ErrorActor>LearnerService</ErrorActor>
  <Description>Invalid request</Description>
  <FurtherDetails>DateOfBirth: '2001-02-30' does not match the required pattern for MIAPDate</FurtherDetails>
  <ErrorTimestamp>2025-01-14 15:23:47</ErrorTimestamp>
</ex:MIAPAPIException>"""

VALID = {
    "find by ULN": FIND_BY_ULN,
    "find by demographics": FIND_BY_DEMOGRAPHICS,
    "register": REGISTER,
    "update": UPDATE,
    "find response": FIND_RESPONSE,
    "register response": REGISTER_RESPONSE,
    "update response": UPDATE_RESPONSE,
    "fault detail": FAULT_DETAIL,
}


# --------------------------------------------------------------------------- schemas


# Learner Register (MIAP): only root elements qualified. Learning records (WCF): all qualified.
_R9_FILES = {
    "plr-messages.xsd", "plr-model.xsd", "plr-organisation.xsd", "plr-faults.xsd", "plr-common.xsd", "plr-learner.xsd",
    "plr-entities.xsd", "plr-arrays.xsd", "plr-serialization.xsd",
}


def test_every_schema_file_compiles_on_its_own():
    files = sorted(contract.XSD_DIR.glob("*.xsd"))
    assert {f.name for f in files} >= {"learner.xsd", "find-messages.xsd", "registration-messages.xsd", "exceptions.xsd"} | _R9_FILES
    for path in files:
        doc = etree.parse(str(path), contract.parser())
        etree.XMLSchema(doc)  # raises XMLSchemaParseError when broken
        root = doc.getroot()
        expected_form = "qualified" if path.name in _R9_FILES else "unqualified"
        assert root.get("elementFormDefault") == expected_form, path.name
        assert root.find(f"{{{XS}}}annotation/{{{XS}}}documentation") is not None, path.name


def test_message_schema_covers_every_namespace_and_is_built_once():
    schema = contract.message_schema()
    assert schema is contract.message_schema()
    namespaces = {etree.parse(str(p)).getroot().get("targetNamespace") for p in contract.XSD_DIR.glob("*.xsd")}
    assert namespaces >= {LEARNER, FINDMSG, REGMSG, EXCEPTIONS}


def test_contract_files_are_the_data_of_their_packages():
    assert contract.WSDL_DIR.resolve() == Path(lrs_ws.wsdl.__file__).resolve().parent
    assert contract.XSD_DIR.resolve() == Path(lrs_ws.xsd.__file__).resolve().parent
    assert {"LearnerService.wsdl", "LearnerServiceR9.wsdl"} <= {p.name for p in contract.WSDL_DIR.glob("*.wsdl")}
    assert {"learner.xsd", "find-messages.xsd", "exceptions.xsd"} <= {p.name for p in contract.XSD_DIR.glob("*.xsd")}
    # The WSDLs import their schemas as ../xsd/...
    assert contract.WSDL_DIR.parent == contract.XSD_DIR.parent == contract.CONTRACT_ROOT
    assert contract.wsdl_path().parent == contract.WSDL_DIR
    with pytest.raises(FileNotFoundError):
        contract.wsdl_path("NoSuchService.wsdl")


# --------------------------------------------------------------------------- the WSDL


@pytest.fixture(scope="module")
def zeep_client() -> zeep.Client:
    return zeep.Client(wsdl=str(contract.wsdl_path()), transport=OfflineTransport())


def test_wsdl_loads_in_zeep_offline_with_its_operations(zeep_client):
    binding = zeep_client.wsdl.bindings[BINDING]
    assert set(binding._operations) == set(OPERATIONS)
    for name, (request, response) in OPERATIONS.items():
        operation = binding._operations[name]
        assert operation.soapaction == SOAP_ACTIONS.get(name, "")
        assert operation.input.body.qname.localname == request
        assert operation.output.body.qname.localname == response
        assert set(operation.faults) == {"MIAPAPIExceptionFault"}
    service = zeep_client.wsdl.services["LearnerServiceProxy"]
    port = service.ports["BasicHttpBinding_LearnerPortType"]
    assert port.binding_options["address"] == "http://localhost:8000/LearnerService.svc"


def test_wsdl_imports_our_schemas_by_relative_location():
    doc = etree.parse(str(contract.wsdl_path()))
    locations = {imp.get("schemaLocation") for imp in doc.iter(f"{{{XS}}}import")}
    assert locations == {
        "../xsd/learner.xsd",
        "../xsd/exceptions.xsd",
        "../xsd/find-messages.xsd",
        "../xsd/registration-messages.xsd",
        "../xsd/batch-messages.xsd",
        "../xsd/report-messages.xsd",
        "../xsd/verify-messages.xsd",
    }


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_what_a_client_of_our_wsdl_sends_validates(zeep_client, operation):
    credentials = dict(OrganisationRef=None, UKPRN="10001234", OrgPassword=PASSWORD, UserName="mis.registrar")
    learner = dict(
        GivenName="Amelia", FamilyName="Okafor", LastKnownPostCode="LS1 4DY",
        DateOfBirth="2008-02-29", Gender="2", AbilityToShare="1",
    )
    arguments = {
        "learnerByULN": dict(FindType="FUL", **credentials, ULN="9990000013", FamilyName="Okafor", GivenName="Amelia"),
        "learnerByDemographics": dict(
            FindType="FUL", **credentials, FamilyName="Okafor", GivenName="Amelia",
            DateOfBirth="2008-02-29", Gender="2", LastKnownPostCode="LS1 4DY",
        ),
        "registerSingleLearner": dict(**credentials, Learner=learner),
        "updateSingleLearner": dict(**credentials, Learner=dict(learner, ULN="9990000013", VersionNumber=1)),
        "submitBatchRegistration": dict(
            **credentials, JobType="FUL", LearnerRecordCount=2,
            Learner=[dict(learner, ULN="", MISIdentifier="S1"), dict(learner, GivenName="Bo")],
        ),
        "getBatchRegistrationOutput": dict(**credentials, JobID=12),
        "retrieveULNs": dict(**credentials, ULNsToRetrieve={"ULN": ["9990000013", "9105106906"]}),
        "verifyLearner": dict(**credentials, LearnerToVerify={"ULN": "9990000013", "FamilyName": "Okafor", "GivenName": "Amelia"}),
        "submitVerifyBatch": dict(
            **credentials, LearnerRecordCount=1, OrgEmail=None,
            Learner=[{"MISIdentifier": "S1", "ULN": "9990000013", "FamilyName": "Okafor", "GivenName": "Amelia"}],
        ),
        "getVerifyBatchOutput": dict(**credentials, JobID=12),
    }[operation]
    message = zeep_client.create_message(zeep_client.service, operation, **arguments)
    request = message.find(f"{{{SOAP_ENV}}}Body")[0]
    assert etree.QName(request).localname == OPERATIONS[operation][0]
    contract.validate_body_element(request)


def test_single_wsdl_inlines_every_schema_and_carries_the_address(tmp_path):
    url = "https://lrs.example.ac.uk/LearnerService.svc"
    document = contract.single_wsdl(url)
    assert contract.single_wsdl(url) is document  # cached per URL
    root = etree.fromstring(document)
    assert not [el for el in root.iter(f"{{{XS}}}import", f"{{{XS}}}include") if el.get("schemaLocation")]
    schemas = root.findall(f"{{{WSDL}}}types/{{{XS}}}schema")
    assert {s.get("targetNamespace") for s in schemas} == {
        LEARNER, FINDMSG, REGMSG, BATCHMSG, REPORTMSG, VLDMSG, EXCEPTIONS,
    }
    addresses = [a.get("location") for a in root.iter(f"{{{SOAP_BINDING}}}address")]
    assert addresses == [url]
    other = etree.fromstring(contract.single_wsdl("http://127.0.0.1:9999/LearnerService.svc"))
    assert [a.get("location") for a in other.iter(f"{{{SOAP_BINDING}}}address")] == ["http://127.0.0.1:9999/LearnerService.svc"]

    # Self-contained: zeep loads it from a folder holding nothing else.
    path = tmp_path / "LearnerService.wsdl"
    path.write_bytes(document)
    client = zeep.Client(wsdl=str(path), transport=OfflineTransport())
    assert set(client.wsdl.bindings[BINDING]._operations) == set(OPERATIONS)
    assert client.service._binding_options["address"] == url


def test_single_wsdl_refuses_an_empty_url():
    with pytest.raises(ValueError):
        contract.single_wsdl("")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("body", VALID.values(), ids=list(VALID))
def test_valid_messages_pass(body):
    contract.validate_body_element(body_child(body))


def test_validation_works_on_a_detached_element_and_leaves_the_original_alone():
    request = body_child(FIND_BY_ULN)  # xsi is declared on the Envelope only
    before = etree.tostring(request)
    contract.validate_body_element(request)
    contract.validate_body_element(copy.deepcopy(request))
    assert etree.tostring(request) == before
    assert request.getparent() is not None


@pytest.mark.parametrize(
    "organisation_ref", ["", '<OrganisationRef xsi:nil="true"/>', "<OrganisationRef>ABC123</OrganisationRef>"],
    ids=["absent", "nil", "value"],
)
def test_organisation_ref_may_be_absent_nil_or_given(organisation_ref):
    body = FIND_BY_ULN.replace('<OrganisationRef xsi:nil="true"/>', organisation_ref)
    contract.validate_body_element(body_child(body))


def test_linked_ulns_must_be_qualified_in_the_learner_namespace():
    body = FIND_RESPONSE.replace('<LinkedULNs xmlns="http://api.lrs.miap.gov.uk/learner">', "<LinkedULNs>")
    with pytest.raises(contract.ContractViolation) as caught:
        contract.validate_body_element(body_child(body))
    assert caught.value.field == "Learner/LinkedULNs"
    assert "namespace http://api.lrs.miap.gov.uk/learner" in caught.value.reason


INVALID = [
    # (name, body, field, words expected in the reason)
    ("impossible date", FIND_BY_DEMOGRAPHICS.replace("2008-02-29", "2001-02-30"), "DateOfBirth", ["'2001-02-30'", "pattern", "MIAPDate"]),
    ("not a leap year", FIND_BY_DEMOGRAPHICS.replace("2008-02-29", "2009-02-29"), "DateOfBirth", ["MIAPDate"]),
    ("bad postcode", FIND_BY_DEMOGRAPHICS.replace("LS1 4DY", "XYZ"), "LastKnownPostCode", ["'XYZ'", "MIAPPostCode"]),
    ("empty postcode", FIND_BY_DEMOGRAPHICS.replace("LS1 4DY", ""), "LastKnownPostCode", ["empty"]),
    ("short password", FIND_BY_ULN.replace(PASSWORD, PASSWORD[:15]), "OrgPassword", ["exactly 16", "15"]),
    ("long password", FIND_BY_ULN.replace(PASSWORD, PASSWORD + "!"), "OrgPassword", ["exactly 16", "17"]),
    ("empty given name", FIND_BY_ULN.replace("<GivenName>Amelia</GivenName>", "<GivenName></GivenName>"), "GivenName", ["empty"]),
    (
        "blank given name",
        FIND_BY_ULN.replace("<GivenName>Amelia</GivenName>", "<GivenName>   </GivenName>"),
        "GivenName",
        ["MIAPNameNonEmpty"],
    ),
    ("long family name", FIND_BY_ULN.replace("Okafor", "O" * 36), "FamilyName", ["at most 35", "36"]),
    ("ULN starting with 0", FIND_BY_ULN.replace("9990000013", "0990000013"), "ULN", ["MIAPULN"]),
    ("find type", FIND_BY_ULN.replace(">FUL<", ">ALL<"), "FindType", ["MIAPFindType"]),
    ("bad UKPRN", FIND_BY_ULN.replace("10001234", "1234"), "UKPRN", ["MIAPUKPRN"]),
    (
        "nil password",
        FIND_BY_ULN.replace(f"<OrgPassword>{PASSWORD}</OrgPassword>", '<OrgPassword xsi:nil="true"/>'),
        "OrgPassword",
        ["xsi:nil"],
    ),
    (
        "missing family name",
        FIND_BY_ULN.replace("<FamilyName>Okafor</FamilyName>", ""),
        "FamilyName",
        ["missing mandatory element FamilyName"],
    ),
    (
        "missing last element",
        FIND_BY_ULN.replace("<GivenName>Amelia</GivenName>", ""),
        "GivenName",
        ["missing mandatory element GivenName"],
    ),
    (
        "unknown element",
        FIND_BY_ULN.replace("</find:FindLearnerByULN>", "<Foo/></find:FindLearnerByULN>"),
        "Foo",
        ["unexpected element Foo"],
    ),
    ("qualified child", FIND_BY_ULN.replace("<FindType>FUL</FindType>", "<find:FindType>FUL</find:FindType>"), "FindType", ["unqualified"]),
    (
        "verification type 8",
        UPDATE.replace("<VerificationType>999<", "<VerificationType>8<"),
        "Learner/VerificationType",
        ["'8'", "MIAPVerificationType"],
    ),
    (
        "missing family name in learner",
        REGISTER.replace("<FamilyName>Okafor</FamilyName>", ""),
        "Learner/FamilyName",
        ["missing mandatory element FamilyName"],
    ),
    (
        "missing version number",
        UPDATE.replace("<VersionNumber>3</VersionNumber>", ""),
        "Learner/VersionNumber",
        ["missing mandatory element VersionNumber"],
    ),
    (
        "version number not a number",
        UPDATE.replace("<VersionNumber>3<", "<VersionNumber>three<"),
        "Learner/VersionNumber",
        ["'three'", "xs:int"],
    ),
    ("gender", REGISTER.replace("<Gender>2</Gender>", "<Gender>3</Gender>"), "Learner/Gender", ["MIAPGender"]),
    ("ability to share", REGISTER.replace("<AbilityToShare>1<", "<AbilityToShare>5<"), "Learner/AbilityToShare", ["MIAPAbilityToShare"]),
    (
        "email",
        REGISTER.replace("<EmailAddress></EmailAddress>", "<EmailAddress>not-an-address</EmailAddress>"),
        "Learner/EmailAddress",
        ["MIAPEmail"],
    ),
    (
        "scottish candidate number",
        REGISTER.replace("<ScottishCandidateNumber></ScottishCandidateNumber>", "<ScottishCandidateNumber>12345</ScottishCandidateNumber>"),
        "Learner/ScottishCandidateNumber",
        ["MIAPScottishCandidateNumber"],
    ),
    (
        "response learner without ULN",
        FIND_RESPONSE.replace("<ULN>9990000013</ULN>", "", 1),
        "Learner/ULN",
        ["missing mandatory element ULN"],
    ),
    ("linked ULN too short", FIND_RESPONSE.replace("9990000039", "999"), "Learner/LinkedULNs/ULN[2]", ["exactly 10"]),
    ("unknown message", "<find:FindLearnerByPostcode/>", "FindLearnerByPostcode", ["not a message of this service"]),
    ("text in a message", REGISTER_RESPONSE.replace("<ResponseCode>", "oops<ResponseCode>"), "RegisterLearnerResponse", ["text"]),
    (
        "attribute",
        UPDATE_RESPONSE.replace("<reg:UpdateLearnerResponse>", '<reg:UpdateLearnerResponse status="ok">'),
        "UpdateLearnerResponse",
        ["attribute 'status'"],
    ),
    (
        "fault detail incomplete",
        FAULT_DETAIL.replace("<ErrorTimestamp>2025-01-14 15:23:47</ErrorTimestamp>", ""),
        "ErrorTimestamp",
        ["missing mandatory element ErrorTimestamp"],
    ),
]


@pytest.mark.parametrize(("body", "field", "words"), [case[1:] for case in INVALID], ids=[case[0] for case in INVALID])
def test_invalid_messages_name_the_field_and_say_why(body, field, words):
    with pytest.raises(contract.ContractViolation) as caught:
        contract.validate_body_element(body_child(body))
    violation = caught.value
    assert violation.field == field
    for word in words:
        assert word in violation.reason
    assert str(violation) == f"{field}: {violation.reason}"
    assert violation.errors  # the raw validator messages, for logs


def test_register_without_verification_type_but_with_an_invalid_one_present_fails():
    body = REGISTER.replace("<AbilityToShare>", "<VerificationType>42</VerificationType><AbilityToShare>")
    with pytest.raises(contract.ContractViolation) as caught:
        contract.validate_body_element(body_child(body))
    assert caught.value.field == "Learner/VerificationType"


# --------------------------------------------------------------------------- the parser


def test_parser_neither_expands_entities_nor_reads_files(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    document = (
        f'<!DOCTYPE x [<!ENTITY inner "EXPANDED"><!ENTITY outer SYSTEM "{secret.as_uri()}">]>'
        "<x><a>&inner;</a><b>&outer;</b></x>"
    ).encode()
    root = etree.fromstring(document, contract.parser())
    text = etree.tostring(root)
    assert b"TOP-SECRET" not in text
    assert b"EXPANDED" not in text


def test_parser_is_a_fresh_object_each_time():
    assert contract.parser() is not contract.parser()
